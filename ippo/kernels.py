"""The losses as a training step runs them: the formulas, without checks.

A loss layer and an autograd op compute a loss and its gradient on every step, on targets
that were checked once where they entered (``Trainer.fit``, or the op's own entry, by
``ippo.checks``). They call these kernels; the public, checked losses of ``ippo.functions``
call them too, so each formula is written once, here. Call ``ippo.functions`` with your own
arrays: a kernel trusts its arguments (a negative class index would silently pick a class
from the end).

Conventions as in ``ippo.functions``: a batch is ``(N, C)``, losses are averaged over the
samples; class targets are one-hot (the shape of the scores) or integer class indices (one
fewer axis), told apart by their shape.
"""

from ippo.backend import xp

__all__ = ["n_samples", "softmax_cross_entropy", "softmax_cross_entropy_backward",
           "sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy_backward",
           "mean_squared_error", "mean_squared_error_backward", "sum_squared_error",
           "sum_squared_error_backward"]


def n_samples(y):
    """N, the number of samples in ``y``: N = 1 for one 1-D sample, else N = size ÷ C (the
    product of the leading axes; C, the classes, is the last)."""
    return 1 if y.ndim <= 1 else y.size // y.shape[-1]


def softmax_cross_entropy(x, t):
    """Softmax then cross-entropy, fused; returns ``(loss, y)`` with y = softmax(x).

    loss = (1/N) Σₙ (log Σᵢ exp(xᵢ − m) − (x_t − m)), m = max(x), for class indices ``t``
    (integers, shape ``x.shape[:-1]``), or (1/N) Σₙ Σₖ tₖ · (log Σᵢ exp(xᵢ − m) − (xₖ − m))
    for one-hot / probability ``t`` (shape ``x.shape``). Subtracting m keeps exp from
    overflowing, and the log is taken of a sum ≥ 1, so no δ is needed. No one-hot array is
    built for index targets.
    """
    # ufunc.reduce instead of x.max() / y.sum(): the same reductions without the Python
    # wrapper, which costs about a microsecond each on the small arrays of online learning
    z = x - xp.maximum.reduce(x, axis=-1, keepdims=True)
    y = xp.exp(z)
    s = xp.add.reduce(y, axis=-1, keepdims=True)
    y /= s
    log_s = xp.log(s)
    n = n_samples(x)
    if t.shape != x.shape:  # class indices
        if z.ndim == 2:
            picked = z[xp.arange(z.shape[0]), t]
        else:
            picked = xp.take_along_axis(z, t[..., None], axis=-1)
        total = float(xp.add.reduce(log_s, axis=None)) - float(xp.add.reduce(picked, axis=None))
        return total / n, y
    # logits spread wider than the float range leave z = −inf, and 0 · inf would be NaN
    xp.maximum(z, xp.finfo(z.dtype).min, out=z)
    return float((t * (log_s - z)).sum()) / n, y


def softmax_cross_entropy_backward(y, t, out=None):
    """Gradient of ``softmax_cross_entropy`` w.r.t. the logits: dx = (y − t) / N, from the
    softmax output y the forward pass returned.

    For class indices no one-hot array is built: dx = y / N with 1/N taken from the true
    class of each sample. ``out`` may name an array (``y`` itself) to write into.
    """
    n = n_samples(y)
    if t.shape == y.shape:  # (y − t without out=: ippo.autograd runs this on tensors too)
        dx = y - t if out is None else xp.subtract(y, t, out=out)
    else:
        if out is None:
            dx = y.copy()
        else:
            dx = out
            if out is not y:
                xp.copyto(out, y)
        if dx.ndim == 2:
            dx[xp.arange(dx.shape[0]), t] -= 1
        else:
            flat = dx.reshape(-1, y.shape[-1])
            flat[xp.arange(flat.shape[0]), t.reshape(-1)] -= 1
    dx /= n
    return dx


def sigmoid_binary_cross_entropy(x, t):
    """Sigmoid then binary cross-entropy, fused, averaged over all elements:
    E = mean of max(x, 0) − x·t + log(1 + exp(−|x|)), the form of
    −[t·log σ(x) + (1 − t)·log(1 − σ(x))] that never overflows (``t`` of x's shape)."""
    loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
    return float(xp.mean(loss))


def sigmoid_binary_cross_entropy_backward(y, t):
    """Gradient of ``sigmoid_binary_cross_entropy`` w.r.t. the logits, from y = σ(x):
    dx = (y − t) / size."""
    return (y - t) / y.size


def mean_squared_error(y, t):
    """E = ½ · mean((y − t)²) over all elements (``t`` of y's shape)."""
    d = y - t
    return float(0.5 * xp.mean(d * d))


def mean_squared_error_backward(y, t):
    """Gradient of ``mean_squared_error`` w.r.t. y: ∂E/∂y = (y − t) / size (the ½ cancels the
    square's 2)."""
    return (y - t) / y.size


def sum_squared_error(y, t):
    """E = ½ · Σₖ (yₖ − tₖ)² per sample, summed over the outputs k, averaged over the N
    samples (``t`` of y's shape): C times ``mean_squared_error`` for C outputs."""
    d = y - t
    return float(0.5 * xp.sum(d * d) / n_samples(y))


def sum_squared_error_backward(y, t):
    """Gradient of ``sum_squared_error`` w.r.t. y: ∂E/∂y = (y − t) / N (N samples)."""
    return (y - t) / n_samples(y)
