"""ippo.numerical: the course's figures, shapes and dtypes, restoring x, gradient descent."""

import numpy as np
import pytest

from ippo.numerical import gradient_descent, numerical_diff, numerical_gradient


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def sum_of_squares(x):
    return np.sum(x**2)


# --------------------------------------------------------------------------- figures


@pytest.mark.parametrize(
    "x, expected",
    [(5, 0.1999999999990898), (15, 0.4000000000026205), (-10, -0.0999999999995449)],
)
def test_numerical_diff_figures(x, expected):
    assert numerical_diff(function_1, x) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    # and the exact derivative 0.02x + 0.1 to within the central difference's accuracy
    assert numerical_diff(function_1, x) == pytest.approx(0.02 * x + 0.1, abs=1e-9)


def test_partial_derivatives_figures():
    def f_x0(x0):  # x1 fixed at 4
        return x0 * x0 + 4.0**2.0

    def f_x1(x1):  # x0 fixed at 3
        return 3.0**2.0 + x1 * x1

    assert numerical_diff(f_x0, 3.0) == pytest.approx(6.00000000000378, rel=1e-12)
    assert numerical_diff(f_x1, 4.0) == pytest.approx(7.999999999999119, rel=1e-12)


@pytest.mark.parametrize("point, expected", [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)),
                                             ((3.0, 0.0), (6.0, 0.0))])
def test_numerical_gradient_figures(point, expected):
    np.testing.assert_allclose(numerical_gradient(function_2, np.array(point)), expected,
                               atol=1e-9)


def test_central_difference_beats_forward_difference():
    x, h = 5.0, 1e-4
    forward = (function_1(x + h) - function_1(x)) / h
    exact = 0.2
    assert abs(numerical_diff(function_1, x) - exact) < abs(forward - exact) / 100


# --------------------------------------------------------------------------- shapes, dtypes


def test_numerical_gradient_4d_and_restores_x_exactly():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 2, 2))
    before = x.copy()
    g = numerical_gradient(lambda v: np.sum(v**3), x)
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-7, atol=1e-7)  # error h² = 1e-8
    np.testing.assert_array_equal(x, before)  # bit for bit


def test_numerical_gradient_float32_keeps_precision_and_restores_x():
    # values that are not "round" in binary, so that a float32 x + 1e-4 would lose digits
    x = np.array([[0.1, -0.7], [1.3, 2.9]], dtype=np.float32)
    before = x.copy()
    g = numerical_gradient(lambda v: np.sum(v**2), x)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, 2 * x.astype(np.float64), rtol=1e-9)
    # plain float32 arithmetic would be far off: (x+h)² − (x−h)² cancels most digits
    xh = np.float32(0.1) + np.float32(1e-4)
    naive = (xh**2 - (np.float32(0.1) - np.float32(1e-4)) ** 2) / np.float32(2e-4)
    assert abs(float(naive) - 0.2) > 1e-6 > 1e-9 > abs(g[0, 0] - 2 * float(np.float32(0.1)))


def test_numerical_gradient_sees_shared_parameters():
    """f may ignore its argument and read x itself, as a network's loss reads its weights."""
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([1.0, -1.0])
    g = numerical_gradient(lambda _: float(v @ W @ v), W)
    np.testing.assert_allclose(g, np.outer(v, v), atol=1e-9)
    np.testing.assert_array_equal(W, [[1.0, 2.0], [3.0, 4.0]])


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return np.sum(v)

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_numerical_gradient_scalar_array():
    assert numerical_gradient(lambda v: float(v) ** 2, np.array(3.0)) == pytest.approx(6.0)


def test_numerical_gradient_needs_a_scalar_function():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"f must return a scalar.*shape \(2,\)"):
        numerical_gradient(lambda v: v**2, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    # a one-element array counts as a scalar
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**2, keepdims=True), x),
                               [2.0, 4.0], rtol=1e-9)


@pytest.mark.parametrize("bad", [[1.0, 2.0], np.array([1, 2]), 3.0])
def test_numerical_gradient_rejects_non_float_arrays(bad):
    with pytest.raises(ValueError, match="numerical_gradient: x must be a floating-point"):
        numerical_gradient(sum_of_squares, bad)


# --------------------------------------------------------------------------- gradient descent


def test_gradient_descent_reaches_minimum():
    init = np.array([-3.0, 4.0])
    x = gradient_descent(function_2, init, lr=0.1, steps=100)
    np.testing.assert_allclose(x, [0.0, 0.0], atol=1e-8)
    np.testing.assert_array_equal(init, [-3.0, 4.0])  # not changed


def test_gradient_descent_history():
    x, path = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, steps=20, history=True)
    assert path.shape == (21, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(path[-1], x)
    # on x0² + x1² each step multiplies x by (1 − 2·lr) = 0.8
    np.testing.assert_allclose(path[1:], path[:-1] * 0.8, rtol=1e-8)
    assert np.all(np.diff(np.sum(path**2, axis=1)) < 0)


def test_gradient_descent_too_large_lr_diverges():
    x, path = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=10.0, steps=100,
                               history=True)
    # the course's figure for lr = 10.0
    np.testing.assert_allclose(x, [-2.58983747e13, -1.29524862e12], rtol=1e-8)
    dist = np.linalg.norm(path, axis=1)
    assert dist[1] > dist[0] * 10  # each early step moves away: x ← x − 20x = −19x
    assert np.linalg.norm(x) > 1e12


def test_gradient_descent_too_small_lr_makes_no_progress():
    x = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=1e-10, steps=100)
    # the course's figure: [-2.99999994, 3.99999992], barely moved
    np.testing.assert_allclose(x, [-2.99999994, 3.99999992], rtol=1e-8)
    assert 0 < np.linalg.norm(x - [-3.0, 4.0]) < 1e-6


def test_gradient_descent_zero_steps_and_bad_steps():
    np.testing.assert_array_equal(gradient_descent(function_2, [1.0, 2.0], steps=0), [1.0, 2.0])
    with pytest.raises(ValueError, match="steps"):
        gradient_descent(function_2, [1.0, 2.0], steps=-1)


# --------------------------------------------------------------------------- audit: edge cases


def test_numerical_diff_float32_input_computed_in_float64():
    """In float32, 5 ± 1e-4 keeps about 3 digits of h: the answer would be 0.20027."""
    for x in (np.float32(5.0), np.array([5.0, 15.0], dtype=np.float32)):
        d = numerical_diff(function_1, x)
        assert np.asarray(d).dtype == np.float64
        np.testing.assert_allclose(d, 0.02 * np.asarray(x, dtype=np.float64) + 0.1, rtol=1e-9)
    assert numerical_diff(function_1, np.float32(5.0)) == pytest.approx(0.1999999999990898,
                                                                        rel=1e-12)


@pytest.mark.parametrize("h", [0, -1e-4, float("nan"), float("inf"), "1e-4"])
def test_step_h_must_be_positive(h):
    with pytest.raises(ValueError, match="numerical_diff: h must be a positive number"):
        numerical_diff(function_1, 5.0, h=h)
    with pytest.raises(ValueError, match="numerical_gradient: h must be a positive number"):
        numerical_gradient(sum_of_squares, np.array([1.0]), h=h)


def test_numerical_gradient_read_only_x_is_a_clear_error():
    x = np.broadcast_to(np.array([1.0]), (3,))
    with pytest.raises(ValueError, match=r"numerical_gradient: x \(shape \(3,\)\) is read-only"):
        numerical_gradient(sum_of_squares, x)


@pytest.mark.parametrize("steps", [2.5, "10", True, -1])
def test_gradient_descent_steps_must_be_an_integer(steps):
    with pytest.raises(ValueError, match="gradient_descent: steps must be an integer >= 0"):
        gradient_descent(function_2, [1.0, 2.0], steps=steps)
    # a NumPy integer is an integer
    np.testing.assert_allclose(gradient_descent(function_2, [1.0, 2.0], lr=0.1,
                                                steps=np.int64(1)), [0.8, 1.6], rtol=1e-9)


def test_gradient_descent_init_x_must_be_numeric():
    with pytest.raises(ValueError, match=r"gradient_descent: init_x must be numeric.*<U1"):
        gradient_descent(function_2, ["a", "b"])
