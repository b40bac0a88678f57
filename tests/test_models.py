"""ippo.models: Sequential and MLP, float32 end to end, weight decay, save/load."""

import os
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

from ippo.gradcheck import relative_error
from ippo.layers import (
    Affine,
    BatchNormalization,
    Dropout,
    MeanSquaredLoss,
    ReLU,
    Sigmoid,
    SigmoidWithLoss,
    SoftmaxWithLoss,
    Tanh,
)
from ippo.models import MLP, Sequential, load
from ippo.numerical import numerical_gradient


def data(n=20, d=4, classes=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(dtype)
    return x, rng.integers(0, classes, n)


def sgd(model, lr):
    for p, g in zip(model.params, model.grads, strict=True):
        p -= lr * g


# --------------------------------------------------------------------------- building


def test_mlp_structure_and_names():
    m = MLP([5, 4, 3, 2], activation="tanh", dropout=0.2, batchnorm=True, seed=0)
    kinds = [type(la).__name__ for la in m.layers]
    assert kinds == ["Affine", "BatchNormalization", "Tanh", "Dropout",
                     "Affine", "BatchNormalization", "Tanh", "Dropout", "Affine"]
    assert isinstance(m.loss_layer, SoftmaxWithLoss)
    assert m.param_names == [
        "Affine1.W", "Affine1.b", "BatchNormalization1.gamma", "BatchNormalization1.beta",
        "Affine2.W", "Affine2.b", "BatchNormalization2.gamma", "BatchNormalization2.beta",
        "Affine3.W", "Affine3.b"]
    assert [p.shape for p in m.params] == [p.shape for p in m.grads]
    assert m.n_params == 5 * 4 + 4 + 8 + 4 * 3 + 3 + 6 + 3 * 2 + 2
    # the first layer never computes its input gradient
    assert not m.layers[0].need_input_grad and all(la.need_input_grad for la in m.layers[1:])
    assert "Affine1" in repr(Sequential(m.layers, SoftmaxWithLoss()))


@pytest.mark.parametrize("task,loss_cls,out", [("regression", MeanSquaredLoss, 3),
                                               ("binary", SigmoidWithLoss, 1),
                                               ("multiclass", SoftmaxWithLoss, 3)])
def test_task_picks_loss(task, loss_cls, out):
    m = MLP([4, 5, out], task=task)
    assert m.task == task and isinstance(m.loss_layer, loss_cls)


def test_init_scales():
    n = 400
    for init, act, std in [("he", "relu", np.sqrt(2 / n)), ("xavier", "relu", np.sqrt(1 / n)),
                           ("auto", "relu", np.sqrt(2 / n)), ("auto", "leaky_relu", np.sqrt(2 / n)),
                           ("auto", "sigmoid", np.sqrt(1 / n)), ("auto", "tanh", np.sqrt(1 / n)),
                           (0.01, "relu", 0.01)]:
        m = MLP([n, 300, 10], activation=act, init=init, seed=1)
        assert m.params[0].std() == pytest.approx(std, rel=0.02), (init, act)
        assert not m.params[1].any()  # biases start at 0


def test_same_seed_bit_identical_weights():
    a = MLP([6, 5, 3], seed=42, dropout=0.5)
    b = MLP([6, 5, 3], seed=42, dropout=0.5)
    c = MLP([6, 5, 3], seed=43)
    for p, q in zip(a.params, b.params, strict=True):
        assert p.tobytes() == q.tobytes()
    assert a.params[0].tobytes() != c.params[0].tobytes()
    x, t = data(d=6)
    assert a.loss(x, t) == b.loss(x, t)  # same dropout masks too
    # batchnorm does not change the weights a seed gives
    e = MLP([6, 5, 3], seed=42, batchnorm=True, dropout=0.5)
    for p, q in zip(a.params[0::2], e.params[0::4], strict=True):
        assert p.tobytes() == q.tobytes()
    # float32 and float64 models with one seed start from the same weights, up to rounding
    d = MLP([6, 5, 3], seed=42, dtype=np.float64)
    np.testing.assert_allclose(a.params[0], d.params[0], rtol=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    ({"sizes": [4]}, "at least two positive integers"),
    ({"sizes": [4, 0, 2]}, "positive integers"),
    ({"sizes": [4, 3], "activation": "softplus"}, "activation must be one of"),
    ({"sizes": [4, 3], "task": "ranking"}, "task must be one of"),
    ({"sizes": [4, 3], "task": "binary"}, "one output"),
    ({"sizes": [4, 1]}, "at least 2 outputs"),
    ({"sizes": [4, 3], "init": "lecun"}, "init must be"),
    ({"sizes": [4, 3], "init": -1.0}, "positive"),
    ({"sizes": [4, 3], "dropout": 1.0}, "dropout"),
    ({"sizes": [4, 3], "dtype": np.int32}, "float32 or float64"),
    ({"sizes": [4, 3], "weight_decay": -1}, "weight_decay"),
    ({"sizes": [4, 3], "seed": "a"}, "seed must be None, a non-negative integer"),
])
def test_mlp_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_sequential_rejects_bad_parts():
    with pytest.raises(ValueError, match="loss must be a loss layer"):
        Sequential([ReLU()], ReLU())
    with pytest.raises(ValueError, match="not a loss"):
        Sequential([SoftmaxWithLoss()], SoftmaxWithLoss())
    relu = ReLU()
    with pytest.raises(ValueError, match="appears twice"):
        Sequential([relu, relu], SoftmaxWithLoss())
    with pytest.raises(ValueError, match=r"layers must be a list of layers.*got Affine\(2→3\)"):
        Sequential(Affine(np.ones((2, 3))), SoftmaxWithLoss())  # one layer, not in a list
    assert len(Sequential((ReLU(), Tanh()), SoftmaxWithLoss()).layers) == 2  # any iterable


# --------------------------------------------------------------------------- behaviour


def test_hand_built_sequential_equals_mlp():
    m = MLP([4, 6, 5, 3], activation="sigmoid", seed=3)
    a1, a2, a3 = (la for la in m.layers if isinstance(la, Affine))
    s = Sequential([Affine(a1.W, a1.b), Sigmoid(), Affine(a2.W, a2.b), Sigmoid(),
                    Affine(a3.W, a3.b)], SoftmaxWithLoss())
    x, t = data()
    np.testing.assert_array_equal(s.predict(x), m.predict(x))
    assert s.loss(x, t) == m.loss(x, t)
    s.backward()
    m.backward()
    for g, h in zip(s.grads, m.grads, strict=True):
        np.testing.assert_array_equal(g, h)
    s.load_state_dict(m.state_dict())  # same names: Affine1.W, ...


def test_predict_outputs_per_task():
    x, t = data()
    m = MLP([4, 5, 3], seed=0)
    p = m.predict(x)
    assert p.shape == (20, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(m.predict_classes(x), p.argmax(axis=1))
    assert m.accuracy(x, t) == np.mean(p.argmax(axis=1) == t)
    assert m.accuracy(x, np.eye(3)[t]) == m.accuracy(x, t)  # one-hot accepted
    b = MLP([4, 5, 1], task="binary", seed=0)
    pb = b.predict(x)
    assert pb.shape == (20, 1) and ((pb > 0) & (pb < 1)).all()
    np.testing.assert_array_equal(b.predict_classes(x), (pb[:, 0] > 0.5).astype(int))
    assert b.accuracy(x, t % 2) == b.accuracy(x, (t % 2)[:, None])
    r = MLP([4, 5, 2], task="regression", seed=0)
    np.testing.assert_array_equal(r.predict(x), r.scores(x))
    with pytest.raises(ValueError, match="no classes"):
        r.predict_classes(x)
    with pytest.raises(ValueError, match="expected"):
        m.accuracy(x, t[:5])


def test_predict_in_chunks_matches(monkeypatch):
    import ippo.models
    x, _ = data(n=50)
    m = MLP([4, 5, 3], seed=0)
    whole = m.predict(x)
    monkeypatch.setattr(ippo.models, "PREDICT_CHUNK", 7)
    np.testing.assert_allclose(m.predict(x), whole, rtol=1e-6)


def test_train_eval_switch():
    m = MLP([4, 8, 3], dropout=0.5, batchnorm=True, seed=0)
    x, t = data()
    assert m.training and all(la.training for la in m.layers)
    assert m.eval() is m and not any(la.training for la in m.layers)
    assert m.loss(x, t) == m.loss(x, t)  # inference: deterministic
    m.train()
    assert m.loss(x, t) != m.loss(x, t)  # dropout draws new masks
    # predict always runs in inference mode and leaves the mode as it was
    p1 = m.predict(x)
    assert m.training
    np.testing.assert_array_equal(m.predict(x), p1)
    np.testing.assert_array_equal(m.eval().predict(x), p1)


def test_training_reduces_loss_for_every_task():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    cases = [("multiclass", 3, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)),
             ("binary", 1, (x[:, 0] * x[:, 1] > 0).astype(int)),
             ("regression", 2, np.stack([x[:, 0] ** 2, x[:, 1] - x[:, 2]], axis=1))]
    for task, out, t in cases:
        m = MLP([3, 16, out], task=task, seed=0)
        first = m.loss(x, t)
        for _ in range(200):
            m.loss(x, t)
            m.backward()
            sgd(m, 0.2)
        assert m.loss(x, t) < first / 2, task
        if task != "regression":
            assert 0.85 < m.accuracy(x, t) <= 1.0, task


def test_bad_input_width_names_the_layer():
    m = MLP([784, 100, 10])
    with pytest.raises(ValueError) as e:
        m.loss(np.zeros((32, 785), np.float32), np.zeros(32, int))
    assert str(e.value) == ("Affine(784→100) layer 1: expected input of shape (N, 784), "
                            "got (32, 785)")
    with pytest.raises(ValueError, match="Affine"):
        m.predict(np.zeros(785))


# --------------------------------------------------------------------------- weight decay


def test_weight_decay_loss_and_gradients():
    x, t = data(dtype=np.float64)
    lam = 0.3
    m = MLP([4, 6, 3], weight_decay=lam, dtype=np.float64, seed=0)
    plain = MLP([4, 6, 3], dtype=np.float64, seed=0)
    W1, W2 = m.params[0], m.params[2]
    penalty = 0.5 * lam * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    assert m.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty, rel=1e-12)
    m.backward()
    plain.backward()
    np.testing.assert_allclose(m.grads[0], plain.grads[0] + lam * W1)
    np.testing.assert_allclose(m.grads[1], plain.grads[1])  # biases not decayed
    for p, g in zip(m.params, m.grads, strict=True):
        assert relative_error(g, numerical_gradient(lambda _: m.loss(x, t), p, h=1e-5)) < 1e-7


# --------------------------------------------------------------------------- float32 and speed


def test_float32_end_to_end():
    x, t = data(dtype=np.float64)  # even float64 input is run in the model's float32
    for kwargs in [{}, {"weight_decay": 0.01, "dropout": 0.3, "batchnorm": True},
                   {"activation": "sigmoid", "task": "binary", "sizes": [4, 5, 1]},
                   {"activation": "tanh", "task": "regression", "sizes": [4, 5, 2]}]:
        kwargs = {"sizes": [4, 5, 3], **kwargs}
        m = MLP(**kwargs, seed=0)
        tt = t if m.task == "multiclass" else (t % 2 if m.task == "binary"
                                               else np.zeros((20, 2), np.float32))
        loss = m.loss(x, tt)
        assert isinstance(loss, float)
        m.backward()
        assert all(p.dtype == np.float32 for p in m.params), kwargs
        assert all(g.dtype == np.float32 for g in m.grads), kwargs
        assert m.scores(x).dtype == np.float32 and m.predict(x).dtype == np.float32
        assert all(s.dtype == np.float32 for s in m.state_dict().values())


def test_a_training_step_allocates_no_parameter_sized_array():
    """loss + backward (with weight decay) allocate only activation-sized arrays."""
    m = MLP([300, 400, 10], weight_decay=1e-4, seed=0)
    x, t = data(n=8, d=300)
    param_bytes = m.params[0].nbytes  # 480 000 bytes
    grads_before = [id(g) for g in m.grads]
    m.loss(x, t)
    m.backward()  # warm-up: the weight-decay scratch buffer is allocated once here
    tracemalloc.start()
    try:
        for _ in range(3):
            m.loss(x, t)
            m.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < param_bytes / 4, peak
    assert [id(g) for g in m.grads] == grads_before


# --------------------------------------------------------------------------- state and files


def test_state_dict_round_trip_and_errors():
    a = MLP([4, 5, 3], batchnorm=True, seed=0)
    b = MLP([4, 5, 3], batchnorm=True, seed=1)
    x, t = data()
    a.loss(x, t)  # moves BatchNorm's running averages
    state = a.state_dict()
    assert "BatchNormalization1.running_mean" in state
    state["Affine1.W"][...] = 0  # a copy: the model is unchanged
    assert a.params[0].any()
    ids = [id(p) for p in b.params]
    b.load_state_dict(a.state_dict())
    assert [id(p) for p in b.params] == ids  # copied in place
    np.testing.assert_array_equal(b.predict(x), a.predict(x))
    with pytest.raises(ValueError, match="names do not match the model; missing keys: Affine2.b$"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "Affine2.b"})
    bad = a.state_dict()
    bad["Affine1.W"] = np.zeros((5, 4))
    with pytest.raises(ValueError, match=r"Affine1.W has shape \(5, 4\)"):
        b.load_state_dict(bad)


@pytest.mark.parametrize("kwargs", [
    {},
    {"activation": "leaky_relu", "dropout": 0.3, "batchnorm": True, "weight_decay": 0.01},
    {"task": "binary", "sizes": [4, 6, 1], "dtype": np.float64, "init": 0.1},
    {"task": "regression", "sizes": [4, 6, 2], "activation": "tanh"},
])
def test_save_load_identical_predictions(tmp_path, kwargs):
    kwargs = {"sizes": [4, 6, 3], **kwargs}
    m = MLP(**kwargs, seed=0)
    x, t = data()
    t = t if m.task == "multiclass" else (t % 2 if m.task == "binary" else np.ones((20, 2)))
    for _ in range(5):
        m.loss(x, t)
        m.backward()
        sgd(m, 0.1)
    path = tmp_path / "model.npz"
    assert m.save(path, extra={"epoch": 5}) == os.fspath(path)
    m2 = load(path)
    assert type(m2) is MLP and m2.config() == m.config() and m2.extra == {"epoch": 5}
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))
    for k, v in m.state_dict().items():
        assert m2.state_dict()[k].tobytes() == v.tobytes()
    assert [f for f in os.listdir(tmp_path) if f != "model.npz"] == []  # no temp file left
    with np.load(path, allow_pickle=False) as z:  # a plain npz, readable by NumPy alone
        assert "__meta__" in z.files and "Affine1.W" in z.files


def test_save_load_hand_built_sequential(tmp_path):
    rng = np.random.default_rng(0)
    s = Sequential([Affine(rng.standard_normal((4, 5))), BatchNormalization(np.ones(5)),
                    Tanh(), Dropout(0.2), Affine(rng.standard_normal((5, 1)))],
                   SigmoidWithLoss(), weight_decay=0.5)
    x, t = data()
    s.loss(x, t % 2)
    s.save(tmp_path / "s.npz")
    s2 = load(tmp_path / "s.npz")
    assert type(s2) is Sequential and s2.weight_decay == 0.5 and s2.task == "binary"
    np.testing.assert_array_equal(s2.predict(x), s.predict(x))
    assert s2.extra is None


def test_save_is_atomic(tmp_path):
    path = tmp_path / "m.npz"
    m = MLP([4, 5, 3], seed=0)
    m.save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="JSON"):
        m.save(path, extra={"bad": object()})
    assert path.read_bytes() == before  # the old file is intact
    assert os.listdir(tmp_path) == ["m.npz"]


def test_astype_copy():
    m = MLP([4, 5, 3], seed=0, dropout=0.1)
    m64 = m.astype(np.float64)
    assert m64.dtype == np.float64 and all(p.dtype == np.float64 for p in m64.params)
    np.testing.assert_array_equal(m64.params[0], m.params[0].astype(np.float64))
    m64.params[0][...] = 0
    assert m.params[0].any()


def _expect_bad_file(path, match):
    with pytest.raises(ValueError, match=match):
        load(path)


def test_load_truncated_file(tmp_path):
    path = tmp_path / "m.npz"
    MLP([20, 30, 3], seed=0).save(path)
    data_ = path.read_bytes()
    for cut in (len(data_) // 2, len(data_) - 30, 100):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data_[:cut])
        _expect_bad_file(bad, "not a valid ippo model file")


def test_load_random_bytes_and_pickle(tmp_path):
    path = tmp_path / "random.npz"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    _expect_bad_file(path, r"random\.npz: not an ippo model file \(not an \.npz archive\)")
    import pickle
    p = tmp_path / "pickle.npz"
    p.write_bytes(pickle.dumps({"a": 1}))
    _expect_bad_file(p, r"pickle\.npz: not an ippo model file \(it is a Python pickle, which "
                        r"ippo never loads")


def test_load_npz_without_metadata_or_with_object_array(tmp_path):
    p = tmp_path / "plain.npz"
    np.savez(p, W=np.zeros(3))
    _expect_bad_file(p, "no '__meta__' entry")
    q = tmp_path / "object.npz"
    meta = np.frombuffer(b'{"format": "ippo-model"}', dtype=np.uint8)
    np.savez(q, __meta__=meta, W=np.array([{"x": 1}, None], dtype=object))
    _expect_bad_file(q, "not a valid ippo model file")
    r = tmp_path / "single.npy"
    np.save(r, np.zeros(3))
    _expect_bad_file(r, "not an .npz archive")


def test_saved_model_file_has_normal_permissions(tmp_path):
    # mkstemp's private 0600 must not leak into model files: same mode as a plain new file
    normal = tmp_path / "plain.txt"
    normal.write_text("x")
    path = tmp_path / "m.npz"
    MLP([3, 4, 2], seed=0).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(normal.stat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "plain.txt"]  # no temporary file left


def test_loading_a_checkpoint_as_a_model_says_what_it_is(tmp_path):
    from ippo.training import save_checkpoint

    p = tmp_path / "checkpoint.npz"
    save_checkpoint(p, {"epoch": 1, "model": {"W": np.zeros(2)}})
    _expect_bad_file(p, r"checkpoint\.npz: this is a training checkpoint, not a model file; "
                        r"load the run's model\.npz")


def test_load_foreign_or_mismatched_metadata(tmp_path):
    def write(name, meta_bytes, **arrays):
        p = tmp_path / name
        np.savez(p, __meta__=np.frombuffer(meta_bytes, dtype=np.uint8), **arrays)
        return p

    _expect_bad_file(write("json.npz", b"{not json"), "bad __meta__")
    _expect_bad_file(write("fmt.npz", b'{"format": "keras"}'), "not an ippo model file")
    _expect_bad_file(write("ver.npz", b'{"format": "ippo-model", "version": 99}'),
                     "version 99")
    m = MLP([4, 5, 3], seed=0)
    path = tmp_path / "ok.npz"
    m.save(path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["Affine1.W"] = np.zeros((2, 2), np.float32)
    bad = tmp_path / "shape.npz"
    np.savez(bad, **arrays)
    _expect_bad_file(bad, "does not match its arrays")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_zip_of_other_content_is_rejected(tmp_path):
    p = tmp_path / "other.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
    _expect_bad_file(p, "not a valid ippo model file")


# --------------------------------------------------------------------------- audit: misuse


def test_backward_before_loss_is_a_clear_error():
    m = MLP([4, 5, 3], seed=0)
    with pytest.raises(ValueError, match=r"MLP.backward: call loss\(x, t\) first"):
        m.backward()
    x, t = data()
    m.predict(x)  # predicting is not a loss
    with pytest.raises(ValueError, match="call loss"):
        m.backward()
    m.loss(x, t)
    m.backward()  # now fine
    first = [g.copy() for g in m.grads]
    m.backward()  # and again: the same gradients
    for g, h in zip(m.grads, first, strict=True):
        np.testing.assert_array_equal(g, h)
    m.loss(x, t)
    m.predict(x[:5])  # the layers now hold the prediction's x: the loss's backward is gone
    with pytest.raises(ValueError, match="call loss"):
        m.backward()


def test_one_1d_sample_through_every_kind_of_mlp():
    x, _ = data(n=3)
    for kwargs in [{}, {"batchnorm": True, "dropout": 0.5}]:
        m = MLP([4, 5, 3], seed=0, **kwargs)
        np.testing.assert_allclose(m.predict(x[0]), m.predict(x[:1])[0], rtol=1e-6)
        assert m.predict_classes(x[0]) == m.predict_classes(x[:1])[0]


def test_gradients_in_inference_mode_with_batchnorm():
    """model.eval() then loss/backward: BatchNorm's running averages are constants and
    Dropout is the identity; back-propagation matches numerical gradients."""
    x, t = data(n=8, dtype=np.float64)
    m = MLP([4, 5, 3], batchnorm=True, dropout=0.5, dtype=np.float64, seed=0)
    for _ in range(3):
        m.loss(x * 2 + 1, t)  # moves the running averages away from 0 and 1
    m.eval()
    m.loss(x, t)
    m.backward()
    for name, p, g in zip(m.param_names, m.params, m.grads, strict=True):
        num = numerical_gradient(lambda _: m.loss(x, t), p, h=1e-5)
        assert relative_error(g, num) < 1e-7, name


def test_load_state_dict_checks_everything_before_copying():
    a = MLP([4, 5, 3], seed=0)
    b = MLP([4, 5, 3], seed=1)
    before = b.state_dict()
    bad = a.state_dict()
    bad["Affine2.W"] = np.zeros((3, 5), np.float32)  # the last array is wrong
    with pytest.raises(ValueError, match="Affine2.W has shape"):
        b.load_state_dict(bad)
    for k, v in b.state_dict().items():  # nothing was copied, Affine1 included
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(ValueError, match=r"expected a dict \{name: array\}.*got list"):
        b.load_state_dict(list(a.state_dict().values()))


def test_save_into_a_missing_folder_or_onto_a_folder(tmp_path):
    m = MLP([3, 4, 2], seed=0)
    with pytest.raises(FileNotFoundError,
                       match=r"cannot write .*: the folder .*nowhere does not exist"):
        m.save(tmp_path / "nowhere" / "m.npz")
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name such as"):
        m.save(tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_custom_layer_must_be_registered_to_save(tmp_path, monkeypatch):
    from ippo import layers

    class Double(layers.Identity):
        """y = 2·x, dx = 2·dout: a layer of the user's own."""

        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

    m = Sequential([Affine(np.ones((3, 2))), Double()], MeanSquaredLoss())
    with pytest.raises(ValueError, match=r"save: Double1 is a Double, which ippo.models.load "
                                         r"could not rebuild; register the class first: "
                                         r"ippo.layers.LAYERS\['Double'\] = Double"):
        m.save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []
    monkeypatch.setitem(layers.LAYERS, "Double", Double)
    m.save(tmp_path / "m.npz")
    m2 = load(tmp_path / "m.npz")
    assert isinstance(m2.layers[1], Double)
    x = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))


def test_save_load_embedding_matmul_leaky_relu(tmp_path):
    from ippo.layers import Embedding, LeakyReLU, MatMul

    rng = np.random.default_rng(3)
    s = Sequential([Embedding(rng.standard_normal((10, 4)), dtype=np.float32),
                    Affine(rng.standard_normal((12, 5)), dtype=np.float32), LeakyReLU(0.2),
                    MatMul(rng.standard_normal((5, 3)), dtype=np.float32)], SoftmaxWithLoss(),
                   weight_decay=0.01)
    ids = rng.integers(0, 10, (6, 3))
    s.save(tmp_path / "e.npz")
    s2 = load(tmp_path / "e.npz")
    assert s2.layers[2].alpha == 0.2 and s2.weight_decay == 0.01
    assert s2.param_names == ["Embedding1.W", "Affine1.W", "Affine1.b", "MatMul1.W"]
    np.testing.assert_array_equal(s2.predict(ids), s.predict(ids))


@pytest.mark.parametrize("meta,match", [
    (b'{"format": "ippo-model", "version": 1, "class": "Sequential", "config": "x"}',
     "its description has no architecture"),
    (b'{"format": "ippo-model", "version": 1, "class": "MLP", "config": null}',
     "its description has no architecture"),
    (b'{"format": "ippo-model", "version": 1, "class": ["MLP"], "config": {}}',
     r"unknown model class \['MLP'\]"),
    (b'{"format": "ippo-model", "version": true, "class": "MLP", "config": {}}',
     "version True is not supported"),
    (b'{"format": "ippo-model", "version": 1, "class": "MLP", "config": {"sizes": [2, 2], '
     b'"seed": "x"}}', "does not match its arrays"),
    (b'{"format": "ippo-model", "version": 1, "class": "Sequential", "config": {"layers": '
     b'[{"type": "Affine", "in_size": -1, "out_size": 2}], "loss": {"type": "SoftmaxWithLoss"'
     b'}}}', "does not match its arrays"),
    (b'{"format": "ippo-model", "version": 1, "class": "Sequential", "config": {"layers": '
     b'[{"type": "Affine", "in_size": 100000000, "out_size": 100000000}], "loss": {"type": '
     b'"SoftmaxWithLoss"}}}', "does not match its arrays: MemoryError"),  # 10¹⁶ weights
])
def test_load_malformed_descriptions(tmp_path, meta, match):
    p = tmp_path / "m.npz"
    np.savez(p, __meta__=np.frombuffer(meta, dtype=np.uint8))
    _expect_bad_file(p, match)


def test_damaged_files_only_ever_raise_value_error(tmp_path):
    """Bytes flipped or cut anywhere: load gives ValueError or (a flip in a field the zip
    format does not check, such as a timestamp) the very same model, never anything else."""
    m = MLP([5, 7, 3], batchnorm=True, seed=0)
    good = tmp_path / "m.npz"
    m.save(good)
    data_ = good.read_bytes()
    reference = m.state_dict()
    rng = np.random.default_rng(0)
    outcomes = {"ValueError": 0, "same": 0}
    for i in range(120):
        b = bytearray(data_)
        for j in rng.integers(0, len(b), 1 + i % 3):
            b[j] = (b[j] + 1 + int(rng.integers(255))) % 256
        if i % 4 == 0:
            b = b[: int(rng.integers(0, len(b)))]
        bad = tmp_path / "bad.npz"
        bad.write_bytes(bytes(b))
        try:
            m2 = load(bad)
        except ValueError as e:
            assert "bad.npz" in str(e)
            outcomes["ValueError"] += 1
            continue
        state = m2.state_dict()
        assert all(state[k].tobytes() == v.tobytes() for k, v in reference.items())
        outcomes["same"] += 1
    assert outcomes["ValueError"] > 90, outcomes


def test_empty_batches():
    m = MLP([4, 5, 3], batchnorm=True, seed=0)
    assert m.predict(np.zeros((0, 4), np.float32)).shape == (0, 3)
    assert m.accuracy(np.zeros((0, 4)), np.zeros(0, int)) == 0.0
    with pytest.raises(ValueError, match=r"MLP.loss: x holds no samples \(shape \(0, 4\)\)"):
        m.loss(np.zeros((0, 4)), np.zeros(0, int))
