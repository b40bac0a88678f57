"""ippo.sklearn: the estimators pass scikit-learn's own estimator checks, work in Pipeline,
GridSearchCV and cross_val_score, and learn as well as scikit-learn's MLPClassifier."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from ippo import models
from ippo.sklearn import EXPECTED_FAILED_CHECKS, MLPClassifier, MLPRegressor


@parametrize_with_checks([MLPClassifier(), MLPRegressor()],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_no_check_is_declared_to_fail():
    """Every check passes: none is declared an expected failure (README says so)."""
    assert EXPECTED_FAILED_CHECKS == {}


def test_array_api_check_passes_when_scipy_array_api_is_set():
    """scikit-learn skips check_array_api_input unless SCIPY_ARRAY_API=1 is set before
    scipy is imported: run it in a fresh process with it set."""
    code = (
        "from sklearn.utils.estimator_checks import estimator_checks_generator\n"
        "from ippo.sklearn import MLPClassifier, MLPRegressor\n"
        "ran = 0\n"
        "for e in (MLPClassifier(), MLPRegressor()):\n"
        "    for est, check in estimator_checks_generator(e):\n"
        "        if check.func.__name__ == 'check_array_api_input':\n"
        "            check(est)\n"
        "            ran += 1\n"
        "print(ran)\n")
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "2", res.stderr[-2000:]


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # theirs, 30 epochs
def test_pipeline_on_digits_learns_as_well_as_scikit_learns_mlp(digits):
    from sklearn.neural_network import MLPClassifier as SkMLP

    x_train, x_test, y_train, y_test = digits
    ours = make_pipeline(StandardScaler(), MLPClassifier(hidden=(64,), epochs=30,
                                                         batch_size=32))
    theirs = make_pipeline(StandardScaler(), SkMLP(hidden_layer_sizes=(64,), max_iter=30,
                                                   batch_size=32, random_state=0))
    acc_ours = ours.fit(x_train, y_train).score(x_test, y_test)
    acc_theirs = theirs.fit(x_train, y_train).score(x_test, y_test)
    assert acc_ours > 0.95 and acc_ours > acc_theirs - 0.02, (acc_ours, acc_theirs)
    est = ours[-1]
    assert est.n_iter_ == 30 and len(est.loss_curve_) == 30
    assert est.loss_curve_[-1] < est.loss_curve_[0] / 10
    assert isinstance(est.model_, models.MLP) and est.model_.sizes == [64, 64, 10]


def test_string_labels_and_probabilities_agree_with_the_model():
    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden=(16,), lr=0.01, epochs=100,
                                                        batch_size=16)).fit(x, names)
    est = clf[-1]
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    assert est.n_features_in_ == 4
    pred = clf.predict(x)
    assert pred.dtype.kind == "U" and np.mean(pred == names) > 0.95
    proba = clf.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], pred)
    xs = clf[0].transform(x)
    np.testing.assert_allclose(proba, est.model_.predict(xs.astype(np.float32)), atol=1e-5)
    np.testing.assert_allclose(clf.predict_log_proba(x), np.log(proba))


def test_two_classes_make_a_binary_network_with_two_probability_columns():
    x, y = load_iris(return_X_y=True)
    keep = y > 0
    x, y = StandardScaler().fit_transform(x[keep]), np.where(y[keep] == 1, "no", "yes")
    clf = MLPClassifier(hidden=(8,), epochs=150, batch_size=20).fit(x, y)
    assert clf.model_.task == "binary" and clf.model_.sizes[-1] == 1
    p = clf.predict_proba(x)
    assert p.shape == (len(x), 2)
    sigma = clf.model_.predict(x.astype(np.float32))[:, 0]
    np.testing.assert_allclose(p[:, 1], sigma, atol=1e-5)
    np.testing.assert_array_equal(clf.predict(x), np.where(p[:, 1] > 0.5, "yes", "no"))
    assert 0.9 < clf.score(x, y) <= 1.0


def test_grid_search_with_two_jobs_equals_one_job_and_cross_val_score():
    x, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(epochs=40, batch_size=16))
    grid = {"mlpclassifier__hidden": [(4,), (16,)], "mlpclassifier__lr": [0.001, 0.01]}
    par = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(x, y)
    ser = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(x, y)
    # the same seeds give the same models in worker processes (pickled) as in this one
    np.testing.assert_array_equal(par.cv_results_["mean_test_score"],
                                  ser.cv_results_["mean_test_score"])
    assert par.best_params_ == ser.best_params_
    assert par.best_params_["mlpclassifier__lr"] == 0.01  # 40 epochs: the larger rate wins
    assert par.best_score_ > 0.9 and par.score(x, y) > 0.9
    scores = cross_val_score(pipe, x, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.6


def test_regressor_learns_standardized_targets_in_the_data_units():
    x, y = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
    a = MLPRegressor(hidden=(16,), lr=0.01, epochs=60, batch_size=20).fit(x, y)
    b = MLPRegressor(hidden=(16,), lr=0.01, epochs=60, batch_size=20).fit(x, 1000 * y + 5000)
    # the network sees the same standardized targets, so the predictions scale exactly
    np.testing.assert_allclose(b.predict(x), 1000 * a.predict(x) + 5000, rtol=1e-4)
    assert a.score(x, y) > 0.9
    # model_ predicts in y's units: the scaling is folded into its last layer
    np.testing.assert_allclose(b.model_.predict(x.astype(np.float32))[:, 0], b.predict(x),
                               rtol=1e-5)
    # two outputs
    y2 = np.column_stack([y, -y / 10])
    c = MLPRegressor(hidden=(16,), lr=0.01, epochs=60, batch_size=20).fit(x, y2)
    assert c.predict(x).shape == (120, 2) and c.score(x, y2) > 0.9


def test_partial_fit_is_one_epoch_and_continues():
    x, y = load_iris(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    with pytest.raises(ValueError, match="first call needs classes="):
        MLPClassifier().partial_fit(x, y)
    one = MLPClassifier(hidden=(8,), epochs=1, batch_size=16).fit(x, y)
    inc = MLPClassifier(hidden=(8,), batch_size=16).partial_fit(x, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(inc.predict_proba(x), one.predict_proba(x))
    losses = []
    for _ in range(30):
        inc.partial_fit(x[y < 2], y[y < 2])  # a batch of two of the three classes is fine
        inc.partial_fit(x, y)
        losses.append(inc.loss_curve_[-1])
    assert inc.n_iter_ == 61 and len(inc.loss_curve_) == 61
    assert losses[-1] < losses[0] / 2
    with pytest.raises(ValueError, match="not in classes_"):
        inc.partial_fit(x, y + 1)
    with pytest.raises(ValueError, match="X has 3 features"):
        inc.partial_fit(x[:, :3], y)


def test_warm_start_continues_and_refuses_another_architecture():
    x, y = load_iris(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    est = MLPClassifier(hidden=(8,), epochs=5, batch_size=16, warm_start=True).fit(x, y)
    w = est.model_.params[0].copy()
    est.fit(x, y)
    assert est.n_iter_ == 10 and len(est.loss_curve_) == 10
    assert est.loss_curve_[5] < est.loss_curve_[0]
    assert not np.array_equal(w, est.model_.params[0])
    est.set_params(hidden=(9,))
    with pytest.raises(ValueError, match=r"hidden changed from \(8,\) to \(9,\)"):
        est.fit(x, y)
    est.set_params(warm_start=False).fit(x, y)  # a fresh network
    assert est.n_iter_ == 5 and est.model_.sizes == [4, 9, 3]


def test_early_stopping_stops_and_keeps_the_best_epoch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 20))
    y = (x[:, 0] + rng.normal(scale=2.0, size=200) > 0).astype(int)  # noisy: overfits
    est = MLPClassifier(hidden=(256,), lr=0.01, epochs=300, batch_size=20,
                        early_stopping=5).fit(x, y)
    assert est.n_iter_ < 300 and est.best_epoch_ == est.n_iter_ - 5
    val = est.history_["val_loss"]
    assert len(val) == est.n_iter_ and min(val) == val[est.best_epoch_ - 1]


def test_options_reach_the_network():
    x, y = load_iris(return_X_y=True)
    est = MLPClassifier(hidden=(6, 5), activation="tanh", dropout=0.2, batchnorm=True,
                        optimizer="momentum", lr=0.05, weight_decay=0.01, epochs=3,
                        dtype="float64").fit(x, y)
    kinds = [type(la).__name__ for la in est.model_.layers]
    assert kinds == ["Affine", "BatchNormalization", "Tanh", "Dropout", "Affine",
                     "BatchNormalization", "Tanh", "Dropout", "Affine"]
    assert est.model_.weight_decay == 0.01 and est.model_.dtype == np.float64
    assert type(est.optimizer_).__name__ == "Momentum" and est.optimizer_.lr == 0.05
    # weight decay shrinks the weights
    big = MLPClassifier(hidden=(16,), lr=0.01, epochs=100, weight_decay=0.0).fit(x, y)
    small = MLPClassifier(hidden=(16,), lr=0.01, epochs=100, weight_decay=0.1).fit(x, y)
    assert np.linalg.norm(small.model_.params[0]) < 0.7 * np.linalg.norm(big.model_.params[0])
    assert 0.95 < small.score(x, y) <= 1.0


@pytest.mark.parametrize("params, message", [
    ({"hidden": (10, 0)}, "hidden must be a tuple of positive layer sizes"),
    ({"activation": "softplus"}, "activation must be one of"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"lr": -1.0}, "lr == -1.0, must be > 0"),
    ({"epochs": 0}, "epochs == 0, must be >= 1"),
    ({"dropout": 1.0}, "dropout == 1.0, must be < 1"),
    ({"early_stopping": 3, "val_split": 0.0}, "early_stopping needs validation data"),
    ({"dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
    ({"threads": 0}, "threads == 0, must be >= 1"),
])
def test_bad_parameters_are_named_at_fit(params, message):
    est = MLPClassifier(**params)  # scikit-learn's rule: __init__ and set_params check nothing
    with pytest.raises(ValueError, match=message):
        est.fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])


def test_pickle_keeps_the_weights_not_the_training_buffers(tmp_path):
    import joblib

    x, y = load_digits(return_X_y=True)
    est = MLPClassifier(hidden=(32,), epochs=2).fit(x, y)
    weights = sum(p.nbytes for p in est.model_.params)
    blob = pickle.dumps(est)
    assert len(blob) < 5 * weights  # weights, their (zero) gradients, Adam's two moments
    back = pickle.loads(blob)
    np.testing.assert_array_equal(back.predict_proba(x), est.predict_proba(x))
    joblib.dump(est, tmp_path / "est.joblib")
    again = joblib.load(tmp_path / "est.joblib")
    np.testing.assert_array_equal(again.predict(x), est.predict(x))
    again.set_params(warm_start=True, epochs=1).fit(x, y)  # the optimizer state came along
    # 1,797 samples in batches of 200: 9 steps per epoch
    assert est.optimizer_.t == 18 and again.n_iter_ == 3 and again.optimizer_.t == 27


def test_model_saves_pickle_free_and_exports_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from ippo.onnx import export

    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = MLPClassifier(hidden=(16,), epochs=100, batch_size=16).fit(x, names)
    est.model_.save(tmp_path / "m.npz")
    back = models.load(tmp_path / "m.npz")
    x32 = x.astype(np.float32)
    np.testing.assert_array_equal(back.predict(x32), est.model_.predict(x32))
    export(est, tmp_path / "m.onnx")  # the estimator: its classes_ are the labels
    s = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    label, proba = s.run(["label", "probabilities"], {"input": x32})
    np.testing.assert_array_equal(label, est.predict(x))
    np.testing.assert_allclose(proba, est.predict_proba(x), atol=1e-5)


def test_verbose_prints_a_line_per_epoch(capsys):
    x, y = load_iris(return_X_y=True)
    MLPClassifier(hidden=(4,), epochs=3, verbose=2).fit(x, y)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "epoch 1/3" in text and "epoch 3/3" in text
    MLPClassifier(hidden=(4,), epochs=3).fit(x, y)
    out = capsys.readouterr()
    assert out.out + out.err == ""


def test_clone_gives_an_unfitted_copy_with_the_same_parameters():
    est = MLPRegressor(hidden=(7,), lr=0.02, seed=3)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est
    assert not hasattr(twin, "model_")


def test_benchmark_script_runs_and_reports_both_estimators(tmp_path, capsys):
    from benchmarks import sklearn_estimators

    out = tmp_path / "bench.md"
    assert sklearn_estimators.main(["--quick", "--threads", "1", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| digits"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "64-256-10" and cells[2] == "2, 32"  # ippo train's digits network
    ratio, acc_ippo, acc_sklearn = float(cells[5]), cells[6], cells[7]
    assert ratio > 0 and float(acc_ippo.split()[0]) > 0.8 and float(acc_sklearn.split()[0]) > 0.8
    assert "BLAS threads: 1" in text and row in capsys.readouterr().out


def test_fit_runs_on_the_given_blas_threads_and_restores_them(monkeypatch):
    from ippo import blas

    before = blas.get_threads()
    if before is None:
        pytest.skip("threadpoolctl cannot control this BLAS")
    seen = []
    real_fit = MLPClassifier._fit_checked

    def spy(self, *args):
        seen.append(blas.get_threads())
        return real_fit(self, *args)

    monkeypatch.setattr(MLPClassifier, "_fit_checked", spy)
    x, y = load_iris(return_X_y=True)
    MLPClassifier(hidden=(4,), epochs=1).fit(x, y)
    MLPClassifier(hidden=(4,), epochs=1, threads=None).fit(x, y)
    assert seen == [1, before] and blas.get_threads() == before
