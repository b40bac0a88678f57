"""Numerical differentiation: the oracle every back-propagated gradient is checked against.

The central difference (f(x + h) − f(x − h)) / 2h has error O(h²), against O(h) for the
forward difference (f(x + h) − f(x)) / h, and h = 1e-4 avoids the rounding error that a
tiny h such as 1e-50 would cause.
"""

import numpy as np


def _check_h(func, h):
    """ValueError naming ``func`` unless the step h is a positive finite number."""
    number = isinstance(h, (int, float, np.integer, np.floating)) and not isinstance(h, bool)
    if not (number and 0 < h < float("inf")):
        raise ValueError(f"{func}: h must be a positive number such as 1e-4, got {h!r}")


def numerical_diff(f, x, h=1e-4):
    """Derivative of a one-variable function by central difference: f'(x) ≈ (f(x+h) − f(x−h)) / 2h.

    ``x`` may be a number or an array (an element-wise ``f`` is then differentiated at every
    element). A float32 or float16 ``x`` is evaluated in float64: in float32, x ± 1e-4 keeps
    only about 3 digits of h, which would leave 3 correct digits of the derivative.
    """
    _check_h("numerical_diff", h)
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f" and x.dtype.itemsize < 8:
        x = x.astype(np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def _scalar(value):
    """``f``'s result as a float, or ValueError when it is not a single number."""
    v = np.asarray(value)
    if v.size != 1 or v.dtype.kind not in "biuf":
        raise ValueError(
            f"numerical_gradient: f must return a scalar, got {v.dtype} of shape {v.shape}"
        )
    return float(v.reshape(()))


def numerical_gradient(f, x, h=1e-4):
    """Gradient of a scalar function ``f(x)`` with respect to every element of array ``x``.

    ∂f/∂xᵢ ≈ (f(x with xᵢ+h) − f(x with xᵢ−h)) / 2h, one element at a time, for ``x`` of any
    shape. Returns a float64 array of x's shape.

    ``x`` itself is changed in place while ``f`` is evaluated, then restored exactly: so ``f``
    may ignore its argument and read parameters that it shares with ``x``, as a network's
    loss does (``numerical_gradient(lambda _: net.loss(x, t), W)``). For float32 ``x`` the
    argument passed to ``f`` is a float64 copy carrying the same perturbation, so a function
    of its argument keeps full precision (a float32 x + 1e-4 would lose most digits); for
    shared parameters, check in float64.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(
            "numerical_gradient: x must be a floating-point NumPy array (it is changed in "
            f"place), got {type(x).__name__}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    if not x.flags.writeable:
        raise ValueError(
            f"numerical_gradient: x (shape {x.shape}) is read-only, but it is changed in place "
            "while f is evaluated (and restored); pass a writable array such as x.copy()"
        )
    _check_h("numerical_gradient", h)
    work = x if x.dtype == np.float64 else x.astype(np.float64)
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        original, original_x = work[idx], x[idx]
        try:
            work[idx] = original + h
            if work is not x:
                x[idx] = work[idx]
            f_plus = _scalar(f(work))
            work[idx] = original - h
            if work is not x:
                x[idx] = work[idx]
            f_minus = _scalar(f(work))
        finally:  # restore x exactly, even when f raises
            work[idx], x[idx] = original, original_x
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_descent(f, init_x, lr=0.01, steps=100, history=False):
    """Minimise ``f`` by gradient descent: x ← x − lr · ∇f(x), repeated ``steps`` times.

    The gradient is the numerical one, so ``f`` can be any scalar function of an array.
    Returns the final x (a new float64 array; ``init_x`` is not changed) or, with
    ``history=True``, ``(x, trajectory)`` where ``trajectory`` has shape (steps + 1, *x.shape)
    and starts at ``init_x``.

    Too large a learning rate diverges; too small a one barely moves.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"gradient_descent: steps must be an integer >= 0, got {steps!r}")
    start = np.asarray(init_x)
    if start.dtype.kind not in "biuf":
        raise ValueError(
            f"gradient_descent: init_x must be numeric, got dtype {start.dtype} "
            f"(shape {start.shape})"
        )
    x = np.array(start, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * numerical_gradient(f, x)
        if history:
            path.append(x.copy())
    return (x, np.array(path)) if history else x
