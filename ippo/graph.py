"""Computational-graph nodes: the boxes the course draws, each with a forward and a backward.

Every node computes its output in ``forward`` and keeps what its derivative needs; ``backward``
takes the upstream gradient ``dout`` (∂L/∂output) and returns ∂L/∂input by the chain rule:
local derivative × upstream gradient. Chaining the nodes in reverse order back-propagates
through the whole graph, as in the shopping example::

    >>> mul_apple, mul_tax = Mul(), Mul()
    >>> price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)   # 2 apples at 100, tax 1.1
    >>> round(float(price), 6)
    220.0
    >>> d_apple_total, d_tax = mul_tax.backward(1)
    >>> d_apple, d_count = mul_apple.backward(d_apple_total)
    >>> round(float(d_apple), 6), round(float(d_count), 6), round(float(d_tax), 6)
    (2.2, 110.0, 200.0)

Inputs are scalars or NumPy arrays; ``Add``, ``Mul`` and ``Div`` take two inputs of the same shape
(no broadcasting: adding a bias to every row is ``Repeat`` followed by ``Add``). Bad shapes
raise ``ValueError`` naming the node and the shapes.
"""

from ippo import functions as F
from ippo.backend import as_float_array, xp


def _check_dout(node, dout, expected):
    """ValueError unless the upstream gradient has the shape of the node's output."""
    if xp.shape(dout) != expected:
        raise ValueError(
            f"{node}.backward: dout has shape {xp.shape(dout)} but the forward output had "
            f"shape {expected}"
        )


def _check_same_shape(node, x, y, hint=""):
    """ValueError unless the two inputs of ``node`` have the same shape (no broadcasting)."""
    if xp.shape(x) != xp.shape(y):
        raise ValueError(
            f"{node}.forward: x has shape {xp.shape(x)} but y has shape {xp.shape(y)}; they "
            f"must match{hint}"
        )


def _check_numeric(node, name, v):
    """ValueError unless ``v`` is a number or a numeric array (a Python list is not added
    element-wise by ``+``: it would be concatenated)."""
    if isinstance(v, (list, tuple)):
        got = f"a {type(v).__name__} (convert it with np.array first)"
    elif isinstance(v, (int, float, xp.ndarray, xp.generic)):
        dtype = xp.asarray(v).dtype
        if dtype.kind in "biuf":
            return
        got = f"an array of dtype {dtype}"
    else:
        got = type(v).__name__
    raise ValueError(f"{node}.forward: {name} must be a number or a numeric array, got {got}")


def _positive_int(node, name, n):
    """``n`` as an int, or ValueError naming ``node`` unless it is a positive integer."""
    if isinstance(n, bool) or not isinstance(n, (int, float, xp.integer, xp.floating)) \
            or int(n) != n or n < 1:
        raise ValueError(f"{node}: {name} must be a positive integer, got {n!r}")
    return int(n)


def _check_axis(node, axis, allow_none=False):
    """ValueError naming ``node`` unless ``axis`` is an integer (or None where allowed)."""
    if axis is None and allow_none:
        return
    if isinstance(axis, bool) or not isinstance(axis, (int, xp.integer)):
        allowed = "an integer or None" if allow_none else "an integer"
        raise ValueError(f"{node}: axis must be {allowed}, got {axis!r}")


def _check_forward_done(node, saved):
    if saved is None:
        raise ValueError(f"{node}.backward called before {node}.forward")


class Add:
    """Addition node: z = x + y.

    Local derivatives ∂z/∂x = 1 and ∂z/∂y = 1, so backward passes the upstream gradient to
    both inputs unchanged: dx = dout, dy = dout.
    """

    def __init__(self):
        self.shape = None

    def forward(self, x, y):
        """Returns z = x + y (x and y of the same shape)."""
        _check_numeric("Add", "x", x)
        _check_numeric("Add", "y", y)
        _check_same_shape("Add", x, y, " (use Repeat to copy a vector along a new axis first)")
        self.shape = xp.shape(x)
        return x + y

    def backward(self, dout):
        """Returns ``(dx, dy)`` = (dout, dout)."""
        _check_forward_done("Add", self.shape)
        _check_dout("Add", dout, self.shape)
        return dout, dout


class Mul:
    """Multiplication node: z = x · y (element-wise).

    Local derivatives ∂z/∂x = y and ∂z/∂y = x: backward swaps the inputs,
    dx = dout · y, dy = dout · x. The forward pass keeps both inputs for that.
    """

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        """Returns z = x · y element-wise; keeps x and y for backward."""
        _check_numeric("Mul", "x", x)
        _check_numeric("Mul", "y", y)
        _check_same_shape("Mul", x, y)
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        """Returns ``(dx, dy)`` = (dout · y, dout · x)."""
        _check_forward_done("Mul", self.x)
        _check_dout("Mul", dout, xp.shape(self.x))
        return dout * self.y, dout * self.x


class Div:
    """Division node: z = x / y (element-wise).

    Local derivatives ∂z/∂x = 1/y and ∂z/∂y = −x/y² = −z/y, so backward gives
    dx = dout / y and dy = −dout · z / y. The forward pass keeps y and z for that.
    With x = 1 it is the course's "/" node of the sigmoid's graph, z = 1/y with
    ∂z/∂y = −1/y² = −z².
    """

    def __init__(self):
        self.y = None
        self.z = None

    def forward(self, x, y):
        """Returns z = x / y element-wise (x and y of the same shape); keeps y and z."""
        _check_numeric("Div", "x", x)
        _check_numeric("Div", "y", y)
        _check_same_shape("Div", x, y)
        self.y = y
        self.z = x / y
        return self.z

    def backward(self, dout):
        """Returns ``(dx, dy)`` = (dout / y, −dout · z / y)."""
        _check_forward_done("Div", self.y)
        _check_dout("Div", dout, xp.shape(self.y))
        dx = dout / self.y
        return dx, -dx * self.z


class Exp:
    """Exponential node: y = exp(x).

    The local derivative is exp(x) itself, ∂y/∂x = exp(x) = y, so backward multiplies the
    upstream gradient by the output it kept: dx = dout · y.
    """

    def __init__(self):
        self.y = None

    def forward(self, x):
        """Returns y = exp(x) element-wise; keeps y for backward."""
        _check_numeric("Exp", "x", x)
        self.y = xp.exp(x)
        return self.y

    def backward(self, dout):
        """Returns dx = dout · y."""
        _check_forward_done("Exp", self.y)
        _check_dout("Exp", dout, xp.shape(self.y))
        return dout * self.y


class Branch:
    """Branch (copy) node: one input sent unchanged to ``n`` outputs, x → (x, x, …, x).

    Each output depends on x with local derivative 1, so the gradients arriving from the
    ``n`` branches add up: dx = Σᵢ doutᵢ. The outputs are the input array itself, not copies:
    read them, don't modify them in place.
    """

    def __init__(self, n=2):
        self.n = _positive_int("Branch", "n", n)
        self.shape = None

    def forward(self, x):
        """Returns a list of ``n`` outputs, each equal to x."""
        self.shape = xp.shape(x)
        return [x] * self.n

    def backward(self, douts):
        """``douts``: the ``n`` upstream gradients, one per output. Returns their sum."""
        _check_forward_done("Branch", self.shape)
        douts = list(douts)
        if len(douts) != self.n:
            raise ValueError(
                f"Branch.backward: expected {self.n} upstream gradients (one per output), "
                f"got {len(douts)}"
            )
        for d in douts:
            _check_dout("Branch", d, self.shape)
        dx = douts[0] + douts[1] if self.n > 1 else douts[0] * 1
        for d in douts[2:]:
            dx += d
        return dx


class Repeat:
    """Repeat node: copy an array ``n`` times along a new axis, x of shape (D,) → (n, D).

    Every copy depends on x with local derivative 1, so backward sums the upstream gradient
    over that axis: dx = Σᵢ dout[i]. (This is how a bias vector reaches every row of a batch.)
    """

    def __init__(self, n, axis=0):
        self.n = _positive_int("Repeat", "n", n)
        _check_axis("Repeat", axis)
        self.axis = axis
        self.shape = None
        self.dtype = None  # the input's, kept for backward

    def forward(self, x):
        """Returns x copied ``n`` times along a new axis ``axis``: (D,) → (n, D) for axis 0."""
        x = as_float_array(x, name="Repeat.forward: x")
        ndim = x.ndim + 1
        if not -ndim <= self.axis < ndim:
            raise ValueError(
                f"Repeat.forward: axis {self.axis} is out of range for input of shape {x.shape} "
                f"(the output has {ndim} axes)"
            )
        self.shape, self.dtype = x.shape, x.dtype
        return xp.repeat(xp.expand_dims(x, self.axis), self.n, axis=self.axis)

    def backward(self, dout):
        """Returns dx = dout summed over the repeated axis, of the input's shape."""
        _check_forward_done("Repeat", self.shape)
        expected = list(self.shape)
        expected.insert(self.axis % (len(self.shape) + 1), self.n)
        _check_dout("Repeat", dout, tuple(expected))
        # in the input's dtype: a Python-float or float64 dout must not make a float32 dx float64
        return xp.sum(dout, axis=self.axis).astype(self.dtype, copy=False)


class Sum:
    """Sum node: y = Σᵢ x[i] along ``axis``, x of shape (N, D) → (D,) for axis 0.

    ∂y/∂x[i] = 1 for every i, so backward repeats the upstream gradient along the summed
    axis: dx[i] = dout for every i (the mirror image of ``Repeat``). ``axis=None`` sums every
    element, y = Σ x (a scalar), and backward gives dx = dout everywhere.
    """

    def __init__(self, axis=0, keepdims=False):
        _check_axis("Sum", axis, allow_none=True)
        self.axis = axis
        self.keepdims = keepdims
        self.shape = None
        self.dtype = None  # the input's, kept for backward

    def forward(self, x):
        """Returns y = Σᵢ x[i] along ``axis``."""
        x = as_float_array(x, name="Sum.forward: x")
        if self.axis is not None and not -x.ndim <= self.axis < x.ndim:
            raise ValueError(
                f"Sum.forward: axis {self.axis} is out of range for input of shape {x.shape}"
            )
        self.shape, self.dtype = x.shape, x.dtype
        return xp.sum(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, dout):
        """Returns dx: dout repeated along the summed axis, of the input's shape."""
        _check_forward_done("Sum", self.shape)
        if self.axis is None:
            kept = (1,) * len(self.shape)
            _check_dout("Sum", dout, kept if self.keepdims else ())
        else:
            axis = self.axis % len(self.shape)
            kept = self.shape[:axis] + (1,) + self.shape[axis + 1:]
            _check_dout("Sum", dout, kept if self.keepdims else kept[:axis] + kept[axis + 1:])
        # a copy in the input's dtype (a Python-float dout would otherwise give float64)
        return xp.broadcast_to(xp.reshape(dout, kept), self.shape).astype(self.dtype)


class MatMul:
    """Matrix-multiplication node holding a weight W: y = x · W.

    x has shape (N, D) (or (D,) for one sample) and W has shape (D, H). Local derivatives give
    dx = dout · Wᵀ and dW = xᵀ · dout. Like a layer, the node keeps ``params = [W]`` and
    ``grads = [dW]``: ``backward`` writes dW into ``grads[0]`` in place and returns dx.
    x and dout are taken in W's dtype (as ``layers.Affine`` does): a float32 W keeps y, dx
    and dW float32 even when float64 arrays are fed in.
    """

    def __init__(self, W):
        W = as_float_array(W, name="MatMul: W")
        if W.ndim != 2:
            raise ValueError(f"MatMul: W must be a 2-D matrix (D, H), got shape {W.shape}")
        self.params = [W]
        self.grads = [xp.zeros_like(W)]
        self.x = None

    def forward(self, x):
        """Returns y = x · W."""
        W = self.params[0]
        x = as_float_array(x, dtype=W.dtype, name="MatMul.forward: x")  # float32 W: float32 y
        if x.ndim not in (1, 2) or x.shape[-1] != W.shape[0]:
            raise ValueError(
                f"MatMul.forward: x has shape {x.shape} but W has shape {W.shape}; x must be "
                f"({W.shape[0]},) or (N, {W.shape[0]})"
            )
        self.x = x
        return xp.dot(x, W)

    def backward(self, dout):
        """Returns dx = dout · Wᵀ; writes dW = xᵀ · dout into ``grads[0]``."""
        _check_forward_done("MatMul", self.x)
        W, dW, x = self.params[0], self.grads[0], self.x
        dout = as_float_array(dout, dtype=W.dtype, name="MatMul.backward: dout")
        _check_dout("MatMul", dout, x.shape[:-1] + (W.shape[1],))
        if x.ndim == 1:  # one sample: the outer product x ⊗ dout
            F.matmul_weight_grad(x.reshape(1, -1), dout.reshape(1, -1), dW)
        elif dW.flags.c_contiguous:
            F.matmul_weight_grad(x, dout, dW)
        else:  # a strided dW (W given as a transposed view): through a temporary
            dW[...] = xp.dot(x.T, dout)
        return xp.dot(dout, W.T)
