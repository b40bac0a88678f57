"""Neural-network building blocks on the autograd: ``Module``, ``Linear``, ``Sequential``, ``MLP``.

Here a layer is just a forward computation on tensors: no ``backward`` to write, the graph
records it. A ``Module`` finds its parameters by itself (every ``Parameter`` or sub-module
stored as an attribute, or in a list of them), so ``parameters()``, ``zero_grad()``,
``train()``/``eval()`` and ``state_dict()`` work for any model you write.

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
"""

import numpy as np

from ippo.autograd import ops
from ippo.autograd.tensor import Tensor, no_grad
from ippo.backend import DEFAULT_DTYPE, xp

__all__ = [
    "Parameter",
    "Module",
    "Linear",
    "Sequential",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "Dropout",
    "MLP",
    "Optimizer",
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
    the attributes (in the order they were set), so nothing needs registering.
    """

    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - subclasses implement it
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def _children(self):
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, (Parameter, Module)):
                        yield f"{name}.{i}", v

    def named_parameters(self, prefix=""):
        """``(name, Parameter)`` pairs: ``"W"``, ``"fc1.W"``, ``"layers.0.b"``..."""
        seen = set()
        stack = [(prefix, self)]
        out = []
        while stack:
            pre, m = stack.pop()
            items = []
            for name, v in m._children():
                full = f"{pre}.{name}" if pre else name
                if isinstance(v, Parameter):
                    if id(v) not in seen:
                        seen.add(id(v))
                        out.append((full, v))
                else:
                    items.append((full, v))
            # depth-first in attribute order, without recursion
            for item in reversed(items):
                stack.append(item)
        return out

    def parameters(self):
        """Every parameter of this module and its sub-modules (each once), in a stable order."""
        return [p for _, p in self.named_parameters()]

    def modules(self):
        """This module and every sub-module."""
        out, stack = [], [self]
        while stack:
            m = stack.pop()
            out.append(m)
            stack.extend(reversed([v for _, v in m._children() if isinstance(v, Module)]))
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

    def state_dict(self):
        """``{name: array}`` of every parameter (copies)."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy arrays from ``state`` (as ``state_dict`` returns) into the parameters, in
        place; the names and shapes must match exactly."""
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        for name, p in params.items():
            arr = np.asarray(state[name])
            if arr.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: {name} has shape {arr.shape}, "
                    f"expected {p.shape}"
                )
            xp.copyto(p.data, arr, casting="same_kind")

    def __repr__(self):
        inner = [f"  ({n}): " + repr(v).replace("\n", "\n  ")
                 for n, v in self._children() if isinstance(v, Module)]
        if not inner:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(inner) + "\n)"

    def extra_repr(self):
        return ""


class Linear(Module):
    """Affine layer y = x @ W + b with W of shape (in_features, out_features).

    ``W`` is drawn with ``init`` ("he", "xavier", or a number: the standard deviation)
    from ``rng`` (a ``numpy.random.Generator`` or a seed); ``b`` starts at 0.
    """

    def __init__(self, in_features, out_features, bias=True, init="he", dtype=DEFAULT_DTYPE,
                 rng=None):
        for arg, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Linear: {arg} must be a positive integer, got {v!r}")
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.W = Parameter(_init_weight(init, in_features, out_features, rng, dtype), dtype)
        self.b = Parameter(np.zeros(out_features, dtype=dtype), dtype) if bias else None

    def forward(self, x):
        x = _input(x, self.W.dtype)
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input has {x.shape[-1]} features (shape {x.shape}), expected "
                f"{self.in_features}"
            )
        return ops.linear(x, self.W, self.b)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}"


def _init_weight(init, n_in, n_out, rng, dtype):
    if isinstance(init, str):
        scale = {"he": np.sqrt(2.0 / n_in), "xavier": np.sqrt(1.0 / n_in)}.get(init.lower())
        if scale is None:
            raise ValueError(f"Linear: unknown init {init!r} (expected 'he', 'xavier' or a "
                             "number)")
    else:
        scale = float(init)
    return (rng.standard_normal((n_in, n_out)) * scale).astype(dtype)


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
                raise ValueError(
                    f"Sequential: item {i} must be a Module, got {type(m).__name__}"
                )
        self.layers = list(layers)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def __getitem__(self, i):
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


class Dropout(Module):
    """Inverted dropout with rate ``p`` while training; the identity in ``eval()`` mode."""

    def __init__(self, p=0.5, rng=None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    def forward(self, x):
        return ops.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"


class Optimizer:
    """Drives an ``ippo.optimizers`` optimizer with autograd parameters.

    ``Optimizer(SGD(lr=0.1), model.parameters())``: ``step()`` calls
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
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"Optimizer: item {i} of params is not a tensor that "
                                 "requires gradients")
        self._data = [p.data for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
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
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, d):
        self.optimizer.load_state_dict(d)


# MLP is defined below once ippo.models.MLP's conventions are known.
