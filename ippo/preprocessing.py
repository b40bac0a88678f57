"""Preparing input data: missing values, scaling, one-hot labels, train/test splits.

The scalers follow the fit / transform pattern: statistics are *fitted on the training
data only* and the same transformation is then applied to the test data (fitting on the
test data too would leak information about it into the model)::

    scaler = Standardizer().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)

Formulas (per feature column j):

- standardize:    x' = (x - μ_j) / σ_j          (μ, σ of the training data; σ = 0 -> 1)
- min-max scale:  x' = lo + (x - min_j) · (hi - lo) / (max_j - min_j)
- one-hot:        T[i, t_i] = 1, every other entry 0
"""

import numbers

import numpy as np

from ippo.backend import as_float_array

_STRATEGIES = ("zero", "mean", "median", "drop_rows", "drop_columns")


# --------------------------------------------------------------------------- missing values


def _nan_stat(x, strategy):
    with np.errstate(all="ignore"), _quiet_nan_warnings():
        stat = np.nanmean(x, axis=0) if strategy == "mean" else np.nanmedian(x, axis=0)
    return np.where(np.isnan(stat), 0.0, stat).astype(x.dtype)  # all-missing column -> 0


class _quiet_nan_warnings:
    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def fill_missing(x, strategy="mean", t=None, fill_values=None):
    """Deal with missing values (NaN) in a 2-D feature array ``x``.

    ``strategy``:

    - ``"zero"``: replace NaN by 0;
    - ``"mean"`` / ``"median"``: replace NaN by the column's mean / median over the
      non-missing values (or by ``fill_values`` when given, e.g. statistics of the training
      data, see :class:`MissingFiller`);
    - ``"drop_rows"``: remove every sample (row) that has a missing value;
    - ``"drop_columns"``: remove every feature (column) that has a missing value.

    Returns a new array; with ``t`` (targets, one per row) returns ``(x, t)`` so that
    ``"drop_rows"`` can drop the matching targets too.
    """
    if strategy not in _STRATEGIES:
        raise ValueError(f"fill_missing: unknown strategy {strategy!r}; "
                         f"expected one of {', '.join(_STRATEGIES)}")
    x = as_float_array(x, name="fill_missing: x")
    if x.ndim != 2:
        raise ValueError(f"fill_missing: x must be 2-D (samples, features), got shape {x.shape}")
    if t is not None:
        t = np.asarray(t)
        if len(t) != len(x):
            raise ValueError(f"fill_missing: x has {len(x)} rows but t has {len(t)}")
    missing = np.isnan(x)
    if strategy == "drop_rows":
        keep = ~missing.any(axis=1)
        x = x[keep]
        if t is not None:
            t = t[keep]
    elif strategy == "drop_columns":
        x = x[:, ~missing.any(axis=0)]
    else:
        if strategy == "zero":
            values = np.zeros(x.shape[1], dtype=x.dtype)
        elif fill_values is not None:
            values = np.asarray(fill_values, dtype=x.dtype)
            if values.shape != (x.shape[1],):
                raise ValueError(f"fill_missing: fill_values must have shape ({x.shape[1]},), "
                                 f"got {values.shape}")
        else:
            values = _nan_stat(x, strategy)
        x = np.where(missing, values, x)
    return x if t is None else (x, t)


class MissingFiller:
    """``fill_missing`` with "mean" / "median" / "zero" statistics fitted on training data."""

    def __init__(self, strategy="mean"):
        if strategy not in ("zero", "mean", "median"):
            raise ValueError(f"MissingFiller: strategy must be 'zero', 'mean' or 'median', "
                             f"got {strategy!r}")
        self.strategy = strategy
        self.values_ = None

    def fit(self, x):
        """Learn one fill value per column of the training data ``x`` (NaNs ignored); returns
        self."""
        x = as_float_array(x, name="MissingFiller.fit: x")
        self.values_ = (np.zeros(x.shape[1], x.dtype) if self.strategy == "zero"
                        else _nan_stat(x, self.strategy))
        return self

    def transform(self, x):
        """``x`` with each NaN replaced by its column's fitted value."""
        if self.values_ is None:
            raise ValueError("MissingFiller: call fit(x_train) before transform")
        return fill_missing(x, "mean", fill_values=self.values_)

    def fit_transform(self, x):
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)


# --------------------------------------------------------------------------- scalers


class _Scaler:
    _fitted = ()

    def _check_fitted(self):
        if any(getattr(self, a) is None for a in self._fitted):
            raise ValueError(f"{type(self).__name__}: call fit(x_train) before transform")

    def _check_x(self, x, where):
        """``x`` as a float array of (samples, features...): fitted first (unless ``where`` is
        "fit"), with samples to fit on, and with the fitted feature shape."""
        if where != "fit":
            self._check_fitted()
        x = as_float_array(x, name=f"{type(self).__name__}.{where}: x")
        if x.ndim < 2:
            raise ValueError(f"{type(self).__name__}.{where}: x must be (samples, features...), "
                             f"got shape {x.shape}")
        if where == "fit" and len(x) == 0:
            raise ValueError(f"{type(self).__name__}.fit: x has no samples")
        if where == "fit" and not np.isfinite(x).all():  # NaN statistics would spread
            i = np.argwhere(~np.isfinite(x))[0]
            what = "missing values (NaN)" if np.isnan(x[tuple(i)]) else "infinite values"
            pos = int(i[1]) if len(i) == 2 else tuple(int(v) for v in i[1:])
            raise ValueError(f"{type(self).__name__}.fit: x has {what}, first at sample "
                             f"{i[0]}, feature {pos}; deal with them first (fill_missing)")
        ref = getattr(self, self._fitted[0])
        if ref is not None and where != "fit" and x.shape[1:] != ref.shape:
            raise ValueError(f"{type(self).__name__}.{where}: fitted on features of shape "
                             f"{ref.shape}, got x of shape {x.shape}")
        return x

    def fit_transform(self, x):
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def to_dict(self):
        """JSON-able state (lists), e.g. to store in a model file's metadata."""
        self._check_fitted()
        d = {"kind": self.kind}
        d.update({a: getattr(self, a).tolist() for a in self._fitted})
        d.update(self._extra())
        return d

    def _extra(self):
        return {}

    @classmethod
    def from_dict(cls, d):
        """Rebuild a fitted scaler from what ``to_dict()`` returned."""
        s = cls(**cls._init_args(d))
        for a in cls._fitted:
            setattr(s, a, np.asarray(d[a], dtype=np.float32))
        return s

    @classmethod
    def _init_args(cls, d):
        return {}


class Standardizer(_Scaler):
    """x' = (x - mean) / std per feature, with mean and std fitted on the training data.

    A constant feature (std 0) is only centred. Works on (N, features) and on images
    (N, C, H, W): statistics are per position over the samples axis.
    """

    kind = "standardize"
    _fitted = ("mean_", "std_")

    def __init__(self, eps=1e-8):
        self.eps = eps
        self.mean_ = None
        self.std_ = None

    def fit(self, x):
        """Learn mean and std per feature from the training data ``x``; returns self."""
        x = self._check_x(x, "fit")
        mean = x.mean(axis=0, dtype=np.float64)
        std = x.std(axis=0, dtype=np.float64)
        std[std < self.eps] = 1.0
        self.mean_, self.std_ = mean.astype(x.dtype), std.astype(x.dtype)
        return self

    def transform(self, x):
        """x' = (x − mean) / std."""
        x = self._check_x(x, "transform")
        return (x - self.mean_.astype(x.dtype)) / self.std_.astype(x.dtype)

    def inverse_transform(self, x):
        """x = x' · std + mean (back to the data's own units)."""
        x = self._check_x(x, "inverse_transform")
        return x * self.std_.astype(x.dtype) + self.mean_.astype(x.dtype)


class MinMaxScaler(_Scaler):
    """x' = lo + (x - min) (hi - lo) / (max - min) per feature, fitted on training data.

    ``feature_range=(lo, hi)`` (default (0, 1)). A constant feature maps to ``lo``. Test
    values outside the training range map outside ``feature_range`` (no clipping).
    """

    kind = "min_max"
    _fitted = ("min_", "max_")

    def __init__(self, feature_range=(0.0, 1.0)):
        lo, hi = feature_range
        if not hi > lo:
            raise ValueError(f"MinMaxScaler: feature_range must be (lo, hi) with lo < hi, "
                             f"got {feature_range!r}")
        self.feature_range = (float(lo), float(hi))
        self.min_ = None
        self.max_ = None

    def fit(self, x):
        """Learn min and max per feature from the training data ``x``; returns self."""
        x = self._check_x(x, "fit")
        self.min_, self.max_ = x.min(axis=0), x.max(axis=0)
        return self

    def _scale(self, dtype):
        lo, hi = self.feature_range
        span = (self.max_ - self.min_).astype(np.float64)
        span[span == 0] = 1.0
        return ((hi - lo) / span).astype(dtype)

    def transform(self, x):
        """x' = lo + (x − min) · (hi − lo) / (max − min)."""
        x = self._check_x(x, "transform")
        return (x - self.min_.astype(x.dtype)) * self._scale(x.dtype) + x.dtype.type(
            self.feature_range[0])

    def inverse_transform(self, x):
        """x = (x' − lo) · (max − min) / (hi − lo) + min (back to the data's own units)."""
        x = self._check_x(x, "inverse_transform")
        return (x - x.dtype.type(self.feature_range[0])) / self._scale(x.dtype) + \
            self.min_.astype(x.dtype)

    def _extra(self):
        return {"feature_range": list(self.feature_range)}

    @classmethod
    def _init_args(cls, d):
        return {"feature_range": tuple(d.get("feature_range", (0.0, 1.0)))}


def scaler_from_dict(d):
    """Rebuild a fitted scaler from :meth:`to_dict` output (None passes through)."""
    if d is None:
        return None
    kinds = {"standardize": Standardizer, "min_max": MinMaxScaler}
    if d.get("kind") not in kinds:
        raise ValueError(f"unknown scaler kind {d.get('kind')!r}")
    return kinds[d["kind"]].from_dict(d)


def standardize(x_train, x_test=None):
    """Standardize with the statistics of ``x_train``.

    Returns ``x_train'``, or ``(x_train', x_test')`` when ``x_test`` is given.
    """
    s = Standardizer().fit(x_train)
    return s.transform(x_train) if x_test is None else (s.transform(x_train), s.transform(x_test))


def min_max_scale(x_train, x_test=None, feature_range=(0.0, 1.0)):
    """Min-max scale with the range of ``x_train``; returns one array or a pair like
    :func:`standardize`."""
    s = MinMaxScaler(feature_range).fit(x_train)
    return s.transform(x_train) if x_test is None else (s.transform(x_train), s.transform(x_test))


# --------------------------------------------------------------------------- labels and splits


def one_hot(t, n_classes=None, dtype=np.float32):
    """One-hot encode integer class labels: ``T[i, t[i]] = 1``.

    ``n_classes`` defaults to ``max(t) + 1``. Labels must be integers in 0..n_classes-1.
    """
    t = np.asarray(t)
    if t.dtype.kind == "f":
        if t.size and not np.all(t == np.floor(t)):
            raise ValueError("one_hot: labels must be integers, got non-integer floats")
        t = t.astype(np.intp)
    elif t.dtype.kind not in "iub":
        raise ValueError(f"one_hot: labels must be integers, got dtype {t.dtype}")
    if t.ndim != 1:
        raise ValueError(f"one_hot: labels must be 1-D, got shape {t.shape}")
    if n_classes is None:
        n_classes = int(t.max()) + 1 if t.size else 0
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(f"one_hot: labels range from {int(t.min())} to {int(t.max())}, "
                         f"expected 0..{n_classes - 1}")
    out = np.zeros((t.size, n_classes), dtype=dtype)
    out[np.arange(t.size), t] = 1
    return out


def train_test_split(x, t, test_size=0.2, seed=0, stratify=False, shuffle=True):
    """Split ``(x, t)`` into ``((x_train, t_train), (x_test, t_test))``.

    ``test_size``: a fraction in (0, 1) or a number of test samples. ``stratify=True``
    keeps each class's share the same in both parts (using ``t`` as class labels; or pass
    an array of labels to stratify on). Deterministic for a given ``seed``.
    """
    x = np.asarray(x)
    t = np.asarray(t)
    n = len(x)
    if len(t) != n:
        raise ValueError(f"train_test_split: x has {n} samples but t has {len(t)}")
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, bool):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: test_size as a fraction must be in (0, 1), "
                             f"got {test_size}")
        n_test = int(round(n * float(test_size)))
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a "
                         f"number of samples, got {test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size!r} gives {n_test} test "
                         f"samples out of {n}; need at least one in each part")
    rng = np.random.default_rng(seed)
    if stratify is not False and stratify is not None:
        labels = t if stratify is True else np.asarray(stratify)
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
        if len(labels) != n:
            raise ValueError(f"train_test_split: stratify has {len(labels)} labels, x has {n}")
        test_idx = []
        classes, counts = np.unique(labels, return_counts=True)
        # largest-remainder allocation so the test part has exactly n_test samples
        quota = counts * n_test / n
        alloc = np.floor(quota).astype(int)
        rest = n_test - alloc.sum()
        alloc[np.argsort(-(quota - alloc), kind="stable")[:rest]] += 1
        for c, k in zip(classes, alloc, strict=True):
            idx = np.flatnonzero(labels == c)
            test_idx.append(rng.permutation(idx)[:k] if shuffle else idx[:k])
        test_idx = np.sort(np.concatenate(test_idx))
        mask = np.zeros(n, bool)
        mask[test_idx] = True
        train_idx = np.flatnonzero(~mask)
        if shuffle:
            train_idx = rng.permutation(train_idx)
            test_idx = rng.permutation(test_idx)
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    return (x[train_idx], t[train_idx]), (x[test_idx], t[test_idx])
