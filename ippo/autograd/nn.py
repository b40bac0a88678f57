"""Neural-network building blocks on the autograd: ``Module``, ``Linear``, ``Sequential``, ``MLP``.

Here a layer is just a forward computation on tensors: no ``backward`` to write, the graph
records it. A ``Module`` finds its parameters by itself (every ``Parameter`` or sub-module
stored as an attribute, or in a list, tuple or dict of them), so ``parameters()``,
``zero_grad()``, ``train()``/``eval()`` and ``state_dict()`` work for any model you write.

The optimizers are the ones of ``ippo.optimizers`` (one implementation of each rule):
``Optimizer`` hands them the parameters' arrays and gradients. A training step::

    from ippo.autograd import nn
    from ippo.optimizers import SGD

    model = nn.MLP([784, 100, 10], seed=0)
    opt = nn.Optimizer(SGD(lr=0.1), model.parameters())
    for x, t in batches:
        loss = model.loss(x, t)     # forward, recorded
        opt.zero_grad()             # forget the previous step's gradients
        loss.backward()             # back-propagate: fills every p.grad
        opt.step()                  # optimizer.update([p.data...], [p.grad.data...])

Or hand the model to ``ippo.training.Trainer`` through ``Trainable`` (the ``ippo.models``
interface: float losses, fixed ``grads`` arrays)::

    Trainer(nn.Trainable(model), SGD(lr=0.1)).fit(x_train, t_train, epochs=10)
"""

import numpy as np

from ippo import functions as F
from ippo import state
from ippo.autograd import ops
from ippo.autograd.tensor import Tensor, is_grad_enabled, no_grad
from ippo.backend import DEFAULT_DTYPE, xp
from ippo.initializers import get_rng, init_std, normal
from ippo.tasks import ACTIVATIONS, TASKS, class_accuracy, mlp_arguments, mlp_plan

__all__ = [
    "Parameter",
    "Module",
    "Linear",
    "Sequential",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "LeakyReLU",
    "Identity",
    "Dropout",
    "BatchNormalization",
    "MLP",
    "Optimizer",
    "Trainable",
]


class Parameter(Tensor):
    """A tensor that is a learned parameter: ``requires_grad=True``, found by ``Module``."""

    __slots__ = ()

    def __init__(self, data, dtype=None, name=None):
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)


class Module:
    """Base class of every layer and model.

    Subclasses set parameters and sub-modules as attributes in ``__init__`` and implement
    ``forward``; calling the module calls ``forward``. Parameters are discovered by walking
    the attributes (in the order they were set; inside a list, tuple or dict too), so
    nothing needs registering. Attributes whose names start with ``_`` are skipped.
    """

    training = True

    def __call__(self, *args, **kwargs):
        """Call ``forward``: ``module(x)`` is ``module.forward(x)``."""
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - subclasses implement it
        """The module's output for input ``x``, recorded for back-propagation (the formula is
        in the class docstring)."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def _children(self):
        for name, value in vars(self).items():
            if name.startswith("_"):  # private helpers (e.g. a list of the layers' order)
                continue
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, (list, tuple, dict)):
                items = value.items() if isinstance(value, dict) else enumerate(value)
                for key, v in items:
                    if isinstance(v, (Parameter, Module)):
                        yield f"{name}.{key}", v

    def named_parameters(self, prefix=""):
        """``(name, Parameter)`` pairs in attribute order, depth first: ``"W"``, ``"fc1.W"``,
        ``"layers.0.b"``... A parameter shared by several modules is listed once."""
        seen, seen_modules, out = set(), {id(self)}, []
        stack = [(prefix, iter(list(self._children())))]
        while stack:  # depth first without recursion
            pre, items = stack[-1]
            item = next(items, None)
            if item is None:
                stack.pop()
                continue
            name, v = item
            full = f"{pre}.{name}" if pre else name
            if isinstance(v, Parameter):
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append((full, v))
            elif id(v) not in seen_modules:
                seen_modules.add(id(v))
                stack.append((full, iter(list(v._children()))))
        return out

    def parameters(self):
        """Every parameter of this module and its sub-modules (each once), in a stable order."""
        return [p for _, p in self.named_parameters()]

    def modules(self):
        """This module and every sub-module."""
        out, seen, stack = [], set(), [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append(m)
            stack.extend(reversed([v for _, v in m._children() if isinstance(v, Module)]))
        return out

    def named_buffers(self):
        """``(name, array)`` of the state that is not learned by gradients (a module lists
        its own in ``buffer_names``: batch normalization's running averages)."""
        out, seen = [], set()
        stack = [("", self)]
        while stack:
            pre, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            for b in getattr(m, "buffer_names", ()):
                out.append((f"{pre}.{b}" if pre else b, getattr(m, b)))
            subs = [
                (f"{pre}.{n}" if pre else n, v) for n, v in m._children() if isinstance(v, Module)
            ]
            stack.extend(reversed(subs))
        return out

    def zero_grad(self):
        """Forget the gradients of every parameter (``p.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        """Training mode (dropout active) for this module and all sub-modules."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        """Inference mode (dropout off)."""
        return self.train(False)

    def _state_arrays(self):
        arrays = {name: p.data for name, p in self.named_parameters()}
        arrays.update(self.named_buffers())
        return arrays

    def state_dict(self):
        """``{name: array}`` of every parameter and buffer (copies)."""
        return state.copy_arrays(self._state_arrays())

    def load_state_dict(self, arrays):
        """Copy ``arrays`` (as ``state_dict`` returns) into the parameters and buffers, in
        place; the names and shapes must match exactly (else nothing is copied)."""
        state.load_arrays(self._state_arrays(), arrays, f"{type(self).__name__}.load_state_dict")
        return self

    def _drawing_modules(self):
        """The modules whose random generators ``random_state`` lists, in a fixed order."""
        return self.modules()

    def random_state(self):
        """{position: state} of the random generators of the modules that draw (Dropout's
        masks): what a checkpoint saves so that a resumed run draws the same masks."""
        return state.generator_states(self._drawing_modules())

    def set_random_state(self, states):
        """Put the modules' generators back into ``random_state()``'s ``states``."""
        state.set_generator_states(self._drawing_modules(), states)

    @property
    def uses_batch_statistics(self):
        """True when training normalizes with the batch's own statistics (a batch
        normalization module): a batch of one sample cannot train it."""
        return any(isinstance(m, BatchNormalization) for m in self.modules())

    def __repr__(self):
        inner = [
            f"  ({n}): " + repr(v).replace("\n", "\n  ")
            for n, v in self._children()
            if isinstance(v, Module)
        ]
        if not inner:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(inner) + "\n)"

    def extra_repr(self):
        """The text inside the parentheses of ``repr(module)`` (sizes, rates); empty by default."""
        return ""


class Linear(Module):
    """Affine layer y = x @ W + b with W of shape (in_features, out_features).

    ``W`` is drawn from N(0, std²) with std from ``init`` ("he" √(2/n_in), "xavier" √(1/n_in)
    or a float std: ``ippo.initializers``) using ``rng`` (a ``numpy.random.Generator`` or a
    seed), unless given (``W=``, an array (in_features, out_features)); ``b`` starts at 0.
    As ``ippo.layers.Affine``, an input with more than two axes
    (images) is flattened to (N, features) and a single 1-D sample gives a 1-D output.
    """

    def __init__(
        self, in_features, out_features, bias=True, init="he", dtype=DEFAULT_DTYPE, rng=None,
        W=None,
    ):
        for arg, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Linear: {arg} must be a positive integer, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        if W is None:
            std = init_std(init, self.in_features, "relu")
            W = normal((self.in_features, self.out_features), std, get_rng(rng), dtype)
        elif np.shape(W) != (self.in_features, self.out_features):
            raise ValueError(f"Linear: W must have shape ({self.in_features}, "
                             f"{self.out_features}), got {np.shape(W)}")
        self.W = Parameter(W, dtype=dtype, name="W")
        self.b = Parameter(xp.zeros(self.out_features, dtype=W.dtype), name="b") if bias else None

    def forward(self, x):
        x = _input(x, self.W.dtype)
        n_in = self.in_features
        if x.ndim == 2 and x.shape[1] == n_in:
            return ops.linear(x, self.W, self.b)
        if x.ndim == 1 and x.shape[0] == n_in:
            return ops.reshape(ops.linear(ops.reshape(x, (1, n_in)), self.W, self.b), (-1,))
        if x.ndim > 2 and x.size // max(x.shape[0], 1) == n_in:
            return ops.linear(ops.reshape(x, (x.shape[0], n_in)), self.W, self.b)
        raise ValueError(f"Linear: expected input of shape (N, {n_in}), got {x.shape}")

    def extra_repr(self):
        return f"{self.in_features}→{self.out_features}"


def _input(x, dtype):
    """Data as a constant tensor of the model's dtype (a Tensor passes through)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(x, dtype=dtype)


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 3), ReLU(), Linear(3, 1))``."""

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, m in enumerate(layers):
            if not isinstance(m, Module):
                raise ValueError(f"Sequential: item {i} must be a Module, got {type(m).__name__}")
        self.layers = list(layers)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def __getitem__(self, i):
        """The i-th module; a slice gives a ``Sequential`` of those modules (shared, not
        copied): ``model[:2](x)`` runs the first two."""
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self):
        return len(self.layers)


class ReLU(Module):
    """ReLU(x) = max(0, x)."""

    def forward(self, x):
        return ops.relu(x)


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ)."""

    def forward(self, x):
        return ops.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return ops.tanh(x)


class LeakyReLU(Module):
    """Leaky ReLU: x if x > 0 else α·x."""

    def __init__(self, alpha=0.01):
        self.alpha = float(alpha)

    def forward(self, x):
        return ops.leaky_relu(x, self.alpha)


class Identity(Module):
    """The identity."""

    def forward(self, x):
        return ops.identity(x)


class Dropout(Module):
    """Inverted dropout with rate ``p`` while training; the identity in ``eval()`` mode.
    ``seed``: an int or ``numpy.random.Generator`` for reproducible masks."""

    def __init__(self, p=0.5, seed=None):
        p = float(p)
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p
        self.rng = get_rng(seed)

    def forward(self, x):
        return ops.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"


class Optimizer:
    """Drives an ``ippo.optimizers`` optimizer with autograd parameters.

    ``Optimizer(SGD(lr=0.1), model.parameters())`` (or the model itself): ``step()`` calls
    ``optimizer.update([p.data ...], [p.grad.data ...])``, which changes the parameter
    arrays in place (a parameter with no gradient yet gets zeros). ``zero_grad()`` clears
    the gradients. ``lr``, ``state_dict()`` and ``load_state_dict()`` are the wrapped
    optimizer's.
    """

    def __init__(self, optimizer, params):
        if not hasattr(optimizer, "update"):
            raise ValueError(
                f"Optimizer: expected an ippo.optimizers optimizer (with update(params, "
                f"grads)), got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.params = list(params.parameters() if isinstance(params, Module) else params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(
                    f"Optimizer: item {i} of params is not a tensor that requires gradients"
                )
        self._data = [p.data for p in self.params]

    def zero_grad(self):
        """Clear every parameter's gradient (``p.grad = None``) before the next backward pass."""
        for p in self.params:
            p.grad = None

    def step(self):
        """Update every parameter in place by the wrapped optimizer's rule
        (for SGD: W ← W − η·∂L/∂W)."""
        grads = [xp.zeros_like(p.data) if p.grad is None else p.grad.data for p in self.params]
        for p, d in zip(self.params, self._data, strict=True):
            if p.data is not d:
                raise ValueError(
                    "Optimizer.step: a parameter's array was replaced (p.data = ...); "
                    "change it in place or make a new Optimizer"
                )
        self.optimizer.update(self._data, grads)

    @property
    def lr(self):
        """The wrapped optimizer's learning rate η (settable, e.g. by a schedule)."""
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def state_dict(self):
        """The wrapped optimizer's state (its ``state_dict()``), for checkpoints."""
        return self.optimizer.state_dict()

    def load_state_dict(self, d):
        """Restore the wrapped optimizer's state from ``state_dict()``."""
        self.optimizer.load_state_dict(d)


class BatchNormalization(Module):
    """Batch normalization of (N, size) inputs: y = γ·(x − μ)/√(σ² + ε) + β per feature.

    Training uses the batch's statistics (``ops.batch_norm``) and updates the running
    averages (running = momentum·running + (1 − momentum)·batch), as
    ``ippo.layers.BatchNormalization`` does; ``eval()`` uses the running averages.
    """

    buffer_names = ("running_mean", "running_var")

    def __init__(self, size, momentum=0.9, eps=1e-5, dtype=DEFAULT_DTYPE):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"BatchNormalization: size must be a positive integer, got {size!r}")
        self.size, self.momentum, self.eps = int(size), float(momentum), float(eps)
        self.gamma = Parameter(xp.ones(self.size, dtype=dtype), name="gamma")
        self.beta = Parameter(xp.zeros(self.size, dtype=dtype), name="beta")
        self.running_mean = xp.zeros(self.size, dtype=self.gamma.dtype)
        self.running_var = xp.ones(self.size, dtype=self.gamma.dtype)

    def forward(self, x):
        x = _input(x, self.gamma.dtype)
        if x.ndim != 2 or x.shape[1] != self.size:
            raise ValueError(
                f"BatchNormalization: expected input of shape (N, {self.size}), got {x.shape}"
            )
        if self.training:
            y, mean, var = ops.batch_norm(x, self.gamma, self.beta, self.eps)
            F.running_average(self.running_mean, mean, self.momentum)
            F.running_average(self.running_var, var, self.momentum)
            return y
        parts = (x, self.gamma, self.beta)
        if not (is_grad_enabled() and any(p.requires_grad for p in parts)):
            parts = tuple(p.data for p in parts)  # nothing to record: plain arrays
        # functions.batch_norm_inference on tensors (recorded: an affine map of x) or arrays
        y = F.batch_norm_inference(*parts, self.running_mean, self.running_var, self.eps)
        return y if isinstance(y, Tensor) else Tensor(y)

    def extra_repr(self):
        return str(self.size)


class MLP(Module):
    """The multi-layer perceptron of ``ippo.models.MLP``, on the autograd.

    ``MLP([784, 100, 10])`` = Linear(784→100) → ReLU → Linear(100→10), with the loss that
    ``task`` picks: "multiclass" (softmax cross-entropy), "binary" (sigmoid binary
    cross-entropy, one output), "regression" (½·mean squared error, or with
    ``loss="sum_squared_error"`` the course's per-sample ½·Σⱼ(yⱼ − tⱼ)²). Per hidden layer:
    Linear, BatchNormalization if ``batchnorm``, the activation, then Dropout if
    ``dropout`` > 0. ``weight_decay`` λ adds
    ½·λ·ΣW² over the weight matrices to the loss.

    Same arguments and the same random draws as ``ippo.models.MLP``: with the same
    ``seed`` both start from the very same weights, and the parameters have the same names
    ("Affine1.W", "Affine1.b", ...), so ``load_state_dict`` takes one's state into the other.
    """

    def __init__(
        self,
        sizes,
        activation="relu",
        task="multiclass",
        init="auto",
        dropout=0.0,
        batchnorm=False,
        weight_decay=0.0,
        dtype=DEFAULT_DTYPE,
        seed=None,
        loss=None,
    ):
        sizes, dropout, weight_decay, dt, loss = mlp_arguments(
            sizes, activation, task, dropout, weight_decay, dtype, loss=loss)
        self.sizes, self.activation, self.task, self.init = sizes, activation, task, init
        self.loss_name, self._loss_op = loss.name, getattr(ops, loss.op)
        self.dropout, self.weight_decay, self.dtype = dropout, weight_decay, dt
        self.batchnorm = bool(batchnorm)
        self._order = []
        counts = {}
        for kind, arg in mlp_plan(sizes, activation, init, dropout, batchnorm, dt, seed):
            if kind == "affine":  # arg: W, drawn by the plan
                module = Linear(*arg.shape, dtype=dt, W=arg)
            elif kind == "batchnorm":  # arg: the number of features
                module = BatchNormalization(arg, dtype=dt)
            elif kind == "activation":  # arg: its name
                module = globals()[ACTIVATIONS[arg].cls]()
            else:  # arg: the seed of its masks
                module = Dropout(dropout, seed=arg)
            kind = "Affine" if kind == "affine" else type(module).__name__  # ippo.models' names
            counts[kind] = counts.get(kind, 0) + 1
            setattr(self, f"{kind}{counts[kind]}", module)
            self._order.append(module)
        self._weights = [m.W for m in self._order if isinstance(m, Linear)]
        for name, p in self.named_parameters():
            p.name = name  # "Affine1.W": what to_dot shows

    def forward(self, x):
        """Raw scores of the last layer (logits / values) as a recorded tensor."""
        x = _input(x, self.dtype)
        for m in self._order:
            x = m(x)
        return x

    def _drawing_modules(self):
        return self._order

    def loss(self, x, t):
        """The task's loss of the scores for targets ``t`` (plus the L2 weight decay), as a
        scalar tensor: call ``.backward()`` on it, ``.item()`` for the number."""
        loss = self._loss_op(self.forward(x), t)
        if self.weight_decay:
            loss = loss + ops.l2_penalty(self._weights, self.weight_decay)
        return loss

    def scores(self, x):
        """Raw outputs (an array), in inference mode, recording nothing."""
        was = self.training
        self.eval()
        try:
            with no_grad():
                return self.forward(x).data
        finally:
            self.train(was)

    def predict(self, x):
        """Class probabilities (softmax; sigmoid of shape (N, 1) for binary) or values."""
        return TASKS[self.task].output(self.scores(x))

    def predict_classes(self, x):
        """Predicted class per sample: argmax (multiclass) or score > 0 (binary)."""
        return TASKS[self.task].classes(self.scores(x))

    def accuracy(self, x, t):
        """Fraction of samples whose predicted class equals ``t`` (indices, one-hot or 0/1)."""
        return class_accuracy(self.task, self.predict_classes, x, t)

    @property
    def n_params(self):
        """Number of trainable numbers."""
        return sum(p.size for p in self.parameters())

    def __repr__(self):
        return (
            f"MLP({self.sizes}, activation={self.activation!r}, task={self.task!r}"
            + (f", loss={self.loss_name!r}"
               if self.loss_name != TASKS[self.task].loss().name else "")
            + (f", dropout={self.dropout}" if self.dropout else "")
            + (", batchnorm=True" if self.batchnorm else "")
            + (f", weight_decay={self.weight_decay}" if self.weight_decay else "")
            + f", dtype={self.dtype.name})  # {self.n_params:,} parameters"
        )


class Trainable:
    """An autograd model seen through the ``ippo.models`` interface, so that
    ``ippo.training.Trainer`` can fit it (progress bar, validation, early stopping,
    checkpoints)::

        Trainer(nn.Trainable(nn.MLP([784, 100, 10])), SGD(lr=0.1)).fit(x, t)

    ``loss(x, t)`` returns a float and keeps the recorded loss; ``backward()``
    back-propagates it and copies each gradient into ``grads``, fixed arrays that line up
    with ``params`` (the parameters' own arrays), as the ``ippo.models`` contract asks.
    Evaluation-mode losses (``eval()``) record nothing.
    """

    def __init__(self, model):
        if not isinstance(model, Module) or not hasattr(model, "loss"):
            raise ValueError(
                "Trainable: expected an ippo.autograd.nn module with a loss(x, t) method "
                f"(such as nn.MLP), got {type(model).__name__}"
            )
        self.model = model
        self._parameters = model.parameters()
        self.params = [p.data for p in self._parameters]
        self.grads = [xp.zeros_like(a) for a in self.params]
        self._loss = None

    @property
    def task(self):
        """The model's task: "multiclass", "binary" or "regression" (None if it has none)."""
        return getattr(self.model, "task", None)

    @property
    def training(self):
        """True in training mode (dropout on, batch statistics), False after ``eval()``."""
        return self.model.training

    @property
    def uses_batch_statistics(self):
        """Whether the model trains on the batch's own statistics (batch normalization)."""
        return self.model.uses_batch_statistics

    def random_state(self):
        """The model's ``random_state()``: its dropout generators' states, for checkpoints."""
        return self.model.random_state()

    def set_random_state(self, states):
        """The model's ``set_random_state(states)``."""
        self.model.set_random_state(states)

    def train(self):
        """Switch the model to training mode; returns self."""
        self.model.train()
        return self

    def eval(self):
        """Switch the model to evaluation mode (dropout off, running statistics); returns self."""
        self.model.eval()
        return self

    def loss(self, x, t):
        """The model's loss L(x, t) as a float; in training mode the recorded graph is kept
        for ``backward()``."""
        if self.model.training:
            self._loss = self.model.loss(x, t)
            return self._loss.item()
        with no_grad():
            return self.model.loss(x, t).item()

    def backward(self):
        """Back-propagate the last training loss and copy ∂L/∂θ into ``grads`` (in the order
        of ``params``); a parameter the loss does not reach gets zeros."""
        if self._loss is None:
            raise RuntimeError("Trainable.backward: call loss(x, t) in training mode first")
        for p in self._parameters:
            p.grad = None
        self._loss.backward()
        self._loss = None
        for p, g in zip(self._parameters, self.grads, strict=True):
            if p.grad is None:
                g[...] = 0
            else:
                xp.copyto(g, p.grad.data)

    def scores(self, x):
        """The model's raw outputs (logits for a classifier) for ``x``, as an array, in
        inference mode."""
        return self.model.scores(x)

    def predict(self, x):
        """The model's predictions for ``x``: probabilities (softmax / σ) or values."""
        return self.model.predict(x)

    def predict_classes(self, x):
        """The predicted class of each sample of ``x``: argmax (multiclass) or score > 0
        (binary)."""
        return self.model.predict_classes(x)

    def accuracy(self, x, t):
        """The fraction of samples of ``x`` whose predicted class equals ``t``."""
        return self.model.accuracy(x, t)

    def state_dict(self):
        """The model's parameters and buffers by name (``model.state_dict()``)."""
        return self.model.state_dict()

    def load_state_dict(self, state):
        """Load ``state_dict()`` output into the model; returns self."""
        self.model.load_state_dict(state)
        return self
