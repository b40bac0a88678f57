"""Checks at the boundary: the named tests an input passes once, where it enters ippo.

A public function of ``ippo.functions``, a layer's ``forward``, an autograd op and
``Trainer.fit`` call these on what a user hands them, then run the formula on arrays they
can trust. Each rule is written here once, so the same mistake gets the same words
everywhere. Every check raises ``ValueError`` that starts with ``where`` (the function,
layer or argument that received the input) and says what was expected and what came.

``where`` is a string, or a callable that returns one (a layer passes its ``_where``
method): then the description is built only for an error, and a check that passes costs no
formatting. Shapes and values are separate checks: a loss layer checks the targets' shape
on every step (a tuple comparison), while the values of the labels are checked once for the
whole data set by whoever feeds them (``Trainer.fit``, or a public loss function).
"""

from ippo.backend import as_float_array, xp

__all__ = ["numeric", "float_array", "numeric_pair", "class_axis", "not_empty",
           "unit_interval", "class_indices", "targets_like", "is_class_index",
           "class_targets", "binary_targets", "ids", "non_negative", "float_dtype"]


def _text(where):
    """``where`` as text: the string itself, or what the callable gives (errors only)."""
    return where() if callable(where) else where


def numeric(where, name, a):
    """``a`` as an array, or ValueError naming ``where`` and ``name`` when it is not numeric."""
    arr = xp.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{_text(where)}: {name} must be a numeric array, got dtype "
                         f"{arr.dtype} (shape {arr.shape})")
    return arr


def float_array(where, name, a):
    """``a`` as a floating-point array (integers become float32; float keeps its precision)."""
    return as_float_array(numeric(where, name, a), name=f"{_text(where)}: {name}")


def numeric_pair(where, y, t, y_name="y"):
    """``(y, t)`` as arrays, y floating; ValueError naming both shapes when either is not
    numeric."""
    y, t = xp.asarray(y), xp.asarray(t)
    for arg, a in ((y_name, y), ("t", t)):
        if a.dtype.kind not in "biuf":
            raise ValueError(
                f"{_text(where)}: {arg} must be a numeric array, got dtype {a.dtype} ({y_name} has "
                f"shape {y.shape}, t has shape {t.shape})"
            )
    return as_float_array(y), t


def class_axis(where, x, name="x"):
    """``x`` as a float array with a non-empty last axis (the classes), else ValueError."""
    x = float_array(where, name, x)
    if x.ndim == 0:
        raise ValueError(f"{_text(where)}: {name} must have at least one axis (the classes), got a "
                         f"scalar")
    if x.shape[-1] == 0:
        raise ValueError(f"{_text(where)}: {name} of shape {x.shape} has no classes (its last axis "
                         f"is empty)")
    return x


def not_empty(where, y, y_name="y"):
    """ValueError naming ``where`` when ``y`` holds no values: a loss needs a sample."""
    if y.size == 0:
        raise ValueError(
            f"{_text(where)}: {y_name} is empty (shape {y.shape}); a loss needs at least one sample"
        )


def unit_interval(where, t, t_name="t"):
    """ValueError unless every target lies in [0, 1] (binary labels, one-hot rows, target
    probabilities); NaN fails too."""
    if t.size and not (t.min() >= 0 and t.max() <= 1):  # written so that NaN fails too
        raise ValueError(
            f"{_text(where)}: targets must lie in [0, 1], got values from {float(t.min())} to "
            f"{float(t.max())} ({t_name} has shape {t.shape})"
        )


def class_indices(where, t, y_shape, y_name="y", t_name="t"):
    """``t`` as integer class indices, or ValueError when a value is not a whole number in
    0..C−1, C = ``y_shape[-1]`` (a negative index would pick a class from the end, silently).

    Float labels are accepted when whole (2.0 is class 2; 0.5 is no class)."""
    if t.dtype.kind == "f":
        whole = xp.isfinite(t) & (t == xp.floor(t))
        if not xp.all(whole):
            raise ValueError(
                f"{_text(where)}: {t_name} of shape {t.shape} looks like class indices (one per "
                f"row of {y_name} of shape {y_shape}) but holds non-integer values, such as "
                f"{float(t[~whole].flat[0])}"
            )
    t = t.astype(xp.intp, copy=False)
    n_classes = y_shape[-1]
    # ufunc.reduce: t.min() / t.max() without their Python wrappers (the autograd's
    # cross_entropy runs this every step)
    if t.size and (xp.minimum.reduce(t, axis=None) < 0
                   or xp.maximum.reduce(t, axis=None) >= n_classes):
        raise ValueError(
            f"{_text(where)}: class index out of range: {t_name} holds values from "
            f"{int(t.min())} to {int(t.max())} ({t_name} has shape {t.shape}), but {y_name} of "
            f"shape {tuple(y_shape)} has {n_classes} classes (valid: 0..{n_classes - 1})"
        )
    return t


def targets_like(where, y_shape, t, y_name="y", t_name="t"):
    """``t`` with the shape ``y_shape`` of the predictions it is compared with, element by
    element: the rule of the element-wise losses (MSE, binary cross-entropy) and of
    regression targets. A (N,) target is accepted for (N, 1) predictions (one value per
    sample); any other mismatch is a ValueError. Checks the shape only."""
    if t.shape == tuple(y_shape):
        return t
    y_shape = tuple(y_shape)
    short = len(y_shape) >= 1 and y_shape[-1] == 1
    if short and t.shape == y_shape[:-1]:
        return t.reshape(y_shape)
    raise ValueError(
        f"{_text(where)}: {y_name} has shape {y_shape} but {t_name} has shape {t.shape}; expected "
        f"{t_name} of shape {y_shape}" + (f" or {y_shape[:-1]}" if short else "")
    )


def is_class_index(where, y_shape, t, y_name="y", t_name="t"):
    """True when ``t`` holds class indices (shape ``y_shape[:-1]``), False when it is one-hot
    or probabilities (shape ``y_shape``); any other shape is a ValueError. The rule of the
    classification losses; checks the shape only."""
    y_shape = tuple(y_shape)
    if t.shape == y_shape:
        return False
    if t.shape == y_shape[:-1]:
        return True
    swapped = (f"; the arguments look swapped ({y_name} has the shape of class indices for "
               f"{t_name}'s): {y_name} comes first, the target second"
               if t.shape[:-1] == y_shape else "")
    raise ValueError(
        f"{_text(where)}: {y_name} has shape {y_shape} but {t_name} has shape {t.shape}; {t_name} "
        f"must be one-hot (shape {y_shape}) or class indices (shape {y_shape[:-1]}){swapped}"
    )


def class_targets(where, y_shape, t, y_name="y", t_name="t"):
    """``(t, is_index)`` for a classification loss, shape and values checked: class indices
    (shape ``y_shape[:-1]``) come back as integers in 0..C−1, one-hot rows or probabilities
    (shape ``y_shape``) must lie in [0, 1]."""
    if is_class_index(where, y_shape, t, y_name, t_name):
        return class_indices(where, t, y_shape, y_name, t_name), True
    unit_interval(where, t, t_name)
    return t, False


def _looks_like_labels(a):
    """True when ``a`` holds class labels rather than a prediction: integer (or boolean)
    values, or floats that are exactly one-hot (every row 0 except a single 1)."""
    if a.dtype.kind in "biu":
        return True
    if a.dtype.kind != "f" or a.ndim == 0 or a.size == 0:
        return False
    ones = a == 1
    return bool(xp.all(ones | (a == 0)) and xp.all(ones.sum(axis=-1) == 1))


def argument_order(where, y, t, y_name="y", scores=False):
    """ValueError when a classification loss's ``(y, t)`` are recognisably swapped: the first
    argument holds labels (integers, or exactly one-hot rows) and the second does not (a
    value other than 0 and 1). One of the course notes writes ``cross_entropy_error(d, y)``,
    target first; without this check that call returns a plausible, wrong number.

    With ``scores`` (the first argument holds raw scores, as in ``softmax_cross_entropy``),
    a second argument that is itself a valid target (values in [0, 1], rows summing to 1:
    soft labels) is never taken for swapped scores. Without it (``cross_entropy_error``), a
    prediction that is *exactly* one-hot against soft targets cannot be told from swapped
    arguments, and is refused too. Other problems (dtypes, shapes) are left to the other
    checks."""
    y, t = xp.asarray(y), xp.asarray(t)
    if t.dtype.kind != "f" or y.dtype.kind not in "biuf":
        return  # integer targets (the usual class indices) are labels: nothing to compare
    if y.shape != t.shape and not (t.ndim == y.ndim + 1 and t.shape[:-1] == y.shape):
        return  # neither one-hot against a prediction nor indices against one
    if xp.all((t == 0) | (t == 1)) or not _looks_like_labels(y):
        return
    if scores and t.ndim >= 1 and t.min() >= 0 and t.max() <= 1 and \
            xp.allclose(t.sum(axis=-1), 1.0, atol=1e-4):
        return
    what = "integer class labels" if y.dtype.kind in "biu" else "exactly one-hot labels"
    where = _text(where)
    raise ValueError(
        f"{where}: the arguments look swapped: the first ({y_name}, shape {y.shape}) holds "
        f"{what} and the second (t, shape {t.shape}) does not; call {where}({y_name}, t) "
        f"with the {'scores' if scores else 'prediction'} first and the target second (the "
        f"course's cross_entropy_error(d, y) passes the target first)"
    )


def binary_targets(where, y_shape, t, y_name="y", t_name="t"):
    """``t`` for a binary classifier's predictions of ``y_shape``, shape and values checked:
    0/1 labels (or probabilities) in [0, 1], of shape ``y_shape`` or, for (N, 1), (N,)."""
    shaped = targets_like(where, y_shape, t, y_name, t_name)
    unit_interval(where, t, t_name)
    return shaped


def ids(where, idx, vocab_size):
    """``idx`` as an integer array of row indices into a table of ``vocab_size`` rows (word
    ids of an embedding), or ValueError when one is not an integer in 0..vocab_size−1."""
    idx = xp.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"{_text(where)}: ids must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= vocab_size):
        raise ValueError(
            f"{_text(where)}: ids must lie in 0..{vocab_size - 1}, got values from "
            f"{int(idx.min())} to {int(idx.max())}"
        )
    return idx


def non_negative(where, name, value):
    """``value`` as a float ≥ 0 (a rate such as weight decay λ), else ValueError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (v >= 0.0 and v != float("inf")):
        raise ValueError(f"{_text(where)}: {name} must be >= 0, got {value}")
    return v


def float_dtype(where, dtype):
    """``dtype`` as a NumPy float32 or float64 dtype, the two a model computes in."""
    try:
        dt = xp.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f" or dt.itemsize not in (4, 8):
        raise ValueError(f"{_text(where)}: dtype must be float32 or float64, got {dtype!r}")
    return dt
