"""Helpers shared by the test files: gradient checks against ``ippo.numerical``.

``from tests.helpers import assert_grad_close, relative_error``
"""

import numpy as np

from ippo.numerical import numerical_gradient

#: The tolerance every analytic gradient must meet against the numerical one (float64).
GRAD_RTOL = 1e-6


def relative_error(a, b):
    """Largest absolute difference divided by the largest magnitude: max|a − b| / max(|a|, |b|).

    Measured against the largest entry, a small wrong entry cannot hide behind its own tiny
    size, and entries that are (numerically) zero do not divide by zero. 0 when both are zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {b.shape}")
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    if scale == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / scale)


def assert_grad_close(analytic, numeric, rtol=GRAD_RTOL, name="gradient"):
    """Assert ``relative_error(analytic, numeric) < rtol``, with a readable message."""
    err = relative_error(analytic, numeric)
    assert err < rtol, (
        f"{name}: relative error {err:.3g} >= {rtol:g}\nanalytic:\n{np.asarray(analytic)}"
        f"\nnumerical:\n{np.asarray(numeric)}"
    )


def check_gradient(f, x, analytic, rtol=GRAD_RTOL, name="gradient"):
    """Compare ``analytic`` with ``numerical_gradient(f, x)`` (x float64, restored after)."""
    assert_grad_close(analytic, numerical_gradient(f, x), rtol=rtol, name=name)
