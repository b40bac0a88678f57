"""ONNX export (ippo.onnx, ippo export), checked by ONNX Runtime as the independent oracle:
for every layer kind, task and dtype its outputs equal ``model.predict`` within 1e-5, and
an exported run takes raw features and gives ``ippo predict``'s classes."""

import csv
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX tests need onnx (pip install -e '.[test]')")
ort = pytest.importorskip("onnxruntime", reason="the ONNX tests need onnxruntime")

from ippo import layers as L  # noqa: E402
from ippo import models  # noqa: E402
from ippo.autograd import nn  # noqa: E402
from ippo.cli import main  # noqa: E402
from ippo.onnx import IR_VERSION, OPSET, export, export_run, to_onnx  # noqa: E402
from ippo.preprocessing import MinMaxScaler, Standardizer  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-5)


def session(model_or_path):
    data = model_or_path.SerializeToString() if hasattr(model_or_path, "SerializeToString") \
        else os.fspath(model_or_path)
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def run_onnx(model_or_path, x):
    """ONNX Runtime's outputs {name: array} for the input ``x``."""
    s = session(model_or_path)
    names = [o.name for o in s.get_outputs()]
    return dict(zip(names, s.run(None, {"input": x}), strict=True))


def randomize_batchnorm(model, rng):
    """Running statistics and β away from their initial 0 / 1, so that an export that
    ignored them (or swapped mean and variance) would give other outputs."""
    for la in getattr(model, "layers", []):
        if isinstance(la, L.BatchNormalization):
            la.running_mean[...] = rng.normal(size=la.size)
            la.running_var[...] = rng.uniform(0.3, 3.0, size=la.size)
            la.params[0][...] = rng.uniform(0.5, 2.0, size=la.size)
            la.params[1][...] = rng.normal(size=la.size)


def assert_same(model, x, got, class_names=None):
    """ONNX outputs ``got`` equal the model's own predictions for ``x``."""
    want = model.predict(x)
    if model.task == "regression":
        assert set(got) == {"values"}
        assert got["values"].dtype == np.float32 and got["values"].shape == want.shape
        np.testing.assert_allclose(got["values"], want, **TOL)
        return
    probs, label = got["probabilities"], got["label"]
    assert probs.dtype == np.float32
    if model.task == "binary":
        assert probs.shape == (len(x), 2)
        np.testing.assert_allclose(probs[:, 1:], want, **TOL)
        np.testing.assert_allclose(probs[:, 0], 1 - want[:, 0], **TOL)
    else:
        np.testing.assert_allclose(probs, want, **TOL)
    idx = model.predict_classes(x)
    if class_names is None:
        assert label.dtype == np.int64
        np.testing.assert_array_equal(label, idx)
    else:
        np.testing.assert_array_equal(label, np.asarray(class_names)[idx])


TASK_OUT = {"multiclass": 4, "binary": 1, "regression": 2}
LOSS = {"multiclass": L.SoftmaxWithLoss, "binary": L.SigmoidWithLoss,
        "regression": L.MeanSquaredLoss}


def every_layer_model(task, dtype, rng):
    """A Sequential with every layer kind that has an ONNX form."""
    d = np.dtype(dtype)

    def w(*shape):
        return rng.normal(0, 0.6, size=shape).astype(d)

    layers = [
        L.Affine(w(6, 8), w(8), dtype=d), L.BatchNormalization(np.ones(8, d), dtype=d),
        L.LeakyReLU(0.1), L.Dropout(0.5, seed=0), L.MatMul(w(8, 7), dtype=d), L.Tanh(),
        L.Affine(w(7, 5), w(5), dtype=d), L.Sigmoid(), L.Identity(),
        L.Affine(w(5, 5), w(5), dtype=d), L.ReLU(),
        L.Affine(w(5, TASK_OUT[task]), w(TASK_OUT[task]), dtype=d),
    ]
    model = models.Sequential(layers, LOSS[task]())
    randomize_batchnorm(model, rng)
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_every_layer_kind_matches_onnx_runtime(task, dtype):
    rng = np.random.default_rng(1)
    model = every_layer_model(task, dtype, rng)
    proto = to_onnx(model)
    x = rng.normal(size=(37, 6)).astype(np.float32)
    assert_same(model, x, run_onnx(proto, x))
    # float64 weights are written as float32, and the input is float32
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert {t.data_type for t in proto.graph.initializer if t.name.startswith(("Affine",
            "MatMul", "Batch"))} == {onnx.TensorProto.FLOAT}
    # Dropout and Identity leave no node; every other layer one (BatchNorm in inference form)
    ops = [n.op_type for n in proto.graph.node]
    assert ops[:9] == ["Gemm", "BatchNormalization", "LeakyRelu", "MatMul", "Tanh", "Gemm",
                       "Sigmoid", "Gemm", "Relu"]
    assert "Dropout" not in ops


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "identity"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_mlp_of_each_activation_matches(task, activation):
    rng = np.random.default_rng(2)
    model = models.MLP([5, 9, 7, TASK_OUT[task]], activation=activation, task=task,
                       batchnorm=True, dropout=0.2, seed=3)
    randomize_batchnorm(model, rng)
    x = rng.normal(size=(25, 5)).astype(np.float32)
    assert_same(model, x, run_onnx(to_onnx(model), x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_autograd_mlp_matches(task, dtype):
    rng = np.random.default_rng(4)
    model = nn.MLP([6, 10, 8, TASK_OUT[task]], activation="tanh", task=task, batchnorm=True,
                   dropout=0.3, dtype=dtype, seed=5)
    for m in model._order:
        if isinstance(m, nn.BatchNormalization):
            m.running_mean[...] = rng.normal(size=m.size)
            m.running_var[...] = rng.uniform(0.3, 3.0, size=m.size)
            m.beta.data[...] = rng.normal(size=m.size)
    x = rng.normal(size=(19, 6)).astype(np.float32)
    assert_same(model, x, run_onnx(to_onnx(model), x))
    # nn.Trainable (what Trainer fits) exports its model
    assert_same(model, x, run_onnx(to_onnx(nn.Trainable(model)), x))


def test_embedding_first_layer_takes_integer_ids():
    rng = np.random.default_rng(6)
    emb = rng.normal(size=(11, 3)).astype(np.float32)
    # ids (N, T=4): the lookup gives (N, 4, 3), flattened to (N, 12) as Affine does
    f32 = np.float32
    model = models.Sequential([L.Embedding(emb), L.Affine(rng.normal(size=(12, 5)), dtype=f32),
                               L.ReLU(), L.Affine(rng.normal(size=(5, 3)), dtype=f32)],
                              L.SoftmaxWithLoss())
    ids = rng.integers(0, 11, size=(20, 4)).astype(np.int64)
    proto = to_onnx(model)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert_same(model, ids, run_onnx(proto, ids))
    # one id per sample into a MatMul: ids of shape (N,)
    model = models.Sequential([L.Embedding(emb), L.MatMul(rng.normal(size=(3, 2)), dtype=f32)],
                              L.MeanSquaredLoss())
    ids = rng.integers(0, 11, size=9).astype(np.int64)
    assert_same(model, ids, run_onnx(to_onnx(model), ids))


def test_dynamic_batch_and_pinned_versions(tmp_path):
    model = models.MLP([4, 6, 3], seed=0)
    path = export(model, tmp_path / "m.onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.ir_version == IR_VERSION == 8
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", OPSET)] and OPSET == 17
    dim = proto.graph.input[0].type.tensor_type.shape.dim
    assert dim[0].dim_param == "N" and dim[1].dim_value == 4
    rng = np.random.default_rng(0)
    for n in (1, 2, 1000):
        x = rng.normal(size=(n, 4)).astype(np.float32)
        assert_same(model, x, run_onnx(path, x))


def test_class_names_and_input_scaling():
    rng = np.random.default_rng(7)
    model = models.MLP([3, 8, 3], seed=1)
    x_train = rng.normal(5.0, 3.0, size=(50, 3)).astype(np.float32)
    x = rng.normal(5.0, 3.0, size=(30, 3)).astype(np.float32)
    names = ["cat", "dog", "emu"]
    for scaler in (Standardizer().fit(x_train), MinMaxScaler((-1, 2)).fit(x_train)):
        for given in (scaler, scaler.to_dict()):
            got = run_onnx(to_onnx(model, given, class_names=names), x)
            assert got["label"].dtype == object
            assert_same(model, scaler.transform(x), got, class_names=names)
    from sklearn.preprocessing import MinMaxScaler as SkMinMax
    from sklearn.preprocessing import StandardScaler

    for sk in (StandardScaler().fit(x_train), SkMinMax().fit(x_train)):
        got = run_onnx(to_onnx(model, sk), x)
        assert_same(model, sk.transform(x).astype(np.float32), got)
    # integer class labels stay integers
    got = run_onnx(to_onnx(model, class_names=[10, 20, 30]), x)
    assert got["label"].dtype == np.int64 and set(got["label"]) <= {10, 20, 30}


def test_fill_values_and_target_scaling_in_the_graph():
    rng = np.random.default_rng(8)
    model = models.MLP([3, 6, 2], task="regression", seed=2)
    x_train = rng.normal(2.0, 4.0, size=(40, 3)).astype(np.float32)
    t_train = rng.normal([100.0, -5.0], [30.0, 2.0], size=(40, 2)).astype(np.float32)
    scaler, tscaler = Standardizer().fit(x_train), Standardizer().fit(t_train)
    fill = np.array([1.5, -2.0, 7.0], np.float32)
    x = rng.normal(2.0, 4.0, size=(12, 3)).astype(np.float32)
    x[0, 1] = x[3, 0] = x[3, 2] = np.nan
    got = run_onnx(to_onnx(model, scaler, fill_values=fill, target_scaler=tscaler), x)
    filled = np.where(np.isnan(x), fill, x)
    want = tscaler.inverse_transform(model.predict(scaler.transform(filled)))
    np.testing.assert_allclose(got["values"], want, **TOL)
    assert abs(want.mean(axis=0)[0]) > 20  # in the targets' units, not standardized


class Doubler(L.Layer):
    """A layer of one's own: y = 2·x (no ONNX form)."""

    def forward(self, x):
        return 2 * x


def test_a_layer_with_no_onnx_form_is_named(tmp_path):
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    model = models.Sequential([L.Affine(np.ones((2, 3))), Doubler(), L.Affine(np.ones((3, 2)))],
                              L.SoftmaxWithLoss())
    with pytest.raises(ValueError, match=r"layer 2 Doubler1 \(Doubler\) has no ONNX form"):
        export(model, target)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.onnx"]
    emb = models.Sequential([L.Affine(np.ones((2, 3))), L.Embedding(np.ones((4, 3)))],
                            L.MeanSquaredLoss())
    with pytest.raises(ValueError, match="layer 2 Embedding1 .*must be the model's first"):
        to_onnx(emb)
    with pytest.raises(ValueError, match="expected an ippo.models model"):
        to_onnx(object())
    from ippo.sklearn import MLPClassifier

    with pytest.raises(ValueError, match="MLPClassifier is not fitted yet"):
        to_onnx(MLPClassifier())


# --------------------------------------------------------------------------- real data


def test_trained_digits_model_matches_on_the_test_set():
    from ippo.datasets import load_digits
    from ippo.optimizers import Adam
    from ippo.training import Trainer

    (x_train, t_train), (x_test, t_test) = load_digits()
    model = models.MLP([64, 64, 10], batchnorm=True, dropout=0.1, seed=0)
    Trainer(model, Adam(), verbose=0).fit(x_train, t_train, epochs=5, batch_size=32, seed=0)
    x = x_test.reshape(len(x_test), -1).astype(np.float32)
    got = run_onnx(to_onnx(model), x)
    assert_same(model, x, got)
    assert np.mean(got["label"] == t_test) > 0.9


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def read_predictions(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def csv_runs(tmp_path_factory):
    """Two `ippo train` runs on a CSV with missing cells: string classes, and regression."""
    d = tmp_path_factory.mktemp("csvrun")
    rng = np.random.default_rng(9)
    n = 160
    x = rng.normal([10.0, -3.0, 200.0], [2.0, 1.0, 50.0], size=(n, 3))
    score = (x[:, 0] - 10) / 2 + (x[:, 2] - 200) / 50
    kind = np.where(score > 0.5, "large", np.where(score < -0.5, "small", "medium"))
    price = 1000 + 80 * x[:, 0] - 30 * x[:, 1] + 2 * x[:, 2]
    rows = []
    for i in range(n):
        cells = [f"{v:.4f}" for v in x[i]]
        if i % 7 == 3:
            cells[i % 3] = ""  # a missing cell: filled with the training mean
        rows.append(cells)
    header = ["width", "depth", "weight"]
    write_csv(d / "kind.csv", header + ["kind"], [r + [k] for r, k in zip(rows, kind, strict=True)])
    write_csv(d / "price.csv", header + ["price"],
              [r + [f"{p:.2f}"] for r, p in zip(rows, price, strict=True)])
    # new samples, with missing cells
    new = [[f"{v:.4f}" for v in r] for r in rng.normal([10.0, -3.0, 200.0], [2.0, 1.0, 50.0],
                                                         size=(40, 3))]
    new[2][0] = new[5][2] = ""
    write_csv(d / "new.csv", header, new)
    for target, extra in (("kind", []), ("price", ["--hidden", "16"])):
        assert main(["train", "-q", "--dataset", f"csv:{d / target}.csv", "--epochs", "20",
                     "--out", d / target] + extra) == 0
    return d


def onnx_input_from_csv(path):
    """The CSV's cells as float32, an empty cell as NaN (the raw features)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(c) if c else np.nan for c in r] for r in rows], np.float32)


def test_csv_classification_run_gives_ippo_predicts_classes(csv_runs, tmp_path, capsys):
    run = csv_runs / "kind"
    assert main(["export", run, "-o", tmp_path / "kind.onnx"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["predict", run, csv_runs / "new.csv", "--probs", "-o", tmp_path / "p.csv"]) == 0
    pred = read_predictions(tmp_path / "p.csv")
    got = run_onnx(tmp_path / "kind.onnx", onnx_input_from_csv(csv_runs / "new.csv"))
    assert list(got["label"]) == [r["name"] for r in pred]
    names = models.load(run / "model.npz").extra["class_names"]
    assert names == ["large", "medium", "small"]
    probs = np.array([[float(r[f"p_{n}"]) for n in names] for r in pred])
    np.testing.assert_allclose(got["probabilities"], probs, atol=5e-5)  # printed to 4 places
    assert len(set(got["label"])) == 3
    # and to 1e-5 against the exact numbers ippo predict computes (same code path)
    from ippo.commands import _common as C
    from ippo.commands.predict import read_inputs

    model, extra, _ = C.load_model(run)
    x = C.prepare_inputs(read_inputs(csv_runs / "new.csv", extra, 3), extra)
    np.testing.assert_allclose(got["probabilities"], C.outputs(model, x, extra), **TOL)


def test_csv_regression_run_gives_values_in_the_targets_units(csv_runs, tmp_path):
    run = csv_runs / "price"
    out = export_run(run, tmp_path / "price.onnx")
    from ippo.commands import _common as C
    from ippo.commands.predict import read_inputs

    model, extra, _ = C.load_model(run)
    assert extra["target_scaler"] is not None and extra["fill_values"] is not None
    want = C.outputs(model, C.prepare_inputs(read_inputs(csv_runs / "new.csv", extra, 3),
                                             extra), extra)
    got = run_onnx(out, onnx_input_from_csv(csv_runs / "new.csv"))["values"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)  # prices near 2,300
    assert 2000 < float(np.median(got)) < 2600  # 1000 + 80·10 + 30·3 + 2·200 = 2290
    assert main(["predict", run, csv_runs / "new.csv", "-o", tmp_path / "p.csv"]) == 0
    printed = np.array([float(r["value"]) for r in read_predictions(tmp_path / "p.csv")])
    np.testing.assert_allclose(got[:, 0], printed, rtol=1e-5)  # printed to 6 digits


def test_iris_run_folder_predicts_the_same_classes_as_ippo_predict(tmp_path):
    from ippo.datasets import load_dataset

    run = tmp_path / "iris"
    assert main(["train", "-q", "--dataset", "iris", "--epochs", "30", "--out", run]) == 0
    assert main(["export", run]) == 0  # default: model.onnx beside model.npz
    (_, _), (x_test, _) = load_dataset("iris", seed=0)
    np.save(tmp_path / "x.npy", x_test)
    assert main(["predict", run, tmp_path / "x.npy", "-o", tmp_path / "p.csv"]) == 0
    pred = read_predictions(tmp_path / "p.csv")
    got = run_onnx(run / "model.onnx", x_test.astype(np.float32))
    assert list(got["label"]) == [r["name"] for r in pred]
    assert {r["name"] for r in pred} == {"setosa", "versicolor", "virginica"}
    proto = onnx.load(run / "model.onnx")
    assert [n.op_type for n in proto.graph.node][:2] == ["Sub", "Div"]  # the run's scaling


# --------------------------------------------------------------------------- the CLI's errors


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("small") / "run"
    assert main(["train", "-q", "--dataset", "iris", "--epochs", "2", "--out", run]) == 0
    return run


@pytest.mark.parametrize("case, message", [
    ("missing", "no such model file"),
    ("folder", "is a folder without a model.npz"),
    ("not_a_model", "not an ippo model file"),
    ("no_folder", "does not exist"),
    ("output_is_folder", "it is a folder"),
    ("output_is_model", "is the model file itself"),
])
def test_export_errors_are_one_line_and_exit_1(case, message, small_run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    argv = {
        "missing": [tmp_path / "nope.npz"],
        "folder": [tmp_path / "empty"],
        "not_a_model": [tmp_path / "notes.txt", "-o", tmp_path / "x.onnx"],
        "no_folder": [small_run, "-o", tmp_path / "no" / "x.onnx"],
        "output_is_folder": [small_run, "-o", tmp_path / "empty"],
        "output_is_model": [small_run, "-o", small_run / "model.npz"],
    }[case]
    before = (small_run / "model.npz").read_bytes()
    rc = main(["export", *argv])
    out, err = capsys.readouterr()
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("ippo export: error: ") and message in err
    assert (small_run / "model.npz").read_bytes() == before


def test_export_without_onnx_installed_says_how_to_install(small_run, tmp_path, capsys,
                                                           monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    rc = main(["export", small_run, "-o", tmp_path / "x.onnx"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and 'pip install -e ".[onnx]"' in err
    assert not (tmp_path / "x.onnx").exists()


def test_every_task_and_activation_of_the_tables_has_an_onnx_form():
    """A new row in ippo.tasks must come with its ONNX form (the tests above run each)."""
    from ippo.onnx import ACTIVATION_OPS, TASK_OUTPUTS
    from ippo.tasks import ACTIVATIONS, TASKS

    assert set(TASK_OUTPUTS) == set(TASKS) and set(ACTIVATION_OPS) == set(ACTIVATIONS)
