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

from ippo import checks
from ippo import functions as F
from ippo import kernels as K
from ippo.backend import DEFAULT_DTYPE, as_float, as_float_array, xp
from ippo.initializers import get_rng
from ippo.tasks import TASKS


class Layer:
    """Base class: empty ``params`` / ``grads``, the mode flags, a ``config()``."""

    #: Names of ``params`` in order, used for state_dict keys ("Affine1.W").
    param_names = ()
    #: Indices into ``params`` of the weights that L2 weight decay applies to (not biases).
    decay_params = ()
    #: Names of non-trainable arrays saved with the model (BatchNorm's running averages).
    buffer_names = ()
    #: True for a layer that trains on the batch's own statistics (batch normalization), so
    #: that a batch of one sample cannot train it.
    uses_batch_statistics = False
    #: True for a layer whose input is integer ids (Embedding, EmbeddingBag): they stay
    #: integers (the trainer does not turn them into the model's float dtype).
    takes_ids = False

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

    def _dout(self, dout, expected):
        """``dout`` once checked to have the ``expected`` shape (None: no forward yet)."""
        if expected is None or dout.shape != expected:
            raise self._bad_dout(dout, expected)
        return dout

    def _batch(self, x, n_features, dtype):
        """``x`` as a batch (N, ``n_features``) of ``dtype``, the shape the formula takes: one
        1-D sample becomes (1, n) and images (N, C, H, W) are flattened, as in the course;
        ``self._x_shape`` keeps the shape to give back (None for a batch). Any other shape
        is a ValueError naming the layer."""
        if not isinstance(x, xp.ndarray) or x.dtype != dtype:
            x = as_float_array(x, dtype=dtype, name=self._where())
        self._x_shape = None
        if x.ndim == 2 and x.shape[1] == n_features:
            return x
        if x.ndim == 1 and x.shape[0] == n_features:
            self._x_shape = x.shape
            return x.reshape(1, -1)
        if x.ndim > 2 and x.size // max(x.shape[0], 1) == n_features:
            self._x_shape = x.shape
            return x.reshape(x.shape[0], -1)
        raise ValueError(
            f"{self._where()}: expected input of shape (N, {n_features}), got {tuple(x.shape)}"
        )

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


def _new_param(a, dtype, name, where, ndim=None, shape=None, hint=""):
    """A layer's own float copy of the array ``a`` (updating it never changes the caller's
    array), checked to have ``ndim`` axes or the ``shape`` given (``hint`` says why)."""
    arr = as_float_array(a, dtype=dtype, name=f"{where}: {name}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{where}: {name} must be {ndim}-D{hint}, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{where}: {name} must have shape {shape}{hint}, got {arr.shape}")
    return xp.array(arr, dtype=dtype if dtype is not None else arr.dtype, copy=True)


def _scalar_bias(b, w_shape):
    """The course's single unit takes its bias as a number: ``b`` as shape (1,) for W of shape
    (in, 1); a number for several units is refused (which unit's bias would it be?)."""
    if xp.ndim(b) != 0:
        return b
    if w_shape[1] != 1:
        raise ValueError(f"Affine: a scalar bias b fits one output unit (W of shape (in, 1)), "
                         f"but W has shape {w_shape}; give b of shape ({w_shape[1]},) "
                         f"(np.full({w_shape[1]}, b) for the same bias on every unit)")
    return xp.reshape(b, (1,))


def _hyper(value, where, valid, expected):
    """A hyper-parameter as a float, checked: ``valid(v)`` must hold (``expected`` says how
    in the error, e.g. "in [0, 1)")."""
    v = as_float(value, where)
    if not valid(v):
        raise ValueError(f"{where} must be {expected}, got {value}")
    return v


# --------------------------------------------------------------------------- linear layers


class Affine(Layer):
    """Fully connected layer: y = x·W + b, for a batch x of shape (N, in) → (N, out).

    backward: dx = dout·Wᵀ, dW = xᵀ·dout, db = Σₙ dout (the bias is broadcast over the batch,
    so its gradient sums over it). An input with more than two axes, e.g. images
    (N, C, H, W), is flattened to (N, C·H·W) as in the course; a single 1-D sample gives a 1-D
    output. For one output unit (W of shape (in, 1)) the bias may be a number, as in the
    course's single unit ``Affine([[0.1], [0.2]], 0.5)``; it is kept as ``b`` of shape (1,).
    """

    param_names = ("W", "b")
    decay_params = (0,)

    def __init__(self, W, b=None, dtype=None):
        super().__init__()
        W = _new_param(W, dtype, "W", "Affine", ndim=2, hint=" (in, out)")
        b = xp.zeros(W.shape[1], dtype=W.dtype) if b is None else _scalar_bias(b, W.shape)
        b = _new_param(b, W.dtype, "b", "Affine", shape=W.shape[1:], hint=f" to match W {W.shape}")
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

    def forward(self, x):
        W, b = self.params
        self.x = x = self._batch(x, W.shape[0], W.dtype)  # (N, in)
        y = xp.dot(x, W)  # y = x·W + b
        y += b
        return y[0] if self._x_shape is not None and len(self._x_shape) == 1 else y

    def backward(self, dout):
        W, x = self.params[0], self.x
        dout = self._dout(dout.reshape(1, -1) if dout.ndim == 1 else dout,
                          None if x is None else (x.shape[0], W.shape[1]))
        F.matmul_weight_grad(x, dout, self.grads[0])  # dW = xᵀ·dout
        xp.add.reduce(dout, axis=0, out=self.grads[1])  # db = Σₙ dout (no Python wrapper)
        if not self.need_input_grad:
            return None
        dx = xp.dot(dout, W.T)  # dx = dout·Wᵀ
        return dx if self._x_shape is None else dx.reshape(self._x_shape)


class _MatrixLayer(Layer):
    """Base of the layers whose one parameter is a matrix W (MatMul, Embedding): the
    constructor's checks, ``W``, ``config()`` and ``from_config``."""

    param_names = ("W",)
    decay_params = (0,)
    #: The names of W's two axes, the keys of ``config()``.
    axes = ("in_size", "out_size")

    def __init__(self, W, dtype=None):
        super().__init__()
        W = _new_param(W, dtype, "W", type(self).__name__, ndim=2,
                       hint=f" ({', '.join(self.axes)})")
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
        self.x = x = self._batch(x, W.shape[0], W.dtype)
        if self._x_shape is not None:  # a matrix product takes a batch (N, in) only
            raise ValueError(f"{self._where()}: expected input of shape (N, {W.shape[0]}), "
                             f"got {self._x_shape}")
        return xp.dot(x, W)  # y = x·W

    def backward(self, dout):
        W, x = self.params[0], self.x
        dout = self._dout(dout, None if x is None else (x.shape[0], W.shape[1]))
        F.matmul_weight_grad(x, dout, self.grads[0])  # dW = xᵀ·dout
        if not self.need_input_grad:
            return None
        return xp.dot(dout, W.T)  # dx = dout·Wᵀ


class Embedding(_MatrixLayer):
    """Row lookup: y = W[idx] for integer word ids ``idx`` of any shape → idx.shape + (D,),
    W of shape (vocab, D).

    backward: dW[i] = Σ of the dout rows whose id is i (repeated ids add up); the ids have no
    gradient, so backward returns None.
    """

    axes = ("vocab_size", "dim")
    takes_ids = True

    def __init__(self, W, dtype=None):
        super().__init__(W, dtype)
        self.idx = None

    def __repr__(self):
        return f"Embedding({self.params[0].shape[0]}×{self.params[0].shape[1]})"

    def forward(self, idx):
        W = self.params[0]
        self.idx = idx = checks.ids(self._where, idx, W.shape[0])
        return W[idx]  # y = W[idx]

    def backward(self, dout):
        idx = self.idx
        dout = self._dout(dout, None if idx is None else idx.shape + self.params[0].shape[1:])
        F.embedding_backward(dout, idx, self.grads[0])  # dW[i] = Σ dout rows with id i
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
        self.ratio = _hyper(ratio, "Dropout: ratio", lambda r: 0.0 <= r < 1.0, "in [0, 1)")
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
    uses_batch_statistics = True

    def __init__(self, gamma, beta=None, momentum=0.9, eps=1e-5, running_mean=None,
                 running_var=None, dtype=None):
        super().__init__()
        where = "BatchNormalization"
        gamma = _new_param(gamma, dtype, "gamma", where, ndim=1)
        d = gamma.shape
        beta = _new_param(xp.zeros(d, gamma.dtype) if beta is None else beta, gamma.dtype,
                          "beta", where, shape=d)
        self.params = [gamma, beta]
        self.grads = [xp.zeros_like(gamma), xp.zeros_like(beta)]
        self.momentum = _hyper(momentum, f"{where}: momentum", lambda m: 0.0 <= m <= 1.0,
                               "in [0, 1]")
        self.eps = _hyper(eps, f"{where}: eps", lambda e: e > 0.0, "> 0")
        self.running_mean = xp.zeros(d, gamma.dtype) if running_mean is None else \
            _new_param(running_mean, gamma.dtype, "running_mean", where, shape=d)
        self.running_var = xp.ones(d, gamma.dtype) if running_var is None else \
            _new_param(running_var, gamma.dtype, "running_var", where, shape=d)
        if (self.running_var < 0).any():
            raise ValueError(f"{where}: running_var must be >= 0 (a variance)")
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
        x = self._batch(x, self.size, gamma.dtype)  # (N, features)
        if self.training:
            if x.shape[0] == 1:
                self._warn_one_sample()
            y, xhat, inv_std, mean, var = F.batch_norm_forward(x, gamma, beta, self.eps)
            self._cache = (True, xhat, inv_std)
            F.running_average(self.running_mean, mean, self.momentum)
            F.running_average(self.running_var, var, self.momentum)
        else:
            y = F.batch_norm_inference(x, gamma, beta, self.running_mean, self.running_var,
                                       self.eps)
            self._cache = (False, x, None)  # backward (if any) uses the running statistics
        return y.reshape(self._x_shape) if self._x_shape is not None else y

    def _warn_one_sample(self):
        warnings.warn(
            f"{self._where()}: a training batch of one sample has no variance: the output is "
            f"beta, no gradient reaches the layers below and the running variance is pulled "
            f"toward 0; use batches of 2 or more samples (or eval() for inference)",
            RuntimeWarning, stacklevel=3)

    def backward(self, dout):
        """Training mode: through the batch statistics (``F.batch_norm_backward``); inference
        mode: with the running averages as constants (``F.batch_norm_inference_backward``)."""
        if self._cache is None:
            raise self._bad_dout(dout, None)
        training, x2d, inv_std = self._cache  # x2d: x̂ in training mode, x at inference
        dout = self._dout(dout, x2d.shape if self._x_shape is None else self._x_shape)
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
        """The prediction for raw ``scores``: what the model outputs in place of the loss,
        the ``task``'s output function (``ippo.tasks.TASKS``): softmax or sigmoid
        probabilities for classification, the values themselves for regression."""
        if self.task not in TASKS:
            raise NotImplementedError(f"{type(self).__name__} does not define output")
        return TASKS[self.task].output(scores)

    def _targets_like(self, x, t):
        """Element-wise targets in x's dtype and shape (a (N,) target is accepted for x of
        shape (N, 1)); only the shape is checked."""
        t = checks.targets_like(self._where, x.shape, xp.asarray(t), "x")
        return t if t.dtype == x.dtype else as_float_array(t, dtype=x.dtype,
                                                           name=f"{self._where()}: t")


class SoftmaxWithLoss(LossLayer):
    """Softmax then cross-entropy, fused: loss = −Σₖ tₖ log softmax(x)ₖ averaged over the batch.

    ``t`` is one-hot (same shape as x) or class indices (shape x.shape[:-1]); index targets
    never build a one-hot array. backward: dx = (y − t) / N with y = softmax(x). Only the
    targets' shape is checked here, once per step (``ippo.functions.softmax_cross_entropy``
    and ``Trainer.fit`` check the values).
    """

    task = "multiclass"

    def __init__(self):
        super().__init__()
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t = self._class_targets(x, t)
        try:
            loss, self.y = K.softmax_cross_entropy(x, t)  # y = softmax(x)
        except IndexError as exc:  # a class index ≥ C (the trainer checks labels once)
            raise ValueError(f"{self._where()}: class index out of range for "
                             f"{x.shape[-1]} classes ({exc})") from None
        return loss

    def backward(self, dout=1):
        if self.y is None:
            raise self._bad_dout(dout, None)
        dx = K.softmax_cross_entropy_backward(self.y, self.t)  # dx = (y − t) / N
        if dout != 1:
            dx *= dout
        return dx

    def _class_targets(self, x, t):
        """Class indices (integers; a whole float such as 2.0 is class 2) or one-hot rows in
        x's dtype, told apart by their shape."""
        t = xp.asarray(t)
        if not checks.is_class_index(self._where, x.shape, t, "x"):
            return t if t.dtype == x.dtype else t.astype(x.dtype)
        if t.dtype.kind in "iu":
            return t
        if t.dtype.kind not in "fb":
            raise ValueError(f"{self._where()}: class indices must be integers, got dtype "
                             f"{t.dtype}")
        return checks.class_indices(self._where, t, x.shape, "x")


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

    def forward(self, x, t):
        self.t = t = self._targets_like(x, t)
        self.y = F.sigmoid(x)
        return K.sigmoid_binary_cross_entropy(x, t)

    def backward(self, dout=1):
        if self.y is None:
            raise self._bad_dout(dout, None)
        dx = K.sigmoid_binary_cross_entropy_backward(self.y, self.t)  # dx = (σ(x) − t) / size
        if dout != 1:
            dx *= dout
        return dx


class MeanSquaredLoss(LossLayer):
    """Mean squared error for regression, identity output: loss = ½·mean((x − t)²) over all
    elements; backward dx = (x − t) / size. ``t`` of shape (N,) is accepted for x (N, 1).
    """

    task = "regression"
    #: the loss and its gradient w.r.t. the scores (``SumSquaredLoss`` swaps in ½Σ's)
    formula = staticmethod(K.mean_squared_error)
    gradient = staticmethod(K.mean_squared_error_backward)

    def __init__(self):
        super().__init__()
        self.x = None
        self.t = None

    def forward(self, x, t):
        self.x, self.t = x, self._targets_like(x, t)
        return self.formula(x, self.t)

    def backward(self, dout=1):
        if self.x is None:
            raise self._bad_dout(dout, None)
        dx = self.gradient(self.x, self.t)  # (x − t) / size, or / N for SumSquaredLoss
        if dout != 1:
            dx *= dout
        return dx


class SumSquaredLoss(MeanSquaredLoss):
    """The per-sample squared error for regression, identity output: each sample's
    E = ½·Σⱼ(xⱼ − tⱼ)² summed over the outputs j, averaged over the batch; backward
    dx = (x − t) / N (N samples).

    This is the course's E = ½Σ(y − d)². With C outputs it is C times ``MeanSquaredLoss``
    (½·mean over every element), and so is its gradient: training with it at learning rate
    η takes exactly the steps ``MeanSquaredLoss`` takes at C·η.
    """

    formula = staticmethod(K.sum_squared_error)
    gradient = staticmethod(K.sum_squared_error_backward)


#: Every layer class by name, for rebuilding a model from its saved description.
LAYERS = {
    cls.__name__: cls
    for cls in (Affine, MatMul, Embedding, ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Dropout,
                BatchNormalization, SoftmaxWithLoss, SigmoidWithLoss, MeanSquaredLoss,
                SumSquaredLoss)
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
    "SigmoidWithLoss", "MeanSquaredLoss", "SumSquaredLoss", "LAYERS", "layer_from_config",
    "describe",
]


# =========================================================================== text (issue 11)


class EmbeddingBag(_MatrixLayer):
    """The mean of embedding rows over each sample's ids, padding left out (fastText's
    sentence vector): for ids ``idx`` of shape (N, L), W of shape (vocab, D),

        yₙ = (1/cₙ) Σ_{l: idx[n, l] ≠ pad} W[idx[n, l]],   cₙ = number of non-pad ids in row n

    → (N, D); a row of padding only gives the zero vector. backward: dW[i] = Σ over the
    places (n, l) where id i occurs of doutₙ / cₙ (``functions.embedding_bag_backward``);
    the ids have no gradient, so backward returns None. ``padding_idx`` (default 0, the
    ``<pad>`` of ``ippo.text.Vocabulary``) marks the padding; None counts every id.
    """

    axes = ("vocab_size", "dim")
    takes_ids = True

    def __init__(self, W, padding_idx=0, dtype=None):
        super().__init__(W, dtype)
        vocab = self.params[0].shape[0]
        if padding_idx is not None and (isinstance(padding_idx, bool) or not isinstance(
                padding_idx, (int, xp.integer)) or not 0 <= padding_idx < vocab):
            raise ValueError(f"EmbeddingBag: padding_idx must be None or an id in "
                             f"0..{vocab - 1}, got {padding_idx!r}")
        self.padding_idx = None if padding_idx is None else int(padding_idx)
        self.idx = None
        self.weights = None

    def __repr__(self):
        return f"EmbeddingBag({self.params[0].shape[0]}×{self.params[0].shape[1]}, mean)"

    def config(self):
        return {**super().config(), "padding_idx": self.padding_idx}

    @classmethod
    def from_config(cls, config, dtype=DEFAULT_DTYPE):
        return cls(xp.zeros((config["vocab_size"], config["dim"]), dtype=dtype),
                   padding_idx=config.get("padding_idx", 0), dtype=dtype)

    def forward(self, idx):
        W = self.params[0]
        idx = checks.ids(self._where, idx, W.shape[0])
        if idx.ndim != 2:
            raise ValueError(f"{self._where()}: expected ids of shape (N, L), one padded row "
                             f"of word ids per sample, got shape {tuple(idx.shape)}")
        mask = (idx != self.padding_idx) if self.padding_idx is not None else \
            xp.ones(idx.shape, dtype=bool)
        self.idx = idx
        self.weights = F.embedding_bag_weights(mask, dtype=W.dtype)  # w = mask / count
        return F.embedding_bag(W, idx, self.weights)                 # y = Σ w·W[idx]

    def _expected(self):
        return None if self.idx is None else (self.idx.shape[0], self.params[0].shape[1])

    def backward(self, dout):
        dout = self._dout(dout, self._expected())
        F.embedding_bag_backward(dout, self.idx, self.weights, self.grads[0])
        return None

    def row_grads(self, dout):
        """The gradient as ``(ids, rows)``, the non-zero rows only (dW is their sum per id):
        for a sparse update that touches only the rows this batch used (word2vec's SGD),
        instead of ``backward``'s dense dW of the whole vocabulary."""
        dout = self._dout(dout, self._expected())
        return F.embedding_bag_row_grads(dout, self.idx, self.weights)


LAYERS["EmbeddingBag"] = EmbeddingBag
__all__.append("EmbeddingBag")
