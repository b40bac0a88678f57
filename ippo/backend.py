"""The array module behind ippo.

All array code imports ``xp`` from here instead of naming ``numpy`` directly, so that a
CuPy (GPU) backend can later be swapped in at one place. Today ``xp`` is NumPy.
"""

import numpy

xp = numpy

#: float32 is the default: it halves memory traffic and doubles BLAS speed.
DEFAULT_DTYPE = numpy.float32


def as_float_array(x, dtype=None, name="x"):
    """Return ``x`` as a floating-point array without copying when it already is one.

    Integer and boolean input is converted to ``dtype`` (default float32); float input keeps
    its own precision unless ``dtype`` is given. Non-numeric input raises ``ValueError``
    naming ``name``.
    """
    arr = xp.asarray(x)
    if arr.dtype.kind == "f":
        return arr if dtype is None or arr.dtype == dtype else arr.astype(dtype)
    if arr.dtype.kind in "biu":
        return arr.astype(DEFAULT_DTYPE if dtype is None else dtype)
    raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")


def as_float(value, name, expected="a number"):
    """``float(value)`` for a hyper-parameter, or a ``ValueError`` reading
    "{name} must be {expected}, got {value!r}" (``name`` says where: "Dropout: ratio")."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {expected}, got {value!r}") from None
