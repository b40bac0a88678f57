"""The math core: activations, losses and their derivatives, as pure functions on arrays.

Every formula of the course lives here once, under one public name (and its ``_backward``,
the chain-rule step, where it has one). The hand-written layers (``ippo.layers``) and the
autograd (``ippo.autograd``) both call these functions, and ``ippo.numerical`` checks both.

A function that takes your data (an activation, a loss) checks it first, with the named
checks of ``ippo.checks``, and says what is wrong in a ``ValueError`` naming the function.
The fused losses and their gradients are the kernels a training step runs
(``ippo.kernels``, unchecked: a loss layer checks its targets' shape, the trainer their
values once): the losses here check their arguments, then call those kernels, so even
their arithmetic is written once. The layers' own formulas at the end (batch
normalization, dropout, ...) take what a forward pass made and check nothing.

Conventions
-----------
- A 1-D array is one sample, a 2-D array ``(N, C)`` is a batch of N samples; ``softmax``
  and the cross-entropies work over the last axis.
- Losses take ``(y, t)`` = (prediction, target) and return a Python ``float``; for a batch
  they are averaged over the samples. The cross-entropies refuse recognisably swapped
  arguments (labels first, a prediction second), as one course note passes them.
- Class targets ``t`` are either one-hot (same shape as ``y``) or integer class indices
  (shape ``y.shape[:-1]``).
- Float input keeps its precision (float32 stays float32); integer input becomes float32.
- ``*_grad(x)`` is the derivative f'(x) of an activation; ``*_backward(dout, ...)`` is the
  chain rule step ``dout * f'(x)`` written with whatever the forward pass already has (for
  sigmoid and tanh, the output y), which is what a layer's ``backward`` calls.
"""

from ippo import blas, checks
from ippo import kernels as K
from ippo.backend import as_float_array, xp

#: δ added inside the logarithm of ``cross_entropy_error`` so that log(0) never happens.
CROSS_ENTROPY_DELTA = 1e-7


# --------------------------------------------------------------------------- activations


def step(x):
    """Step function: h(x) = 1 if x > 0 else 0.

    Float input gives the same float dtype, integer input gives integers.
    """
    x = checks.numeric("step", "x", x)
    return (x > 0).astype(x.dtype if x.dtype.kind == "f" else xp.int_)


def step_grad(x):
    """Derivative of the step function: h'(x) = 0 everywhere (undefined at 0, taken as 0 there).

    This is why the perceptron's step cannot be trained by gradient descent.
    """
    return xp.zeros_like(checks.float_array("step_grad", "x", x))


def sigmoid(x):
    """Sigmoid: σ(x) = 1 / (1 + exp(−x)).

    Computed exactly so, which is accurate to the last digits in both tails (the ½·(1 +
    tanh(x/2)) form loses them for x < 0: it gives 0 for σ(−20) in float32). For x ≪ 0,
    exp(−x) overflows to inf and 1 / (1 + inf) = 0 is the correct limit, so that overflow (and
    underflow for x ≫ 0) is expected and silenced: σ(−1000) = 0 and σ(1000) = 1 with no
    warning.
    """
    x = checks.float_array("sigmoid", "x", x)
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
    return sigmoid_backward(1, sigmoid(checks.float_array("sigmoid_grad", "x", x)))


def relu(x, out=None):
    """Rectified linear unit: ReLU(x) = max(0, x).

    ``out`` may name an array to write into (for example ``x`` itself) to avoid a copy.
    """
    x = checks.float_array("relu", "x", x)
    return xp.maximum(x, 0, out=out)


def relu_backward(dout, y, out=None):
    """Chain rule through ReLU: dx = dout where y > 0, else 0.

    ``y`` may be the input x or the output ReLU(x): both are positive at the same places.
    ``out`` may name an array to write into (for example ``dout`` itself).
    """
    return xp.multiply(dout, y > 0, out=out)


def relu_grad(x):
    """Derivative of ReLU: 1 where x > 0, else 0 (taken as 0 at x = 0)."""
    x = checks.float_array("relu_grad", "x", x)
    return relu_backward(xp.ones_like(x), x)


def leaky_relu(x, alpha=0.01):
    """Leaky ReLU: f(x) = x if x > 0 else α·x, so a small gradient still flows for x < 0."""
    x = checks.float_array("leaky_relu", "x", x)
    return xp.where(x > 0, x, x * float(alpha))  # float(): a np.float64 α would promote


def leaky_relu_backward(dout, x, alpha=0.01):
    """Chain rule through leaky ReLU: dx = dout where x > 0, else α · dout."""
    return xp.where(x > 0, dout, dout * float(alpha))


def leaky_relu_grad(x, alpha=0.01):
    """Derivative of leaky ReLU: f'(x) = 1 where x > 0, else α."""
    x = checks.float_array("leaky_relu_grad", "x", x)
    return leaky_relu_backward(xp.ones_like(x), x, alpha)


def tanh(x):
    """Hyperbolic tangent: tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ), in (−1, 1)."""
    return xp.tanh(checks.float_array("tanh", "x", x))


def tanh_backward(dout, y):
    """Chain rule through tanh from its output y = tanh(x): dx = dout · (1 − y²)."""
    return dout * (1 - y * y)


def tanh_grad(x):
    """Derivative of tanh: tanh'(x) = 1 − tanh(x)²."""
    return tanh_backward(1, tanh(checks.float_array("tanh_grad", "x", x)))


def identity(x):
    """Identity: h(x) = x (the output activation for regression)."""
    return checks.float_array("identity", "x", x)


def identity_grad(x):
    """Derivative of the identity: h'(x) = 1 everywhere."""
    return xp.ones_like(checks.float_array("identity_grad", "x", x))


def softmax(x):
    """Softmax over the last axis: yₖ = exp(xₖ) / Σᵢ exp(xᵢ).

    The maximum is subtracted first (the result is unchanged, since softmax(x − c) =
    softmax(x)) so that exp never overflows: softmax([1000, 1000]) = [0.5, 0.5].
    """
    x = checks.class_axis("softmax", x)
    z = x - x.max(axis=-1, keepdims=True)
    xp.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def log_softmax(x):
    """Logarithm of the softmax over the last axis: log yₖ = xₖ − log Σᵢ exp(xᵢ).

    Computed as (x − m) − log Σᵢ exp(xᵢ − m) with m = max(x): finite for any finite x.
    """
    x = checks.class_axis("log_softmax", x)
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
# Each loss checks what it is given (``ippo.checks``), then computes; the fused losses and
# their gradients are the kernels a training step runs (``ippo.kernels``), called here
# after the checks.


def _element_loss_args(func, y, t, y_name="y"):
    """``(y, t)`` for an element-wise loss: numeric, y not empty, t of y's shape."""
    y, t = checks.numeric_pair(func, y, t, y_name)
    checks.not_empty(func, y, y_name)
    return y, checks.targets_like(func, y.shape, as_float_array(t), y_name)


def _class_loss_args(func, y, t, y_name="y"):
    """``(y, t)`` for a classification loss: t one-hot in [0, 1] or class indices in range."""
    y, t = checks.numeric_pair(func, y, t, y_name)
    if y.ndim == 0:
        raise ValueError(
            f"{func}: {y_name} must have at least one axis (the classes), got a scalar"
            + (f" (if {y_name} is the class label, the arguments are swapped: {y_name} comes "
               f"first, the target second)" if t.ndim >= 1 else "")
        )
    checks.not_empty(func, y, y_name)
    return y, checks.class_targets(func, y.shape, t, y_name)[0]


def _gradient_args(func, y, t, classes=False):
    """``(y, t)`` for a loss's gradient: t of y's shape and dtype (a float32 gradient stays
    float32), or with ``classes`` class indices checked to lie in 0..C−1."""
    y, t = checks.numeric_pair(func, y, t)
    if classes and checks.is_class_index(func, y.shape, t):
        return y, checks.class_indices(func, t, y.shape)
    return y, checks.targets_like(func, y.shape, t).astype(y.dtype, copy=False)


def sum_squared_error(y, t):
    """Sum of squared errors: E = ½ Σₖ (yₖ − tₖ)², summed over the outputs k.

    For a batch, the mean over samples of that per-sample value. With C outputs it is C times
    ``mean_squared_error`` (½·mean over all elements), and so is its gradient.
    """
    return K.sum_squared_error(*_element_loss_args("sum_squared_error", y, t))


def sum_squared_error_backward(y, t):
    """Gradient of ``sum_squared_error`` w.r.t. y: ∂E/∂y = (y − t) / N, N the number of
    samples (1 for a single 1-D sample): each output's error, averaged over the batch only.
    The prediction comes first: swapped, (t, y) gives the gradient with its sign flipped."""
    return K.sum_squared_error_backward(*_gradient_args("sum_squared_error_backward", y, t))


def mean_squared_error(y, t):
    """Mean squared error: E = ½ · mean((y − t)²) over all elements.

    The ½ makes its derivative simply (y − t) / (number of elements).
    """
    return K.mean_squared_error(*_element_loss_args("mean_squared_error", y, t))


def mean_squared_error_backward(y, t):
    """Gradient of ``mean_squared_error`` w.r.t. y: ∂E/∂y = (y − t) / (number of elements).

    The prediction comes first: swapped, (t, y) gives the gradient with its sign flipped
    (the course's ``d_mean_squared_error(d, y)`` passes the target first)."""
    return K.mean_squared_error_backward(*_gradient_args("mean_squared_error_backward", y, t))


def cross_entropy_error(y, t):
    """Cross-entropy: E = −Σₖ tₖ · log(yₖ + δ), with δ = 1e-7, averaged over the batch.

    ``y`` holds probabilities (for example a softmax output); ``t`` is one-hot (same shape as
    y) or class indices. With indices the sum keeps only the true class:
    E = −log(y_t + δ). The prediction comes first: arguments recognisably swapped (y integer
    or exactly one-hot labels, t not) raise ``ValueError`` instead of giving a wrong number.
    """
    checks.argument_order("cross_entropy_error", y, t)
    y, t = _class_loss_args("cross_entropy_error", y, t)
    if y.min() < 0 or y.max() > 1:
        raise ValueError(
            f"cross_entropy_error: y of shape {y.shape} must hold probabilities in [0, 1], but "
            f"its values range from {float(y.min())} to {float(y.max())} (for raw scores use "
            f"softmax_cross_entropy)"
        )
    if t.shape != y.shape:  # class indices
        p = xp.take_along_axis(y, t[..., None], axis=-1)
        total = -xp.sum(xp.log(p + CROSS_ENTROPY_DELTA))
    else:
        total = -xp.sum(t * xp.log(y + CROSS_ENTROPY_DELTA))
    return float(total / K.n_samples(y))


def softmax_cross_entropy(x, t):
    """Softmax then cross-entropy in one stable step: E = −Σₖ tₖ · log softmax(x)ₖ.

    ``x`` holds logits (scores before softmax); ``t`` is one-hot or class indices. Computed
    as log Σᵢ exp(xᵢ − m) − (x_t − m) with m = max(x) (``ippo.kernels``), finite for any
    finite logits. Recognisably swapped arguments (labels first, scores second) raise
    ``ValueError``.
    """
    checks.argument_order("softmax_cross_entropy", x, t, "x", scores=True)
    return K.softmax_cross_entropy(*_class_loss_args("softmax_cross_entropy", x, t, "x"))[0]


def softmax_cross_entropy_backward(y, t, out=None):
    """Gradient of the fused softmax-cross-entropy w.r.t. the logits: ∂E/∂x = (y − t) / N.

    ``y`` is the softmax output kept by the forward pass; ``t`` one-hot or class indices.
    ``out`` may name an array (for example ``y`` itself) to write into.
    """
    y, t = _gradient_args("softmax_cross_entropy_backward", y, t, classes=True)
    return K.softmax_cross_entropy_backward(y, t, out=out)


def sigmoid_binary_cross_entropy(x, t):
    """Sigmoid then binary cross-entropy, fused and stable, averaged over all elements.

    E = −[t·log σ(x) + (1 − t)·log(1 − σ(x))], computed as
    max(x, 0) − x·t + log(1 + exp(−|x|)), which never overflows. ``x`` holds logits, ``t``
    targets in [0, 1] (0/1 labels) of the same shape (a (N,) target is accepted for (N, 1)).
    """
    x, t = _element_loss_args("sigmoid_binary_cross_entropy", x, t, "x")
    checks.unit_interval("sigmoid_binary_cross_entropy", t)
    return K.sigmoid_binary_cross_entropy(x, t)


def sigmoid_binary_cross_entropy_backward(y, t):
    """Gradient of the fused sigmoid-binary-cross-entropy w.r.t. the logits: (y − t) / size.

    ``y`` = σ(x) is the sigmoid output kept by the forward pass.
    """
    return K.sigmoid_binary_cross_entropy_backward(
        *_gradient_args("sigmoid_binary_cross_entropy_backward", y, t))


# --------------------------------------------------------------------------- layers' formulas
# The formulas of the remaining layers: the weight gradient of a matrix product, dropout,
# batch normalization, embedding, L2 decay. They take what a forward pass made (no checks).


def matmul_weight_grad(x, dout, dW):
    """The weight gradient of y = x·W: dW = xᵀ·dout, written into ``dW`` (D, H).

    ``x`` is the batch (N, D) and ``dout`` = ∂L/∂y (N, H); dx = dout·Wᵀ is one product the
    caller writes. ``np.dot(..., out=dW)`` needs ``dW`` C-contiguous and of the inputs'
    dtype. For one sample (online learning) xᵀ·dout is an outer product: below
    ``blas.BLAS_OUTER_PRODUCT_BELOW`` entries ``np.dot`` computes it faster, larger ones
    are computed element-wise, xᵀ (D, 1) · dout (1, H), which no BLAS thread can stall
    (the measurements: ``benchmarks/RESULTS.md``, "ippo's speed rules"). Both ways give
    exactly the same numbers. Used by ``layers.Affine``/``layers.MatMul`` and
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


def running_average(average, value, momentum):
    """Exponential moving average, in place: average ← momentum·average + (1 − momentum)·value.

    Batch normalization keeps its running mean and variance so, for inference. Returns
    ``average``.
    """
    average *= momentum
    average += (1.0 - momentum) * value
    return average


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


# =========================================================================== information
# The information-theory view of the cross-entropy (issue 12): information of one event, the
# entropy of a distribution, the cross-entropy between two distributions. Bits by default
# (log base 2), as the course counts them; base=e gives nats, the unit of the losses above.


def _log_base(func, base):
    """log(base) as a float, or ValueError naming ``func`` unless base is a number > 0, ≠ 1."""
    if isinstance(base, bool) or not isinstance(base, (int, float, xp.integer, xp.floating)) \
            or not (base > 0 and base != 1 and base < float("inf")):
        raise ValueError(f"{func}: base must be a positive number other than 1 (2 for bits, "
                         f"e for nats), got {base!r}")
    return float(xp.log(base))


def _probabilities(func, arg, p):
    """``p`` as a float array of values in [0, 1], or ValueError naming ``func`` and ``arg``."""
    p = checks.float_array(func, arg, p)
    if p.size and not (p.min() >= 0 and p.max() <= 1):  # written so that NaN fails too
        raise ValueError(f"{func}: {arg} must hold probabilities in [0, 1], got values from "
                         f"{float(p.min())} to {float(p.max())}")
    return p


def _distribution(func, arg, p):
    """``p`` as probabilities whose last axis sums to 1, or ValueError naming ``func``."""
    p = _probabilities(func, arg, p)
    if p.ndim == 0:
        raise ValueError(f"{func}: {arg} must be a distribution (an array of probabilities "
                         f"that sum to 1), got a scalar")
    sums = p.sum(axis=-1)
    if not xp.allclose(sums, 1.0, atol=1e-6 if p.dtype == xp.float64 else 1e-4):
        raise ValueError(f"{func}: {arg} must sum to 1 over its last axis (a probability "
                         f"distribution), got sums from {float(sums.min())} to "
                         f"{float(sums.max())}")
    return p


def _two_distributions(func, p, q, base):
    """``(log(base), p, q)`` for a function of two distributions, checked alike."""
    log_b = _log_base(func, base)
    p = _distribution(func, "p", p)
    q = _distribution(func, "q", q)
    if p.shape != q.shape:
        raise ValueError(f"{func}: p has shape {p.shape} but q has shape {q.shape}; they "
                         f"must match")
    return log_b, p, q


def _float_or_array(v):
    return float(v) if xp.ndim(v) == 0 else v


def information(p, base=2):
    """Information content (surprisal) of an event of probability p: I(p) = −log_b p.

    In bits for ``base=2``: a fair coin's side (p = 1/2) carries 1 bit, a playing card's
    suit (p = 1/4) 2 bits, one of 8 compass directions (p = 1/8) 3 bits. The rarer the
    event, the more it tells; a certain event (p = 1) tells nothing, and I(0) = inf.
    Element-wise: a float for a number, an array for an array.
    """
    log_b = _log_base("information", base)
    p = _probabilities("information", "p", p)
    with xp.errstate(divide="ignore"):
        return _float_or_array(0.0 - xp.log(p) / log_b)  # 0.0 − …: I(1) is 0, not −0


def entropy(p, base=2):
    """Entropy of a distribution p, the mean information of its outcomes:
    H(p) = −Σₖ pₖ · log_b pₖ (over the last axis, with 0 · log 0 = 0).

    A fair coin has 1 bit, a card's suit 2 bits, 8 equally likely directions 3 bits; a
    certain outcome has 0. A float for one distribution, an array for a batch of them.
    """
    log_b = _log_base("entropy", base)
    p = _distribution("entropy", "p", p)
    with xp.errstate(divide="ignore", invalid="ignore"):
        terms = xp.where(p > 0, p * xp.log(p), 0.0)
    return _float_or_array(0.0 - terms.sum(axis=-1) / log_b)


def cross_entropy(p, q, base=2):
    """Cross-entropy of a model distribution q against the true distribution p:
    H(p, q) = −Σₖ pₖ · log_b qₖ (over the last axis, with 0 · log q = 0).

    H(p, q) ≥ H(p), with equality only when q = p: the extra is how much q is wrong
    (``kl_divergence``). With a one-hot p (the label) and ``base=np.e`` it is the loss
    ``cross_entropy_error(q, p)`` without its δ. inf where q gives 0 to an outcome p allows.
    """
    log_b, p, q = _two_distributions("cross_entropy", p, q, base)
    with xp.errstate(divide="ignore", invalid="ignore"):
        terms = xp.where(p > 0, p * xp.log(q), 0.0)
    return _float_or_array(0.0 - terms.sum(axis=-1) / log_b)


def kl_divergence(p, q, base=2):
    """Kullback-Leibler divergence of q from p: D(p‖q) = Σₖ pₖ · log_b(pₖ / qₖ) = H(p, q) − H(p)
    (over the last axis, with 0 · log(0/q) = 0).

    Zero only when q = p, positive otherwise: the extra cost, in bits by default, of coding
    outcomes of p with a code made for q. Not symmetric: D(p‖q) ≠ D(q‖p) in general.
    """
    log_b, p, q = _two_distributions("kl_divergence", p, q, base)
    with xp.errstate(divide="ignore", invalid="ignore"):
        terms = xp.where(p > 0, p * (xp.log(p) - xp.log(q)), 0.0)
    return _float_or_array(terms.sum(axis=-1) / log_b + 0.0)


def cross_entropy_error_backward(y, t):
    """Gradient of ``cross_entropy_error`` w.r.t. the probabilities y:
    ∂E/∂yₖ = −tₖ / (yₖ + δ) / N (N the number of samples, δ = 1e-7).

    For class-index targets only the true class gets −1 / (y_t + δ) / N. Chained with
    ``softmax_backward`` it gives the softmax's input gradient (y − t)/N up to δ, the
    result ``softmax_cross_entropy_backward`` computes directly (and exactly). Arguments
    recognisably swapped (labels first) raise ``ValueError``, as ``cross_entropy_error``'s do.
    """
    checks.argument_order("cross_entropy_error_backward", y, t)
    y, t = _class_loss_args("cross_entropy_error_backward", y, t)
    n = K.n_samples(y)
    if t.shape == y.shape:  # one-hot or probabilities (0 − t: a zero target gives 0, not −0)
        return (0 - t.astype(y.dtype, copy=False)) / (y + CROSS_ENTROPY_DELTA) / n
    dy = xp.zeros_like(y)
    p = xp.take_along_axis(y, t[..., None], axis=-1)
    xp.put_along_axis(dy, t[..., None], -1.0 / (p + CROSS_ENTROPY_DELTA) / n, axis=-1)
    return dy


# =========================================================================== text (issue 11)
# The embedding bag of the fastText-style classifier (and of averaged word vectors): the mean
# of an embedding's rows over each sample's ids, padding left out.

#: ``embedding_bag`` gathers at most this many numbers at once (batches of rows beyond it
#: are done in chunks, so that evaluating 10,000 headlines never holds N·L·D floats).
EMBEDDING_BAG_CHUNK = 1 << 22


def embedding_bag_weights(mask, dtype=xp.float32):
    """The weight of each id in its sample's mean: w[n, l] = mask[n, l] / cₙ, with
    cₙ = Σₗ mask[n, l] the number of real (non-padding) ids of sample n; a sample with none
    gets weights 0 (its mean is the zero vector, not 0/0)."""
    w = mask.astype(dtype)
    count = w.sum(axis=-1, keepdims=True)
    w /= xp.maximum(count, 1)
    return w


def embedding_bag(W, idx, weights):
    """Embedding bag: yₙ = Σₗ w[n, l] · W[idx[n, l]] for ids ``idx`` (N, L) and the
    weights of ``embedding_bag_weights`` (the mean of the non-padding rows), → (N, D).

    Gathers W[idx] (N, L, D) in chunks of rows of at most ``EMBEDDING_BAG_CHUNK`` numbers.
    """
    n, length = idx.shape
    out = xp.empty((n, W.shape[1]), dtype=W.dtype)
    step = max(1, EMBEDDING_BAG_CHUNK // max(1, length * W.shape[1]))
    for s in range(0, n, step):
        rows = W[idx[s:s + step]]                      # (n', L, D)
        xp.einsum("nl,nld->nd", weights[s:s + step], rows, out=out[s:s + step])
    return out


def embedding_bag_row_grads(dout, idx, weights):
    """The non-zero rows of ``embedding_bag``'s weight gradient, one per real id:
    ``(ids, rows)`` with rows[k] = w[n, l] · doutₙ for the k-th (n, l) whose weight is not 0
    (padding has weight 0 and gives none). dW is their sum per id (``scatter_add_rows``);
    a sparse update (word2vec's SGD) applies them to the touched rows only."""
    keep = weights != 0
    rows = weights[keep][:, None] * dout[xp.nonzero(keep)[0]]
    return idx[keep], rows


def embedding_bag_backward(dout, idx, weights, dW):
    """Chain rule through ``embedding_bag``: dW[i] = Σ over (n, l) with idx[n, l] = i of
    w[n, l] · doutₙ (an id used several times gets the sum); padding (weight 0) adds
    nothing. Writes into ``dW`` (zeroed first); the ids have no gradient."""
    dW[...] = 0
    scatter_add_rows(dW, *embedding_bag_row_grads(dout, idx, weights))
    return dW


def scatter_add_rows(W, idx, rows):
    """W[idx[k]] += rows[k] for every k, repeated ids adding up (``np.add.at``).

    Written as one ``add.at`` over the flat array with one index per number: NumPy's
    ``add.at`` has a fast path for 1-D data that the row-wise form misses (1,536 rows of 100
    float32: 0.41 ms against 1.29 ms). Used by the embedding bag's backward and by word2vec's
    sparse SGD step.
    """
    if not W.flags.c_contiguous:  # W.reshape(-1) would be a copy: add into W itself
        xp.add.at(W, idx.reshape(-1), rows.reshape(-1, W.shape[1]))
        return W
    d = W.shape[1]
    flat = (idx.reshape(-1, 1).astype(xp.intp) * d + xp.arange(d)).ravel()
    xp.add.at(W.reshape(-1), flat, rows.reshape(-1))
    return W
