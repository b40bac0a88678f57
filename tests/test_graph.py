"""ippo.graph: the shopping example, every node against numerical_gradient, bad shapes."""

import numpy as np
import pytest

from ippo.graph import Add, Branch, Div, Exp, MatMul, Mul, Repeat, Sum
from tests.helpers import check_gradient

RNG = np.random.default_rng(2)


# --------------------------------------------------------------------------- the course's example


def test_shopping_example_apples_and_tax():
    apple, count, tax = 100, 2, 1.1
    mul_apple, mul_tax = Mul(), Mul()
    price = mul_tax.forward(mul_apple.forward(apple, count), tax)
    assert price == pytest.approx(220.0, rel=1e-15)

    d_apple_total, d_tax = mul_tax.backward(1)
    d_apple, d_count = mul_apple.backward(d_apple_total)
    assert d_apple == pytest.approx(2.2, rel=1e-15)
    assert d_count == pytest.approx(110.0, rel=1e-15)
    assert d_tax == pytest.approx(200.0, rel=1e-15)


def test_shopping_example_apples_and_oranges():
    """The course's second example: 2 apples at 100, 3 oranges at 150, tax 1.1 → 715."""
    mul_apple, mul_orange, add, mul_tax = Mul(), Mul(), Add(), Mul()
    total = add.forward(mul_apple.forward(100, 2), mul_orange.forward(150, 3))
    price = mul_tax.forward(total, 1.1)
    assert price == pytest.approx(715.0)

    d_total, d_tax = mul_tax.backward(1)
    d_apple_price, d_orange_price = add.backward(d_total)
    d_apple, d_apple_count = mul_apple.backward(d_apple_price)
    d_orange, d_orange_count = mul_orange.backward(d_orange_price)
    np.testing.assert_allclose([d_apple, d_apple_count, d_orange, d_orange_count, d_tax],
                               [2.2, 110.0, 3.3, 165.0, 650.0], rtol=1e-14)


# --------------------------------------------------------------------------- against numerical


def test_add_and_mul_match_numerical():
    x, y = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    dout = RNG.normal(size=(3, 4))
    for node in (Add(), Mul()):
        node.forward(x, y)
        dx, dy = node.backward(dout)
        check_gradient(lambda v, node=node: np.sum(dout * node.forward(v, y)), x, dx)
        check_gradient(lambda v, node=node: np.sum(dout * node.forward(x, v)), y, dy)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_branch_matches_numerical(n):
    x = RNG.normal(size=(2, 3))
    douts = [RNG.normal(size=(2, 3)) for _ in range(n)]
    saved = [d.copy() for d in douts]
    node = Branch(n)
    outs = node.forward(x)
    assert len(outs) == n and all(o is x for o in outs)
    dx = node.backward(douts)
    np.testing.assert_allclose(dx, sum(douts))
    for d, s in zip(douts, saved, strict=True):
        np.testing.assert_array_equal(d, s)  # upstream gradients untouched by backward

    def f(v):
        return sum(np.sum(d * o) for d, o in zip(douts, node.forward(v), strict=True))

    check_gradient(f, x, dx)


@pytest.mark.parametrize("shape, axis", [((5,), 0), ((5,), 1), ((5,), -1), ((2, 3), 1)])
def test_repeat_matches_numerical(shape, axis):
    x = RNG.normal(size=shape)
    node = Repeat(4, axis=axis)
    y = node.forward(x)
    expected_shape = list(shape)
    expected_shape.insert(axis % (len(shape) + 1), 4)
    assert y.shape == tuple(expected_shape)
    np.testing.assert_array_equal(np.take(y, 2, axis=axis), x)
    dout = RNG.normal(size=y.shape)
    dx = node.backward(dout)
    assert dx.shape == x.shape
    check_gradient(lambda v: np.sum(dout * node.forward(v)), x, dx)


@pytest.mark.parametrize("shape, axis, keepdims",
                         [((4, 5), 0, False), ((4, 5), 1, False), ((4, 5), -1, True),
                          ((2, 3, 4), 1, False), ((6,), 0, False)])
def test_sum_matches_numerical(shape, axis, keepdims):
    x = RNG.normal(size=shape)
    node = Sum(axis=axis, keepdims=keepdims)
    y = node.forward(x)
    np.testing.assert_allclose(y, np.sum(x, axis=axis, keepdims=keepdims))
    dout = RNG.normal(size=np.shape(y))
    dx = node.backward(dout)
    assert dx.shape == x.shape
    dx[...] += 0  # writable: a real array, not a broadcast view
    check_gradient(lambda v: np.sum(dout * node.forward(v)), x, dx)


def test_repeat_then_sum_is_the_bias_pattern():
    """Repeat copies a bias to every row; its backward is Sum's forward, and vice versa."""
    b = RNG.normal(size=3)
    rep, add = Repeat(4), Add()
    x = RNG.normal(size=(4, 3))
    add.forward(x, rep.forward(b))
    dout = RNG.normal(size=(4, 3))
    _, db_rows = add.backward(dout)
    np.testing.assert_allclose(rep.backward(db_rows), Sum(axis=0).forward(dout))


@pytest.mark.parametrize("x_shape", [(4, 3), (3,)], ids=["batch", "one sample"])
def test_matmul_matches_numerical(x_shape):
    W = RNG.normal(size=(3, 5))
    x = RNG.normal(size=x_shape)
    node = MatMul(W)
    y = node.forward(x)
    np.testing.assert_allclose(y, x @ W)
    dout = RNG.normal(size=y.shape)
    dW_array = node.grads[0]
    dx = node.backward(dout)
    assert node.grads[0] is dW_array  # written in place, never rebound
    assert node.params[0] is W  # W is held, not copied
    check_gradient(lambda v: np.sum(dout * node.forward(v)), x, dx, name="dx")
    node.forward(x)
    check_gradient(lambda _: np.sum(dout * node.forward(x)), W, node.grads[0], name="dW")
    np.testing.assert_allclose(dx, dout @ W.T)
    np.testing.assert_allclose(node.grads[0], np.outer(x, dout) if x.ndim == 1 else x.T @ dout)


def test_matmul_float32_stays_float32():
    W = RNG.normal(size=(3, 2)).astype(np.float32)
    node = MatMul(W)
    y = node.forward(RNG.normal(size=(4, 3)).astype(np.float32))
    dx = node.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == node.grads[0].dtype == np.float32


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("node_cls", [Add, Mul])
def test_binary_nodes_reject_mismatched_shapes(node_cls):
    node = node_cls()
    with pytest.raises(ValueError, match=rf"{node_cls.__name__}.forward.*\(2, 3\).*\(3, 2\)"):
        node.forward(np.zeros((2, 3)), np.zeros((3, 2)))
    node.forward(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"{node_cls.__name__}.backward.*\(3,\).*\(2, 3\)"):
        node.backward(np.zeros(3))


def test_matmul_rejects_bad_shapes():
    node = MatMul(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"MatMul.forward: x has shape \(4, 2\).*\(3, 5\)"):
        node.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="MatMul.backward called before"):
        node.backward(np.zeros((4, 5)))
    node.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"MatMul.backward: dout has shape \(4, 3\).*\(4, 5\)"):
        node.backward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"MatMul: W must be a 2-D matrix.*\(3,\)"):
        MatMul(np.zeros(3))


def test_branch_repeat_sum_reject_bad_input():
    with pytest.raises(ValueError, match="Branch: n must be a positive integer"):
        Branch(0)
    branch = Branch(3)
    branch.forward(np.zeros(2))
    with pytest.raises(ValueError, match="Branch.backward: expected 3 upstream gradients"):
        branch.backward([np.zeros(2)] * 2)
    with pytest.raises(ValueError, match=r"Branch.backward: dout has shape \(3,\)"):
        branch.backward([np.zeros(2), np.zeros(2), np.zeros(3)])

    with pytest.raises(ValueError, match="Repeat: n must be a positive integer"):
        Repeat(2.5)
    with pytest.raises(ValueError, match=r"Repeat.forward: axis 3 is out of range.*\(4,\)"):
        Repeat(2, axis=3).forward(np.zeros(4))
    rep = Repeat(2)
    rep.forward(np.zeros(4))
    with pytest.raises(ValueError, match=r"Repeat.backward: dout has shape \(4,\).*\(2, 4\)"):
        rep.backward(np.zeros(4))

    with pytest.raises(ValueError, match=r"Sum.forward: axis 2 is out of range.*\(2, 3\)"):
        Sum(axis=2).forward(np.zeros((2, 3)))
    s = Sum(axis=0)
    s.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Sum.backward: dout has shape \(2,\).*\(3,\)"):
        s.backward(np.zeros(2))
    with pytest.raises(ValueError, match="Sum.forward: x: expected a numeric array"):
        Sum().forward(np.array(["a"]))


# --------------------------------------------------------------------------- audit: edge cases


@pytest.mark.parametrize("node_cls", [Add, Mul])
@pytest.mark.parametrize("x, got", [([1, 2], "a list"), ("ab", "str"),
                                    (np.array(["a", "b"]), "an array of dtype <U1")],
                         ids=["list", "str", "str array"])
def test_binary_nodes_reject_non_numeric_input(node_cls, x, got):
    """Lists and strings would be concatenated (or repeated) by + and *, silently."""
    for args, name in (((x, np.zeros(2)), "x"), ((np.zeros(2), x), "y")):
        with pytest.raises(ValueError, match=rf"{node_cls.__name__}.forward: {name} must be a "
                                             rf"number or a numeric array, got {got}"):
            node_cls().forward(*args)


@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_of_every_element(keepdims):
    x = RNG.normal(size=(3, 4))
    node = Sum(axis=None, keepdims=keepdims)
    y = node.forward(x)
    assert np.shape(y) == ((1, 1) if keepdims else ())
    np.testing.assert_allclose(y, np.sum(x), rtol=1e-14)
    dout = np.full(np.shape(y), 2.5)
    dx = node.backward(dout)
    np.testing.assert_array_equal(dx, np.full((3, 4), 2.5))
    check_gradient(lambda v: float(np.sum(2.5 * node.forward(v))), x, dx)
    with pytest.raises(ValueError, match=r"Sum.backward: dout has shape \(3,\)"):
        node.backward(np.zeros(3))


def test_bad_axis_and_counts_name_the_node():
    with pytest.raises(ValueError, match="Sum: axis must be an integer or None, got '0'"):
        Sum(axis="0")
    with pytest.raises(ValueError, match="Repeat: axis must be an integer, got 0.5"):
        Repeat(2, axis=0.5)
    with pytest.raises(ValueError, match="Repeat: n must be a positive integer, got 'x'"):
        Repeat("x")
    with pytest.raises(ValueError, match="Branch: n must be a positive integer, got True"):
        Branch(True)


def test_matmul_float32_weight_keeps_float64_input_float32():
    """Like layers.Affine: x and dout are taken in W's dtype, so nothing is promoted."""
    W = RNG.normal(size=(3, 2)).astype(np.float32)
    x = RNG.normal(size=(4, 3))
    node = MatMul(W)
    y = node.forward(x)
    dout = RNG.normal(size=(4, 2))
    dx = node.backward(dout)
    assert y.dtype == dx.dtype == node.grads[0].dtype == np.float32
    x32, d32 = x.astype(np.float32), dout.astype(np.float32)
    np.testing.assert_allclose(y, x32 @ W, rtol=1e-6)
    np.testing.assert_allclose(dx, d32 @ W.T, rtol=1e-6)
    np.testing.assert_allclose(node.grads[0], x32.T @ d32, rtol=1e-5)


def test_matmul_with_a_transposed_weight_view():
    """W given as a transposed view: dW is not C-contiguous and still gets xᵀ·dout."""
    W = RNG.normal(size=(2, 3)).T
    x, dout = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2))
    node = MatMul(W)
    node.forward(x)
    node.backward(dout)
    np.testing.assert_allclose(node.grads[0], x.T @ dout, rtol=1e-12)


def test_module_docstring_example_runs():
    """The shopping example in ippo.graph's docstring is a doctest: it must stay true."""
    import doctest

    import ippo.graph

    result = doctest.testmod(ippo.graph, verbose=False)
    assert result.failed == 0 and result.attempted >= 5


def test_repeat_and_sum_backward_keep_the_input_dtype():
    """float32 stays float32 even when the upstream gradient is a Python float or float64."""
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    total = Sum(axis=None)
    total.forward(x)
    dx = total.backward(1.0)
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx, np.ones((3, 4)))
    rows = Sum(axis=0)
    rows.forward(x)
    assert rows.backward(np.ones(4)).dtype == np.float32
    rep = Repeat(2)
    rep.forward(x[0])
    dx = rep.backward(np.full((2, 4), 0.5))
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx, np.ones(4))


# --------------------------------------------------------------------------- Exp and Div


def test_exp_and_div_match_numerical():
    x = RNG.normal(size=(3, 4))
    y = RNG.uniform(0.5, 2.0, size=(3, 4)) * RNG.choice([-1.0, 1.0], size=(3, 4))
    dout = RNG.normal(size=(3, 4))
    exp = Exp()
    np.testing.assert_allclose(exp.forward(x), np.e ** x, rtol=1e-14)
    dx = exp.backward(dout)
    np.testing.assert_allclose(dx, dout * np.e ** x, rtol=1e-14)  # ∂exp(x)/∂x = exp(x)
    check_gradient(lambda v: np.sum(dout * Exp().forward(v)), x, dx)
    div = Div()
    np.testing.assert_allclose(div.forward(x, y), x / y)
    dx, dy = div.backward(dout)
    check_gradient(lambda v: np.sum(dout * Div().forward(v, y)), x, dx)
    check_gradient(lambda v: np.sum(dout * Div().forward(x, v)), y, dy)
    # the local derivatives written out: ∂(x/y)/∂x = 1/y, ∂(x/y)/∂y = −x/y²
    np.testing.assert_allclose(dx, dout / y)
    np.testing.assert_allclose(dy, -dout * x / y**2)


def test_sigmoid_as_a_graph_of_mul_exp_add_div():
    """The course's sigmoid graph: x → ×(−1) → exp → +1 → 1/· ; backward gives y·(1 − y)."""
    for x in (-3.0, -0.5, 0.0, 1.0, 4.0):
        neg, exp, add, div = Mul(), Exp(), Add(), Div()
        y = div.forward(1.0, add.forward(exp.forward(neg.forward(x, -1.0)), 1.0))
        assert y == pytest.approx(1 / (1 + np.exp(-x)), rel=1e-15)
        _, d_den = div.backward(1.0)
        d_exp, _ = add.backward(d_den)
        d_neg = exp.backward(d_exp)
        dx, _ = neg.backward(d_neg)
        assert dx == pytest.approx(y * (1 - y), rel=1e-12)
        assert dx == pytest.approx(np.exp(-x) / (1 + np.exp(-x)) ** 2, rel=1e-12)


def test_exp_and_div_check_their_input():
    with pytest.raises(ValueError, match="Div.forward: x has shape"):
        Div().forward(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="Exp.forward: x must be a number"):
        Exp().forward([1.0, 2.0])
    with pytest.raises(ValueError, match="Exp.backward called before"):
        Exp().backward(1.0)
    with pytest.raises(ValueError, match="Div.backward called before"):
        Div().backward(1.0)
    exp = Exp()
    exp.forward(np.zeros(3))
    with pytest.raises(ValueError, match="Exp.backward: dout has shape"):
        exp.backward(np.zeros(4))
