"""The checks of ``Trainer.fit``'s arguments, one small named helper each.

``fit`` calls them all before its first update, so bad input raises a ``ValueError`` that
starts with "fit:" and leaves the model and the optimizer untouched. The data is checked
once here (shapes, NaN, labels by the task's rule of ``ippo.tasks``), so that the loss
layers need to check only shapes on each step.
"""

import numpy as np

from ippo import blas
from ippo.initializers import get_rng
from ippo.tasks import TASKS
from ippo.training.callbacks import HOOKS, EarlyStopping

__all__ = ["integer", "training_data", "validation_data", "batch_size", "generator",
           "augment_hook", "callback_list", "model_dtype"]


def integer(name, value, minimum):
    """``value`` as an int ≥ ``minimum`` (``epochs``, ``batch_size``, ``checkpoint_every``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"fit: {name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"fit: {name} must be at least {minimum}, got {value}")
    return int(value)


def model_dtype(model):
    """The dtype of the model's parameters (float32 when it has none)."""
    params = model.params
    return params[0].dtype if params else np.dtype(np.float32)


def _finite_samples(name, x):
    """ValueError naming the first sample of ``x`` that holds NaN or an infinity."""
    chunk = max(1, (1 << 22) // max(1, x[0].size))  # ~4 M elements per check
    for s in range(0, len(x), chunk):
        block = x[s : s + chunk]
        if not np.isfinite(block).all():
            rows_ok = np.isfinite(block).reshape(len(block), -1).all(axis=1)
            bad = s + int(np.argmin(rows_ok))
            raise ValueError(f"fit: {name} contains NaN or infinite values (first at sample {bad})")


def _output_shape(model, x, name_x):
    """The shape of one sample's output, from an inference forward pass of ``x[:1]`` (which
    checks that x fits the model: the layer's message says what it expected)."""
    was_training = getattr(model, "training", True)
    try:
        with blas.for_batches(1, model.params):  # one sample: one BLAS thread, when large
            return np.asarray(model.scores(x[:1])).shape[1:]
    except ValueError as exc:
        raise ValueError(f"fit: {name_x} does not fit the model: {exc}") from None
    finally:
        if was_training:
            model.train()


def training_data(model, x, t, name_x="x", name_t="t"):
    """``(x, t)`` checked and ready to train on: as many samples in both, at least one;
    numeric and finite; x of the model's input width, in its dtype; t by the label rule of
    the model's task (class labels in range, one-hot rows, 0/1 labels, values of the
    output's shape). Float targets come in the model's dtype; class labels stay integers, and
    so do the word ids of a model that ``takes_ids``."""
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0:
        raise ValueError(f"fit: {name_x} and {name_t} must be arrays of samples, got scalars")
    if len(x) != len(t):
        raise ValueError(
            f"fit: {name_x} has {len(x)} samples but {name_t} has {len(t)}; they must match"
        )
    if len(x) == 0:
        raise ValueError(f"fit: {name_x} is empty (0 samples); nothing to train on")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"fit: {name_x} must be numeric, got dtype {x.dtype}")
    dtype = model_dtype(model)
    if x.dtype != dtype and not (x.dtype.kind in "iu" and getattr(model, "takes_ids", False)):
        x = x.astype(dtype)  # word ids (an Embedding's input) stay integers
    _finite_samples(name_x, x)
    if t.dtype.kind not in "biuf":
        raise ValueError(f"fit: {name_t} must be numeric, got dtype {t.dtype}")
    if t.dtype.kind == "f":
        _finite_samples(name_t, t)
    task = getattr(model, "task", None)
    if task in TASKS:
        y_shape = (len(t),) + _output_shape(model, x, name_x)
        t = TASKS[task].targets("fit", y_shape, t, "the model's output", name_t)
    else:
        _output_shape(model, x, name_x)
    # float targets (one-hot rows, binary labels, regression values) in the model's dtype
    # once here, not per batch in the loss layer; integer class labels stay
    if t.dtype != dtype and (t.dtype.kind == "f" or task == "regression"):
        t = t.astype(dtype)
    return x, t


def validation_data(model, x_val, t_val):
    """``(x_val, t_val)`` checked as the training data, or ``(None, None)``."""
    if (x_val is None) != (t_val is None):
        raise ValueError("fit: give both x_val and t_val, or neither")
    if x_val is None:
        return None, None
    return training_data(model, x_val, t_val, "x_val", "t_val")


def batch_size(model, value, n):
    """``(batch_size, n_train)``: the batch size (``None``: all ``n`` samples, batch gradient
    descent) and how many samples an epoch trains on. Batch normalization learns from the
    batch's variance, which one sample has not: such a model is refused online learning,
    and a last batch of one sample is left out of the epoch (another one each shuffle)."""
    if value is None:
        bs = n
    else:
        bs = integer("batch_size", value, minimum=1)
        if bs > n:
            raise ValueError(
                f"fit: batch_size={bs} is larger than the data ({n} samples); use "
                f"batch_size=None for batch gradient descent over all samples"
            )
    if not getattr(model, "uses_batch_statistics", False):
        return bs, n
    if bs == 1:
        raise ValueError(
            f"fit: batch_size={bs} cannot train a model with batch normalization: a batch of "
            f"one sample has no variance; use batch_size=2 or more"
        )
    return bs, n - 1 if n % bs == 1 else n


def generator(seed):
    """The trainer's ``numpy.random.Generator`` (shuffling, augmentation) from ``seed``
    (None, an int, or a Generator, used as it is)."""
    try:
        return get_rng(seed)
    except ValueError as exc:
        raise ValueError(f"fit: {exc}") from None


def augment_hook(augment):
    """``augment`` when it is None or callable as ``augment(x_batch, rng)``."""
    if augment is not None and not callable(augment):
        raise ValueError(f"fit: augment must be callable(x_batch, rng), got {augment!r}")
    return augment


def sampling(shuffle, replacement):
    """``replacement`` when it is a bool that goes with ``shuffle`` (drawing samples at
    random cannot keep the data's order)."""
    if not isinstance(replacement, bool):
        raise ValueError(f"fit: replacement must be True or False, got {replacement!r}")
    if replacement and not shuffle:
        raise ValueError("fit: replacement=True draws the samples at random; it cannot be "
                         "combined with shuffle=False (which keeps the data's order)")
    return replacement


def callback_list(callbacks, early_stopping):
    """The user's callbacks, then the ``EarlyStopping`` that ``early_stopping`` asks for (an
    instance, or an int patience), each checked to be an object with hooks."""
    if callbacks is not None and not isinstance(callbacks, (list, tuple)):
        raise ValueError(f"fit: callbacks must be a list of callbacks, got {callbacks!r} "
                         f"(write callbacks=[...])")
    callbacks = list(callbacks or [])
    if early_stopping is not None:
        if isinstance(early_stopping, bool):
            raise ValueError("fit: early_stopping must be an EarlyStopping or an int "
                             f"patience, got {early_stopping!r}")
        if not isinstance(early_stopping, EarlyStopping):
            early_stopping = EarlyStopping(patience=early_stopping)
        callbacks.append(early_stopping)
    for i, cb in enumerate(callbacks):
        if isinstance(cb, type) or not any(callable(getattr(cb, h, None)) for h in HOOKS):
            what = (f"the class {cb.__name__} (pass an instance: {cb.__name__}(...))"
                    if isinstance(cb, type) else repr(cb))
            raise ValueError(
                f"fit: callbacks[{i}] must be an object with any of the hooks "
                f"{', '.join(HOOKS)} (e.g. a Callback subclass), got {what}"
            )
    return callbacks
