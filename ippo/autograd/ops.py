"""The recorded operations: each one a forward computation and its backward formula.

Every op is a ``Function`` subclass (the node kept in the graph) plus a plain function that
runs it (``exp(x)``, ``matmul(a, b)``...); the arithmetic operators and the methods of
``Tensor`` (``x + y``, ``x @ W``, ``x.sum(axis=0)``, ``x[idx]``...) call the same functions.

Activations call the math core, ``ippo.functions``, for both directions
(``relu``/``relu_backward``, ``sigmoid``/``sigmoid_backward``...), and the losses check their
targets once at their entry (``ippo.checks``) and then run the kernels of ``ippo.kernels``
(the fused softmax-cross-entropy and its gradient...): the formulas live there once.

Broadcasting: ``x + b`` with ``x`` of shape (N, D) and ``b`` of shape (D,) copies ``b``
along the first axis; in the backward pass the copies' gradients are summed back
(``sum_to``), so every gradient has its input's shape — the Repeat node of the course.
"""

import numpy as np

from ippo import checks
from ippo import functions as F
from ippo import kernels as K
from ippo.autograd.tensor import Function, Tensor, _const, _record, as_tensor, torch_axis
from ippo.backend import xp

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "linear",
    "sum", "mean", "max", "min", "reshape", "transpose", "swapaxes", "permute", "broadcast_to",
    "sum_to",
    "getitem", "concatenate", "stack",
    "exp", "log", "sqrt", "abs", "relu", "leaky_relu", "identity", "sigmoid", "tanh", "softmax",
    "log_softmax", "cross_entropy", "sigmoid_binary_cross_entropy", "binary_cross_entropy",
    "mse", "sum_squared_error", "l2_penalty", "dropout", "batch_norm", "embedding",
    "embedding_bag",
]  # fmt: skip


# --------------------------------------------------------------------------- helpers
# The backward formulas receive arrays (fast path) or tensors (create_graph=True); these
# helpers do the same thing to either.


def _sum_axes(shape_from, shape_to):
    lead = len(shape_from) - len(shape_to)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape_to) if n == 1 and shape_from[i + lead] != 1
    )
    return axes


def _sum_to(g, shape):
    """Sum the broadcast copies in ``g`` back to ``shape`` (identity when it already fits)."""
    if g.shape == shape:
        return g
    if isinstance(g, Tensor):
        return sum_to(g, shape)
    return g.sum(axis=_sum_axes(g.shape, shape), keepdims=True).reshape(shape)


def _broadcast_to(g, shape):
    if g.shape == shape:
        return g
    if isinstance(g, Tensor):
        return broadcast_to(g, shape)
    return xp.broadcast_to(g, shape)


def _swap_last(a):
    if isinstance(a, Tensor):
        axes = list(range(a.ndim))
        axes[-1], axes[-2] = axes[-2], axes[-1]
        return transpose(a, axes)
    return a.T if a.ndim == 2 else xp.swapaxes(a, -1, -2)


def _mm(a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return matmul(a, b)
    return xp.dot(a, b) if a.ndim == 2 and b.ndim == 2 else xp.matmul(a, b)


def _pair(a, b):
    """Both operands as tensors; a plain number or array takes the other's dtype."""
    if not isinstance(a, Tensor):
        a = _const(a, b) if isinstance(b, Tensor) else as_tensor(a)
    if not isinstance(b, Tensor):
        b = _const(b, a)
    return a, b


def _axes_tuple(axis, ndim, op):
    """``axis`` (None, an int or several) as a tuple of non-negative axes; an axis out of
    range or named twice is an error naming ``op``."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} axes")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {tuple(axis)} names the same axis twice")
    return tuple(out)


def _keepdims_shape(shape, axis):
    axes = _axes_tuple(axis, len(shape), "sum")
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# --------------------------------------------------------------------------- arithmetic


class Add(Function):
    """y = a + b  →  ∂L/∂a = sum_to(gy), ∂L/∂b = sum_to(gy)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        a, b = xs
        return (
            _sum_to(gy, a.shape) if self.needs[0] else None,
            _sum_to(gy, b.shape) if self.needs[1] else None,
        )


class Sub(Function):
    """y = a − b  →  ∂L/∂a = gy, ∂L/∂b = −gy (each summed to its input's shape)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        a, b = xs
        return (
            _sum_to(gy, a.shape) if self.needs[0] else None,
            _sum_to(-gy, b.shape) if self.needs[1] else None,
        )


class Mul(Function):
    """y = a · b  →  ∂L/∂a = gy · b, ∂L/∂b = gy · a (the course's "swap" rule)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        a, b = xs
        return (
            _sum_to(gy * b, a.shape) if self.needs[0] else None,
            _sum_to(gy * a, b.shape) if self.needs[1] else None,
        )


class Div(Function):
    """y = a / b  →  ∂L/∂a = gy / b, ∂L/∂b = −gy · a / b²."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        a, b = xs
        return (
            _sum_to(gy / b, a.shape) if self.needs[0] else None,
            _sum_to(-gy * a / (b * b), b.shape) if self.needs[1] else None,
        )


class Neg(Function):
    """y = −x  →  ∂L/∂x = −gy."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (-gy,)


class Pow(Function):
    """y = xᶜ for a constant c  →  ∂L/∂x = gy · c · xᶜ⁻¹."""

    __slots__ = ("c",)

    def backward(self, gy, y, xs):
        (x,) = xs
        c = self.c
        return (gy * c * x ** (c - 1),)


class Power(Function):
    """y = aᵇ with a tensor (or array) exponent  →  ∂L/∂a = gy · b · aᵇ⁻¹,
    ∂L/∂b = gy · y · log a (each summed to its input's shape)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        a, b = xs
        ga = gb = None
        if self.needs[0]:
            ga = _sum_to(gy * b * a ** (b - 1), a.shape)
        if self.needs[1]:
            log_a = log(a) if isinstance(a, Tensor) else xp.log(a)
            gb = _sum_to(gy * y * log_a, b.shape)
        return ga, gb


def _binary(cls, op, ufunc, a, b):
    """Record ``cls`` for ufunc(a, b) (NumPy broadcasting); shapes that do not broadcast
    give an error naming ``op``."""
    a, b = _pair(a, b)
    try:
        data = ufunc(a.data, b.data)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together (aligned "
            "from the last axis, each pair of lengths must be equal or one of them 1)"
        ) from None
    return _record(cls(), data, (a, b))


def add(a, b):
    """a + b, with NumPy broadcasting."""
    return _binary(Add, "add", xp.add, a, b)


def sub(a, b):
    """a − b, with NumPy broadcasting."""
    return _binary(Sub, "sub", xp.subtract, a, b)


def mul(a, b):
    """a · b (element-wise), with NumPy broadcasting."""
    return _binary(Mul, "mul", xp.multiply, a, b)


def div(a, b):
    """a / b (element-wise), with NumPy broadcasting."""
    return _binary(Div, "div", xp.divide, a, b)


def neg(x):
    """−x."""
    x = as_tensor(x)
    return _record(Neg(), -x.data, (x,))


def pow(x, c):  # noqa: A001 - the operator's name
    """xᶜ element-wise. ``c`` a constant number (the common case, one node ``Pow``), or a
    tensor or array of exponents, broadcast with x (``Power``, which also differentiates
    with respect to the exponent: ∂y/∂c = y · log x). ``2.0 ** x`` is ``pow(2.0, x)``."""
    if isinstance(c, Tensor) or xp.ndim(c) != 0:
        return _binary(Power, "pow", xp.power, x, c)
    x = as_tensor(x)
    c = c.item() if hasattr(c, "item") else c  # a NumPy float64 scalar would promote float32
    if not isinstance(c, (int, float)):
        raise ValueError(f"pow: the exponent must be a number, an array or a Tensor, got {c!r}")
    fn = Pow()
    fn.c = c
    return _record(fn, x.data**c, (x,))


# --------------------------------------------------------------------------- matmul


class MatMul(Function):
    """Y = A @ B  →  ∂L/∂A = gY @ Bᵀ, ∂L/∂B = Aᵀ @ gY (batched: over the last two axes,
    with broadcast batch axes summed back)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        a, b = xs
        ga = gb = None
        if self.needs[0]:
            ga = _sum_to(_mm(gy, _swap_last(b)), a.shape)
        if self.needs[1]:
            gb = _sum_to(_mm(_swap_last(a), gy), b.shape)
        return ga, gb


def matmul(a, b):
    """Matrix product ``a @ b`` (np.matmul semantics: 1-D operands, batched stacks)."""
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least one axis, got shapes {a.shape} and {b.shape}"
        )
    if a.ndim == 1 or b.ndim == 1:  # as np.matmul: promote to a matrix, then drop the axis
        a2 = reshape(a, (1, -1)) if a.ndim == 1 else a
        b2 = reshape(b, (-1, 1)) if b.ndim == 1 else b
        y = matmul(a2, b2)
        shape = y.shape[:-2] + (() if a.ndim == 1 else y.shape[-2:-1])
        shape += () if b.ndim == 1 else y.shape[-1:]
        return reshape(y, shape)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first "
            f"({a.shape[-1]}) must equal the second-to-last of the second ({b.shape[-2]})"
        )
    if a.ndim == 2 and b.ndim == 2:
        data = xp.dot(a.data, b.data)
    else:
        data = xp.matmul(a.data, b.data)
    return _record(MatMul(), data, (a, b))


class Linear(Function):
    """Y = X @ W + b in one node (the Affine layer)  →  ∂L/∂X = gY @ Wᵀ, ∂L/∂W = Xᵀ @ gY,
    ∂L/∂b = Σ over the batch of gY. One node instead of MatMul + Add: less bookkeeping
    and one array fewer per step."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        x, W = xs[0], xs[1]
        needs = self.needs
        gx = _mm(gy, _swap_last(W)) if needs[0] else None
        gW = _mm(_swap_last(x), gy) if needs[1] else None
        if len(xs) == 2:
            return gx, gW
        return gx, gW, (gy.sum(axis=0) if needs[2] else None)


def linear(x, W, b=None):
    """The affine map x @ W + b (the course's Affine layer); x of shape (N, in), W of shape
    (in, out), b of shape (out,)."""
    x, W = _pair(x, W)
    if b is not None and not isinstance(b, Tensor):
        b = _const(b, W)
    fused = (
        x.ndim == 2
        and W.ndim == 2
        and x.shape[1] == W.shape[0]
        and x.dtype == W.dtype
        and (b is None or (b.shape == W.shape[1:] and b.dtype == W.dtype))
    )
    if not fused:  # general shapes or mixed dtypes: the two separate ops
        if x.ndim >= 1 and W.ndim == 2 and x.shape[-1] != W.shape[0]:
            raise ValueError(
                f"linear: x has shape {x.shape} and W {W.shape}: the last axis of x "
                f"({x.shape[-1]}) must equal the first of W ({W.shape[0]})"
            )
        y = matmul(x, W)
        return y if b is None else add(y, b)
    data = xp.dot(x.data, W.data)
    if b is None:
        return _record(Linear(), data, (x, W))
    data += b.data  # into the fresh product: no extra array
    return _record(Linear(), data, (x, W, b))


# --------------------------------------------------------------------------- reductions


class Sum(Function):
    """y = Σ x over ``axis``  →  ∂L/∂x = gy copied back along the summed axes."""

    __slots__ = ("kshape",)

    def backward(self, gy, y, xs):
        (x,) = xs
        return (_broadcast_to(gy.reshape(self.kshape), x.shape),)


class Max(Function):
    """y = max x over ``axis``  →  the gradient goes to the maximal element (shared equally
    among ties)."""

    __slots__ = ("kshape", "weight")

    def backward(self, gy, y, xs):
        g = gy.reshape(self.kshape)
        w = self.weight
        return (g * (_const(w, g) if isinstance(g, Tensor) else w),)


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Σ x over ``axis`` (all axes by default). PyTorch's ``dim=`` / ``keepdim=`` work too."""
    x = as_tensor(x)
    axis, keepdims = torch_axis("sum", axis, dim, keepdims, keepdim)
    fn = Sum()
    fn.kshape = _keepdims_shape(x.shape, axis)
    data = x.data.sum(axis=_axes_tuple(axis, x.ndim, "sum"), keepdims=keepdims)
    return _record(fn, xp.asarray(data), (x,))


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean of x over ``axis`` (all axes by default): Σ x / (number of summed elements).
    PyTorch's ``dim=`` / ``keepdim=`` work too."""
    x = as_tensor(x)
    axis, keepdims = torch_axis("mean", axis, dim, keepdims, keepdim)
    axes = _axes_tuple(axis, x.ndim, "mean")
    n = 1
    for a in axes:
        n *= x.shape[a]
    return div(sum(x, axis, keepdims), n)


class MaxResult(tuple):
    """``max(x, dim=d)`` / ``min(x, dim=d)``, as PyTorch gives it: ``(values, indices)``,
    also as ``.values`` (a Tensor) and ``.indices`` (a NumPy integer array)."""

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def _extreme(op, x, args, axis, keepdims, dim, keepdim):
    """max / min: NumPy's ``axis=`` gives the values, PyTorch's ``dim=`` (values, indices);
    the positional spelling ``x.max(1)`` means one in NumPy and the other in PyTorch, so it
    is refused with both readings."""
    if args:
        raise TypeError(
            f"{op}(x, {', '.join(map(repr, args))}): ambiguous: in NumPy {op}(x, 1) gives the "
            f"{op}ima along axis 1, in PyTorch ({op}ima, indices) (and a tensor as second "
            f"argument is an element-wise {op}imum there); write {op}(axis=1) for the "
            f"values, {op}(dim=1) for (values, indices), or arg{op}(axis=1) for the indices")
    torch_style = dim is not None
    axis, keepdims = torch_axis(op, axis, dim, keepdims, keepdim, single=torch_style)
    x = as_tensor(x)
    if op == "max":
        axes = _axes_tuple(axis, x.ndim, "max")
        yk = x.data.max(axis=axes, keepdims=True)
        fn = Max()
        fn.kshape = yk.shape
        mask = x.data == yk
        fn.weight = (mask / mask.sum(axis=axes, keepdims=True)).astype(x.dtype)
        data = yk if keepdims else yk.reshape(
            [n for i, n in enumerate(yk.shape) if i not in axes])
        values = _record(fn, data, (x,))
    else:
        _axes_tuple(axis, x.ndim, "min")  # errors name min, not the max it is computed with
        values = neg(max(neg(x), axis=axis, keepdims=keepdims))
    if not torch_style:
        return values
    index = getattr(x.data, "arg" + op)(axis=axis, keepdims=keepdims)
    return MaxResult((values, index))


def max(x, *args, axis=None, keepdims=False, dim=None, keepdim=None):  # noqa: A001
    """Maximum of x over ``axis`` (all axes by default); ``dim=d`` (PyTorch) gives
    ``(values, indices)`` as PyTorch does. ``max(x, 1)`` is an error: NumPy and PyTorch read
    it differently."""
    return _extreme("max", x, args, axis, keepdims, dim, keepdim)


def min(x, *args, axis=None, keepdims=False, dim=None, keepdim=None):  # noqa: A001
    """Minimum of x over ``axis``: −max(−x); ``dim=d`` gives ``(values, indices)`` as in
    PyTorch. ``min(x, 1)`` is an error: NumPy and PyTorch read it differently."""
    return _extreme("min", x, args, axis, keepdims, dim, keepdim)


# --------------------------------------------------------------------------- shapes


class Reshape(Function):
    """y = x reshaped  →  ∂L/∂x = gy reshaped back."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (gy.reshape(xs[0].shape),)


class Transpose(Function):
    """y = x with axes permuted  →  ∂L/∂x = gy with the inverse permutation."""

    __slots__ = ("inverse",)

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):
            return (transpose(gy, self.inverse),)
        return (gy.transpose(self.inverse),)


class BroadcastTo(Function):
    """y = x copied to a larger shape  →  ∂L/∂x = sum_to(gy, x.shape) (the Repeat node)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (_sum_to(gy, xs[0].shape),)


class SumTo(Function):
    """y = x summed to a smaller shape  →  ∂L/∂x = gy broadcast back."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (_broadcast_to(gy, xs[0].shape),)


def reshape(x, *shape):
    """x with a new shape (``-1`` for one inferred axis)."""
    x = as_tensor(x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}"
        ) from None
    if data.shape == x.shape:
        return x
    return _record(Reshape(), data, (x,))


def transpose(x, *axes, dim0=None, dim1=None):
    """x with its axes permuted (reversed by default): NumPy's ``transpose(*axes)``, where
    ``axes`` lists every axis in its new order, e.g. ``x.transpose(2, 0, 1)``.

    PyTorch's ``transpose(d0, d1)`` swaps two axes instead. Where the two readings differ,
    the call is refused, explaining both: two axes of a tensor that has not exactly two
    (NumPy needs all of them), or ``(0, 1)`` of a 2-D tensor (NumPy: unchanged, PyTorch: a
    swap). ``(1, 0)`` of a 2-D tensor is a swap in both. ``dim0=, dim1=`` (PyTorch's
    keywords) swap; ``swapaxes`` and ``permute`` say it unambiguously."""
    x = as_tensor(x)
    if dim0 is not None or dim1 is not None:
        if axes or dim0 is None or dim1 is None:
            raise TypeError("transpose: dim0= and dim1= (PyTorch's keywords) go together, "
                            "without other axes")
        return swapaxes(x, dim0, dim1)
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    n = x.ndim
    if axes and len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
        a, b = (int(v) for v in axes)
        swap = all(-n <= v < n for v in (a, b)) and a % n != b % n  # PyTorch's reading
        if swap and not (n == 2 and a % 2 == 1):  # (1, 0) of a 2-D tensor: a swap in both
            numpy = "the tensor unchanged" if n == 2 else f"an error, it has {n} axes"
            raise ValueError(
                f"transpose({a}, {b}) is ambiguous for a tensor of shape {x.shape}: NumPy "
                f"reads it as the new order of all the axes ({numpy}), PyTorch as two axes "
                f"to swap; write swapaxes({a}, {b}) for the swap, or permute(...) with all "
                f"{n} axes in their new order")
    return _permute(x, axes, "transpose")


def _permute(x, axes, op):
    """x with its axes in the order ``axes`` (all of them; reversed when empty)."""
    n = x.ndim
    if not axes:
        axes = tuple(range(n))[::-1]
    else:
        given = tuple(axes)
        valid = len(given) == n and all(
            isinstance(a, (int, np.integer)) and -n <= a < n for a in given
        )
        axes = tuple(int(a) % n for a in given) if valid else ()
        if not valid or sorted(axes) != list(range(n)):
            raise ValueError(
                f"{op}: axes {given} are not a permutation of the {n} axes of a tensor "
                f"of shape {x.shape}"
            )
    fn = Transpose()
    fn.inverse = tuple(np.argsort(axes).tolist())
    return _record(fn, x.data.transpose(axes), (x,))


def permute(x, *dims):
    """x with its axes in the order ``dims`` (all of them): PyTorch's ``permute``, the same
    as NumPy's ``transpose(*axes)``, e.g. images (N, H, W, C) → (N, C, H, W) with
    ``x.permute(0, 3, 1, 2)``."""
    x = as_tensor(x)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    if not dims:
        raise ValueError(f"permute: give the new order of all {x.ndim} axes")
    return _permute(x, dims, "permute")


def swapaxes(x, axis1, axis2):
    """x with two axes exchanged (NumPy's ``swapaxes``, PyTorch's ``transpose(d0, d1)``)."""
    x = as_tensor(x)
    a, b = _axes_tuple((axis1,), x.ndim, "swapaxes")[0], _axes_tuple((axis2,), x.ndim,
                                                                     "swapaxes")[0]
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return _permute(x, order, "swapaxes")


def broadcast_to(x, shape):
    """x copied along new or length-1 axes to ``shape``."""
    x = as_tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        data = xp.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(
            f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast to {shape}"
        ) from None
    return _record(BroadcastTo(), data, (x,))


def sum_to(x, shape):
    """x summed over the axes where ``shape`` has length 1 or none: the inverse of
    ``broadcast_to``."""
    x = as_tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0 or any(n not in (1, x.shape[lead + i]) for i, n in enumerate(shape)):
        raise ValueError(
            f"sum_to: a tensor of shape {x.shape} cannot be summed to {shape} (the target "
            f"shape must broadcast back to {x.shape})"
        )
    data = x.data.sum(axis=_sum_axes(x.shape, shape), keepdims=True).reshape(shape)
    return _record(SumTo(), data, (x,))


# --------------------------------------------------------------------------- indexing


def _plain_index(idx):
    """True when the index has no arrays (basic slicing: no element can be picked twice).
    A Tensor in an index is refused: tensors hold floats, and a float mask or float
    positions would pick the wrong elements."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    if any(isinstance(p, Tensor) for p in parts):
        raise IndexError(
            "getitem: index with integers, slices, or an integer or boolean NumPy array, "
            "not a Tensor (tensors hold floats): x[ids] with ids = np.array([...]), or "
            "x[x > 0] for a mask (a comparison gives a boolean array)"
        )
    basic = all(
        p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts
    )
    return idx, basic


class GetItem(Function):
    """y = x[idx]  →  ∂L/∂x = zeros with gy added at idx. Repeated integer indices add up
    (``np.add.at``), as the embedding's backward needs."""

    __slots__ = ("index", "basic")

    def backward(self, gy, y, xs):
        (x,) = xs
        if isinstance(gy, Tensor):
            fn = GetItemGrad()
            fn.index, fn.basic, fn.shape = self.index, self.basic, x.shape
            return (_record(fn, _scatter(gy.data, self.index, self.basic, x.shape), (gy,)),)
        return (_scatter(gy, self.index, self.basic, x.shape),)


def _scatter(gy, index, basic, shape):
    if basic:  # slices and single integers: no element is picked twice
        gx = xp.zeros(shape, dtype=gy.dtype)
        gx[index] = gy
        return gx
    # integer arrays may repeat an index: add every copy (np.add.at), as the embedding does
    return F.embedding_backward(gy, index, xp.empty(shape, dtype=gy.dtype))


class GetItemGrad(Function):
    """The backward of indexing, recorded (for create_graph): its own gradient is gy[idx]."""

    __slots__ = ("index", "basic", "shape")

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):
            return (getitem(gy, self.index),)
        return (gy[self.index],)


def getitem(x, idx):
    """x[idx]: slicing, integer and boolean indexing (integer arrays may repeat)."""
    x = as_tensor(x)
    index, basic = _plain_index(idx)
    fn = GetItem()
    fn.index, fn.basic = index, basic
    try:
        data = xp.asarray(x.data[index])
    except IndexError as e:
        raise IndexError(f"getitem: cannot index a tensor of shape {x.shape}: {e}") from None
    return _record(fn, data, (x,))


class Concatenate(Function):
    """y = [x₁, x₂, ...] joined along ``axis``  →  each ∂L/∂xᵢ is its slice of gy."""

    __slots__ = ("axis", "bounds")

    def backward(self, gy, y, xs):
        head = (slice(None),) * self.axis
        out = []
        for need, (lo, hi) in zip(self.needs, self.bounds, strict=True):
            if not need:
                out.append(None)
            elif isinstance(gy, Tensor):
                out.append(getitem(gy, head + (slice(lo, hi),)))
            else:
                out.append(gy[head + (slice(lo, hi),)])
        return out


def _tensor_list(op, tensors):
    """The operands of ``concatenate``/``stack`` as tensors; plain arrays take the dtype of
    the first tensor among them (as in the arithmetic)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: need at least one tensor")
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    return [
        t if isinstance(t, Tensor) else _const(t, like) if like is not None else as_tensor(t)
        for t in tensors
    ]


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (``dim=``: PyTorch's ``cat``)."""
    axis = axis if dim is None else torch_axis("concatenate", None, dim, False, None)[0]
    ts = _tensor_list("concatenate", tensors)
    axis = _axes_tuple(axis, ts[0].ndim, "concatenate")[0]
    try:
        data = xp.concatenate([t.data for t in ts], axis=axis)
    except ValueError as e:
        shapes = [t.shape for t in ts]
        raise ValueError(
            f"concatenate: shapes {shapes} do not fit along axis {axis}: {e}"
        ) from None
    fn = Concatenate()
    fn.axis = axis
    bounds, lo = [], 0
    for t in ts:
        bounds.append((lo, lo + t.shape[axis]))
        lo += t.shape[axis]
    fn.bounds = bounds
    return _record(fn, data, tuple(ts))


def stack(tensors, axis=0, *, dim=None):
    """Join tensors of the same shape along a new axis (``dim=``: PyTorch's name)."""
    axis = axis if dim is None else torch_axis("stack", None, dim, False, None)[0]
    ts = _tensor_list("stack", tensors)
    shape = ts[0].shape
    for t in ts:
        if t.shape != shape:
            raise ValueError(
                f"stack: all tensors must have the same shape, got {[t.shape for t in ts]}"
            )
    if not -len(shape) - 1 <= axis <= len(shape):
        raise ValueError(
            f"stack: axis {axis} is out of range for stacking tensors of shape {shape} "
            f"(valid: {-len(shape) - 1}..{len(shape)})"
        )
    axis = axis % (len(shape) + 1)
    new = shape[:axis] + (1,) + shape[axis:]
    return concatenate([reshape(t, new) for t in ts], axis=axis)


# --------------------------------------------------------------------------- element-wise


class Exp(Function):
    """y = eˣ  →  ∂L/∂x = gy · y."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (gy * y,)


class Log(Function):
    """y = log x  →  ∂L/∂x = gy / x."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (gy / xs[0],)


class Sqrt(Function):
    """y = √x  →  ∂L/∂x = gy / (2y)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (gy / (y * 2),)


class Abs(Function):
    """y = |x|  →  ∂L/∂x = gy · sign(x) (taken as 0 at x = 0); the sign is a constant of
    the graph."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):
            return (gy * _const(xp.sign(xs[0].data), gy),)
        return (gy * xp.sign(xs[0]),)


class ReLU(Function):
    """y = max(0, x)  →  ``functions.relu_backward``: gy where y > 0, else 0."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):  # the derivative (a 0/1 mask) is a constant of the graph
            return (gy * _const(F.relu_grad(y.data), gy),)
        return (F.relu_backward(gy, y),)


class LeakyReLU(Function):
    """y = x if x > 0 else α·x  →  ``functions.leaky_relu_backward``: gy where x > 0, else α·gy."""

    __slots__ = ("alpha",)

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):  # the slope (1 or α) is a constant of the graph
            return (gy * _const(F.leaky_relu_grad(xs[0].data, self.alpha), gy),)
        return (F.leaky_relu_backward(gy, xs[0], self.alpha),)


class Sigmoid(Function):
    """y = σ(x)  →  ``functions.sigmoid_backward``: gy · y · (1 − y)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (F.sigmoid_backward(gy, y),)


class Tanh(Function):
    """y = tanh x  →  ``functions.tanh_backward``: gy · (1 − y²)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (F.tanh_backward(gy, y),)


class Softmax(Function):
    """y = softmax(x) over the last axis  →  ``functions.softmax_backward``:
    y · (gy − Σ gy·y)."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        return (F.softmax_backward(gy, y),)


class LogSoftmax(Function):
    """y = log softmax(x)  →  ``functions.log_softmax_backward``: gy − softmax(x) · Σ gy."""

    __slots__ = ()

    def backward(self, gy, y, xs):
        p = exp(y) if isinstance(y, Tensor) else xp.exp(y)
        return (F.log_softmax_backward(gy, p),)


def _unary(cls, x, fwd):
    x = as_tensor(x)
    return _record(cls(), fwd(x.data), (x,))


def exp(x):
    """eˣ element-wise."""
    return _unary(Exp, x, xp.exp)


def log(x):
    """Natural logarithm element-wise."""
    return _unary(Log, x, xp.log)


def sqrt(x):
    """Square root element-wise."""
    return _unary(Sqrt, x, xp.sqrt)


def abs(x):  # noqa: A001 - the builtin's name, as abs(tensor) calls it
    """|x| element-wise (``abs(x)`` works too): the L1 norm is ``abs(w).sum()``."""
    return _unary(Abs, x, xp.abs)


def relu(x):
    """ReLU(x) = max(0, x) (``functions.relu``)."""
    return _unary(ReLU, x, F.relu)


def leaky_relu(x, alpha=0.01):
    """Leaky ReLU: x if x > 0 else α·x (``functions.leaky_relu``)."""
    x = as_tensor(x)
    fn = LeakyReLU()
    fn.alpha = float(alpha)
    return _record(fn, F.leaky_relu(x.data, fn.alpha), (x,))


def identity(x):
    """The identity (the output activation for regression): x itself, nothing recorded."""
    return as_tensor(x)


def sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ) (``functions.sigmoid``, overflow-free)."""
    return _unary(Sigmoid, x, F.sigmoid)


def tanh(x):
    """tanh(x) (``functions.tanh``)."""
    return _unary(Tanh, x, F.tanh)


def _last_axis(op, x, axis, dim):
    """The axis argument of softmax / log_softmax: only the last axis is supported."""
    axis, _ = torch_axis(op, axis, dim, False, None, single=True)
    if axis is not None and axis not in (-1, x.ndim - 1):
        raise ValueError(f"{op}: works over the last axis; axis {axis} of a tensor of shape "
                         f"{x.shape} is not it (move it there with swapaxes({axis}, -1))")


def softmax(x, axis=None, *, dim=None):
    """Softmax over the last axis (``functions.softmax``, max subtracted); ``axis`` / ``dim``
    may name it (``-1``), any other axis is an error."""
    x = as_tensor(x)
    _last_axis("softmax", x, axis, dim)
    return _unary(Softmax, x, F.softmax)


def log_softmax(x, axis=None, *, dim=None):
    """log softmax over the last axis (``functions.log_softmax``, stable); ``axis`` / ``dim``
    may name it (``-1``), any other axis is an error."""
    x = as_tensor(x)
    _last_axis("log_softmax", x, axis, dim)
    return _unary(LogSoftmax, x, F.log_softmax)


# --------------------------------------------------------------------------- losses


def _targets(t):
    """Targets are constants: an array (class indices, one-hot, values)."""
    return t.data if isinstance(t, Tensor) else xp.asarray(t)


class SoftmaxCrossEntropy(Function):
    """L = cross-entropy of softmax(x) and t, fused (``kernels.softmax_cross_entropy``)
    →  ∂L/∂x = (softmax(x) − t) / N (``kernels.softmax_cross_entropy_backward``)."""

    __slots__ = ("p", "t")

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):
            # The same (y − t) / N, with the softmax recorded so it can be differentiated
            # (class indices as one-hot rows: the kernel's tensor-friendly branch).
            p = softmax(xs[0])
            t = self.t
            if t.shape != p.shape:
                t = xp.eye(p.shape[-1], dtype=p.dtype)[t]
            return (K.softmax_cross_entropy_backward(p, t) * gy,)
        gx = K.softmax_cross_entropy_backward(self.p, self.t)
        if gy != 1:
            gx *= gy
        return (gx,)


def cross_entropy(logits, t):
    """Mean cross-entropy between softmax(logits) and targets ``t`` (class indices or
    one-hot), computed stably without forming log(softmax) separately. Recognisably swapped
    arguments (labels first, scores second) raise ``ValueError``."""
    x = as_tensor(logits)
    t = checks.numeric("cross_entropy", "t", _targets(t))
    checks.argument_order("cross_entropy", x.data, t, "logits", scores=True)
    if x.ndim == 0:
        raise ValueError("cross_entropy: logits must have at least one axis (the classes), "
                         "got a scalar")
    checks.not_empty("cross_entropy", x, "logits")
    t, is_index = checks.class_targets("cross_entropy", x.shape, t, "logits")
    if not is_index and t.dtype != x.dtype:
        t = t.astype(x.dtype)
    fn = SoftmaxCrossEntropy()
    loss, fn.p = K.softmax_cross_entropy(x.data, t)
    fn.t = t
    return _record(fn, xp.asarray(loss, dtype=x.dtype), (x,))


class SigmoidBinaryCrossEntropy(Function):
    """L = binary cross-entropy of σ(x) and t, fused (``kernels.sigmoid_binary_cross_entropy``)
    →  ∂L/∂x = (σ(x) − t) / size (``kernels.sigmoid_binary_cross_entropy_backward``)."""

    __slots__ = ("p", "t")

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):
            p = sigmoid(xs[0])
            return (K.sigmoid_binary_cross_entropy_backward(p, self.t) * gy,)
        gx = K.sigmoid_binary_cross_entropy_backward(self.p, self.t)
        if gy != 1:
            gx *= gy
        return (gx,)


def sigmoid_binary_cross_entropy(logits, t):
    """Mean binary cross-entropy between σ(logits) and 0/1 targets ``t``, fused and stable
    (a (N,) target is accepted for (N, 1) logits)."""
    x = as_tensor(logits)
    where = "sigmoid_binary_cross_entropy"
    t = checks.numeric(where, "t", _targets(t))
    checks.not_empty(where, x, "logits")
    t = checks.binary_targets(where, x.shape, t, "logits")
    if t.dtype != x.dtype:
        t = t.astype(x.dtype)
    fn = SigmoidBinaryCrossEntropy()
    fn.p = F.sigmoid(x.data)
    fn.t = t
    return _record(fn, xp.asarray(K.sigmoid_binary_cross_entropy(x.data, t), dtype=x.dtype),
                   (x,))


binary_cross_entropy = sigmoid_binary_cross_entropy


class MeanSquaredError(Function):
    """L = ½ mean((y − t)²) (``kernels.mean_squared_error``)  →
    ∂L/∂y = (y − t) / size (``kernels.mean_squared_error_backward``), ∂L/∂t = −∂L/∂y."""

    __slots__ = ()
    formula = staticmethod(K.mean_squared_error)
    gradient = staticmethod(K.mean_squared_error_backward)

    def backward(self, gy, y, xs):
        a, b = xs
        g = self.gradient(a, b) * gy
        return (g if self.needs[0] else None, -g if self.needs[1] else None)


class SumSquaredError(MeanSquaredError):
    """L = ½·Σⱼ(yⱼ − tⱼ)² per sample, averaged over the N samples
    (``kernels.sum_squared_error``)  →  ∂L/∂y = (y − t) / N, ∂L/∂t = −∂L/∂y."""

    __slots__ = ()
    formula = staticmethod(K.sum_squared_error)
    gradient = staticmethod(K.sum_squared_error_backward)


def _squared_error(where, fn, y, t):
    y = as_tensor(y)
    t = t if isinstance(t, Tensor) else _const(checks.numeric(where, "t", t), y)
    checks.not_empty(where, y)
    checks.targets_like(where, y.shape, t.data)  # the shape rule (a Tensor t stays a Tensor)
    if t.shape != y.shape:
        t = reshape(t, y.shape)
    return _record(fn, xp.asarray(fn.formula(y.data, t.data), dtype=y.dtype), (y, t))


def mse(y, t):
    """Mean squared error ½·mean((y − t)²) over all elements (a (N,) target is accepted for
    (N, 1) predictions)."""
    return _squared_error("mse", MeanSquaredError(), y, t)


def sum_squared_error(y, t):
    """The course's per-sample squared error E = ½·Σⱼ(yⱼ − tⱼ)², summed over the outputs j
    and averaged over the N samples: C times ``mse`` for C outputs (a (N,) target is
    accepted for (N, 1) predictions)."""
    return _squared_error("sum_squared_error", SumSquaredError(), y, t)


class L2Penalty(Function):
    """L = ½·λ·Σ_W Σ W² (``functions.l2_penalty``)  →  ∂L/∂W = λ·W
    (``functions.l2_penalty_backward``)."""

    __slots__ = ("weight_decay",)

    def backward(self, gy, y, xs):
        wd = self.weight_decay
        if isinstance(gy, Tensor):
            return [w * (gy * wd) if need else None for w, need in zip(xs, self.needs, strict=True)]
        out = []
        for w, need in zip(xs, self.needs, strict=True):
            if not need:
                out.append(None)
                continue
            g = F.l2_penalty_backward(xp.zeros_like(w), w, wd)
            if gy != 1:
                g *= gy
            out.append(g)
        return out


def l2_penalty(weights, weight_decay):
    """L2 weight decay ½·λ·Σ Σ W² over the tensors ``weights`` (a scalar tensor)."""
    ws = [as_tensor(w) for w in weights]
    if not ws:
        raise ValueError("l2_penalty: need at least one weight tensor")
    fn = L2Penalty()
    fn.weight_decay = float(weight_decay)
    value = F.l2_penalty([w.data for w in ws], fn.weight_decay)
    return _record(fn, xp.asarray(value, dtype=ws[0].dtype), tuple(ws))


# --------------------------------------------------------------------------- layers' ops


class Dropout(Function):
    """y = x · mask (``functions.dropout``)  →  ∂L/∂x = gy · mask
    (``functions.dropout_backward``); the mask is a constant of the graph."""

    __slots__ = ("mask",)

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):
            return (gy * _const(self.mask, gy),)
        return (F.dropout_backward(gy, self.mask),)


def dropout(x, p=0.5, training=True, rng=None):
    """Inverted dropout: each element is zeroed with probability ``p`` and the survivors are
    scaled by 1/(1 − p) (``functions.dropout_mask``), so nothing changes at test time.
    The identity when not ``training``. ``rng``: a ``numpy.random.Generator`` or a seed."""
    x = as_tensor(x)
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    fn = Dropout()
    fn.mask = F.dropout_mask(x.shape, p, rng, dtype=x.dtype)
    return _record(fn, F.dropout(x.data, fn.mask), (x,))


class BatchNorm(Function):
    """y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε) over the batch (``functions.batch_norm_forward``)
    →  ``functions.batch_norm_backward`` gives ∂L/∂x, ∂L/∂γ, ∂L/∂β.

    With ``create_graph=True`` x̂ and 1/√(σ² + ε) depend on x through the graph: the
    backward pass recomputes them with ``functions.batch_norm_forward`` on the tensors
    (recorded) and runs ``functions.batch_norm_backward`` on tensors too."""

    __slots__ = ("xhat", "inv_std", "eps")

    def backward(self, gy, y, xs):
        if isinstance(gy, Tensor):
            x, gamma, beta = xs
            _, xhat, inv_std, _, _ = F.batch_norm_forward(x, gamma, beta, self.eps)
        else:
            xhat, inv_std = self.xhat, self.inv_std
        dx, dgamma, dbeta = F.batch_norm_backward(gy, xhat, inv_std, xs[1])
        needs = self.needs
        return (dx if needs[0] else None, dgamma if needs[1] else None, dbeta if needs[2] else None)


def batch_norm(x, gamma, beta, eps=1e-5):
    """Batch normalization of x (N, D) with the batch's own statistics, per feature.

    Returns ``(y, mean, var)``: the normalized tensor and the batch mean and variance
    (arrays, for the running averages a module keeps)."""
    x, gamma = _pair(x, gamma)
    beta = beta if isinstance(beta, Tensor) else _const(beta, gamma)
    if x.ndim != 2 or gamma.shape != (x.shape[1],) or beta.shape != gamma.shape:
        raise ValueError(
            f"batch_norm: expected x of shape (N, D) with gamma and beta of shape (D,), got "
            f"{x.shape}, {gamma.shape}, {beta.shape}"
        )
    y, xhat, inv_std, mean, var = F.batch_norm_forward(x.data, gamma.data, beta.data, eps)
    fn = BatchNorm()
    fn.xhat, fn.inv_std, fn.eps = xhat, inv_std, eps
    return _record(fn, y, (x, gamma, beta)), mean, var


def embedding(W, ids):
    """Rows of the weight matrix ``W`` (V, D) picked by integer ``ids`` of any shape: the
    result has shape ids.shape + (D,). The backward adds each row's gradient into W at its
    id, so repeated ids accumulate."""
    W = as_tensor(W)
    return getitem(W, checks.ids("embedding", _targets(ids), W.shape[0]))


class EmbeddingBag(Function):
    """yₙ = Σₗ w[n, l] · W[ids[n, l]], the mean of the rows of the non-padding ids
    (``functions.embedding_bag``)  →  ∂L/∂W: every id's row gets w[n, l] · gyₙ, repeated ids
    adding up (``functions.embedding_bag_backward``). The ids are constants."""

    __slots__ = ("ids", "weights")

    def backward(self, gy, y, xs):
        (W,) = xs
        if isinstance(gy, Tensor):
            fn = EmbeddingBagGrad()
            fn.ids, fn.weights = self.ids, self.weights
            gW = F.embedding_bag_backward(gy.data, self.ids, self.weights,
                                          xp.empty(W.shape, dtype=gy.dtype))
            return (_record(fn, gW, (gy,)),)
        return (F.embedding_bag_backward(gy, self.ids, self.weights,
                                         xp.empty(W.shape, dtype=gy.dtype)),)


class EmbeddingBagGrad(Function):
    """The embedding bag's backward, recorded (for create_graph): it is linear in gy, and
    its own backward is the embedding bag of the incoming gradient."""

    __slots__ = ("ids", "weights")

    def backward(self, gg, y, xs):
        if isinstance(gg, Tensor):
            return (_embedding_bag(gg, self.ids, self.weights),)
        return (F.embedding_bag(gg, self.ids, self.weights),)


def _embedding_bag(W, ids, weights):
    fn = EmbeddingBag()
    fn.ids, fn.weights = ids, weights
    return _record(fn, F.embedding_bag(W.data, ids, weights), (W,))


def embedding_bag(W, ids, padding_idx=0):
    """The mean of the rows of ``W`` (V, D) picked by each row of integer ``ids`` (N, L),
    ids equal to ``padding_idx`` left out (None: none are): shape (N, D); a row of padding
    only gives zeros. The fastText-style sentence vector, as the layer
    ``ippo.layers.EmbeddingBag``."""
    W = as_tensor(W)
    if W.ndim != 2:
        raise ValueError(f"embedding_bag: W must be 2-D (vocab, dim), got shape {W.shape}")
    ids = checks.ids("embedding_bag", _targets(ids), W.shape[0])
    if ids.ndim != 2:
        raise ValueError(f"embedding_bag: ids must be 2-D (N, L), got shape {ids.shape}")
    mask = ids != padding_idx if padding_idx is not None else xp.ones(ids.shape, dtype=bool)
    return _embedding_bag(W, ids, F.embedding_bag_weights(mask, dtype=W.dtype))


# --------------------------------------------------------------------------- operators


def _install():
    T = Tensor
    T.__add__ = lambda a, b: add(a, b)
    T.__radd__ = lambda a, b: add(b, a)
    T.__sub__ = lambda a, b: sub(a, b)
    T.__rsub__ = lambda a, b: sub(b, a)
    T.__mul__ = lambda a, b: mul(a, b)
    T.__rmul__ = lambda a, b: mul(b, a)
    T.__truediv__ = lambda a, b: div(a, b)
    T.__rtruediv__ = lambda a, b: div(b, a)
    T.__neg__ = lambda a: neg(a)
    T.__pos__ = lambda a: a
    T.__abs__ = lambda a: abs(a)
    T.__pow__ = lambda a, c: pow(a, c)
    T.__rpow__ = lambda a, base: pow(base, a)
    T.__matmul__ = lambda a, b: matmul(a, b)
    T.__rmatmul__ = lambda a, b: matmul(b, a)
    T.__getitem__ = lambda a, idx: getitem(a, idx)
    T.T = property(lambda a: transpose(a), doc="The tensor with its axes reversed (transpose).")
    T.mT = property(lambda a: swapaxes(a, -2, -1),
                    doc="The tensor with its last two axes swapped (matrix transpose).")
    T.reshape = reshape
    T.view = reshape  # PyTorch's name (the values are the same; ippo never shares storage)
    T.transpose = transpose
    T.permute = permute
    T.swapaxes = swapaxes
    T.sum = sum
    T.mean = mean
    T.max = max
    T.min = min
    T.exp = exp
    T.log = log
    T.sqrt = sqrt
    T.abs = abs
    T.relu = relu
    T.sigmoid = sigmoid
    T.tanh = tanh
    T.softmax = softmax
    T.log_softmax = log_softmax
    T.broadcast_to = broadcast_to
    T.sum_to = sum_to


_install()
