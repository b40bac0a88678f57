"""Layers with hand-written back-propagation: each has a ``forward`` and a ``backward``.

The contract (see docs/design.md):

- ``layer.params`` and ``layer.grads`` are lists of arrays in the same order and shapes;
  ``backward`` writes the gradients **into** ``grads`` in place, so an optimizer or a model
  holding those lists always sees the current values.
- ``forward(x) -> y`` keeps what ``backward(dout) -> dx`` needs.
- ``layer.training`` (True by default) switches Dropout and BatchNormalization between
  training and inference; a model's ``train()`` / ``eval()`` set it on every layer.
- ``layer.need_input_grad = False`` lets ``backward`` skip dx (it returns None): a model sets
  it on its first layers, whose input gradient nobody needs (it saves a whole matrix product).
- ``layer.inplace = True`` lets ``backward`` write dx into ``dout``'s memory (a model sets it:
  there every dout is a fresh array nobody else holds). False by default, so calling a layer
  by hand never changes your arrays.
- Loss layers: ``forward(x, t) -> float`` and ``backward(dout=1) -> dx``.
- ``layer.config()`` is a JSON-able dict of the constructor's non-array arguments;
  ``Layer.from_config(config, dtype)`` builds a layer of the same shape (arrays zero or
  default) ready for ``load_state_dict``.

Every formula comes from ``ippo.functions``; the layers only keep the intermediate values.
"""

import warnings

from ippo import functions as F
from ippo.backend import DEFAULT_DTYPE, as_float, as_float_array, xp
from ippo.initializers import get_rng


class Layer:
    """Base class: empty ``params`` / ``grads``, the mode flags, a ``config()``."""

    #: Names of ``params`` in order, used for state_dict keys ("Affine1.W").
    param_names = ()
    #: Indices into ``params`` of the weights that L2 weight decay applies to (not biases).
    decay_params = ()
    #: Names of non-trainable arrays saved with the model (BatchNorm's running averages).
    buffer_names = ()

    def __init__(self):
        self.params = []
        self.grads = []
        self.training = True
        self.need_input_grad = True
        self.inplace = False
        #: 1-based position in a model, set by the model; used in error messages.
        self.position = None

    def _where(self):
        return f"{self!r}" + (f" layer {self.position}" if self.position is not None else "")

    def _bad_dout(self, dout, expected):
        """The ``ValueError`` of a ``backward(dout)`` that does not fit the last ``forward``:
        none yet (``expected`` is None), or ``dout`` not of the ``expected`` shape."""
        if expected is None:
            return ValueError(f"{self._where()}: backward called before forward (backward "
                              f"back-propagates the last forward pass)")
        return ValueError(f"{self._where()}: dout must have the shape of the last output "
                          f"{tuple(expected)}, got {tuple(xp.shape(dout))}")

    def _kept(self, dout, kept):
        """``kept``, the array the last forward stored (of the output's shape), once checked
        that there was a forward and that ``dout`` has that shape."""
        if kept is None or dout.shape != kept.shape:
            raise self._bad_dout(dout, None if kept is None else kept.shape)
        return kept

    def __repr__(self):
        return f"{type(self).__name__}()"

    def config(self):
        """The constructor's non-array arguments, as a JSON-able dict."""
        return {}

    @classmethod
    def from_config(cls, config, dtype=DEFAULT_DTYPE):
        """A layer of this class and shape, with placeholder arrays, from ``config()``."""
        return cls(**config)

    @property
    def buffers(self):
        """Non-trainable arrays that belong to the layer's state, {name: array}."""
        return {name: getattr(self, name) for name in self.buffer_names}

    def forward(self, x):
        """The layer's output for the batch ``x`` (the first axis is the batch).

        The contract every layer keeps: ``forward`` stores what ``backward`` needs (the
        input, a mask, ...) on the layer, so a ``backward`` belongs to the last ``forward``.
        In training mode (``self.training``) layers such as Dropout and BatchNormalization
        behave as in training; in eval mode they are deterministic.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, dout):
        """Back-propagate ``dout`` = ∂L/∂y (the shape of the last output): return ∂L/∂x.

        Parameter gradients are written into ``self.grads`` (same order and shapes as
        ``self.params``), overwriting them, never accumulating. When the model does not need
        the input gradient (``self.need_input_grad`` is False, the first layer) a layer may
        skip computing it and return None.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def __call__(self, *args):
        return self.forward(*args)


def _new_param(a, dtype, name, where):
    arr = as_float_array(a, dtype=dtype, name=f"{where}: {name}")
    # a layer owns its parameters: a copy, so that updating it never changes the caller's array
    return xp.array(arr, dtype=dtype if dtype is not None else arr.dtype, copy=True)


# --------------------------------------------------------------------------- linear layers


class Affine(Layer):
    """Fully connected layer: y = x·W + b, for a batch x of shape (N, in) → (N, out).

    backward: dx = dout·Wᵀ, dW = xᵀ·dout, db = Σₙ dout (the bias is broadcast over the batch,
    so its gradient sums over it). An input with more than two axes, e.g. images
    (N, C, H, W), is flattened to (N, C·H·W) as in the course; a single 1-D sample gives a 1-D
    output.
    """

    param_names = ("W", "b")
    decay_params = (0,)

    def __init__(self, W, b=None, dtype=None):
        super().__init__()
        W = _new_param(W, dtype, "W", "Affine")
        if W.ndim != 2:
            raise ValueError(f"Affine: W must be 2-D (in, out), got shape {W.shape}")
        if b is None:
            b = xp.zeros(W.shape[1], dtype=W.dtype)
        b = _new_param(b, W.dtype, "b", "Affine")
        if b.shape != (W.shape[1],):
            raise ValueError(
                f"Affine: b must have shape ({W.shape[1]},) to match W {W.shape}, got {b.shape}"
            )
        self.params = [W, b]
        self.grads = [xp.zeros_like(W), xp.zeros_like(b)]
        self.x = None
        self._x_shape = None

    @property
    def W(self):
        """The weight matrix (in, out): ``params[0]``, the array itself (not a copy)."""
        return self.params[0]

    @property
    def b(self):
        """The bias vector (out,): ``params[1]``, the array itself (not a copy)."""
        return self.params[1]

    @property
    def in_size(self):
        """The number of input features, W's first dimension."""
        return self.params[0].shape[0]

    @property
    def out_size(self):
        """The number of outputs, W's second dimension."""
        return self.params[0].shape[1]

    def __repr__(self):
        return f"Affine({self.in_size}→{self.out_size})"

    def config(self):
        return {"in_size": self.in_size, "out_size": self.out_size}

    @classmethod
    def from_config(cls, config, dtype=DEFAULT_DTYPE):
        w = xp.zeros((config["in_size"], config["out_size"]), dtype=dtype)
        return cls(w, dtype=dtype)

    def _bad_input(self, x):
        return ValueError(
            f"{self._where()}: expected input of shape (N, {self.in_size}), got {tuple(x.shape)}"
        )

    def forward(self, x):
        W, b = self.params
        if not isinstance(x, xp.ndarray) or x.dtype != W.dtype:
            x = as_float_array(x, dtype=W.dtype, name=self._where())
        self._x_shape = None
        if x.ndim != 2:
            if x.ndim == 1:
                if x.shape[0] != W.shape[0]:
                    raise self._bad_input(x)
                self._x_shape = x.shape
                x = x.reshape(1, -1)
            elif x.ndim > 2 and x.size // max(x.shape[0], 1) == W.shape[0]:
                self._x_shape = x.shape
                x = x.reshape(x.shape[0], -1)
            else:
                raise self._bad_input(x)
        elif x.shape[1] != W.shape[0]:
            raise self._bad_input(x)
        self.x = x
        y = xp.dot(x, W)
        y += b
        return y[0] if self._x_shape is not None and len(self._x_shape) == 1 else y

    def backward(self, dout):
        W, x = self.params[0], self.x
        if dout.ndim == 1:
            dout = dout.reshape(1, -1)
        if x is None or dout.shape != (x.shape[0], W.shape[1]):
            raise self._bad_dout(dout, None if x is None else (x.shape[0], W.shape[1]))
        F.matmul_weight_grad(self.x, dout, self.grads[0])
        xp.add.reduce(dout, axis=0, out=self.grads[1])  # db = Σₙ dout (no Python wrapper)
        if not self.need_input_grad:
            return None
        dx = xp.dot(dout, W.T)
        return dx.reshape(self._x_shape) if self._x_shape is not None else dx


class _MatrixLayer(Layer):
    """Base of the layers whose one parameter is a matrix W (MatMul, Embedding): the
    constructor's checks, ``W``, ``config()`` and ``from_config``."""

    param_names = ("W",)
    decay_params = (0,)
    #: The names of W's two axes, the keys of ``config()``.
    axes = ("in_size", "out_size")

    def __init__(self, W, dtype=None):
        super().__init__()
        name = type(self).__name__
        W = _new_param(W, dtype, "W", name)
        if W.ndim != 2:
            raise ValueError(f"{name}: W must be 2-D ({', '.join(self.axes)}), got shape "
                             f"{W.shape}")
        self.params = [W]
        self.grads = [xp.zeros_like(W)]

    @property
    def W(self):
        """The matrix: ``params[0]``, the array itself (not a copy)."""
        return self.params[0]

    def config(self):
        return dict(zip(self.axes, self.params[0].shape, strict=True))

    @classmethod
    def from_config(cls, config, dtype=DEFAULT_DTYPE):
        return cls(xp.zeros(tuple(config[a] for a in cls.axes), dtype=dtype), dtype=dtype)


class MatMul(_MatrixLayer):
    """Matrix product without bias: y = x·W (W of shape (in, out)); backward dx = dout·Wᵀ,
    dW = xᵀ·dout."""

    def __init__(self, W, dtype=None):
        super().__init__(W, dtype)
        self.x = None

    def __repr__(self):
        return f"MatMul({self.params[0].shape[0]}→{self.params[0].shape[1]})"

    def forward(self, x):
        W = self.params[0]
        if not isinstance(x, xp.ndarray) or x.dtype != W.dtype:
            x = as_float_array(x, dtype=W.dtype, name=self._where())
        if x.ndim != 2 or x.shape[1] != W.shape[0]:
            raise ValueError(
                f"{self._where()}: expected input of shape (N, {W.shape[0]}), "
                f"got {tuple(x.shape)}"
            )
        self.x = x
        return xp.dot(x, W)

    def backward(self, dout):
        W, x = self.params[0], self.x
        if x is None or dout.shape != (x.shape[0], W.shape[1]):
            raise self._bad_dout(dout, None if x is None else (x.shape[0], W.shape[1]))
        F.matmul_weight_grad(x, dout, self.grads[0])
        if not self.need_input_grad:
            return None
        return xp.dot(dout, self.params[0].T)


class Embedding(_MatrixLayer):
    """Row lookup: y = W[idx] for integer word ids ``idx`` of any shape → idx.shape + (D,),
    W of shape (vocab, D).

    backward: dW[i] = Σ of the dout rows whose id is i (repeated ids add up); the ids have no
    gradient, so backward returns None.
    """

    axes = ("vocab_size", "dim")

    def __init__(self, W, dtype=None):
        super().__init__(W, dtype)
        self.idx = None

    def __repr__(self):
        return f"Embedding({self.params[0].shape[0]}×{self.params[0].shape[1]})"

    def forward(self, idx):
        idx = xp.asarray(idx)
        vocab = self.params[0].shape[0]
        if idx.dtype.kind not in "iu":
            raise ValueError(f"{self._where()}: ids must be integers, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= vocab):
            raise ValueError(
                f"{self._where()}: ids must lie in 0..{vocab - 1}, got values from "
                f"{int(idx.min())} to {int(idx.max())}"
            )
        self.idx = idx
        return self.params[0][idx]

    def backward(self, dout):
        idx = self.idx
        if idx is None or dout.shape != idx.shape + self.params[0].shape[1:]:
            raise self._bad_dout(dout, None if idx is None
                                 else idx.shape + self.params[0].shape[1:])
        F.embedding_backward(dout, idx, self.grads[0])
        return None


# --------------------------------------------------------------------------- activations


class ReLU(Layer):
    """ReLU: y = max(0, x); backward passes dout where x > 0 and blocks it elsewhere."""

    def __init__(self):
        super().__init__()
        self.y = None

    def forward(self, x):
        self.y = F.relu(x)
        return self.y

    def backward(self, dout):
        return F.relu_backward(dout, self._kept(dout, self.y),
                               out=dout if self.inplace else None)


class LeakyReLU(Layer):
    """Leaky ReLU: y = x if x > 0 else α·x; backward dx = dout or α·dout."""

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = as_float(alpha, "LeakyReLU: alpha")
        self.x = None

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"

    def config(self):
        return {"alpha": self.alpha}

    def forward(self, x):
        self.x = x
        return F.leaky_relu(x, self.alpha)

    def backward(self, dout):
        return F.leaky_relu_backward(dout, self._kept(dout, self.x), self.alpha)


class Sigmoid(Layer):
    """Sigmoid: y = 1 / (1 + exp(−x)); backward dx = dout · y · (1 − y), from the output y."""

    def __init__(self):
        super().__init__()
        self.y = None

    def forward(self, x):
        self.y = F.sigmoid(x)
        return self.y

    def backward(self, dout):
        return F.sigmoid_backward(dout, self._kept(dout, self.y))


class Tanh(Layer):
    """tanh: y = tanh(x); backward dx = dout · (1 − y²), from the output y."""

    def __init__(self):
        super().__init__()
        self.y = None

    def forward(self, x):
        self.y = F.tanh(x)
        return self.y

    def backward(self, dout):
        return F.tanh_backward(dout, self._kept(dout, self.y))


class Identity(Layer):
    """Identity: y = x, dx = dout (the output activation of a regression network)."""

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


# --------------------------------------------------------------------------- regularisation


class Dropout(Layer):
    """Inverted dropout: in training each unit is dropped with probability ``ratio`` and the
    kept ones are scaled by 1/(1 − ratio); at inference it is the identity.

    ``seed`` (int or Generator) makes the masks reproducible. Setting ``fix_mask = True``
    reuses the last mask while the input shape stays the same (gradient checking needs the
    same mask at every evaluation).
    """

    def __init__(self, ratio=0.5, seed=None):
        super().__init__()
        ratio = as_float(ratio, "Dropout: ratio")
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"Dropout: ratio must be in [0, 1), got {ratio}")
        self.ratio = ratio
        # an integer seed is kept for config() (a Generator is not JSON-able)
        self.seed = (int(seed) if isinstance(seed, (int, xp.integer)) and not isinstance(seed, bool)
                     else None)
        self.rng = get_rng(seed)
        self.mask = None
        self.fix_mask = False

    def __repr__(self):
        return f"Dropout({self.ratio})"

    def config(self):
        return {"ratio": self.ratio, "seed": self.seed}

    def forward(self, x):
        if not self.training or self.ratio == 0.0:
            self.mask = None
            return x
        if not isinstance(x, xp.ndarray) or x.dtype.kind != "f":
            x = as_float_array(x, name=self._where())  # integer pixels: the mask scales them
        if not (self.fix_mask and self.mask is not None and self.mask.shape == x.shape):
            self.mask = F.dropout_mask(x.shape, self.ratio, self.rng, dtype=x.dtype)
        return F.dropout(x, self.mask)

    def backward(self, dout):
        if self.mask is None:  # inference (or ratio 0): the identity
            return dout
        return F.dropout_backward(dout, self._kept(dout, self.mask),
                                  out=dout if self.inplace else None)


class BatchNormalization(Layer):
    """Batch normalization: x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β, per feature.

    Training uses the batch's mean and variance and updates the running averages
    (running = momentum·running + (1 − momentum)·batch); inference uses the running averages.
    Inputs with more than two axes are flattened to (N, features) as in the course.
    """

    param_names = ("gamma", "beta")
    buffer_names = ("running_mean", "running_var")

    def __init__(self, gamma, beta=None, momentum=0.9, eps=1e-5, running_mean=None,
                 running_var=None, dtype=None):
        super().__init__()
        gamma = _new_param(gamma, dtype, "gamma", "BatchNormalization")
        if gamma.ndim != 1:
            raise ValueError(f"BatchNormalization: gamma must be 1-D, got shape {gamma.shape}")
        d = gamma.shape[0]
        beta = xp.zeros(d, gamma.dtype) if beta is None else beta
        beta = _new_param(beta, gamma.dtype, "beta", "BatchNormalization")
        if beta.shape != (d,):
            raise ValueError(f"BatchNormalization: beta must have shape ({d},), got {beta.shape}")
        self.params = [gamma, beta]
        self.grads = [xp.zeros_like(gamma), xp.zeros_like(beta)]
        self.momentum = as_float(momentum, "BatchNormalization: momentum")
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum}")
        self.eps = as_float(eps, "BatchNormalization: eps")
        if not self.eps > 0.0:
            raise ValueError(f"BatchNormalization: eps must be > 0, got {eps}")
        self.running_mean = xp.zeros(d, gamma.dtype)
        self.running_var = xp.ones(d, gamma.dtype)
        for name, given in (("running_mean", running_mean), ("running_var", running_var)):
            if given is not None:
                arr = _new_param(given, gamma.dtype, name, "BatchNormalization")
                if arr.shape != (d,):
                    raise ValueError(f"BatchNormalization: {name} must have shape ({d},), "
                                     f"got {arr.shape}")
                getattr(self, name)[...] = arr
        if (self.running_var < 0).any():
            raise ValueError("BatchNormalization: running_var must be >= 0 (a variance)")
        self._cache = None
        self._x_shape = None

    @property
    def size(self):
        """The number of features normalized (the length of gamma and beta)."""
        return self.params[0].shape[0]

    def __repr__(self):
        return f"BatchNormalization({self.size})"

    def config(self):
        return {"size": self.size, "momentum": self.momentum, "eps": self.eps}

    @classmethod
    def from_config(cls, config, dtype=DEFAULT_DTYPE):
        return cls(xp.ones(config["size"], dtype=dtype), momentum=config.get("momentum", 0.9),
                   eps=config.get("eps", 1e-5), dtype=dtype)

    def forward(self, x):
        gamma, beta = self.params
        if not isinstance(x, xp.ndarray) or x.dtype != gamma.dtype:
            x = as_float_array(x, dtype=gamma.dtype, name=self._where())
        self._x_shape = None
        if x.ndim != 2:
            if x.ndim == 0:
                raise ValueError(f"{self._where()}: expected input of shape (N, {self.size}), "
                                 f"got {tuple(x.shape)}")
            self._x_shape = x.shape  # one 1-D sample, or images (N, C, H, W)
            x = x.reshape(1, -1) if x.ndim == 1 else x.reshape(x.shape[0], -1)
        if x.shape[1] != self.size:
            raise ValueError(f"{self._where()}: expected input of shape (N, {self.size}), "
                             f"got {tuple(x.shape if self._x_shape is None else self._x_shape)}")
        if self.training:
            if x.shape[0] == 1:
                warnings.warn(
                    f"{self._where()}: a training batch of one sample has no variance: the "
                    f"output is beta, no gradient reaches the layers below and the running "
                    f"variance is pulled toward 0; use batches of 2 or more samples (or "
                    f"eval() for inference)", RuntimeWarning, stacklevel=2)
            y, xhat, inv_std, mean, var = F.batch_norm_forward(x, gamma, beta, self.eps)
            self._cache = (True, xhat, inv_std)
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1.0 - m) * mean
            self.running_var *= m
            self.running_var += (1.0 - m) * var
        else:
            y = F.batch_norm_inference(x, gamma, beta, self.running_mean, self.running_var,
                                       self.eps)
            self._cache = (False, x, None)  # backward (if any) uses the running statistics
        return y.reshape(self._x_shape) if self._x_shape is not None else y

    def backward(self, dout):
        """Training mode: through the batch statistics (``F.batch_norm_backward``); inference
        mode: with the running averages as constants (``F.batch_norm_inference_backward``)."""
        if self._cache is None:
            raise self._bad_dout(dout, None)
        training, x2d, inv_std = self._cache  # x2d: x̂ in training mode, x at inference
        expected = x2d.shape if self._x_shape is None else self._x_shape
        if dout.shape != expected:
            raise self._bad_dout(dout, expected)
        if self._x_shape is not None:
            dout = dout.reshape(x2d.shape)
        if training:
            dx, _, _ = F.batch_norm_backward(dout, x2d, inv_std, self.params[0],
                                             dgamma=self.grads[0], dbeta=self.grads[1])
        else:
            dx, _, _ = F.batch_norm_inference_backward(
                dout, x2d, self.params[0], self.running_mean, self.running_var, self.eps,
                dgamma=self.grads[0], dbeta=self.grads[1])
        if not self.need_input_grad:
            return None
        return dx.reshape(self._x_shape) if self._x_shape is not None else dx


# --------------------------------------------------------------------------- loss layers


class LossLayer(Layer):
    """Base of the loss layers: ``forward(x, t) -> float``, ``backward(dout=1) -> dx``.

    ``output(scores)`` turns the raw scores into the prediction (probabilities or values),
    and ``task`` names the problem the loss belongs to.
    """

    task = None

    def forward(self, x, t):
        """The loss (a Python float, averaged over the batch) of the scores ``x`` against
        the targets ``t``; stores what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, dout=1):
        """∂loss/∂x for the last ``forward``, scaled by ``dout`` (1 for the loss itself)."""
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def output(self, scores):
        """The prediction for raw ``scores``: what the model outputs in place of the loss
        (probabilities for classification, the values themselves for regression)."""
        raise NotImplementedError(f"{type(self).__name__} does not define output")

    def _bad_targets(self, x, t, expected):
        return ValueError(
            f"{self._where()}: scores have shape {tuple(x.shape)} but targets t have shape "
            f"{tuple(t.shape)}; expected {expected}"
        )


class SoftmaxWithLoss(LossLayer):
    """Softmax then cross-entropy, fused: loss = −Σₖ tₖ log softmax(x)ₖ averaged over the batch.

    ``t`` is one-hot (same shape as x) or class indices (shape x.shape[:-1]); index targets
    never build a one-hot array. backward: dx = (y − t) / N with y = softmax(x). Only shapes are
    checked here, once per step (``ippo.functions.softmax_cross_entropy`` validates values).
    """

    task = "multiclass"

    def __init__(self):
        super().__init__()
        self.y = None
        self.t = None
        self._is_index = True

    def output(self, scores):
        """Class probabilities: softmax(scores) along the last axis."""
        return F.softmax(scores)

    def forward(self, x, t):
        t = xp.asarray(t)
        if t.shape == x.shape:
            is_index = False
            if t.dtype != x.dtype:
                t = t.astype(x.dtype)
        elif t.shape == x.shape[:-1]:
            is_index = True
            if t.dtype.kind not in "iu":
                if t.dtype.kind != "f" and t.dtype.kind != "b":
                    raise ValueError(f"{self._where()}: class indices must be integers, "
                                     f"got dtype {t.dtype}")
                # 1.0 is class 1; 0.5 is none (the check of ippo.functions' losses)
                t = F._class_indices(self._where(), t, x.shape, "scores")
        else:
            raise self._bad_targets(
                x, t, f"one-hot {tuple(x.shape)} or class indices {tuple(x.shape[:-1])}")
        try:
            loss, self.y = F.softmax_cross_entropy_kernel(x, t, is_index)
        except IndexError as exc:
            raise ValueError(f"{self._where()}: class index out of range for "
                             f"{x.shape[-1]} classes ({exc})") from None
        self.t = t
        self._is_index = is_index
        return loss

    def backward(self, dout=1):
        if self.y is None:
            raise self._bad_dout(dout, None)
        dx = F.softmax_cross_entropy_backward_kernel(self.y, self.t, self._is_index)
        if dout != 1:
            dx *= dout
        return dx


class SigmoidWithLoss(LossLayer):
    """Sigmoid then binary cross-entropy, fused: for one logit per sample and t in {0, 1},
    loss = −mean(t·log σ(x) + (1 − t)·log(1 − σ(x))); backward dx = (σ(x) − t) / size.

    ``t`` may have shape (N,) or (N, 1) for scores (N, 1).
    """

    task = "binary"

    def __init__(self):
        super().__init__()
        self.y = None
        self.t = None

    def output(self, scores):
        """The probability of the positive class: σ(scores)."""
        return F.sigmoid(scores)

    def forward(self, x, t):
        t = xp.asarray(t)
        if t.shape != x.shape:
            if x.ndim >= 1 and x.shape[-1] == 1 and t.shape == x.shape[:-1]:
                t = t.reshape(x.shape)
            else:
                raise self._bad_targets(x, t, f"{tuple(x.shape)} or {tuple(x.shape[:-1])}")
        if t.dtype != x.dtype:
            t = t.astype(x.dtype)
        self.t = t
        self.y = F.sigmoid(x)
        return F.sigmoid_binary_cross_entropy_kernel(x, t)

    def backward(self, dout=1):
        if self.y is None:
            raise self._bad_dout(dout, None)
        dx = F.sigmoid_binary_cross_entropy_backward(self.y, self.t)
        if dout != 1:
            dx *= dout
        return dx


class MeanSquaredLoss(LossLayer):
    """Mean squared error for regression, identity output: loss = ½·mean((x − t)²) over all
    elements; backward dx = (x − t) / size. ``t`` of shape (N,) is accepted for x (N, 1).
    """

    task = "regression"

    def __init__(self):
        super().__init__()
        self.x = None
        self.t = None

    def output(self, scores):
        """The predicted values: the scores themselves (identity output)."""
        return scores

    def forward(self, x, t):
        t = xp.asarray(t)
        if t.shape != x.shape:
            if x.ndim >= 1 and x.shape[-1] == 1 and t.shape == x.shape[:-1]:
                t = t.reshape(x.shape)
            else:
                raise self._bad_targets(x, t, f"{tuple(x.shape)}")
        if t.dtype != x.dtype:
            t = as_float_array(t, dtype=x.dtype, name=f"{self._where()}: t")
        self.x, self.t = x, t
        return F.mean_squared_error(x, t)

    def backward(self, dout=1):
        if self.x is None:
            raise self._bad_dout(dout, None)
        dx = F.mean_squared_error_backward(self.x, self.t)
        if dout != 1:
            dx *= dout
        return dx


#: Every layer class by name, for rebuilding a model from its saved description.
LAYERS = {
    cls.__name__: cls
    for cls in (Affine, MatMul, Embedding, ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Dropout,
                BatchNormalization, SoftmaxWithLoss, SigmoidWithLoss, MeanSquaredLoss)
}

#: Activation layers by the names ``ippo.models.MLP`` accepts.
ACTIVATIONS = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}


def layer_from_config(config, dtype=DEFAULT_DTYPE):
    """Build a layer from ``{"type": name, **layer.config()}``."""
    config = dict(config)
    name = config.pop("type", None)
    if name not in LAYERS:
        raise ValueError(f"unknown layer type {name!r} (known: {', '.join(LAYERS)})")
    return LAYERS[name].from_config(config, dtype)


def describe(layer):
    """``{"type": name, **layer.config()}``: the JSON description of a layer."""
    return {"type": type(layer).__name__, **layer.config()}


__all__ = [
    "Layer", "Affine", "MatMul", "Embedding", "ReLU", "LeakyReLU", "Sigmoid", "Tanh",
    "Identity", "Dropout", "BatchNormalization", "LossLayer", "SoftmaxWithLoss",
    "SigmoidWithLoss", "MeanSquaredLoss", "LAYERS", "ACTIVATIONS", "layer_from_config",
    "describe",
]
