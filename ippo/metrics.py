"""Metrics: how good are the predictions? (Not differentiated; never used as a loss.)

Conventions, as in ``ippo.functions``: arguments are ``(y, t)`` = (prediction, target), and
a function returns a Python ``float`` (or NumPy arrays for per-class results).

Class predictions ``y`` may be given as
- class indices, shape (N,) of integers;
- scores or probabilities, shape (N, C) with C ≥ 2: the class is ``argmax`` over the last axis;
- binary probabilities, shape (N, 1): the class is 1 where y > ``threshold`` (0.5 by
  default; pass ``threshold=0`` for logits): a probability of exactly ½ is class 0, as in
  the models' ``predict_classes`` (score > 0), ``ippo predict`` and the ONNX export. A
  float (N,) array holding whole numbers is read as class indices, any other float (N,)
  array as binary probabilities.

Targets ``t`` are class indices (N,) or one-hot (N, C).

Note on the squared error: ``ippo.functions.mean_squared_error`` is a *loss*,
½·mean((y − t)²), whose ½ makes its gradient simply (y − t)/n. The *metric*
``ippo.metrics.mean_squared_error`` here is the plain mean((y − t)²) that papers and
scikit-learn report, so that its square root is the RMSE in the units of t.
"""

from ippo.backend import xp

__all__ = [
    "to_classes",
    "accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "r2_score",
]


def to_classes(y, threshold=0.5, name="y"):
    """Class indices from indices, (N, C) scores/probabilities or binary (N, 1) probabilities."""
    y = xp.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {y.dtype}")
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        return (y[:, 0] > threshold).astype(xp.intp)  # binary probabilities (or logits)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be class indices (N,), scores (N, C) or binary probabilities (N, 1); "
            f"got shape {y.shape}"
        )
    if y.dtype.kind == "f":
        if xp.all(y == xp.floor(y)):
            return y.astype(xp.intp)  # float-typed class indices such as 2.0
        return (y > threshold).astype(xp.intp)
    return y.astype(xp.intp, copy=False)


def _targets(t, n, name="t"):
    t = xp.asarray(t)
    if t.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric class labels, got dtype {t.dtype}")
    if t.ndim == 2 and t.shape[1] > 1:
        t = t.argmax(axis=1)
    elif t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"{name} must be class indices (N,) or one-hot (N, C), got {t.shape}")
    if t.shape[0] != n:
        raise ValueError(f"predictions and {name} have different lengths: {n} vs {t.shape[0]}")
    if t.dtype.kind == "f":
        if t.size and not xp.all(t == xp.floor(t)):
            raise ValueError(f"{name} holds non-integer class labels")
        t = t.astype(xp.intp)
    return t


def _pair(y, t, threshold):
    yc = to_classes(y, threshold)
    tc = _targets(t, yc.shape[0])
    if yc.shape[0] == 0:
        raise ValueError("metrics need at least one sample, got empty arrays")
    return yc, tc


def accuracy(y, t, threshold=0.5):
    """Fraction of correct predictions: (1/N) Σ [argmax yₙ = tₙ]."""
    yc, tc = _pair(y, t, threshold)
    return float(xp.mean(yc == tc))


def confusion_matrix(y, t, n_classes=None, threshold=0.5):
    """Confusion matrix C of shape (K, K): C[i, j] = number of samples of true class i
    predicted as class j (rows: truth, columns: prediction; the diagonal is correct).

    K is ``n_classes`` or, when omitted, 1 + the largest class seen (or y's column count).
    """
    y_arr = xp.asarray(y)
    yc, tc = _pair(y, t, threshold)
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, (int, xp.integer))
        or n_classes < 1
    ):
        raise ValueError(f"confusion_matrix: n_classes must be a positive integer, got "
                         f"{n_classes!r}")
    if n_classes is None:
        n_classes = int(max(yc.max(), tc.max())) + 1
        if y_arr.ndim == 2 and y_arr.shape[1] > 1:
            n_classes = max(n_classes, y_arr.shape[1])
    for name, c in (("predictions", yc), ("targets", tc)):
        if c.min() < 0 or c.max() >= n_classes:
            raise ValueError(
                f"confusion_matrix: {name} hold classes {int(c.min())}..{int(c.max())}, "
                f"outside 0..{n_classes - 1}"
            )
    flat = tc * n_classes + yc
    return xp.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _safe_div(a, b):
    a = xp.asarray(a, dtype=xp.float64)
    b = xp.asarray(b, dtype=xp.float64)
    out = xp.zeros(xp.broadcast(a, b).shape)
    xp.divide(a, b, out=out, where=b != 0)
    return out


def precision_recall_f1(y, t, n_classes=None, average=None, threshold=0.5):
    """Precision, recall and F1 per class, or averaged.

    For class k with TP true positives, FP false positives and FN false negatives:
    precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2·P·R / (P + R)
    (0 where the denominator is 0).

    ``average=None`` returns a dict of arrays ``precision``, ``recall``, ``f1``, ``support``
    (true samples per class), one entry per class. ``average="macro"`` returns a dict of
    floats: the unweighted mean over classes; ``"micro"`` pools TP/FP/FN over all classes
    first (for single-label multiclass data micro P = R = F1 = accuracy); ``"weighted"``
    weights each class by its support.
    """
    cm = confusion_matrix(y, t, n_classes=n_classes, threshold=threshold)
    tp = xp.diag(cm).astype(xp.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    support = cm.sum(axis=1)
    if average == "micro":
        p = float(_safe_div(tp.sum(), tp.sum() + fp.sum()))
        r = float(_safe_div(tp.sum(), tp.sum() + fn.sum()))
        f = float(_safe_div(2 * p * r, p + r))
        return {"precision": p, "recall": r, "f1": f, "support": int(support.sum())}
    precision = _safe_div(tp, tp + fp)
    recall = _safe_div(tp, tp + fn)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    if average is None:
        return {"precision": precision, "recall": recall, "f1": f1, "support": support}
    if average == "macro":
        w = xp.full(len(tp), 1.0 / len(tp))
    elif average == "weighted":
        w = support / support.sum()
    else:
        raise ValueError(
            f"precision_recall_f1: average must be None, 'macro', 'micro' or 'weighted', "
            f"got {average!r}"
        )
    return {
        "precision": float(w @ precision),
        "recall": float(w @ recall),
        "f1": float(w @ f1),
        "support": int(support.sum()),
    }


def _regression_pair(func, y, t):
    y, t = xp.asarray(y), xp.asarray(t)
    for name, a in (("y", y), ("t", t)):
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{func}: {name} must be numeric, got dtype {a.dtype}")
    y = y.astype(xp.float64, copy=False)
    t = t.astype(xp.float64, copy=False)
    if y.shape != t.shape:
        if y.ndim == 2 and y.shape[1] == 1 and t.shape == y.shape[:1]:
            t = t.reshape(y.shape)
        elif t.ndim == 2 and t.shape[1] == 1 and y.shape == t.shape[:1]:
            y = y.reshape(t.shape)
        else:
            raise ValueError(f"{func}: y has shape {y.shape} but t has shape {t.shape}")
    if y.size == 0:
        raise ValueError(f"{func}: need at least one sample, got empty arrays")
    return y, t


def mean_squared_error(y, t):
    """Mean squared error (the metric): mean((y − t)²) over all elements, without the ½
    of the loss ``ippo.functions.mean_squared_error``."""
    y, t = _regression_pair("mean_squared_error", y, t)
    d = y - t
    return float(xp.mean(d * d))


def root_mean_squared_error(y, t):
    """RMSE = √mean((y − t)²), in the units of t."""
    return mean_squared_error(y, t) ** 0.5


def mean_absolute_error(y, t):
    """MAE = mean(|y − t|)."""
    y, t = _regression_pair("mean_absolute_error", y, t)
    return float(xp.mean(xp.abs(y - t)))


def r2_score(y, t):
    """Coefficient of determination R² = 1 − Σ(t − y)² / Σ(t − mean(t))².

    1 is perfect, 0 is no better than predicting the mean, negative is worse. For several
    outputs (columns) the R² of each column is averaged. A constant target column scores 1
    if predicted exactly, else 0.
    """
    y, t = _regression_pair("r2_score", y, t)
    if y.ndim == 1:
        y, t = y[:, None], t[:, None]
    ss_res = ((t - y) ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    r2 = xp.where(ss_tot > 0, 1 - _safe_div(ss_res, ss_tot), xp.where(ss_res == 0, 1.0, 0.0))
    return float(r2.mean())
