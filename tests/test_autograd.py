"""ippo.autograd: every op against numerical differentiation, graph handling, textbook cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ippo.autograd as ag
from ippo import functions as F
from ippo.autograd import Tensor, no_grad, to_dot
from ippo.numerical import numerical_gradient

# derandomize: the same examples on every run (CI must not depend on luck)
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(
        np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(a) + np.abs(b), initial=0.0), 1e-8)
    )


def check_grad(f, *arrays, seed=0, tol=1e-6):
    """Backward of f(*tensors) vs numerical gradient, for every input, in float64.

    The output is reduced to a scalar with random weights, so every element of a
    non-scalar output is checked.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    out = f(*ts)
    w = np.random.default_rng(seed).standard_normal(out.shape)
    (out * w).sum().backward()

    def scalar(_):
        return float((f(*[Tensor(a) for a in arrays]).data * w).sum())

    for a, t in zip(arrays, ts, strict=True):
        num = numerical_gradient(scalar, a)
        assert t.grad is not None and t.grad.shape == a.shape
        assert t.grad.dtype == np.float64
        assert rel_err(t.grad.data, num) < tol, (t.grad.data, num)


def check_second(f, x, seed=0, tol=1e-6):
    """create_graph=True: ∂/∂x Σ w·(∂f/∂x) recorded and back-propagated, vs numerical."""
    x = np.asarray(x, dtype=np.float64)
    w = np.random.default_rng(seed + 1).standard_normal(x.shape)

    def first(xa, graph):
        t = Tensor(xa, requires_grad=True)
        f(t).backward(create_graph=graph)
        return t

    t = first(x, True)
    g = (t.grad * w).sum()
    t.zero_grad()
    g.backward()
    num = numerical_gradient(lambda _: float((first(x, False).grad.data * w).sum()), x)
    assert rel_err(t.grad.data, num) < tol, (t.grad.data, num)


def arrays(shape, lo=-2.0, hi=2.0, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


def away_from_zero(shape, seed=0):
    a = arrays(shape, 0.5, 2.0, seed)
    return a * np.random.default_rng(seed + 7).choice([-1.0, 1.0], size=shape)


# --------------------------------------------------------------------------- broadcasting ops

broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, max_side=3
)


@SETTINGS
@given(shapes=broadcast_pairs, op=st.sampled_from(["add", "sub", "mul", "div"]))
def test_binary_ops_broadcast(shapes, op):
    sa, sb = shapes.input_shapes
    a = arrays(sa, seed=1)
    b = away_from_zero(sb, seed=2)
    f = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
    }[op]
    check_grad(f, a, b)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    c=st.sampled_from([2, 3, 0.5, -1.5]),
)
def test_pow_and_neg(shape, c):
    x = arrays(shape, 0.5, 2.0, seed=3)
    check_grad(lambda t: t**c, x)
    check_grad(lambda t: -t, x)
    check_grad(lambda t: 2.0**t, x)


@SETTINGS
@given(
    batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    n=st.integers(1, 3),
    k=st.integers(1, 3),
    m=st.integers(1, 3),
)
def test_matmul_batched_broadcast(batch, n, k, m):
    ba, bb = batch.input_shapes
    check_grad(lambda a, b: a @ b, arrays(ba + (n, k), seed=4), arrays(bb + (k, m), seed=5))


@SETTINGS
@given(shapes=broadcast_pairs)
def test_pow_with_tensor_and_array_exponents(shapes):
    """x ** c with a tensor (or array) c: differentiated in both x and c, broadcast."""
    sa, sb = shapes.input_shapes
    a = arrays(sa, 0.5, 2.0, seed=22)
    b = arrays(sb, -1.5, 2.5, seed=23)
    check_grad(lambda x, c: x**c, a, b)
    check_grad(lambda x: x ** Tensor(b), a)  # a constant tensor exponent
    check_grad(lambda c: Tensor(a) ** c, b)  # the exponent only
    check_grad(lambda x: x**b, a)  # a plain array exponent
    np.testing.assert_allclose((Tensor(a) ** b).data, a**b, rtol=1e-15)


def test_pow_exponent_forms_and_second_derivative():
    c = arrays((3,), 0.5, 2.0, seed=25)
    check_second(lambda x: (x ** Tensor(c)).sum(), arrays((2, 3), 0.5, 2.0, seed=24))
    check_second(lambda e: (Tensor(arrays((2, 3), 0.5, 2.0, seed=24)) ** e).sum(), c)
    check_second(lambda e: (3.0**e).sum(), c)
    # a negative base with integer exponents is computed as NumPy does (no log of it)
    e = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    y = (-2.0) ** e
    np.testing.assert_array_equal(y.data, [4.0, -8.0])
    x = Tensor(np.array([-2.0, -1.5]), requires_grad=True)
    (x ** np.array([2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2 * -2.0, 3 * 1.5**2])
    x32 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert (x32 ** np.array([1.0, 2.0, 3.0])).dtype == np.float32
    assert (np.float64(2.0) ** x32).dtype == np.float32
    with pytest.raises(ValueError, match="pow: the exponent must be a number, an array or a "
                       "Tensor, got 'x'"):
        x32 ** "x"


def test_matmul_vectors():
    check_grad(lambda a, b: a @ b, arrays((3,)), arrays((3, 2), seed=1))
    check_grad(lambda a, b: a @ b, arrays((2, 3)), arrays((3,), seed=1))
    check_grad(lambda a, b: a @ b, arrays((3,)), arrays((3,), seed=1))
    check_grad(lambda a, b: ag.linear(a, b[:, :2], b[0]), arrays((4, 3)), arrays((3, 2), seed=1))
    check_grad(
        lambda a, w, b: ag.linear(a, w, b),
        arrays((4, 3)),
        arrays((3, 2), seed=1),
        arrays((2,), seed=2),
    )
    check_grad(lambda a, w: ag.linear(a, w), arrays((4, 3)), arrays((3, 2), seed=1))
    check_grad(
        lambda a, w, b: ag.linear(a, w, b),
        arrays((2, 4, 3)),
        arrays((3, 2), seed=1),
        arrays((2,), seed=2),
    )  # batched input: the unfused path


def test_matmul_shape_error_is_clear():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))


_X = Tensor(np.ones((2, 3)), requires_grad=True)
SHAPE_ERRORS = [
    (lambda: _X + Tensor(np.ones(4)), ValueError, r"add: shapes \(2, 3\) and \(4,\) cannot be "
     "broadcast together"),
    (lambda: np.ones((3, 2)) - _X, ValueError, r"sub: shapes \(3, 2\) and \(2, 3\)"),
    (lambda: _X * np.ones((3, 2)), ValueError, r"mul: shapes \(2, 3\) and \(3, 2\)"),
    (lambda: _X / [1.0, 2.0], ValueError, r"div: shapes \(2, 3\) and \(2,\)"),
    (lambda: _X ** np.ones(2), ValueError, r"pow: shapes \(2, 3\) and \(2,\)"),
    (lambda: ag.broadcast_to(_X, (4, 4)), ValueError,
     r"broadcast_to: a tensor of shape \(2, 3\) cannot be broadcast to \(4, 4\)"),
    (lambda: ag.sum_to(_X, (3, 1)), ValueError,
     r"sum_to: a tensor of shape \(2, 3\) cannot be summed to \(3, 1\)"),
    (lambda: ag.sum_to(_X, (1, 1, 3)), ValueError, r"sum_to: .* cannot be summed to \(1, 1, 3\)"),
    (lambda: _X.transpose(0, 0), ValueError,
     r"transpose: axes \(0, 0\) are not a permutation of the 2 axes"),
    (lambda: _X.transpose(0, 5), ValueError, r"transpose: axes \(0, 5\)"),
    (lambda: _X.transpose(1), ValueError, r"transpose: axes \(1,\)"),
    (lambda: ag.stack([_X, _X], axis=3), ValueError,
     r"stack: axis 3 is out of range .* \(valid: -3\.\.2\)"),
    (lambda: _X[5], IndexError, r"getitem: cannot index a tensor of shape \(2, 3\): index 5"),
    (lambda: _X[Tensor([0, 1])], IndexError, "getitem: index with integers, slices"),
    (lambda: _X.reshape(4, 4), ValueError, r"reshape: cannot reshape a tensor of shape \(2, 3\)"),
    (lambda: ag.linear(_X, np.ones((2, 4))), ValueError,
     r"linear: x has shape \(2, 3\) and W \(2, 4\): the last axis of x \(3\) must equal"),
    (lambda: _X.sum(axis=2), ValueError, "sum: axis 2 is out of range for a tensor with 2 axes"),
    (lambda: _X.mean(axis=(0, -2)), ValueError, r"mean: axis \(0, -2\) names the same axis"),
    (lambda: _X.max(axis=-3), ValueError, "max: axis -3 is out of range"),
    (lambda: _X.min(axis=(1, 1)), ValueError, "min: axis .* names the same axis twice"),
    (lambda: ag.concatenate([_X, _X], axis=2), ValueError, "concatenate: axis 2 is out of range"),
]


@pytest.mark.parametrize("make,error,message", SHAPE_ERRORS)
def test_shape_errors_name_the_op(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_valid_transpose_stack_and_sum_to_still_work():
    x = arrays((2, 3, 4))
    assert ag.transpose(Tensor(x), -1, 0, 1).shape == (4, 2, 3)
    assert ag.stack([Tensor(x), Tensor(x)], axis=-4).shape == (2, 2, 3, 4)
    np.testing.assert_allclose(ag.sum_to(Tensor(x), (1, 4)).data, x.sum(axis=(0, 1))[None])
    # plain arrays take the tensors' dtype in stack, as in concatenate and the arithmetic
    x32 = Tensor(np.ones((2, 3), dtype=np.float32))
    assert ag.stack([x32, np.ones((2, 3))]).dtype == np.float32
    assert ag.concatenate([x32, np.ones((2, 3))]).dtype == np.float32


# --------------------------------------------------------------------------- element-wise


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    op=st.sampled_from(
        ["exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "softmax", "log_softmax"]
    ),
)
def test_unary_ops(shape, op):
    if op in ("log", "sqrt"):
        x = arrays(shape, 0.3, 3.0, seed=6)
    elif op in ("relu", "abs"):
        x = away_from_zero(shape, seed=6)
    else:
        x = arrays(shape, -3.0, 3.0, seed=6)
    check_grad(getattr(ag, op), x)


@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "sigmoid", "tanh", "softmax", "log_softmax"])
def test_second_derivative_of_unary_ops(op):
    x = arrays((3, 4), 0.3, 2.0, seed=8)
    check_second(
        lambda t: (
            getattr(ag, op)(t).sum()
            if op not in ("softmax", "log_softmax")
            else (getattr(ag, op)(t) * Tensor(arrays((3, 4), seed=9))).sum()
        ),
        x,
    )


def test_second_derivative_of_arithmetic_matmul_and_shapes():
    W = Tensor(arrays((4, 2), seed=10))
    check_second(lambda t: ((t @ W).tanh() ** 2).sum(), arrays((3, 4), seed=11))
    b = Tensor(arrays((2,), seed=30))
    check_second(lambda t: (ag.linear(t, W, b).tanh() ** 2).sum(), arrays((3, 4), seed=11))
    check_second(
        lambda w: (ag.linear(Tensor(arrays((3, 4), seed=31)), w, b) ** 3).sum(),
        arrays((4, 2), seed=32),
    )
    check_second(
        lambda c: (ag.linear(Tensor(arrays((3, 4), seed=31)), W, c) ** 3).sum(),
        arrays((2,), seed=33),
    )
    check_second(lambda t: (t / (t * t + 1.0)).sum(axis=0).max(), arrays((3, 4), seed=12))
    check_second(lambda t: (t.T.reshape(2, 6)[:, [0, 0, 3]] ** 3).mean(), arrays((3, 4), seed=13))
    check_second(
        lambda t: (ag.concatenate([t, t * t], axis=1).sigmoid()).sum(), arrays((3, 4), seed=14)
    )
    check_second(
        lambda t: ag.broadcast_to(t, (2, 3, 4)).sum_to((3, 1)).exp().sum(), arrays((3, 4), seed=15)
    )
    check_second(lambda t: (t.relu() * t).sum(), away_from_zero((3, 4), seed=16))
    check_second(lambda t: ((-t) ** 3).min(axis=1).sum(), arrays((3, 4), seed=34))
    check_second(lambda t: (ag.stack([t, t * t], axis=1) ** 2).mean(), arrays((3, 4), seed=35))
    ids = np.array([[0, 2, 2], [1, 0, 3]])
    check_second(lambda w: (ag.embedding(w, ids) ** 3).sum(), arrays((4, 2), seed=36))
    V = Tensor(arrays((2, 4, 3), seed=37))
    check_second(lambda t: ((t @ V) ** 3).sum(), arrays((2, 3, 4), seed=38))  # batched


def test_abs_and_argmax():
    x = away_from_zero((3, 4), seed=26)
    check_second(lambda t: (abs(t) * t * t).sum(), x)  # |x|·x²: second derivative 6|x|
    t = Tensor(x.astype(np.float32), requires_grad=True)
    y = abs(t)
    assert type(y.creator).__name__ == "Abs" and y.dtype == np.float32
    np.testing.assert_array_equal(t.abs().data, np.abs(t.data))
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.sign(x))
    np.testing.assert_array_equal(t.argmax(axis=1), x.argmax(axis=1))
    np.testing.assert_array_equal(t.argmin(axis=0), x.argmin(axis=0))
    assert t.argmax() == x.argmax()


def test_augmented_assignment_records_instead_of_changing_in_place():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    h = y
    y += 1.0  # a new node; h (and the graph behind it) keep their values
    assert y is not h and type(y.creator).__name__ == "Add"
    np.testing.assert_array_equal(h.data, [2.0, 2.0, 2.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [12.0, 12.0, 12.0])  # d(2x+1)²/dx = 4(2x+1)


def test_second_derivative_of_losses():
    t_idx = np.array([0, 2, 1])
    onehot = np.eye(3)[[1, 1, 0]]
    check_second(lambda x: ag.cross_entropy(x, t_idx), arrays((3, 3), seed=17))
    check_second(lambda x: ag.cross_entropy(x, onehot) * 3.0, arrays((3, 3), seed=18))
    t_seq = np.array([[0, 2], [1, 1]])  # a batch of sequences: (N, T, C) logits, N·T samples
    check_grad(lambda x: ag.cross_entropy(x, t_seq), arrays((2, 2, 3), seed=27))
    check_second(lambda x: ag.cross_entropy(x, t_seq), arrays((2, 2, 3), seed=27))
    check_second(
        lambda x: ag.sigmoid_binary_cross_entropy(x, [[1.0], [0.0], [1.0]]), arrays((3, 1), seed=19)
    )
    check_second(lambda x: ag.mse(x * x, np.ones((3, 2))), arrays((3, 2), seed=20))


# --------------------------------------------------------------------------- reductions, shapes


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    data=st.data(),
    keepdims=st.booleans(),
    op=st.sampled_from(["sum", "mean", "max", "min"]),
)
def test_reductions(shape, data, keepdims, op):
    axis = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    x = np.random.default_rng(21).permutation(np.arange(np.prod(shape))).reshape(shape) * 0.1
    f = getattr(ag, op)
    out = f(Tensor(x), axis=axis, keepdims=keepdims)
    assert (
        out.shape
        == getattr(np, "amax" if op == "max" else "amin" if op == "min" else op)(
            x, axis=axis, keepdims=keepdims
        ).shape
    )
    check_grad(lambda t: f(t, axis=axis, keepdims=keepdims), x)


def test_max_splits_gradient_among_ties():
    x = Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 0.5, 0.5])


def test_sum_over_several_axes():
    check_grad(lambda t: t.sum(axis=(0, 2)), arrays((2, 3, 4)))
    check_grad(lambda t: t.mean(axis=(1, 2), keepdims=True), arrays((2, 3, 4)))


def test_reshape_transpose_broadcast():
    x = arrays((2, 3, 4))
    check_grad(lambda t: t.reshape(4, 6), x)
    check_grad(lambda t: t.reshape((-1,)), x)
    check_grad(lambda t: t.transpose(2, 0, 1), x)
    check_grad(lambda t: t.T, x)
    check_grad(lambda t: ag.broadcast_to(t, (5, 2, 3, 4)), x)
    check_grad(lambda t: ag.sum_to(t, (3, 1)), x)


# --------------------------------------------------------------------------- indexing


def test_indexing_and_slicing():
    x = arrays((4, 5))
    check_grad(lambda t: t[1], x)
    check_grad(lambda t: t[1:3, ::2], x)
    check_grad(lambda t: t[..., -1], x)
    check_grad(lambda t: t[[0, 2, 2, 0, 3]], x)
    check_grad(lambda t: t[np.array([1, 1]), np.array([4, 4])], x)
    check_grad(lambda t: t[x > 0], x)


def test_repeated_indices_accumulate():
    W = Tensor(np.zeros((4, 2)), requires_grad=True)
    ids = np.array([[0, 3, 3], [3, 1, 0]])
    e = ag.embedding(W, ids)
    assert e.shape == (2, 3, 2)
    e.sum().backward()
    np.testing.assert_array_equal(W.grad.data[:, 0], [2, 1, 0, 3])
    check_grad(lambda w: ag.embedding(w, ids), arrays((4, 2)))
    with pytest.raises(ValueError, match="embedding: ids must lie in 0..3"):
        ag.embedding(W, [4])


def test_concatenate_and_stack():
    a, b, c = arrays((2, 3), seed=1), arrays((2, 1), seed=2), arrays((2, 2), seed=3)
    check_grad(lambda x, y, z: ag.concatenate([x, y, z], axis=1), a, b, c)
    check_grad(lambda x, y: ag.concatenate([x, y], axis=0), a, a + 1)
    check_grad(lambda x, y: ag.stack([x, y], axis=1), a, a * 2)
    check_grad(lambda x, y: ag.stack([x, y], axis=-1), a, a * 2)
    assert ag.stack([Tensor(a), Tensor(a)], axis=2).shape == (2, 3, 2)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    data=st.data(),
)
def test_shape_ops_on_random_shapes(shape, data):
    """concatenate, stack and slicing/integer indexing on hypothesis-drawn shapes."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3))
    a, b = arrays(shape, seed=50), arrays(tuple(other), seed=51)
    check_grad(lambda x, y: ag.concatenate([x, y], axis=axis), a, b)
    check_grad(lambda x, y: ag.stack([x, y * y], axis=axis), a, a + 0.5)
    n = shape[0]
    start = data.draw(st.integers(0, n - 1))
    step = data.draw(st.sampled_from([1, 2, -1]))
    check_grad(lambda x: x[start::step], a)
    ids = np.asarray(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)))
    check_grad(lambda x: x[ids], a)  # repeated and negative indices add up


@SETTINGS
@given(n=st.integers(1, 5), d=st.integers(1, 4), k=st.integers(2, 4), data=st.data())
def test_layer_ops_and_losses_on_random_shapes(n, d, k, data):
    """linear, embedding, batch_norm and the losses on hypothesis-drawn sizes."""
    x, W, b = arrays((n, d), seed=52), arrays((d, k), seed=53), arrays((k,), seed=54)
    check_grad(lambda u, v, c: ag.linear(u, v, c), x, W, b)
    ids = np.asarray(data.draw(st.lists(st.integers(0, d - 1), min_size=1, max_size=6)))
    check_grad(lambda v: ag.embedding(v, ids), W)
    t = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    s = arrays((n, k), -3, 3, seed=55)
    check_grad(lambda z: ag.cross_entropy(z, t), s)
    check_grad(lambda z: ag.cross_entropy(z, np.eye(k)[t]), s)
    check_grad(lambda z: ag.sigmoid_binary_cross_entropy(z, (t % 2)[:, None]), s[:, :1])
    check_grad(lambda z, y: ag.mse(z, y), s, arrays((n, k), seed=56))
    if n > 2:  # with two samples x̂ = ±1 whatever x is: a gradient of ~0, no test
        g = arrays((d,), 0.5, 2.0, seed=57)
        w = arrays((n, d), seed=58)
        check_grad(lambda u, v, c: ag.batch_norm(u, v, c)[0] * Tensor(w), x, g, b[:1] + g)


# --------------------------------------------------------------------------- losses


def test_cross_entropy_with_indices_and_one_hot():
    x = arrays((4, 3), -3, 3)
    t = np.array([2, 0, 1, 2])
    check_grad(lambda z: ag.cross_entropy(z, t), x)
    check_grad(lambda z: ag.cross_entropy(z, np.eye(3)[t]), x)
    # the value matches log_softmax picked at the targets
    ref = -np.mean(ag.log_softmax(Tensor(x)).data[np.arange(4), t])
    assert ag.cross_entropy(Tensor(x), t).item() == pytest.approx(ref, rel=1e-12)
    # stable for huge logits
    big = ag.cross_entropy(Tensor(np.array([[1000.0, 0.0]])), [1])
    assert big.item() == pytest.approx(1000.0)


def test_cross_entropy_refuses_swapped_arguments_but_not_legitimate_ones():
    logits = np.array([[0.3, 2.9, -1.0], [1.0, -1.0, 0.5]])
    one_hot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="cross_entropy: the arguments look swapped"):
        ag.cross_entropy(Tensor(one_hot), logits)          # labels first, scores second
    with pytest.raises(ValueError, match="the arguments look swapped"):
        ag.cross_entropy(Tensor(np.array([1.0, 0.0])), logits)  # indices first
    # legitimate: scores with indices, one-hot or soft targets; 0/1 scores with soft targets
    ag.cross_entropy(Tensor(logits), np.array([1, 0]))
    ag.cross_entropy(Tensor(logits), one_hot)
    ag.cross_entropy(Tensor(one_hot), 0.8 * one_hot + 0.1 * (1 - one_hot) / 1)
    ag.cross_entropy(Tensor(one_hot), np.array([1, 0]))


def test_binary_cross_entropy_and_mse():
    x = arrays((5, 1), -3, 3)
    t = np.array([1, 0, 0, 1, 1])
    check_grad(lambda z: ag.sigmoid_binary_cross_entropy(z, t), x)
    y, target = arrays((5, 2), seed=1), arrays((5, 2), seed=2)
    check_grad(lambda a, b: ag.mse(a, b), y, target)
    check_grad(lambda a: ag.mse(a, t.astype(float)), x)  # (N,) target for (N, 1)
    assert ag.mse(Tensor(y), target).item() == pytest.approx(0.5 * np.mean((y - target) ** 2))


def test_dropout():
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    y = ag.dropout(x, p=0.3, rng=np.random.default_rng(0))
    kept = y.data != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # gradient = the mask
    assert ag.dropout(x, p=0.3, training=False) is x
    # the same seed gives the same mask at every evaluation: a numerical check works
    check_grad(lambda z: ag.dropout(z, p=0.4, rng=3), arrays((6, 5)))
    check_second(lambda z: (ag.dropout(z, p=0.4, rng=3) ** 3).sum(), arrays((6, 5)))
    with pytest.raises(ValueError, match="p must be in"):
        ag.dropout(x, p=1.0)


# --------------------------------------------------------------------------- graph handling


def test_shopping_graph():
    """2 apples at 100 yen with 10% tax: the course's first computational graph."""
    apple = Tensor(100.0, requires_grad=True, name="apple")
    num = Tensor(2.0, requires_grad=True, name="num")
    tax = Tensor(1.1, requires_grad=True, name="tax")
    apple_price = (apple * num).retain_grad()
    price = apple_price * tax
    assert price.item() == pytest.approx(220.0)
    price.backward()
    assert apple.grad.item() == pytest.approx(2.2)
    assert num.grad.item() == pytest.approx(110.0)
    assert tax.grad.item() == pytest.approx(200.0)
    assert apple_price.grad.item() == pytest.approx(1.1)


def test_chain_rule_square_then_cube():
    x = Tensor(np.array(3.0), requires_grad=True, dtype=np.float64)
    y = (x**2).retain_grad()
    z = y**3
    z.backward()
    assert z.item() == 729.0
    assert y.grad.item() == pytest.approx(3 * 9.0**2)  # dz/dy = 3y²
    assert x.grad.item() == pytest.approx(6 * 3.0**5)  # dz/dx = 3y²·2x = 6x⁵


def test_branch_accumulates():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x + x  # x used three times
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 1)
    a = Tensor(2.0, requires_grad=True)
    b = a + a
    (b * b).backward()  # d(4a²)/da = 8a
    assert a.grad.item() == 16.0


def test_gradients_accumulate_across_calls_until_zero_grad():
    x = Tensor(3.0, requires_grad=True)
    (x * x).backward()
    (x * x).backward()
    assert x.grad.item() == 12.0
    x.zero_grad()
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_leaf_grads_do_not_alias():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.data is not b.grad.data
    a.grad.data[0] = 5.0
    assert b.grad.data[0] == 1.0


def test_deep_chain_has_no_recursion_limit():
    x = Tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    # to_dot walks the graph iteratively too: per Mul, two arrows in and one out
    assert to_dot(y).count("->") == 3 * 10_000
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000)
    assert to_dot(x).count("->") == 0


def test_deep_chain_second_derivative():
    """create_graph=True on a chain three times deeper than Python's recursion limit."""
    x = Tensor(1.5, requires_grad=True, dtype=np.float64)
    y = x**3
    for _ in range(3000):
        y = y * 1.0001
    y.backward(create_graph=True)
    gx = x.grad
    x.zero_grad()
    gx.backward()
    assert x.grad.item() == pytest.approx(6 * 1.5 * 1.0001**3000, rel=1e-12)


def test_graph_released_unless_retained():
    x = Tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    x.zero_grad()
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 12.0)


def test_graph_release_frees_intermediates():
    x = Tensor(np.ones(3), requires_grad=True)
    h = x * 2.0
    y = (h * h).sum()
    fn = y.creator
    y.backward()
    assert fn.inputs is None and h.creator.inputs is None


def test_graph_release_covers_branches_that_get_no_gradient():
    class FirstOnly(ag.Function):  # passes no gradient to its second input
        def forward(self, a, b):
            return a + b

        def backward(self, gy, y, xs):
            return gy, None

    x = Tensor(np.ones(3), requires_grad=True)
    side = x * 3.0  # reaches the loss only through FirstOnly's second input
    y = FirstOnly()(x * 2.0, side).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
    assert side.creator.inputs is None  # released although no gradient went through it


def test_second_derivative_and_newton():
    """y = x⁴ − 2x²: y'' = 12x² − 4 = 44 at x = 2; Newton's method finds the minimum x = 1."""
    x = Tensor(2.0, requires_grad=True, dtype=np.float64)
    y = x**4 - 2 * x**2
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.item() == pytest.approx(24.0)  # 4x³ − 4x
    x.zero_grad()
    gx.backward()
    assert x.grad.item() == pytest.approx(44.0)

    x = Tensor(2.0, requires_grad=True, dtype=np.float64)
    path = []
    for _ in range(10):
        y = x**4 - 2 * x**2
        x.zero_grad()
        y.backward(create_graph=True)
        gx = x.grad
        x.zero_grad()
        gx.backward()
        x.data = x.data - gx.data / x.grad.data
        path.append(x.item())
    assert path[0] == pytest.approx(2 - 24 / 44)
    assert abs(path[-1] - 1.0) < 1e-12


def test_third_derivative():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    (x**4).sum().backward(create_graph=True)
    g1 = x.grad
    x.zero_grad()
    g1.sum().backward(create_graph=True)
    g2 = x.grad
    x.zero_grad()
    g2.sum().backward()
    np.testing.assert_allclose(x.grad.data, 24 * x.data)


def test_no_grad_records_nothing():
    W = Tensor(np.ones((2, 2)), requires_grad=True)
    with no_grad():
        y = (W @ W).relu()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert y.creator is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require gradients"):
        y.sum().backward()


def test_no_grad_as_decorator_and_enable_grad_inside():
    W = Tensor(np.ones((2, 2)), requires_grad=True)

    @no_grad()
    def predict(x):
        return x @ W

    assert predict(np.ones((1, 2))).creator is None
    with no_grad():
        with ag.enable_grad():
            y = W * 2.0
        z = W * 2.0
    assert y.requires_grad and not z.requires_grad
    with pytest.raises(RuntimeError, match="boom"):  # an error inside restores recording
        with no_grad():
            raise RuntimeError("boom")
    assert ag.is_grad_enabled()


def test_constants_get_no_gradient_and_no_work():
    x = Tensor(np.ones((3, 2)))  # a constant input (like a batch of data)
    W = Tensor(np.ones((2, 2)), requires_grad=True)
    y = x @ W
    assert y.creator.needs == (False, True)
    y.sum().backward()
    assert x.grad is None and W.grad is not None


def test_explicit_seed_is_not_aliased_by_grad():
    g = np.array([1.0, 2.0, 3.0])
    x = Tensor(np.zeros(3), requires_grad=True)
    x.backward(g)  # the root is a leaf: its grad is the seed itself
    g[0] = 100.0
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])
    a = Tensor(np.zeros(3), requires_grad=True)
    g = np.ones(3)
    (a + 1.0).backward(g, create_graph=True)  # the graph path hands the seed through too
    g[0] = 100.0
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0, 1.0])


def test_comparisons_truth_and_len():
    x = Tensor(np.array([-1.0, 2.0, 0.5]), requires_grad=True)
    mask = x > 0
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    np.testing.assert_array_equal(mask, [False, True, True])
    np.testing.assert_array_equal(x <= 0.5, [True, False, True])
    np.testing.assert_array_equal(x >= Tensor(np.array([0.0, 2.0, 1.0])), [False, True, False])
    np.testing.assert_array_equal(x < np.array([0.0, 0.0, 1.0]), [True, False, True])
    x[x > 0].sum().backward()  # a mask from a comparison indexes the tensor
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0])
    assert bool(Tensor(0.0)) is False and bool(Tensor([2.0])) is True
    if Tensor(1.0) > 2.0:
        raise AssertionError("1 > 2")
    with pytest.raises(ValueError, match=r"truth value of a tensor of shape \(3,\) is ambiguous"):
        bool(x)
    assert len(x) == 3
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(1.0))


def test_retain_grad_needs_a_tensor_that_gets_gradients():
    with pytest.raises(RuntimeError, match="retain_grad: this tensor does not require gradients"):
        Tensor(1.0).retain_grad()
    with no_grad():
        y = Tensor(1.0, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="retain_grad"):
        y.retain_grad()


def test_backward_needs_gradient_for_non_scalar():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    with pytest.raises(ValueError, match="non-scalar"):
        y.backward()
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])


# --------------------------------------------------------------------------- PyTorch habits
# Every spelling a PyTorch (or NumPy) user brings gives their result, or a clear error.


def test_equality_gives_element_wise_masks_and_tensors_stay_hashable():
    x = Tensor(np.array([1.0, 3.0, 5.0, 3.0]), requires_grad=True)
    np.testing.assert_array_equal(x == 3, [False, True, False, True])
    np.testing.assert_array_equal(x != 3, [True, False, True, False])
    np.testing.assert_array_equal(x == Tensor([1.0, 0.0, 5.0, 0.0]), [True, False, True, False])
    np.testing.assert_array_equal(x[x == 3].data, [3.0, 3.0])  # was silently empty
    x[x == 3].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0, 1.0])
    y = Tensor(x.data)  # equal values, another tensor
    table = {x: "x", y: "y"}  # hashed by identity, as in PyTorch
    assert table[x] == "x" and table[y] == "y" and len({x, y, x}) == 2
    assert x in [x] and y in [y]  # list lookups compare identity first
    with pytest.raises(ValueError, match="truth value of an array"):
        bool(x == y)  # several elements: ambiguous, as in NumPy and PyTorch


def test_transpose_keeps_numpy_meaning_and_refuses_what_pytorch_reads_otherwise():
    a = np.arange(6.0).reshape(2, 3)
    x = Tensor(a, requires_grad=True)
    with pytest.raises(ValueError, match=r"^transpose\(0, 1\) is ambiguous for a tensor of "
                                         r"shape \(2, 3\): NumPy .*\(the tensor unchanged\), "
                                         r"PyTorch as two axes to swap; write swapaxes\(0, 1\)"):
        x.transpose(0, 1)
    np.testing.assert_array_equal(x.transpose(1, 0).data, a.T)  # a swap in both readings
    np.testing.assert_array_equal(x.transpose().data, a.T)
    np.testing.assert_array_equal(x.swapaxes(0, 1).data, a.T)
    np.testing.assert_array_equal(x.transpose(dim0=0, dim1=1).data, a.T)  # PyTorch keywords
    np.testing.assert_array_equal(x.mT.data, a.T)
    b = np.arange(24.0).reshape(2, 3, 4)
    z = Tensor(b)
    with pytest.raises(ValueError, match=r"transpose\(0, 2\) is ambiguous .* \(an error, it "
                                         r"has 3 axes\).*swapaxes\(0, 2\)"):
        z.transpose(0, 2)
    np.testing.assert_array_equal(z.swapaxes(0, 2).data, np.swapaxes(b, 0, 2))
    np.testing.assert_array_equal(z.permute(2, 0, 1).data, b.transpose(2, 0, 1))
    np.testing.assert_array_equal(z.permute((2, 0, 1)).data, b.transpose(2, 0, 1))
    np.testing.assert_array_equal(z.transpose(2, 0, 1).data, b.transpose(2, 0, 1))
    np.testing.assert_array_equal(z.mT.data, np.swapaxes(b, -1, -2))
    with pytest.raises(ValueError, match=r"permute: axes \(0, 1\) are not a permutation"):
        z.permute(0, 1)
    with pytest.raises(ValueError, match="swapaxes: axis 3 is out of range"):
        z.swapaxes(0, 3)
    check_grad(lambda t: t.swapaxes(0, 2) * Tensor(np.arange(24.0).reshape(4, 3, 2)), b)
    check_grad(lambda t: t.permute(1, 2, 0) * Tensor(np.arange(24.0).reshape(3, 4, 2)), b)


def test_reductions_accept_pytorch_dim_and_keepdim():
    a = np.arange(12.0).reshape(3, 4) - 5
    x = Tensor(a)
    np.testing.assert_array_equal(x.sum(dim=1, keepdim=True).data, a.sum(1, keepdims=True))
    np.testing.assert_array_equal(x.mean(dim=0).data, a.mean(0))
    np.testing.assert_array_equal(x.sum(1).data, a.sum(1))  # the same in both libraries
    assert x.argmax(dim=1).tolist() == [3, 3, 3] and x.argmin(dim=0).tolist() == [0] * 4
    assert x.argmax(dim=1, keepdim=True).shape == (3, 1)
    with pytest.raises(TypeError, match=r"sum: give axis= \(NumPy's name\) or dim="):
        x.sum(axis=0, dim=0)
    with pytest.raises(TypeError, match="keepdims= .* or keepdim="):
        x.mean(axis=0, keepdims=True, keepdim=True)


def test_max_and_min_follow_the_spelling_and_refuse_the_ambiguous_one():
    a = np.array([[1.0, 7.0, 3.0], [9.0, 2.0, 4.0]])
    x = Tensor(a, requires_grad=True)
    np.testing.assert_array_equal(x.max(axis=1).data, [7.0, 9.0])  # NumPy: the values
    values, indices = x.max(dim=1)  # PyTorch: (values, indices)
    np.testing.assert_array_equal(values.data, [7.0, 9.0])
    np.testing.assert_array_equal(indices, [1, 0])
    r = x.min(dim=0, keepdim=True)
    np.testing.assert_array_equal(r.values.data, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(r.indices, [[0, 1, 0]])
    assert x.max().item() == 9.0 and x.min().item() == 1.0  # all elements: the same in both
    for call in (lambda: x.max(1), lambda: x.min(0), lambda: ag.max(x, 1),
                 lambda: ag.max(x, Tensor(a))):
        with pytest.raises(TypeError, match=r"ambiguous: in NumPy .* in PyTorch .*write "
                                            r"m..\(axis=1\) for the values, m..\(dim=1\) for "
                                            r"\(values, indices\)"):
            call()
    x.max(dim=1).values.sum().backward()  # the values are differentiable
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [1, 0, 0]])


def test_size_shape_and_conversions_as_in_pytorch():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.size == 6 and x.numel() == 6 and x.ndim == 2 and x.dim() == 2  # NumPy's .size
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2  # PyTorch's size()
    with pytest.raises(IndexError, match="size: dim 2 is out of range"):
        x.size(2)
    np.testing.assert_array_equal(x.view(3, 2).data, np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(x.view(-1).data, np.arange(6.0))
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    one = Tensor(2.75)
    assert one.item() == 2.75 and float(one) == 2.75 and int(one) == 2
    assert f"{one:.1f}" == "2.8" and f"{Tensor([0.5]):.2f}" == "0.50"
    with pytest.raises(ValueError, match=r"item: only a one-element tensor .* shape \(2, 3\)"):
        x.item()
    with pytest.raises(ValueError):
        float(x)


def test_iteration_cat_and_stack_as_in_pytorch():
    a = np.arange(6.0).reshape(2, 3)
    x = Tensor(a)
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0, 5.0]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(Tensor(1.0))  # was silently an empty list
    assert ag.concatenate([x, x], dim=1).shape == (2, 6)
    assert ag.stack([x, x], dim=2).shape == (2, 3, 2)


def test_softmax_takes_the_last_axis_by_name_and_refuses_another():
    a = np.arange(6.0).reshape(2, 3)
    x = Tensor(a)
    np.testing.assert_allclose(x.softmax(dim=-1).data, x.softmax().data)
    np.testing.assert_allclose(ag.log_softmax(x, dim=1).data, x.log_softmax().data)
    with pytest.raises(ValueError, match=r"softmax: works over the last axis; axis 0 of a "
                                         r"tensor of shape \(2, 3\) is not it"):
        x.softmax(dim=0)
    with pytest.raises(ValueError, match="log_softmax: works over the last axis"):
        x.log_softmax(0)


def test_pytorch_names_ippo_lacks_say_what_to_use():
    x = Tensor([1.0, 2.0])
    for name, hint in [("float", "float32 already"), ("unsqueeze", "reshape"),
                       ("std", "divides by N"), ("clone", "detach")]:
        with pytest.raises(AttributeError, match=rf"no attribute '{name}' \(PyTorch has it\)"
                                                 rf": .*{hint}"):
            getattr(x, name)
    with pytest.raises(AttributeError, match=r"'exp_' \(PyTorch has it\): no in-place"):
        x.exp_()
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'nope'$"):
        x.nope  # noqa: B018
    w = Tensor([1.0, 2.0]).requires_grad_()
    (w * w).sum().backward(gradient=np.float32(1.0))  # PyTorch's keyword for the seed
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="requires_grad_: only a leaf"):
        (w * 2).requires_grad_()


def test_optimizers_given_parameters_the_pytorch_way_say_how_ippo_takes_them():
    from ippo import optimizers
    from ippo.autograd import nn

    model = nn.MLP([2, 3], seed=0)
    with pytest.raises(ValueError, match=r"^SGD: the first argument is the learning rate, got "
                                         r"list .*nn.Optimizer\(optimizers.SGD\(lr=0.01\), "
                                         r"model.parameters\(\)\)"):
        optimizers.SGD(model.parameters())
    opt = nn.Optimizer(optimizers.SGD(lr=0.1), model)  # the model itself works too
    assert opt.params == model.parameters()


def test_integers_that_float32_cannot_hold_exactly_are_refused():
    assert Tensor([2**24]).item() == 2**24
    with pytest.raises(ValueError, match=r"integers beyond ±16,777,216 are not exact in float32"):
        Tensor([2**24 + 1])  # would silently become 16,777,216
    assert Tensor([2**24 + 1], dtype=np.float64).item() == 2**24 + 1


# --------------------------------------------------------------------------- dtypes


def test_float32_default_and_no_silent_promotion():
    x = Tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
    assert x.dtype == np.float32
    W = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    scale = np.float64(0.5)  # a NumPy float64 scalar would promote a float32 array
    y = (x @ W) * scale + np.float64(1.0) - 2.0
    y = ((y / 3 + y**2).exp().log().sqrt() + y.sigmoid() + y.tanh() + y.relu()).mean(axis=0)
    z = ag.concatenate([y.softmax(), y.log_softmax(), 2.0**y], axis=0)
    loss = ag.cross_entropy(z.reshape(3, 3), [0, 1, 2]) + ag.mse(z, np.zeros(9)) + z.max()
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32  # integers become float32


def test_float32_second_derivatives_stay_float32():
    x = Tensor([[0.5, 1.2], [0.3, -0.7]], requires_grad=True)
    W = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = (
        ag.cross_entropy((x @ W).tanh() * np.float64(2.0), [0, 1])
        + ag.mse(x.sigmoid(), np.zeros((2, 2)))
        + (x.softmax() * x.log_softmax()).sum()
        + (x**3).mean() * np.float64(0.5)
        + (ag.batch_norm(x, np.ones(2), np.zeros(2))[0] ** 3).sum()
        + (abs(x) ** np.array([2.0, 3.0])).sum()
    )
    y.backward(create_graph=True)
    g = (x.grad * x.grad).sum() + (W.grad**2).sum()
    assert g.dtype == np.float32
    x.zero_grad()
    W.zero_grad()
    g.backward()
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32


def test_float64_on_request():
    x = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = (x * 3 + 1.5) ** 2
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64
    assert Tensor(np.zeros(2)).dtype == np.float64  # a float64 array keeps its precision


def test_ndarray_operands_defer_to_tensor():
    x = Tensor(np.ones(2), requires_grad=True)
    y = np.array([2.0, 3.0]) * x + np.array([1.0, 1.0])
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 3.0])


# --------------------------------------------------------------------------- to_dot


def test_to_dot_writes_the_graph():
    a = Tensor(2.0, requires_grad=True, name="a")
    b = Tensor(3.0, name="b")
    y = (a * b + a).exp()
    text = to_dot(y)
    assert text.startswith("digraph g {") and text.rstrip().endswith("}")
    for op in ("Mul", "Add", "Exp"):
        assert f'label="{op}"' in text
    assert 'label="a"' in text and 'label="b"' in text
    assert text.count("->") == 2 + 2 + 1 + 3  # inputs into Mul, Add, Exp + one out of each
    y.backward()
    with pytest.raises(ValueError, match="released"):
        to_dot(y)


def test_to_dot_verbose_several_outputs_and_quotes():
    w = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True, name='w "in"')
    s = (w * 2.0).sum()
    text = to_dot([s, w], verbose=True)
    assert 'label="w \\"in\\"\\n2×3 float32", color=orange' in text
    assert 'label="12 (float32)"' in text  # a one-element result shows its value
    assert 'label="2 (float32)", color=lightgrey' in text  # the constant 2.0, in grey
    assert text.count("->") == 3 + 2 and text.count('label="Sum"') == 1
    assert 'label="w \\"in\\""' in to_dot(s)  # not verbose: a named tensor shows its name
    back = Tensor(1.0, requires_grad=True, name="C:\\x")  # a backslash is escaped too
    assert 'label="C:\\\\x"' in to_dot(back * 2.0)
    with pytest.raises(ValueError, match="to_dot: expected a Tensor, got ndarray"):
        to_dot(np.ones(2))
    titled = to_dot(s, title='the "sum"')
    assert titled.splitlines()[2] == '  labelloc=t; label="the \\"sum\\"";'
    assert "labelloc" not in to_dot(s)  # no title: no graph label


def test_leaky_relu_l2_penalty_identity():
    x = away_from_zero((3, 4), seed=40)
    check_grad(lambda t: ag.leaky_relu(t, 0.1), x)
    check_second(lambda t: (ag.leaky_relu(t, 0.1) ** 2).sum(), x)
    check_grad(
        lambda a, b: ag.l2_penalty([a, b], 0.3), arrays((3, 2), seed=41), arrays((4,), seed=42)
    )
    check_second(lambda a: ag.l2_penalty([a * a], 0.3), arrays((3, 2), seed=41))
    w = np.arange(4.0)
    assert ag.l2_penalty([Tensor(w)], 0.5).item() == pytest.approx(0.25 * (w**2).sum())
    t = Tensor(x)
    assert ag.identity(t) is t


def test_asarray_gives_the_data():
    t = Tensor(np.arange(3.0))
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_user_defined_function():
    class Cube(ag.Function):
        def forward(self, x):
            return x**3

        def backward(self, gy, y, xs):
            return (3 * xs[0] ** 2 * gy,)  # works on arrays and, for create_graph, tensors

    check_grad(lambda t: Cube()(t), arrays((2, 3)))
    check_second(lambda t: Cube()(t).sum(), arrays((2, 3)))
    x = Tensor(2.0, requires_grad=True)
    y = Cube()(x)
    assert y.item() == 8.0 and type(y.creator).__name__ == "Cube"
    y.backward()
    assert x.grad.item() == 12.0


def test_user_defined_function_mistakes_get_clear_errors():
    class Double(ag.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy, y, xs):
            return 2 * gy  # one input: the gradient alone is accepted

    class Wrong(ag.Function):
        def forward(self, x, w):
            return x * w

        def backward(self, gy, y, xs):
            return (gy.sum(axis=0), None, None)

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    Double()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))
    f = Double()
    f(x)
    with pytest.raises(RuntimeError, match="Double: this instance is already a node"):
        f(x)
    w = Tensor(np.ones(3))
    with pytest.raises(ValueError, match="Wrong.backward returned 3 gradients for 2 inputs"):
        Wrong()(x, w).sum().backward()

    class WrongShape(Wrong):
        def backward(self, gy, y, xs):
            return (gy.sum(axis=0), None)

    with pytest.raises(ValueError, match=r"WrongShape.backward returned a gradient of shape "
                       r"\(3,\) for an input of shape \(2, 3\)"):
        WrongShape()(x, w).sum().backward()


# ------------------------------------------------------------------ loss input checks


LOSS_ERRORS = [
    ("cross_entropy", np.ones((2, 3)), [0.5, 1], "t of shape (2,) looks like class indices"),
    ("cross_entropy", np.ones((2, 3)), [0, 3], "class index out of range"),
    ("cross_entropy", np.ones((2, 3)), np.ones((2, 2)), "logits has shape (2, 3) but t has "
                                                         "shape (2, 2)"),
    ("cross_entropy", np.float32(1.0), 0, "logits must have at least one axis"),
    ("cross_entropy", np.ones((2, 3)), ["a", "b"], "t must be a numeric array"),
    ("sigmoid_binary_cross_entropy", np.ones((2, 1)), [0, 2], "targets must lie in [0, 1]"),
    ("sigmoid_binary_cross_entropy", np.ones((2, 1)), [0, 1, 1], "logits has shape (2, 1) but "
                                                                "t has shape (3,)"),
]


@pytest.mark.parametrize("name,x,t,message", LOSS_ERRORS)
def test_losses_check_targets_as_the_math_core_does(name, x, t, message):
    """The autograd losses reject what ``ippo.functions`` rejects, with the same words."""
    with pytest.raises(ValueError) as got:
        getattr(ag, name)(Tensor(x), t)
    assert str(got.value).startswith(f"{name}: ") and message in str(got.value)
    core = {"cross_entropy": "softmax_cross_entropy"}.get(name, name)
    with pytest.raises(ValueError) as want:
        getattr(F, core)(x, t)
    assert message.replace("logits", "x") in str(want.value)


def test_losses_accept_int_float_and_onehot_targets_alike():
    x = Tensor(np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], dtype=np.float32))
    a = ag.cross_entropy(x, np.array([1, 2])).item()
    assert ag.cross_entropy(x, np.array([1.0, 2.0])).item() == a
    assert ag.cross_entropy(x, np.eye(3)[[1, 2]]).item() == pytest.approx(a, rel=1e-6)
    assert a == pytest.approx(F.softmax_cross_entropy(x.data, [1, 2]), rel=1e-6)
    z = Tensor(np.array([[0.3], [-2.0]], dtype=np.float32))
    b = ag.sigmoid_binary_cross_entropy(z, np.array([1, 0]))
    assert b.dtype == np.float32
    assert b.item() == pytest.approx(F.sigmoid_binary_cross_entropy(z.data, [[1], [0]]), rel=1e-6)
