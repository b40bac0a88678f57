"""The ``Tensor``: an array that remembers how it was computed, and the backward pass.

Define-by-run: every operation on tensors that require gradients runs at once on NumPy
arrays *and* records a ``Function`` node (what was computed, from which inputs). The
recorded graph is a DAG from the inputs to the result; ``result.backward()`` walks it in
reverse topological order and applies the chain rule, node by node:

    ∂L/∂xᵢ = Σ over the uses of xᵢ of  (∂L/∂y) · (∂y/∂xᵢ)

A tensor used several times (a *branch* node) receives the sum of the gradients of its
uses. The walk is iterative, so a chain of any depth works without hitting Python's
recursion limit.

Fast path and graph path
------------------------
Normally the backward pass runs on plain arrays (``gy``, ``y`` and the inputs are
``ndarray``): nothing is recorded, no wrapper objects are made. With
``backward(create_graph=True)`` each ``Function.backward`` receives tensors instead and the
backward pass is itself recorded, so the gradients can be differentiated again (higher-order
derivatives, Newton's method). Most backward formulas are written once, with operators that
work on both arrays and tensors (``gy * y * (1 - y)`` for the sigmoid is
``ippo.functions.sigmoid_backward`` either way).
"""

import contextlib

import numpy as np

from ippo.backend import DEFAULT_DTYPE, xp

__all__ = [
    "Tensor",
    "Function",
    "as_tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
]


class _GradMode:
    enabled = True


def is_grad_enabled():
    """True when operations record the graph (the default); False inside ``no_grad()``."""
    return _GradMode.enabled


@contextlib.contextmanager
def no_grad():
    """Context manager: operations inside run on arrays but record nothing.

    For inference and evaluation (no memory kept for a backward pass)::

        with no_grad():
            scores = model(x)

    It also decorates a function: ``@no_grad()`` above ``def predict(x): ...``.
    """
    previous = _GradMode.enabled
    _GradMode.enabled = False
    try:
        yield
    finally:
        _GradMode.enabled = previous


@contextlib.contextmanager
def enable_grad():
    """Context manager: turn recording back on (inside a ``no_grad()`` block)."""
    previous = _GradMode.enabled
    _GradMode.enabled = True
    try:
        yield
    finally:
        _GradMode.enabled = previous


def _to_array(data, dtype):
    """``data`` as a float array: float arrays keep their precision unless ``dtype`` is given;
    Python numbers, lists and integer arrays become ``dtype`` (default float32)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    arr = xp.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"Tensor: data must be numeric, got dtype {arr.dtype}")
    out = arr.astype(DEFAULT_DTYPE if dtype is None else dtype)
    if arr.dtype.kind in "iu" and out.dtype.kind == "f" and arr.size:
        exact = 2 ** (np.finfo(out.dtype).nmant + 1)  # 16,777,216 for float32
        if max(abs(int(arr.min())), abs(int(arr.max()))) > exact:
            raise ValueError(f"Tensor: integers beyond ±{exact:,} are not exact in "
                             f"{out.dtype} (tensors hold floats); pass dtype=np.float64, or "
                             f"keep ids and labels as NumPy integer arrays")
    return out


class Tensor:
    """An array with an optional gradient and a record of the operation that made it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``: ``data`` is converted to a
    floating-point array, float32 by default (``dtype=np.float64`` for gradient checks); a
    float NumPy array keeps its own precision and is used without a copy.

    Attributes
    ----------
    data : ndarray
        The values.
    grad : Tensor or None
        ∂(what ``backward`` was called on)/∂self, same shape as ``data``; filled by
        ``backward()`` for tensors with ``requires_grad`` that are leaves (made by the user,
        not by an operation) or that called ``retain_grad()``. Gradients *accumulate* over
        several ``backward`` calls: call ``zero_grad()`` between steps. Read the array with
        ``x.grad.data``.
    requires_grad : bool
        Whether gradients flow to this tensor. An operation's result requires gradients
        when any of its inputs does (and recording is on: see ``no_grad``).
    creator : Function or None
        The operation that produced this tensor (None for a leaf).

    In-place changes: the graph keeps the arrays an operation used, not copies. Change
    ``x.data`` in place (``x.data[...] = 0``, an optimizer step) only after ``backward()``,
    or the backward pass computes with the new values. ``x += 1`` on a Tensor is not in
    place: it records ``x + 1`` and rebinds the name, as define-by-run should.
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "name", "_retain")

    # ndarray op Tensor defers to Tensor's reflected operators (so np_array * t is recorded).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise ValueError("Tensor: only floating-point tensors can require gradients")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.name = name
        self._retain = False

    # -- array-like properties ---------------------------------------------------------
    @property
    def shape(self):
        """The shape of ``data``."""
        return self.data.shape

    @property
    def dtype(self):
        """The dtype of ``data`` (float32 unless asked otherwise)."""
        return self.data.dtype

    @property
    def ndim(self):
        """The number of axes of ``data``."""
        return self.data.ndim

    @property
    def size(self):
        """The number of elements of ``data`` (NumPy's ``.size``). It is also callable as
        PyTorch's ``size()``: ``x.size()`` is the shape, ``x.size(0)`` (or ``dim=0``) one
        axis's length."""
        return _Size(self.data.size, self.data.shape)

    def numel(self):
        """The number of elements (PyTorch's name for ``.size``)."""
        return self.data.size

    def dim(self):
        """The number of axes (PyTorch's name for ``.ndim``)."""
        return self.data.ndim

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor (a scalar): it has no first axis")
        return len(self.data)

    def __iter__(self):
        """The tensor's rows (its slices along the first axis), each a recorded tensor; a
        0-d tensor has none: iterating it is an error, as in NumPy and PyTorch."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor (a scalar): it has no first axis")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self):
        """The truth of a one-element tensor (``if t:`` is ``if t.item():``); an error for
        several elements, as NumPy gives (a 0-d tensor used to raise from ``len()``)."""
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.data.shape} is ambiguous: use "
                "(t > 0).any() or (t > 0).all()"
            )
        return bool(self.data)

    # Comparisons give a boolean NumPy array: a mask, not differentiable, nothing recorded
    # (x[x > 0] and x[x == 3] pick with it), as in NumPy and PyTorch. A tensor's hash is its
    # identity (as in PyTorch), so tensors stay usable as dict keys and set members: lookups
    # compare identity first. ``x is y`` asks whether two names hold the same tensor.
    __hash__ = object.__hash__

    def __eq__(self, other):
        return self.data == _data(other)

    def __ne__(self, other):
        return self.data != _data(other)

    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(tensor)`` gives the values (the same array unless a dtype is asked)."""
        return self.data if dtype is None else self.data.astype(dtype)

    def numpy(self):
        """The values as a NumPy array (the same array, not a copy)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor has a single value; this one "
                             f"has shape {self.data.shape}")
        return self.data.item()

    def tolist(self):
        """The values as (nested) Python lists of floats."""
        return self.data.tolist()

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Positions of the maxima along ``axis`` (an integer array: not differentiable,
        nothing recorded), e.g. the predicted classes ``logits.argmax(axis=-1)``; all
        elements flattened when no axis is given. PyTorch's ``dim=`` / ``keepdim=`` work
        too."""
        axis, keepdims = torch_axis("argmax", axis, dim, keepdims, keepdim, single=True)
        return self.data.argmax(axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Positions of the minima along ``axis`` (an integer array, nothing recorded)."""
        axis, keepdims = torch_axis("argmin", axis, dim, keepdims, keepdim, single=True)
        return self.data.argmin(axis=axis, keepdims=keepdims)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a one-element tensor's value (as PyTorch does)."""
        if not spec:
            return str(self)
        return format(self.item(), spec)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of a leaf tensor in place (PyTorch's spelling); returns it."""
        if self.creator is not None:
            raise RuntimeError("requires_grad_: only a leaf tensor (made by you, not by an "
                               "operation) can change it; use x.detach() for a new leaf")
        if requires_grad and self.data.dtype.kind != "f":
            raise ValueError("Tensor: only floating-point tensors can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    def __getattr__(self, name):
        # only reached for a name Tensor does not have: say what to use instead when it is a
        # PyTorch habit (x.float(), x.unsqueeze(0), ...)
        hint = None if name.startswith("__") else TORCH_HINTS.get(name)
        if hint is None and name.endswith("_") and not name.startswith("_"):
            hint = ("no in-place operations on tensors: write the operation out (x = x * 2 "
                    "records it), or change x.data outside a recorded graph")
        if hint is None:
            raise AttributeError(f"'Tensor' object has no attribute {name!r}")
        raise AttributeError(f"'Tensor' object has no attribute {name!r} (PyTorch has it): "
                             f"{hint}")

    def __repr__(self):
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20)
        extra = ""
        if self.creator is not None:
            extra = f", creator={type(self.creator).__name__}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}, dtype={self.data.dtype}{extra})"

    @property
    def is_leaf(self):
        """True for a tensor made by the user (not the result of a recorded operation)."""
        return self.creator is None

    def detach(self):
        """A new leaf tensor sharing the same data, cut off from the graph."""
        return Tensor(self.data, requires_grad=False)

    def retain_grad(self):
        """Keep this intermediate tensor's gradient in ``.grad`` after ``backward`` (leaves
        always keep theirs). Useful to inspect the textbook's intermediate derivatives.
        Like a leaf's, the kept gradient accumulates over ``backward`` calls."""
        if not self.requires_grad:
            raise RuntimeError(
                "retain_grad: this tensor does not require gradients, so it never gets one "
                "(make an input requires_grad=True, outside no_grad())"
            )
        self._retain = True
        return self

    def zero_grad(self):
        """Forget the accumulated gradient (``grad = None``)."""
        self.grad = None

    # -- the backward pass ---------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False, *, gradient=None):
        """Back-propagate from this tensor: fill ``.grad`` of every leaf that requires it.

        Parameters
        ----------
        grad : array-like or Tensor, optional
            ∂L/∂self. Defaults to 1 for a one-element tensor (a loss); required otherwise.
        retain_graph : bool, optional
            Keep the recorded graph so that ``backward`` can be called through it again.
            By default the graph is released (its nodes drop their inputs, freeing the
            intermediate arrays); a second ``backward`` through it then raises an error.
            Defaults to ``create_graph``.
        create_graph : bool
            Record the backward pass itself, so that the gradients (``x.grad``, then
            tensors with a creator) can be differentiated again: higher-order derivatives.
        gradient : array-like or Tensor, optional
            PyTorch's name for ``grad``.
        """
        if gradient is not None:
            if grad is not None:
                raise TypeError("backward: give grad or gradient (PyTorch's name), not both")
            grad = gradient
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require gradients (none of its inputs has "
                "requires_grad=True, or it was computed inside no_grad())"
            )
        if retain_graph is None:
            retain_graph = create_graph
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward: a gradient must be given for a non-scalar tensor of shape "
                    f"{self.data.shape} (only a one-element tensor, such as a loss, is "
                    "seeded with 1)"
                )
            seed = xp.ones_like(self.data)
        else:
            seed = _to_array(grad, self.data.dtype)
            if seed.shape != self.data.shape:
                raise ValueError(
                    f"backward: grad has shape {seed.shape} but the tensor has shape "
                    f"{self.data.shape}"
                )
            if seed is _data(grad):  # the caller's own array: a .grad must not alias it
                seed = seed.copy()
        if create_graph:
            with enable_grad():
                _run_backward(self, Tensor(seed), True, retain_graph)
        else:
            _run_backward(self, seed, False, retain_graph)


class _Size(int):
    """``Tensor.size``: the number of elements, as NumPy's ``.size``; called, PyTorch's
    ``size()``: the shape, or ``size(d)`` the length of axis ``d``."""

    def __new__(cls, n, shape):
        self = super().__new__(cls, n)
        self.shape = shape
        return self

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        if not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size: dim {dim} is out of range for a tensor with "
                             f"{len(self.shape)} axes")
        return self.shape[dim]


def torch_axis(op, axis, dim, keepdims, keepdim, single=False):
    """``(axis, keepdims)`` of a reduction called with NumPy's names (``axis=``,
    ``keepdims=``) or PyTorch's (``dim=``, ``keepdim=``): the same meaning, so both are
    accepted; giving both spellings of one argument is an error. ``single``: one axis only
    (argmax)."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis= (NumPy's name) or dim= (PyTorch's), not both")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{op}: give keepdims= (NumPy's name) or keepdim= (PyTorch's), "
                            f"not both")
        keepdims = keepdim
    if single and axis is not None and not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{op}: axis must be one integer, got {axis!r}")
    return axis, bool(keepdims)


#: PyTorch names a Tensor does not have, with what to use instead (``Tensor.__getattr__``).
TORCH_HINTS = {
    "float": "tensors are float32 already; Tensor(x, dtype=np.float64) for float64",
    "double": "make it float64 when you create it: Tensor(x, dtype=np.float64)",
    "half": "ippo computes in float32 or float64 only",
    "long": "tensors hold floats; class indices stay NumPy integer arrays (x.argmax(axis=1))",
    "int": "tensors hold floats; x.data.astype(int) gives a NumPy integer array",
    "bool": "comparisons (x > 0, x == 3) already give boolean NumPy masks",
    "unsqueeze": "x.reshape(...) with a 1 where the new axis goes, e.g. "
                 "x.reshape(1, *x.shape) for unsqueeze(0)",
    "squeeze": "x.reshape(...) without the axes of length 1",
    "flatten": "x.reshape(len(x), -1) (one row per sample) or x.reshape(-1)",
    "expand": "ippo.autograd.broadcast_to(x, shape)",
    "repeat": "ippo.autograd.concatenate([x, x, ...], axis=...)",
    "clone": "operations never change a tensor in place; x.detach() or "
             "Tensor(x.data.copy()) for a separate copy",
    "contiguous": "not needed: the data is a NumPy array",
    "std": "not provided (NumPy's std divides by N, PyTorch's by N − 1): write "
           "((x - x.mean()) ** 2).mean().sqrt() for the population value",
    "var": "not provided (NumPy divides by N, PyTorch by N − 1): write "
           "((x - x.mean()) ** 2).mean() for the population value",
    "zero_": "no in-place operations on tensors; x.zero_grad() forgets a gradient",
    "copy_": "change x.data in place (x.data[...] = values), outside a recorded graph",
    "fill_": "change x.data in place (x.data[...] = value), outside a recorded graph",
    "grad_fn": "x.creator is the operation that made x (None for a leaf)",
    "add": "x + y", "sub": "x - y", "mul": "x * y", "div": "x / y",
    "eq": "x == y (a boolean mask)", "ne": "x != y (a boolean mask)",
    "gt": "x > y (a boolean mask)", "ge": "x >= y (a boolean mask)",
    "lt": "x < y (a boolean mask)", "le": "x <= y (a boolean mask)",
    "norm": "(x ** 2).sum().sqrt() for the L2 norm",
    "pow": "x ** 2",
    "matmul": "x @ y",
    "mm": "x @ y",
    "t": "x.T (2-D), or x.swapaxes(0, 1)",
    "type": "x.dtype gives the dtype",
    "clamp": "not provided; ippo.autograd.relu(x) is max(0, x)",
    "cumsum": "not provided",
    "sort": "np.sort(x.data) (not differentiable)",
    "topk": "np.argsort(x.data, axis=...) (not differentiable)",
}


def _data(x):
    """The array of a tensor, anything else as it is."""
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x, dtype=None):
    """``x`` itself if it is a Tensor, else a new constant (no-gradient) Tensor of ``dtype``."""
    if isinstance(x, Tensor):
        return x
    return Tensor(x, dtype=dtype)


def _const(value, like):
    """A constant tensor holding ``value`` in the dtype of tensor ``like`` (so that a
    Python or NumPy float64 scalar never promotes a float32 graph)."""
    return _wrap(xp.asarray(value, dtype=like.data.dtype))


class Function:
    """One recorded operation: its inputs and how to differentiate it.

    Subclasses implement ``backward(gy, y, xs)``: given ∂L/∂y (``gy``), the output ``y``
    and the inputs ``xs``, return one gradient per input, of that input's shape (None for
    an input that needs none; ``self.needs[i]`` says which do; a one-input op may return
    the gradient alone). On the fast path these are arrays, with
    ``create_graph=True`` they are tensors; formulas written with arithmetic operators work
    for both. Anything else the backward pass needs (a mask, the softmax output, targets)
    the forward pass saves as attributes.
    """

    __slots__ = ("inputs", "needs")

    def __call__(self, *inputs):
        """Run ``forward`` on the inputs' arrays and record this node (for your own ops)::

            class Square(Function):
                def forward(self, x):
                    return x ** 2

                def backward(self, gy, y, xs):
                    return (2 * xs[0] * gy,)

            y = Square()(x)

        Use a new instance for every call: the instance is the graph node.
        """
        if hasattr(self, "needs"):
            raise RuntimeError(
                f"{self.name}: this instance is already a node of a graph; make a new one for "
                f"every call ({self.name}()(x), not f = {self.name}(); f(x); f(y))"
            )
        ts = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
        data = xp.asarray(self.forward(*[t.data for t in ts]))
        return _record(self, data, ts)

    def forward(self, *xs):  # pragma: no cover - user-defined ops override it
        """y = f(x₁, …): the output array computed from the input arrays ``xs`` (used by
        ``__call__``; the built-in ops compute their outputs in their wrapper functions)."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def backward(self, gy, y, xs):  # pragma: no cover - every op overrides it
        """The chain rule step: ∂L/∂xᵢ = ∂L/∂y · ∂y/∂xᵢ for each input, given ``gy`` = ∂L/∂y,
        the output ``y`` and the inputs ``xs``; one gradient (or None) per input. Each op's
        class docstring gives its formula."""
        raise NotImplementedError

    @property
    def name(self):
        """The op's name in graphs and error messages: its class name."""
        return type(self).__name__


def _record(fn, data, inputs):
    """Wrap ``data`` (the forward result of ``fn`` on ``inputs``) in a tensor and record
    ``fn`` as its creator when recording is on and some input requires gradients."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.name = None
    out._retain = False
    if _GradMode.enabled:
        needs = tuple([x.requires_grad for x in inputs])
        if True in needs:
            fn.inputs = inputs
            fn.needs = needs
            out.requires_grad = True
            out.creator = fn
            return out
    out.requires_grad = False
    out.creator = None
    return out


_RELEASED = (
    "backward: this part of the graph was already released by an earlier backward(); "
    "call the first backward with retain_graph=True to back-propagate through it twice"
)


def _topological_order(root):
    """Non-leaf tensors reachable from ``root``, each after every tensor that uses it.

    Iterative depth-first search (post-order, reversed): no recursion, so a 10 000-node
    chain is fine.
    """
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        inputs = t.creator.inputs
        if inputs is None:
            raise RuntimeError(_RELEASED)
        for x in inputs:
            if x.creator is not None and id(x) not in visited:
                stack.append((x, False))
    order.reverse()
    return order


def _accumulate_leaf(x, gx, g, graph):
    if graph:
        x.grad = gx if x.grad is None else x.grad + gx
        return
    if x.grad is None:
        # gx may be the very array another tensor also receives (an addition passes its
        # gradient through unchanged) or a read-only broadcast view: own a copy then.
        if gx is g or gx.base is not None:
            gx = gx.copy()
        x.grad = _wrap(gx)
    else:
        x.grad = _wrap(x.grad.data + gx)


def _wrap(arr):
    """A constant leaf tensor holding ``arr`` itself (no conversion, no copy)."""
    t = Tensor.__new__(Tensor)
    t.data = arr
    t.grad = None
    t.requires_grad = False
    t.creator = None
    t.name = None
    t._retain = False
    return t


def _run_backward(root, seed, graph, retain_graph):
    order = _topological_order(root) if root.creator is not None else []
    if not order:  # the root is a leaf itself
        _accumulate_leaf(root, seed, None, graph)
        return
    grads = {id(root): seed}
    for t in order:
        g = grads.pop(id(t), None)
        if g is None:  # no gradient reached it (an op returned None): nothing to pass on
            if not retain_graph:
                t.creator.inputs = None
                _release(t.creator)
            continue
        if t._retain:
            if graph:
                t.grad = g if t.grad is None else t.grad + g
            else:
                t.grad = _wrap(g.copy() if t.grad is None else t.grad.data + g)
        fn = t.creator
        inputs = fn.inputs
        if inputs is None:
            raise RuntimeError(_RELEASED)
        if graph:
            gxs = fn.backward(g, t, inputs)
        else:
            gxs = fn.backward(g, t.data, [x.data for x in inputs])
        if not isinstance(gxs, (tuple, list)):
            gxs = (gxs,)  # a one-input op may return its gradient as it is
        if len(gxs) != len(inputs):
            raise ValueError(
                f"{fn.name}.backward returned {len(gxs)} gradients for {len(inputs)} inputs "
                "(one per input, None where none is needed)"
            )
        for x, gx in zip(inputs, gxs, strict=True):
            if gx is None or not x.requires_grad:
                continue
            if gx.shape != x.data.shape:
                raise ValueError(
                    f"{fn.name}.backward returned a gradient of shape {gx.shape} for an input "
                    f"of shape {x.data.shape}"
                )
            if x.creator is None:
                _accumulate_leaf(x, gx, g, graph)
            else:
                prev = grads.get(id(x))
                grads[id(x)] = gx if prev is None else prev + gx
        if not retain_graph:
            fn.inputs = None
            _release(fn)


_SAVED = {}  # op class -> the names of what its forward saves for the backward pass


def _release(fn):
    """Drop what a node saved for its backward pass (masks, softmax outputs...)."""
    cls = type(fn)
    saved = _SAVED.get(cls)
    if saved is None:
        saved = _SAVED[cls] = tuple(
            s for s in getattr(cls, "__slots__", ()) if s not in ("inputs", "needs")
        )
    for slot in saved:
        if hasattr(fn, slot):
            delattr(fn, slot)
