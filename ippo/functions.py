"""The math core: activations, losses and their derivatives, as pure functions on arrays.

Every formula of the course lives here exactly once. The hand-written layers
(``ippo.layers``) and the autograd (``ippo.autograd``) both call these functions, and
``ippo.numerical`` checks both.

Conventions
-----------
- A 1-D array is one sample, a 2-D array ``(N, C)`` is a batch of N samples; ``softmax``
  and the cross-entropies work over the last axis.
- Losses take ``(y, t)`` = (prediction, target) and return a Python ``float``; for a batch
  they are averaged over the samples.
- Class targets ``t`` are either one-hot (same shape as ``y``) or integer class indices
  (shape ``y.shape[:-1]``).
- Float input keeps its precision (float32 stays float32); integer input becomes float32.
- ``*_grad(x)`` is the derivative f'(x) of an activation; ``*_backward(dout, ...)`` is the
  chain rule step ``dout * f'(x)`` written with whatever the forward pass already has (for
  sigmoid and tanh, the output y), which is what a layer's ``backward`` calls.
"""

from ippo import blas
from ippo.backend import as_float_array, xp

#: δ added inside the logarithm of ``cross_entropy_error`` so that log(0) never happens.
CROSS_ENTROPY_DELTA = 1e-7


# --------------------------------------------------------------------------- validation


def _numeric(func, arg, a):
    """``a`` as an array, or ValueError naming ``func`` and ``arg`` when it is not numeric."""
    arr = xp.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{func}: {arg} must be a numeric array, got dtype {arr.dtype} (shape {arr.shape})"
        )
    return arr


def _float(func, arg, a):
    return as_float_array(_numeric(func, arg, a), name=f"{func}: {arg}")


def _pair(func, y, t, y_name="y"):
    """``(y, t)`` as arrays, y floating; ValueError naming ``func`` and both shapes when either
    is not numeric."""
    y, t = xp.asarray(y), xp.asarray(t)
    for arg, a in ((y_name, y), ("t", t)):
        if a.dtype.kind not in "biuf":
            raise ValueError(
                f"{func}: {arg} must be a numeric array, got dtype {a.dtype} ({y_name} has "
                f"shape {y.shape}, t has shape {t.shape})"
            )
    return as_float_array(y), t


def _check_not_empty(func, y, y_name="y"):
    """ValueError naming ``func`` when ``y`` holds no values: a loss needs a sample."""
    if y.size == 0:
        raise ValueError(
            f"{func}: {y_name} is empty (shape {y.shape}); a loss needs at least one sample"
        )


def _check_probability_targets(func, t):
    """ValueError naming ``func`` unless every target lies in [0, 1] (a binary loss's labels,
    one-hot rows or target probabilities); NaN fails too."""
    if t.size and not (t.min() >= 0 and t.max() <= 1):  # written so that NaN fails too
        raise ValueError(
            f"{func}: targets must lie in [0, 1], got values from {float(t.min())} to "
            f"{float(t.max())} (t has shape {t.shape})"
        )


def _class_indices(func, t, y_shape, y_name="y"):
    """``t`` as integer class indices, or ValueError naming ``func`` when a value is not an
    integer in 0..C−1 (C = ``y_shape[-1]``)."""
    if t.dtype.kind == "f":
        whole = xp.isfinite(t) & (t == xp.floor(t))
        if not xp.all(whole):
            raise ValueError(
                f"{func}: t of shape {t.shape} looks like class indices (one per row "
                f"of {y_name} of shape {y_shape}) but holds non-integer values, such as "
                f"{float(t[~whole].flat[0])}"
            )
    t = t.astype(xp.intp, copy=False)
    n_classes = y_shape[-1]
    # ufunc.reduce: t.min() / t.max() without their Python wrappers (this runs every step of
    # the autograd's cross_entropy)
    if t.size and (xp.minimum.reduce(t, axis=None) < 0
                   or xp.maximum.reduce(t, axis=None) >= n_classes):
        raise ValueError(
            f"{func}: class index out of range: t holds values from {int(t.min())} to "
            f"{int(t.max())} (t has shape {t.shape}), but {y_name} of shape {y_shape} has "
            f"{n_classes} classes "
            f"(valid: 0..{n_classes - 1})"
        )
    return t


def _class_targets(func, y, t, y_name="y"):
    """Validate ``(y, t)`` for a classification loss.

    Returns ``(y, t, is_index)``: ``is_index`` is True when ``t`` holds class indices
    (shape ``y.shape[:-1]``), False when ``t`` is one-hot / probabilities (shape ``y.shape``,
    values in [0, 1]).
    """
    y, t = _pair(func, y, t, y_name)
    if y.ndim == 0:
        raise ValueError(
            f"{func}: {y_name} must have at least one axis (the classes), got a scalar"
        )
    _check_not_empty(func, y, y_name)
    if t.shape == y.shape:
        _check_probability_targets(func, t)
        return y, t, False
    if t.shape == y.shape[:-1]:
        return y, _class_indices(func, t, y.shape, y_name), True
    raise ValueError(
        f"{func}: {y_name} has shape {y.shape} but t has shape {t.shape}; t must be one-hot "
        f"(shape {y.shape}) or class indices (shape {y.shape[:-1]})"
    )


def _same_shape(func, y, t, y_name="y"):
    """Validate ``(y, t)`` for an element-wise loss; a (N,) target is accepted for (N, 1) y."""
    y, t = _pair(func, y, t, y_name)
    _check_not_empty(func, y, y_name)
    t = as_float_array(t)
    if t.shape != y.shape:
        if y.ndim >= 1 and y.shape[-1] == 1 and t.shape == y.shape[:-1]:
            t = t.reshape(y.shape)
        else:
            raise ValueError(
                f"{func}: {y_name} has shape {y.shape} but t has shape {t.shape}; they must "
                f"match"
            )
    return y, t


def _backward_targets(func, y, t, allow_index=False):
    """``(y, t)`` for a loss's backward pass: shapes checked, t cast to y's dtype.

    Element-wise / one-hot targets come back with ``y.shape`` and ``y.dtype`` (so a float32
    gradient stays float32; a (N,) target is accepted for (N, 1) y). With ``allow_index``,
    class indices of shape ``y.shape[:-1]`` come back as integers, checked to lie in 0..C−1
    (a negative index would otherwise pick a class from the end, silently). Other values are
    not checked again: the forward pass did that.
    """
    if isinstance(y, xp.ndarray) or not hasattr(y, "shape") or not hasattr(y, "dtype"):
        y, t = _pair(func, y, t)
    else:
        # a duck array such as an autograd Tensor under create_graph=True: keep it as it is,
        # so that the formula below is itself recorded
        t = _numeric(func, "t", t)
    if t.shape == y.shape:
        return y, t.astype(y.dtype, copy=False)
    if y.ndim >= 1 and t.shape == y.shape[:-1]:
        if allow_index:
            return y, _class_indices(func, t, y.shape)
        if y.shape[-1] == 1:
            return y, t.reshape(y.shape).astype(y.dtype, copy=False)
    expected = f"{y.shape} or class indices {y.shape[:-1]}" if allow_index else f"{y.shape}"
    raise ValueError(
        f"{func}: y has shape {y.shape} but t has shape {t.shape}; expected t of shape "
        f"{expected}"
    )


def _with_class_axis(func, x):
    """``x`` as a float array with at least one axis (the classes), else ValueError."""
    x = _float(func, "x", x)
    if x.ndim == 0:
        raise ValueError(f"{func}: x must have at least one axis (the classes), got a scalar")
    if x.shape[-1] == 0:
        raise ValueError(f"{func}: x of shape {x.shape} has no classes (its last axis is empty)")
    return x


def _n_samples(y):
    """Number of samples in ``y``: 1 for a single 1-D sample, else the product of leading axes."""
    return 1 if y.ndim <= 1 else y.size // y.shape[-1]


# --------------------------------------------------------------------------- activations


def step(x):
    """Step function: h(x) = 1 if x > 0 else 0.

    Float input gives the same float dtype, integer input gives integers.
    """
    x = _numeric("step", "x", x)
    return (x > 0).astype(x.dtype if x.dtype.kind == "f" else xp.int_)


def step_grad(x):
    """Derivative of the step function: h'(x) = 0 everywhere (undefined at 0, taken as 0 there).

    This is why the perceptron's step cannot be trained by gradient descent.
    """
    return xp.zeros_like(_float("step_grad", "x", x))


def sigmoid(x):
    """Sigmoid: σ(x) = 1 / (1 + exp(−x)).

    Computed exactly so, which is accurate to the last digits in both tails (the ½·(1 +
    tanh(x/2)) form loses them for x < 0: it gives 0 for σ(−20) in float32). For x ≪ 0,
    exp(−x) overflows to inf and 1 / (1 + inf) = 0 is the correct limit, so that overflow (and
    underflow for x ≫ 0) is expected and silenced: σ(−1000) = 0 and σ(1000) = 1 with no
    warning.
    """
    x = _float("sigmoid", "x", x)
    y = xp.negative(x, out=xp.empty_like(x))  # out=: an array even for 0-d x
    with xp.errstate(over="ignore", under="ignore"):
        xp.exp(y, out=y)
    y += 1
    return xp.reciprocal(y, out=y)


def sigmoid_backward(dout, y):
    """Chain rule through the sigmoid from its output y = σ(x): dx = dout · y · (1 − y)."""
    return dout * y * (1 - y)


def sigmoid_grad(x):
    """Derivative of the sigmoid: σ'(x) = σ(x)·(1 − σ(x))."""
    return sigmoid_backward(1, sigmoid(_float("sigmoid_grad", "x", x)))


def relu(x, out=None):
    """Rectified linear unit: ReLU(x) = max(0, x).

    ``out`` may name an array to write into (for example ``x`` itself) to avoid a copy.
    """
    x = _float("relu", "x", x)
    return xp.maximum(x, 0, out=out)


def relu_backward(dout, y, out=None):
    """Chain rule through ReLU: dx = dout where y > 0, else 0.

    ``y`` may be the input x or the output ReLU(x): both are positive at the same places.
    ``out`` may name an array to write into (for example ``dout`` itself).
    """
    return xp.multiply(dout, y > 0, out=out)


def relu_grad(x):
    """Derivative of ReLU: 1 where x > 0, else 0 (taken as 0 at x = 0)."""
    x = _float("relu_grad", "x", x)
    return relu_backward(xp.ones_like(x), x)


def leaky_relu(x, alpha=0.01):
    """Leaky ReLU: f(x) = x if x > 0 else α·x, so a small gradient still flows for x < 0."""
    x = _float("leaky_relu", "x", x)
    return xp.where(x > 0, x, x * float(alpha))  # float(): a np.float64 α would promote


def leaky_relu_backward(dout, x, alpha=0.01):
    """Chain rule through leaky ReLU: dx = dout where x > 0, else α · dout."""
    return xp.where(x > 0, dout, dout * float(alpha))


def leaky_relu_grad(x, alpha=0.01):
    """Derivative of leaky ReLU: f'(x) = 1 where x > 0, else α."""
    x = _float("leaky_relu_grad", "x", x)
    return leaky_relu_backward(xp.ones_like(x), x, alpha)


def tanh(x):
    """Hyperbolic tangent: tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ), in (−1, 1)."""
    return xp.tanh(_float("tanh", "x", x))


def tanh_backward(dout, y):
    """Chain rule through tanh from its output y = tanh(x): dx = dout · (1 − y²)."""
    return dout * (1 - y * y)


def tanh_grad(x):
    """Derivative of tanh: tanh'(x) = 1 − tanh(x)²."""
    return tanh_backward(1, tanh(_float("tanh_grad", "x", x)))


def identity(x):
    """Identity: h(x) = x (the output activation for regression)."""
    return _float("identity", "x", x)


def identity_grad(x):
    """Derivative of the identity: h'(x) = 1 everywhere."""
    return xp.ones_like(_float("identity_grad", "x", x))


def softmax(x):
    """Softmax over the last axis: yₖ = exp(xₖ) / Σᵢ exp(xᵢ).

    The maximum is subtracted first (the result is unchanged, since softmax(x − c) =
    softmax(x)) so that exp never overflows: softmax([1000, 1000]) = [0.5, 0.5].
    """
    x = _with_class_axis("softmax", x)
    z = x - x.max(axis=-1, keepdims=True)
    xp.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def log_softmax(x):
    """Logarithm of the softmax over the last axis: log yₖ = xₖ − log Σᵢ exp(xᵢ).

    Computed as (x − m) − log Σᵢ exp(xᵢ − m) with m = max(x): finite for any finite x.
    """
    x = _with_class_axis("log_softmax", x)
    z = x - x.max(axis=-1, keepdims=True)
    z -= xp.log(xp.exp(z).sum(axis=-1, keepdims=True))
    return z


def log_softmax_backward(dout, y):
    """Chain rule through log-softmax, from the softmax output y = softmax(x) = exp(log_softmax(x)):
    dx = dout − y · Σₖ doutₖ (sum over the last axis)."""
    return dout - y * dout.sum(axis=-1, keepdims=True)


def softmax_backward(dout, y):
    """Chain rule through softmax from its output y: dx = y · (dout − Σₖ dout·y)."""
    return y * (dout - (dout * y).sum(axis=-1, keepdims=True))


# --------------------------------------------------------------------------- losses


def sum_squared_error(y, t):
    """Sum of squared errors: E = ½ Σₖ (yₖ − tₖ)².

    For a batch, the mean over samples of that per-sample value.
    """
    y, t = _same_shape("sum_squared_error", y, t)
    d = y - t
    return float(0.5 * xp.sum(d * d) / _n_samples(y))


def mean_squared_error(y, t):
    """Mean squared error: E = ½ · mean((y − t)²) over all elements.

    The ½ makes its derivative simply (y − t) / (number of elements).
    """
    y, t = _same_shape("mean_squared_error", y, t)
    d = y - t
    return float(0.5 * xp.mean(d * d))


def mean_squared_error_backward(y, t):
    """Gradient of ``mean_squared_error`` w.r.t. y: ∂E/∂y = (y − t) / (number of elements)."""
    y, t = _backward_targets("mean_squared_error_backward", y, t)
    return (y - t) / y.size


def cross_entropy_error(y, t):
    """Cross-entropy: E = −Σₖ tₖ · log(yₖ + δ), with δ = 1e-7, averaged over the batch.

    ``y`` holds probabilities (for example a softmax output); ``t`` is one-hot (same shape as
    y) or class indices. With indices the sum keeps only the true class:
    E = −log(y_t + δ).
    """
    y, t, is_index = _class_targets("cross_entropy_error", y, t)
    if y.min() < 0 or y.max() > 1:
        raise ValueError(
            f"cross_entropy_error: y of shape {y.shape} must hold probabilities in [0, 1], but "
            f"its values range from {float(y.min())} to {float(y.max())} (for raw scores use "
            f"softmax_cross_entropy)"
        )
    if is_index:
        p = xp.take_along_axis(y, t[..., None], axis=-1)
        total = -xp.sum(xp.log(p + CROSS_ENTROPY_DELTA))
    else:
        total = -xp.sum(t * xp.log(y + CROSS_ENTROPY_DELTA))
    return float(total / _n_samples(y))


def softmax_cross_entropy_forward(x, t):
    """Softmax followed by cross-entropy, fused; returns ``(loss, y)`` with y = softmax(x).

    loss = mean over samples of (log Σᵢ exp(xᵢ) − Σₖ tₖ xₖ) for Σₖ tₖ = 1, computed with the
    maximum subtracted so it is finite for any finite logits. No δ is needed: the log is
    taken of a sum that is at least 1. The loss layer keeps y for its backward pass.
    """
    x, t, is_index = _class_targets("softmax_cross_entropy", x, t, "x")
    return softmax_cross_entropy_kernel(x, t, is_index)


def softmax_cross_entropy(x, t):
    """Softmax then cross-entropy in one stable step: E = −Σₖ tₖ · log softmax(x)ₖ.

    ``x`` holds logits (scores before softmax); ``t`` is one-hot or class indices.
    """
    return softmax_cross_entropy_forward(x, t)[0]


def softmax_cross_entropy_backward(y, t, out=None):
    """Gradient of the fused softmax-cross-entropy w.r.t. the logits: ∂E/∂x = (y − t) / N.

    ``y`` is the softmax output kept by the forward pass; ``t`` one-hot or class indices.
    ``out`` may name an array (for example ``y`` itself) to write into.
    """
    y, t = _backward_targets("softmax_cross_entropy_backward", y, t, allow_index=True)
    return softmax_cross_entropy_backward_kernel(y, t, t.shape != y.shape, out=out)


def sigmoid_binary_cross_entropy(x, t):
    """Sigmoid then binary cross-entropy, fused and stable, averaged over all elements.

    E = −[t·log σ(x) + (1 − t)·log(1 − σ(x))], computed as
    max(x, 0) − x·t + log(1 + exp(−|x|)), which never overflows. ``x`` holds logits, ``t``
    targets in [0, 1] (0/1 labels) of the same shape (a (N,) target is accepted for (N, 1)).
    """
    x, t = _same_shape("sigmoid_binary_cross_entropy", x, t, "x")
    _check_probability_targets("sigmoid_binary_cross_entropy", t)
    return sigmoid_binary_cross_entropy_kernel(x, t)


def sigmoid_binary_cross_entropy_backward(y, t):
    """Gradient of the fused sigmoid-binary-cross-entropy w.r.t. the logits: (y − t) / size.

    ``y`` = σ(x) is the sigmoid output kept by the forward pass.
    """
    y, t = _backward_targets("sigmoid_binary_cross_entropy_backward", y, t)
    return (y - t) / y.size


# =========================================================================== layers (issue 3)
# Unchecked kernels behind the public losses above (the public functions validate, then call
# them; a loss layer checks shapes only and calls them directly, once per training step), and
# the formulas of the remaining layers: the weight gradient of a matrix product, dropout,
# batch normalization, embedding, L2 decay.


def softmax_cross_entropy_kernel(x, t, is_index):
    """The fused softmax-cross-entropy without validation; returns ``(loss, y = softmax(x))``.

    loss = mean over samples of (log Σᵢ exp(xᵢ − m) − (x_t − m)), m = max(x), for class
    indices ``t`` (``is_index=True``, integer array of shape ``x.shape[:-1]``), or
    mean of Σₖ tₖ · (log Σᵢ exp(xᵢ − m) − (xₖ − m)) for one-hot / probability ``t``.
    No one-hot array is built for index targets. Called by ``softmax_cross_entropy_forward``
    after it has validated ``(x, t)``, and by ``SoftmaxWithLoss`` after a shape check.
    """
    # ufunc.reduce instead of x.max() / y.sum(): the same reductions without the Python
    # wrapper, which costs about a microsecond each on the small arrays of online learning
    z = x - xp.maximum.reduce(x, axis=-1, keepdims=True)
    y = xp.exp(z)
    s = xp.add.reduce(y, axis=-1, keepdims=True)
    y /= s
    log_s = xp.log(s)
    n = _n_samples(x)
    if is_index:
        if z.ndim == 2:
            picked = z[xp.arange(z.shape[0]), t]
        else:
            picked = xp.take_along_axis(z, t[..., None], axis=-1)
        total = float(xp.add.reduce(log_s, axis=None)) - float(xp.add.reduce(picked, axis=None))
        loss = total / n
    else:
        # logits spread wider than the float range leave z = −inf, and 0 · inf would be NaN
        xp.maximum(z, xp.finfo(z.dtype).min, out=z)
        loss = float((t * (log_s - z)).sum()) / n
    return loss, y


def softmax_cross_entropy_backward_kernel(y, t, is_index, out=None):
    """``softmax_cross_entropy_backward`` without validation: dx = (y − t) / N.

    For class indices (``is_index``) no one-hot array is built: dx = y / N with 1/N taken
    from the true class of each sample. ``out`` may name an array to write into.
    """
    n = _n_samples(y)
    if not is_index:  # (y − t without out=: ippo.autograd runs this on tensors too)
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


def sigmoid_binary_cross_entropy_kernel(x, t):
    """The fused sigmoid-binary-cross-entropy without validation, averaged over all elements.

    E = mean of max(x, 0) − x·t + log(1 + exp(−|x|)) for logits ``x`` and targets ``t`` of
    the same shape: the stable form of −[t·log σ(x) + (1 − t)·log(1 − σ(x))].
    """
    loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
    return float(xp.mean(loss))


def matmul_weight_grad(x, dout, dW):
    """The weight gradient of y = x·W: dW = xᵀ·dout, written into ``dW`` (D, H).

    ``x`` is the batch (N, D) and ``dout`` = ∂L/∂y (N, H); dx = dout·Wᵀ is one product the
    caller writes. ``np.dot(..., out=dW)`` needs ``dW`` C-contiguous and of the inputs'
    dtype. For one sample (online learning) xᵀ·dout is an outer product. Up to
    ``blas.BLAS_OUTER_PRODUCT_BELOW`` entries ``np.dot`` computes it faster than the
    element-wise product xᵀ (D, 1) · dout (1, H) (784x100 float32: 27 vs 50 µs; a training
    step of 784-100-100-100-10 at batch 1 is 1.13x faster); larger ones are computed
    element-wise: a multi-threaded OpenBLAS splits them over its threads and can stall for
    milliseconds on a busy machine (1000x1000 on 2 threads: 15 ms against 0.54 ms), and
    within a training step of 784-1000-1000-10 even one thread was 6-10 % slower. Both ways
    give exactly the same numbers. Used by ``layers.Affine``/``layers.MatMul`` and
    ``graph.MatMul``.
    """
    if x.shape[0] == 1 and dW.size >= blas.BLAS_OUTER_PRODUCT_BELOW:
        xp.multiply(x.T, dout, out=dW)
    else:
        xp.dot(x.T, dout, out=dW)


def dropout_mask(shape, ratio, rng, dtype=xp.float32):
    """Inverted-dropout mask: each unit is kept with probability 1 − r, then scaled by 1/(1 − r).

    Dropped units are 0, kept ones 1/(1 − r), so E[mask] = 1 and inference needs no change
    (dropout is simply the identity there). ``rng`` is a ``numpy.random.Generator``.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"dropout_mask: ratio must be in [0, 1), got {ratio}")
    mask = (rng.random(shape, dtype=xp.float32) >= ratio).astype(dtype)
    mask *= 1.0 / (1.0 - ratio)
    return mask


def dropout(x, mask, out=None):
    """Dropout forward with a mask from ``dropout_mask``: y = x · mask."""
    return xp.multiply(x, mask, out=out)


def dropout_backward(dout, mask, out=None):
    """Chain rule through dropout: dx = dout · mask (dropped units pass no gradient)."""
    return xp.multiply(dout, mask, out=out)


def batch_norm_forward(x, gamma, beta, eps=1e-5):
    """Batch normalization over the batch axis 0, with the batch's own statistics.

    μ = mean(x), σ² = mean((x − μ)²), x̂ = (x − μ) / √(σ² + ε), y = γ·x̂ + β.
    Returns ``(y, xhat, inv_std, mean, var)``; ``xhat`` and ``inv_std`` = 1/√(σ² + ε) are what
    ``batch_norm_backward`` needs, ``mean`` and ``var`` feed the running averages.
    Written with operators and methods only, so that ``ippo.autograd`` can run the same
    formula on tensors (to differentiate batch normalization twice); ``** 0.5`` is NumPy's
    ``sqrt``.
    """
    mean = x.mean(axis=0)
    xhat = x - mean
    var = (xhat * xhat).mean(axis=0)
    inv_std = 1.0 / (var + eps) ** 0.5
    xhat *= inv_std
    y = xhat * gamma
    y += beta
    return y, xhat, inv_std, mean, var


def batch_norm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Batch normalization at inference: y = γ·(x − μ_run)/√(σ²_run + ε) + β."""
    scale = gamma / xp.sqrt(running_var + eps)
    y = x - running_mean
    y *= scale
    y += beta
    return y


def batch_norm_backward(dout, xhat, inv_std, gamma, dgamma=None, dbeta=None):
    """Chain rule through ``batch_norm_forward``; returns ``(dx, dgamma, dbeta)``.

    dβ = Σ dy, dγ = Σ dy·x̂ (sums over the batch), and
    dx = γ/(N·√(σ² + ε)) · (N·dy − dβ − x̂·dγ).
    ``dgamma`` / ``dbeta`` may name arrays to write into (a layer's grads, in place).
    Without them it works on ``ippo.autograd`` tensors too (``create_graph=True``).
    """
    n = dout.shape[0]
    dbeta = dout.sum(axis=0) if dbeta is None else xp.sum(dout, axis=0, out=dbeta)
    dy_xhat = dout * xhat
    dgamma = dy_xhat.sum(axis=0) if dgamma is None else xp.sum(dy_xhat, axis=0, out=dgamma)
    dx = dout * n
    dx -= dbeta
    dx -= xhat * dgamma
    dx *= (gamma * inv_std) / n
    return dx, dgamma, dbeta


def batch_norm_inference_backward(dout, x, gamma, running_mean, running_var, eps=1e-5,
                                  dgamma=None, dbeta=None):
    """Chain rule through ``batch_norm_inference``; returns ``(dx, dgamma, dbeta)``.

    At inference the statistics are fixed numbers, so each sample is normalized on its own:
    x̂ = (x − μ_run)/√(σ²_run + ε), dβ = Σ dy, dγ = Σ dy·x̂ (sums over the batch) and simply
    dx = dy·γ/√(σ²_run + ε) (no term through the batch's mean and variance, unlike
    ``batch_norm_backward``). ``dgamma`` / ``dbeta`` may name arrays to write into.
    """
    inv_std = 1.0 / xp.sqrt(running_var + eps)
    xhat = x - running_mean
    xhat *= inv_std
    dbeta = xp.sum(dout, axis=0, out=dbeta)
    dgamma = xp.sum(dout * xhat, axis=0, out=dgamma)
    return dout * (gamma * inv_std), dgamma, dbeta


def embedding_backward(dout, idx, dW):
    """Chain rule through the row lookup y = W[idx]: dW[i] = Σ of dout rows whose index is i.

    Writes into ``dW`` (zeroed first). A word that occurs several times in ``idx`` gets the
    sum of all its gradients (``np.add.at``, not ``dW[idx] = dout``, which would keep only one).
    """
    dW[...] = 0
    xp.add.at(dW, idx, dout)
    return dW


def l2_penalty(weights, weight_decay):
    """L2 weight decay added to the loss: E = ½·λ·Σ_W Σ W² over the weight matrices (not biases)."""
    if not weight_decay:
        return 0.0
    return 0.5 * weight_decay * sum(float(xp.vdot(w, w)) for w in weights)


def l2_penalty_backward(grad, w, weight_decay, scratch=None):
    """Add the L2 decay's gradient λ·W into ``grad`` in place: grad += λ·W.

    ``scratch`` may name a buffer of W's shape and dtype so that no array is allocated.
    """
    if weight_decay:
        grad += xp.multiply(w, weight_decay, out=scratch)
    return grad
