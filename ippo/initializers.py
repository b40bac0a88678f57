"""Weight initialisation: the scale of the first random weights decides whether a deep network
learns at all.

- ``he``: std = √(2 / n_in), for ReLU networks (ReLU zeroes half the signal, so twice the
  variance keeps the activations' spread from layer to layer).
- ``xavier``: std = √(1 / n_in), for sigmoid and tanh (the course's "Xavier" initial value).
- ``normal``: a fixed std, e.g. 0.01 (the course's first networks; too small for deep ones).

Weights are drawn in float64 from a ``numpy.random.Generator`` and then cast, so a float32 and
a float64 model built with the same seed start from the same weights (up to rounding), and the
same seed always gives bit-identical weights. Biases start at 0.
"""

import math
import numbers

import numpy as np

from ippo.backend import DEFAULT_DTYPE, xp

#: Names accepted as ``init`` by ``ippo.models.MLP`` (besides a float std and "auto").
INIT_NAMES = ("he", "xavier")

_INIT_ERROR = "init must be 'auto', 'he', 'xavier' or a positive float std, got {!r}"


def get_rng(seed=None):
    """A ``numpy.random.Generator`` from ``seed``: None, an int, or a Generator (kept as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ValueError(f"seed must be None, a non-negative integer or a "
                         f"numpy.random.Generator, got {seed!r}") from None


def _is_positive_number(value):
    """True for a finite real number > 0 (Python or NumPy; not a bool)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def _fan_in(n_in, func):
    if isinstance(n_in, bool) or not isinstance(n_in, numbers.Integral) or n_in < 1:
        raise ValueError(f"{func}: n_in (the number of inputs) must be a positive integer, "
                         f"got {n_in!r}")
    return int(n_in)


def he_std(n_in):
    """He's standard deviation √(2 / n_in)."""
    return math.sqrt(2.0 / _fan_in(n_in, "he_std"))


def xavier_std(n_in):
    """Xavier's standard deviation √(1 / n_in)."""
    return math.sqrt(1.0 / _fan_in(n_in, "xavier_std"))


def normal(shape, std, rng=None, dtype=DEFAULT_DTYPE):
    """An array of ``shape`` drawn from N(0, std²).

    Drawn in float64 and then rounded to ``dtype``, so that a float32 and a float64 model
    built with one seed hold the same weights (to float32's precision): a float64 copy for a
    gradient check is the same network."""
    if not _is_positive_number(std):
        raise ValueError(f"normal: std must be a positive finite number, got {std!r}")
    w = get_rng(rng).standard_normal(shape) * float(std)
    return xp.asarray(w, dtype=dtype)


def he(n_in, n_out, rng=None, dtype=DEFAULT_DTYPE):
    """A (n_in, n_out) weight matrix with He's std √(2 / n_in)."""
    return normal((n_in, n_out), he_std(n_in), rng, dtype)


def xavier(n_in, n_out, rng=None, dtype=DEFAULT_DTYPE):
    """A (n_in, n_out) weight matrix with Xavier's std √(1 / n_in)."""
    return normal((n_in, n_out), xavier_std(n_in), rng, dtype)


def init_std(init, n_in, activation="relu"):
    """The std that ``init`` ("auto", "he", "xavier" or a float) gives a layer with n_in inputs.

    "auto" is He for ReLU-like activations (relu, leaky_relu) and Xavier for the others
    (sigmoid, tanh, identity).
    """
    if isinstance(init, str):
        name = init.lower()
        if name == "auto":
            name = "he" if activation in ("relu", "leaky_relu") else "xavier"
        if name == "he":
            return he_std(n_in)
        if name == "xavier":
            return xavier_std(n_in)
        raise ValueError(_INIT_ERROR.format(init))
    if isinstance(init, bool) or not isinstance(init, numbers.Real):
        raise ValueError(_INIT_ERROR.format(init))
    if not _is_positive_number(init):
        raise ValueError(f"init: a std must be a positive finite number, got {init!r}")
    return float(init)
