"""Metrics against small cases computed by hand (and scikit-learn where installed)."""

import numpy as np
import pytest

from ippo import functions as F
from ippo import metrics as M

# 3 classes, 8 samples
T = np.array([0, 0, 0, 1, 1, 2, 2, 2])
Y = np.array([0, 1, 0, 1, 2, 2, 2, 0])
# by hand: class 0: TP 2, FP 1 (sample 7), FN 1 (sample 1)  → P 2/3, R 2/3
#          class 1: TP 1, FP 1 (sample 1), FN 1 (sample 4)  → P 1/2, R 1/2
#          class 2: TP 2, FP 1 (sample 4), FN 1 (sample 7)  → P 2/3, R 2/3


def test_accuracy_forms():
    assert M.accuracy(Y, T) == pytest.approx(5 / 8)
    scores = np.eye(3)[Y] * 2.0 + 0.1  # (N, C) scores → argmax
    assert M.accuracy(scores, T) == pytest.approx(5 / 8)
    assert M.accuracy(scores, np.eye(3)[T]) == pytest.approx(5 / 8)  # one-hot targets
    probs = np.array([[0.9], [0.2], [0.6], [0.4]])  # binary (N, 1) probabilities
    assert M.accuracy(probs, np.array([1, 0, 0, 0])) == pytest.approx(3 / 4)
    assert M.accuracy(np.array([[2.0], [-1.0]]), [1, 0], threshold=0.0) == 1.0


def test_confusion_matrix_by_hand():
    cm = M.confusion_matrix(Y, T)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 1, 1], [1, 0, 2]])
    assert cm.sum() == 8 and np.trace(cm) == 5
    assert M.confusion_matrix(Y, T, n_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="outside"):
        M.confusion_matrix(Y, T, n_classes=2)


def test_precision_recall_f1_per_class_and_averages():
    r = M.precision_recall_f1(Y, T)
    np.testing.assert_allclose(r["precision"], [2 / 3, 1 / 2, 2 / 3])
    np.testing.assert_allclose(r["recall"], [2 / 3, 1 / 2, 2 / 3])
    np.testing.assert_allclose(r["f1"], [2 / 3, 1 / 2, 2 / 3])
    np.testing.assert_array_equal(r["support"], [3, 2, 3])
    macro = M.precision_recall_f1(Y, T, average="macro")
    assert macro["precision"] == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)
    micro = M.precision_recall_f1(Y, T, average="micro")
    assert micro["precision"] == micro["recall"] == micro["f1"] == pytest.approx(5 / 8)
    weighted = M.precision_recall_f1(Y, T, average="weighted")
    assert weighted["recall"] == pytest.approx((3 * 2 / 3 + 2 * 1 / 2 + 3 * 2 / 3) / 8)
    with pytest.raises(ValueError, match="average"):
        M.precision_recall_f1(Y, T, average="mean")


def test_zero_division_gives_zero():
    # class 2 never predicted and never true; class 1 predicted but never true
    r = M.precision_recall_f1(np.array([0, 1]), np.array([0, 0]), n_classes=3)
    np.testing.assert_allclose(r["precision"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(r["recall"], [0.5, 0.0, 0.0])
    np.testing.assert_allclose(r["f1"], [2 / 3, 0.0, 0.0])


def test_against_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    t, y = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    np.testing.assert_array_equal(M.confusion_matrix(y, t), sk.confusion_matrix(t, y))
    for avg in ("macro", "micro", "weighted"):
        p, r, f, _ = sk.precision_recall_fscore_support(t, y, average=avg)
        mine = M.precision_recall_f1(y, t, average=avg)
        assert mine["precision"] == pytest.approx(p)
        assert mine["recall"] == pytest.approx(r)
        assert mine["f1"] == pytest.approx(f)
    yr, tr = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    assert M.r2_score(yr, tr) == pytest.approx(sk.r2_score(tr, yr))
    assert M.mean_squared_error(yr, tr) == pytest.approx(sk.mean_squared_error(tr, yr))


def test_regression_metrics_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    t = np.array([1.0, 3.0, 3.0, 2.0])
    # errors 0, -1, 0, 2 → squared 0, 1, 0, 4 → mean 5/4
    assert M.mean_squared_error(y, t) == pytest.approx(1.25)
    assert M.root_mean_squared_error(y, t) == pytest.approx(1.25**0.5)
    assert M.mean_absolute_error(y, t) == pytest.approx(0.75)
    # the metric has no ½: it is twice the loss of ippo.functions
    assert M.mean_squared_error(y, t) == pytest.approx(2 * F.mean_squared_error(y, t))
    # mean(t) = 2.25; SS_tot = 1.5625+0.5625+0.5625+0.0625 = 2.75; SS_res = 5
    assert M.r2_score(y, t) == pytest.approx(1 - 5 / 2.75)
    assert M.r2_score(t, t) == 1.0
    assert M.r2_score(np.full(4, t.mean()), t) == pytest.approx(0.0)
    assert M.mean_squared_error(y[:, None], t) == pytest.approx(1.25)  # (N,1) vs (N,)


def test_errors():
    with pytest.raises(ValueError, match="different lengths"):
        M.accuracy(np.array([0, 1]), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="empty"):
        M.accuracy(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(ValueError, match="shape"):
        M.mean_squared_error(np.zeros(3), np.zeros(4))
    # targets that are not numbers are refused (they used to score 0.0 silently)
    with pytest.raises(ValueError, match="t must be numeric class labels, got dtype <U1"):
        M.accuracy(np.array([0, 1]), np.array(["a", "b"]))
    for bad in (2.5, 0, True):
        with pytest.raises(ValueError, match="n_classes must be a positive integer"):
            M.confusion_matrix(Y, T, n_classes=bad)
    with pytest.raises(ValueError, match=r"^r2_score: t must be numeric, got dtype <U1"):
        M.r2_score(np.zeros(2), np.array(["a", "b"]))


def test_a_binary_probability_of_exactly_one_half_is_class_0_everywhere(tmp_path, capsys):
    import csv as csv_module

    from ippo.cli import main
    from ippo.models import MLP

    model = MLP([2, 1], task="binary", seed=0)
    for p in model.params:
        p[...] = 0.0  # every score 0: σ(0) = ½ exactly
    x = np.ones((3, 2), np.float32)
    prob = model.predict(x)
    assert prob.tolist() == [[0.5], [0.5], [0.5]]
    assert model.predict_classes(x).tolist() == [0, 0, 0]
    assert M.to_classes(prob).tolist() == [0, 0, 0]  # was 1: y >= 0.5
    assert M.accuracy(prob, [0, 0, 0]) == 1.0 == model.accuracy(x, [0, 0, 0])
    assert M.to_classes(np.array([0.5, 0.7, 0.2])).tolist() == [0, 1, 0]
    assert M.to_classes(np.array([[0.0], [1e-9]]), threshold=0.0).tolist() == [0, 1]
    model.save(tmp_path / "m.npz")
    np.save(tmp_path / "x.npy", x)
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "x.npy")]) == 0
    rows = list(csv_module.reader(capsys.readouterr().out.splitlines()))[1:]
    assert [r[1] for r in rows] == ["0", "0", "0"] and rows[0][3] == "0.5000"
