"""ippo.functions: the course's figures, every derivative against numerical_gradient,
numerical stability, bad input and dtypes."""

import contextlib
import warnings

import numpy as np
import pytest

from ippo import functions as F
from ippo import kernels as K
from tests.helpers import check_gradient

RNG = np.random.default_rng(0)

Y_GOOD = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y_BAD = np.array([0.1, 0.5, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.5, 0.0])
T_ONE_HOT = np.eye(10)[2]


def away_from_zero(shape, low=0.05, high=3.0):
    """Random float64 values with |x| in [low, high]: no kink of ReLU/step within h."""
    return RNG.uniform(low, high, size=shape) * RNG.choice([-1.0, 1.0], size=shape)


# --------------------------------------------------------------------------- figures


def test_sum_squared_error_figures():
    assert F.sum_squared_error(Y_GOOD, T_ONE_HOT) == pytest.approx(0.0975, abs=1e-15)
    assert F.sum_squared_error(Y_BAD, T_ONE_HOT) == pytest.approx(0.84625, abs=1e-15)


@pytest.mark.parametrize("t", [T_ONE_HOT, 2, np.array(2)], ids=["one-hot", "int", "0-d"])
def test_cross_entropy_figures(t):
    assert F.cross_entropy_error(Y_GOOD, t) == pytest.approx(0.510825457099338, rel=1e-14)
    assert F.cross_entropy_error(Y_BAD, t) == pytest.approx(2.302584092994546, rel=1e-14)


def test_softmax_figure():
    y = F.softmax(np.array([6.0, 4.0]))
    np.testing.assert_allclose(y, [0.88, 0.12], atol=0.005)
    np.testing.assert_allclose(y, [1 / (1 + np.exp(-2)), 1 / (1 + np.exp(2))], rtol=1e-15)


def test_batch_losses_average_over_samples():
    y = np.stack([Y_GOOD, Y_BAD])
    t = np.array([2, 2])
    assert F.cross_entropy_error(y, t) == pytest.approx((0.510825457099338 + 2.302584092994546) / 2)
    assert F.cross_entropy_error(y, np.eye(10)[t]) == pytest.approx(F.cross_entropy_error(y, t))
    assert F.sum_squared_error(y, np.eye(10)[t]) == pytest.approx((0.0975 + 0.84625) / 2)


def test_mean_squared_error_is_half_mean_over_all_elements():
    y = np.array([[1.0, 2.0], [3.0, 5.0]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert F.mean_squared_error(y, t) == pytest.approx(0.5 * (0 + 4 + 9 + 16) / 4)
    # a (N,) target is accepted for an (N, 1) prediction
    assert F.mean_squared_error(y[:, :1], t[:, 0]) == pytest.approx(0.5 * (0 + 9) / 2)


def test_activation_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(F.step(x), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(F.step(np.array([-1, 0, 3])), [0, 0, 1])
    np.testing.assert_allclose(F.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_array_equal(F.relu(x), [0, 0, 0, 0.5, 2])
    np.testing.assert_allclose(F.tanh(x), np.tanh(x))
    np.testing.assert_array_equal(F.identity(x), x)
    np.testing.assert_allclose(F.leaky_relu(x, alpha=0.1), [-0.2, -0.05, 0, 0.5, 2])
    np.testing.assert_allclose(F.log_softmax(x), np.log(F.softmax(x)), rtol=1e-14)


def test_relu_out_writes_in_place():
    x = np.array([-1.0, 2.0])
    assert F.relu(x, out=x) is x
    np.testing.assert_array_equal(x, [0.0, 2.0])


def test_softmax_cross_entropy_matches_softmax_then_cross_entropy():
    x = RNG.normal(size=(4, 5))
    t = np.array([0, 3, 4, 1])
    expected = -np.mean(np.log(F.softmax(x)[np.arange(4), t]))
    assert F.softmax_cross_entropy(x, t) == pytest.approx(expected, rel=1e-13)
    assert F.softmax_cross_entropy(x, np.eye(5)[t]) == pytest.approx(expected, rel=1e-13)
    loss, y = K.softmax_cross_entropy(x, t)  # the kernel behind it, unchecked
    assert loss == F.softmax_cross_entropy(x, t)
    np.testing.assert_allclose(y, F.softmax(x), rtol=1e-15)


def test_sigmoid_binary_cross_entropy_matches_formula():
    x = RNG.normal(size=(6, 1))
    t = np.array([0, 1, 1, 0, 1, 0])
    s = 1 / (1 + np.exp(-x[:, 0]))
    expected = -np.mean(t * np.log(s) + (1 - t) * np.log(1 - s))
    assert F.sigmoid_binary_cross_entropy(x, t) == pytest.approx(expected, rel=1e-13)


# --------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize(
    "f, grad",
    [
        (F.sigmoid, F.sigmoid_grad),
        (F.relu, F.relu_grad),
        (F.tanh, F.tanh_grad),
        (F.leaky_relu, F.leaky_relu_grad),
        (lambda x: F.leaky_relu(x, alpha=0.2), lambda x: F.leaky_relu_grad(x, alpha=0.2)),
        (F.identity, F.identity_grad),
        (F.step, F.step_grad),
    ],
    ids=["sigmoid", "relu", "tanh", "leaky_relu", "leaky_relu_0.2", "identity", "step"],
)
def test_activation_grad_matches_numerical(f, grad):
    x = away_from_zero((3, 4))
    # element-wise f: the gradient of Σ f(x) is f'(x) element by element
    check_gradient(lambda v: np.sum(f(v)), x, grad(x))


@pytest.mark.parametrize(
    "f, backward, from_output",
    [
        (F.sigmoid, F.sigmoid_backward, True),
        (F.tanh, F.tanh_backward, True),
        (F.relu, F.relu_backward, True),
        (F.relu, F.relu_backward, False),
        (F.leaky_relu, F.leaky_relu_backward, False),
        (F.softmax, F.softmax_backward, True),
    ],
    ids=["sigmoid", "tanh", "relu(y)", "relu(x)", "leaky_relu", "softmax"],
)
def test_backward_helpers_match_numerical(f, backward, from_output):
    x = away_from_zero((3, 5))
    dout = RNG.normal(size=(3, 5))
    analytic = backward(dout, f(x) if from_output else x)
    check_gradient(lambda v: np.sum(dout * f(v)), x, analytic)


def test_softmax_backward_one_sample():
    x = RNG.normal(size=6)
    dout = RNG.normal(size=6)
    check_gradient(lambda v: np.sum(dout * F.softmax(v)), x, F.softmax_backward(dout, F.softmax(x)))


@pytest.mark.parametrize("shape", [(7,), (4, 7), (2, 3, 7)], ids=["1-D", "batch", "3-D"])
@pytest.mark.parametrize("targets", ["index", "one-hot", "soft"])
def test_softmax_cross_entropy_backward_matches_numerical(shape, targets):
    x = RNG.normal(size=shape) * 2
    t = RNG.integers(0, shape[-1], size=shape[:-1])
    if targets == "one-hot":
        t = np.eye(shape[-1])[t]
    elif targets == "soft":
        t = F.softmax(RNG.normal(size=shape))
    loss, y = K.softmax_cross_entropy(x, t)
    check_gradient(lambda v: F.softmax_cross_entropy(v, t), x,
                   F.softmax_cross_entropy_backward(y, t))


def test_softmax_cross_entropy_backward_out_and_float_indices():
    x = RNG.normal(size=(3, 4))
    y = F.softmax(x)
    expected = F.softmax_cross_entropy_backward(y, np.array([1, 0, 3]))
    # float class indices (as some loaders give them) are accepted like the forward accepts them
    np.testing.assert_array_equal(
        F.softmax_cross_entropy_backward(y, np.array([1.0, 0.0, 3.0])), expected)
    out = F.softmax_cross_entropy_backward(y, np.array([1, 0, 3]), out=y)
    assert out is y
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("soft", [False, True], ids=["labels", "soft"])
@pytest.mark.parametrize("flat_t", [False, True], ids=["t(N,1)", "t(N,)"])
def test_sigmoid_binary_cross_entropy_backward_matches_numerical(soft, flat_t):
    x = RNG.normal(size=(5, 1)) * 3
    t = RNG.uniform(size=(5, 1)) if soft else RNG.integers(0, 2, size=(5, 1)).astype(float)
    if flat_t:
        t = t[:, 0]
    check_gradient(lambda v: F.sigmoid_binary_cross_entropy(v, t), x,
                   F.sigmoid_binary_cross_entropy_backward(F.sigmoid(x), t))


@pytest.mark.parametrize("shape", [(6,), (4, 3), (5, 1)])
def test_mean_squared_error_backward_matches_numerical(shape):
    y = RNG.normal(size=shape)
    t = RNG.normal(size=shape)
    check_gradient(lambda v: F.mean_squared_error(v, t), y, F.mean_squared_error_backward(y, t))


@pytest.mark.parametrize("shape", [(6,), (4, 3), (5, 1)])
def test_sum_squared_error_backward_matches_numerical(shape):
    y = RNG.normal(size=shape)
    t = RNG.normal(size=shape)
    g = F.sum_squared_error_backward(y, t)
    check_gradient(lambda v: F.sum_squared_error(v, t), y, g)
    n = 1 if len(shape) == 1 else shape[0]
    np.testing.assert_allclose(g, (y - t) / n)


def test_sum_and_mean_squared_error_differ_by_the_number_of_outputs():
    """½Σ over C outputs = C · ½·mean, for the value and for the gradient."""
    y = RNG.normal(size=(7, 3))
    t = RNG.normal(size=(7, 3))
    assert F.sum_squared_error(y, t) == pytest.approx(3 * F.mean_squared_error(y, t), rel=1e-12)
    np.testing.assert_allclose(F.sum_squared_error_backward(y, t),
                               3 * F.mean_squared_error_backward(y, t), rtol=1e-12)
    # the notes' 2-3-2 example: y = (1.02, 2.29), d = (2, 4): ½Σ = 1.94225, ½·mean = 0.971125
    y, d = np.array([1.02, 2.29]), np.array([2.0, 4.0])
    assert F.sum_squared_error(y, d) == pytest.approx(1.94225, rel=1e-12)
    assert F.mean_squared_error(y, d) == pytest.approx(0.971125, rel=1e-12)


def test_mean_squared_error_backward_flat_target_does_not_broadcast():
    y = RNG.normal(size=(5, 1))
    t = RNG.normal(size=5)
    g = F.mean_squared_error_backward(y, t)
    assert g.shape == (5, 1)
    check_gradient(lambda v: F.mean_squared_error(v, t), y, g)


# --------------------------------------------------------------------------- stability


@contextlib.contextmanager
def no_warnings():
    """Every NumPy floating-point warning (except harmless underflow to 0) and every Python
    warning becomes an error inside this block."""
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_softmax_large_inputs_are_finite_and_correct():
    with no_warnings():
        np.testing.assert_array_equal(F.softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])
        y = F.softmax(np.array([-1000.0, 0.0]))
        np.testing.assert_array_equal(y, [0.0, 1.0])
        np.testing.assert_allclose(F.softmax(np.array([1010.0, 1000.0, 990.0])),
                                   F.softmax(np.array([20.0, 10.0, 0.0])), rtol=1e-15)
        assert np.isfinite(F.log_softmax(np.array([-1000.0, 0.0]))).all()
        assert F.softmax_cross_entropy(np.array([-1000.0, 0.0]), 0) == pytest.approx(1000.0)
        assert F.softmax_cross_entropy(np.array([1000.0, 1000.0]), 1) == pytest.approx(np.log(2))


def test_sigmoid_extremes_without_any_warning():
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(F.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
        np.testing.assert_array_equal(
            F.sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32)), [0.0, 1.0])
        np.testing.assert_array_equal(F.sigmoid_grad(np.array([-1000.0, 1000.0])), [0.0, 0.0])


def test_binary_cross_entropy_extremes_are_finite():
    with no_warnings():
        x = np.array([-1000.0, 1000.0, -1000.0, 1000.0])
        t = np.array([0.0, 1.0, 1.0, 0.0])
        assert F.sigmoid_binary_cross_entropy(x, t) == pytest.approx(500.0)  # (0+0+1000+1000)/4
        assert F.sigmoid_binary_cross_entropy(x[:2], t[:2]) == 0.0


EXTREMES = np.array([-1e300, -1000.0, -1.0, -1e-300, 0.0, 1e-300, 1.0, 1000.0, 1e300])


@pytest.mark.parametrize("name", ["step", "sigmoid", "relu", "tanh", "identity", "softmax",
                                  "log_softmax", "leaky_relu", "sigmoid_grad", "relu_grad",
                                  "tanh_grad", "leaky_relu_grad"])
def test_no_nan_for_extreme_finite_input(name):
    with no_warnings():
        y = getattr(F, name)(EXTREMES)
    assert not np.isnan(y).any()


def test_losses_no_nan_for_extreme_finite_logits():
    x = EXTREMES.reshape(1, -1)
    with no_warnings():
        for t in (0, 4, 8):
            assert np.isfinite(F.softmax_cross_entropy(x, np.array([t])))
        t = (EXTREMES.reshape(-1, 1) > 0).astype(float)
        assert np.isfinite(F.sigmoid_binary_cross_entropy(EXTREMES.reshape(-1, 1), t))
    assert F.cross_entropy_error(np.array([0.0, 1.0]), 0) == pytest.approx(-np.log(1e-7))


def test_softmax_cross_entropy_no_nan_when_logits_span_the_float_range():
    x = np.array([[-1.7e308, 1.7e308, 0.0]])  # x − max(x) overflows to −inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the overflow in x − max(x) is reported, not hidden
        np.testing.assert_array_equal(F.softmax(x), [[0.0, 1.0, 0.0]])
        for t in (np.array([0]), np.eye(3)[[0]]):  # true loss 3.4e308: beyond the float range
            assert F.softmax_cross_entropy(x, t) >= 1.7e308
        for t in (np.array([1]), np.eye(3)[[1]]):
            assert F.softmax_cross_entropy(x, t) == 0.0
        for t in (np.array([2]), np.eye(3)[[2]]):
            assert F.softmax_cross_entropy(x, t) == pytest.approx(1.7e308)


# --------------------------------------------------------------------------- bad input

LOSSES = [F.sum_squared_error, F.mean_squared_error, F.cross_entropy_error,
          F.softmax_cross_entropy, F.sigmoid_binary_cross_entropy]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_shape_mismatch_names_function_and_shapes(loss):
    with pytest.raises(ValueError) as err:
        loss(np.zeros((4, 3)), np.zeros((5, 3)))
    msg = str(err.value)
    assert loss.__name__ in msg and "(4, 3)" in msg and "(5, 3)" in msg


@pytest.mark.parametrize("loss", [F.cross_entropy_error, F.softmax_cross_entropy])
@pytest.mark.parametrize("t", [np.array([0, 3]), np.array([-1, 0]), np.array([0.5, 1.0])])
def test_bad_class_labels(loss, t):
    with pytest.raises(ValueError, match=loss.__name__):
        loss(np.full((2, 3), 1 / 3), t)


def test_label_out_of_range_message():
    with pytest.raises(ValueError, match=r"from 0 to 3 \(t has shape \(2,\)\).*\(2, 3\) has 3"):
        F.cross_entropy_error(np.full((2, 3), 1 / 3), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: x has shape \(2, 3\)"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 2)))


def test_cross_entropy_rejects_negative_probabilities():
    with pytest.raises(ValueError, match="cross_entropy_error.*probabilities"):
        F.cross_entropy_error(np.array([-0.5, 1.5]), 1)


def test_binary_targets_out_of_range():
    with pytest.raises(ValueError, match="sigmoid_binary_cross_entropy.*0, 1"):
        F.sigmoid_binary_cross_entropy(np.zeros(3), np.array([0.0, 2.0, 1.0]))


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [np.array(["a", "b", "c"]), np.array([None, 1, 2], dtype=object)],
                         ids=["str", "object"])
def test_non_numeric_arrays_rejected(loss, bad):
    good = np.array([0.2, 0.3, 0.5])
    for args in ((bad, good), (good, bad)):
        with pytest.raises(ValueError, match=loss.__name__ + r": \w+ must be a numeric array.*"
                           r"\w+ has shape \(3,\), t has shape \(3,\)"):
            loss(*args)


@pytest.mark.parametrize("name", ["step", "sigmoid", "relu", "tanh", "identity", "softmax",
                                  "log_softmax", "leaky_relu", "sigmoid_grad", "relu_grad",
                                  "tanh_grad", "leaky_relu_grad", "identity_grad", "step_grad"])
def test_activations_reject_non_numeric(name):
    with pytest.raises(ValueError, match=name + r": x must be a numeric array.*\(2,\)"):
        getattr(F, name)(np.array(["1", "2"]))


@pytest.mark.parametrize(
    "backward, kwargs",
    [(F.softmax_cross_entropy_backward, {}), (F.sigmoid_binary_cross_entropy_backward, {}),
     (F.mean_squared_error_backward, {})],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_backward_helpers_reject_bad_shapes(backward, kwargs):
    with pytest.raises(ValueError) as err:
        backward(np.zeros((4, 3)), np.zeros((4, 2)), **kwargs)
    msg = str(err.value)
    assert backward.__name__ in msg and "(4, 3)" in msg and "(4, 2)" in msg


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_needs_a_class_axis(name):
    with pytest.raises(ValueError, match=name + ": x must have at least one axis"):
        getattr(F, name)(2.0)


@pytest.mark.parametrize("name", ["step", "sigmoid", "relu", "tanh", "identity", "leaky_relu",
                                  "sigmoid_grad", "relu_grad", "tanh_grad", "leaky_relu_grad"])
def test_element_wise_functions_take_scalars(name):
    f = getattr(F, name)
    np.testing.assert_allclose(f(0.5), f(np.array([0.5]))[0])
    np.testing.assert_allclose(f(np.float32(-0.5)), f(np.array([-0.5], dtype=np.float32))[0])


def test_sigmoid_accurate_in_the_tails():
    x = np.array([-30.0, -20.0, -10.0, 10.0, 30.0])
    expected = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(F.sigmoid(x), expected, rtol=1e-15)
    np.testing.assert_allclose(F.sigmoid(x.astype(np.float32)), expected, rtol=1e-6)


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name", ["step", "sigmoid", "relu", "tanh", "identity", "softmax",
                                  "log_softmax", "leaky_relu", "sigmoid_grad", "relu_grad",
                                  "tanh_grad", "leaky_relu_grad", "identity_grad", "step_grad"])
def test_float32_in_float32_out(name):
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    assert getattr(F, name)(x).dtype == np.float32
    assert getattr(F, name)(x.astype(np.float64)).dtype == np.float64


def test_integer_input_becomes_float32():
    assert F.sigmoid(np.array([0, 1])).dtype == np.float32
    assert F.softmax(np.array([0, 1])).dtype == np.float32


def test_backward_helpers_keep_float32():
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    dout = np.ones_like(x)
    for f, backward in [(F.sigmoid, F.sigmoid_backward), (F.tanh, F.tanh_backward),
                        (F.softmax, F.softmax_backward), (F.relu, F.relu_backward),
                        (F.leaky_relu, F.leaky_relu_backward)]:
        assert backward(dout, f(x)).dtype == np.float32, backward.__name__
    labels = np.array([0, 3, 1])
    one_hot_int = np.eye(4, dtype=np.int64)[labels]
    loss, y = K.softmax_cross_entropy(x, labels)
    assert y.dtype == np.float32
    assert F.softmax_cross_entropy_backward(y, labels).dtype == np.float32
    assert F.softmax_cross_entropy_backward(y, one_hot_int).dtype == np.float32
    assert F.mean_squared_error_backward(x, one_hot_int).dtype == np.float32
    s = F.sigmoid(x[:, :1])
    assert F.sigmoid_binary_cross_entropy_backward(s, np.array([0, 1, 1])).dtype == np.float32
    assert F.sigmoid_binary_cross_entropy_backward(s, np.array([0.0, 1.0, 1.0])).dtype == np.float32


def test_losses_return_python_floats():
    for loss in (F.sum_squared_error, F.mean_squared_error, F.cross_entropy_error,
                 F.softmax_cross_entropy):
        assert type(loss(Y_GOOD.astype(np.float32), T_ONE_HOT)) is float


# --------------------------------------------------------------------------- audit: edge cases


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_empty_batch_is_a_clear_error(loss):
    """No samples: a ValueError naming the function, not a NaN with a RuntimeWarning (or a
    bare ZeroDivisionError)."""
    with pytest.raises(ValueError, match=loss.__name__ + r": \w+ is empty \(shape \(0, 3\)\)"):
        loss(np.zeros((0, 3)), np.zeros((0, 3)))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_without_classes_is_a_clear_error(name):
    with pytest.raises(ValueError, match=name + r": x of shape \(2, 0\) has no classes"):
        getattr(F, name)(np.zeros((2, 0)))
    assert getattr(F, name)(np.zeros((0, 3))).shape == (0, 3)  # no samples is fine


def test_cross_entropy_rejects_probabilities_above_one():
    # a probability of 2 would give a negative loss, −log(2 + δ)
    with pytest.raises(ValueError, match=r"cross_entropy_error: y of shape \(2,\) must hold "
                                         r"probabilities in \[0, 1\].*from 0.5 to 2.0"):
        F.cross_entropy_error(np.array([0.5, 2.0]), 1)
    assert F.cross_entropy_error(np.array([0.0, 1.0]), 1) == pytest.approx(-np.log1p(1e-7))


@pytest.mark.parametrize("loss", [F.cross_entropy_error, F.softmax_cross_entropy])
@pytest.mark.parametrize("t", [[-1.0, 1.0, 1.0], [3.0, 0.0, 0.0], [np.nan, 1.0, 0.0]],
                         ids=["negative", "above 1", "nan"])
def test_one_hot_targets_must_be_probabilities(loss, t):
    """A negative 'one-hot' entry would make the loss negative; NaN would make it NaN."""
    with pytest.raises(ValueError, match=loss.__name__ + r": targets must lie in \[0, 1\].*"
                       r"\(t has shape \(3,\)\)"):
        loss(np.array([0.2, 0.3, 0.5]), np.array(t))


def test_binary_cross_entropy_rejects_nan_targets():
    with pytest.raises(ValueError, match=r"sigmoid_binary_cross_entropy: targets.*nan"):
        F.sigmoid_binary_cross_entropy(np.zeros(2), np.array([np.nan, 1.0]))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_class_index_rejected(bad):
    with pytest.raises(ValueError, match="softmax_cross_entropy: t of shape .*non-integer"):
        F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, bad]))


@pytest.mark.parametrize("t", [[0, 3], [-1, 0]], ids=["too large", "negative"])
def test_softmax_cross_entropy_backward_checks_index_range(t):
    """A negative index would silently take a class from the end: a wrong gradient."""
    y = F.softmax(RNG.normal(size=(2, 3)))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy_backward: class index out of "
                                         r"range.*\(2, 3\) has 3 classes"):
        F.softmax_cross_entropy_backward(y, np.array(t))


def test_leaky_relu_numpy_float64_alpha_keeps_float32():
    """NumPy 2 promotes float32 · np.float64 to float64; α is taken as a Python float."""
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    alpha = np.float64(0.2)
    assert F.leaky_relu(x, alpha).dtype == np.float32
    assert F.leaky_relu_grad(x, alpha).dtype == np.float32
    assert F.leaky_relu_backward(np.ones_like(x), x, alpha).dtype == np.float32
    np.testing.assert_array_equal(F.leaky_relu(x, alpha), np.where(x > 0, x, x * np.float32(0.2)))



# --------------------------------------------------------------------------- the layers' formulas
# (the layers are checked as a whole in test_layers.py; here each derivative in the math core
# is checked on its own against numerical_gradient, float64, relative error < 1e-6)


def test_log_softmax_backward_matches_numerical():
    x = RNG.normal(size=(3, 5))
    dout = RNG.normal(size=(3, 5))
    check_gradient(lambda v: np.sum(dout * F.log_softmax(v)), x,
                   F.log_softmax_backward(dout, F.softmax(x)))


def test_batch_norm_backward_matches_numerical():
    x = RNG.normal(size=(6, 4)) * 3 + 1
    gamma, beta = RNG.normal(size=4), RNG.normal(size=4)
    dout = RNG.normal(size=(6, 4))
    y, xhat, inv_std, mean, var = F.batch_norm_forward(x, gamma, beta)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(var, x.var(axis=0), rtol=1e-12)
    np.testing.assert_allclose(y, gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) + beta,
                               rtol=1e-12)
    dx, dgamma, dbeta = F.batch_norm_backward(dout, xhat, inv_std, gamma)

    def f(x_, g_, b_):
        return np.sum(dout * F.batch_norm_forward(x_, g_, b_)[0])

    check_gradient(lambda v: f(v, gamma, beta), x, dx, name="dx")
    check_gradient(lambda v: f(x, v, beta), gamma, dgamma, name="dgamma")
    check_gradient(lambda v: f(x, gamma, v), beta, dbeta, name="dbeta")
    # inference with the batch's own statistics gives the training output
    np.testing.assert_allclose(F.batch_norm_inference(x, gamma, beta, mean, var), y, rtol=1e-12)


def test_embedding_backward_sums_repeated_rows_and_matches_numerical():
    W = RNG.normal(size=(5, 3))
    idx = np.array([1, 3, 1, 1, 0])  # word 1 three times
    dout = RNG.normal(size=(5, 3))
    dW = F.embedding_backward(dout, idx, np.full_like(W, 7.0))  # stale values are cleared
    check_gradient(lambda v: np.sum(dout * v[idx]), W, dW)
    np.testing.assert_allclose(dW[1], dout[0] + dout[2] + dout[3], rtol=1e-15)
    np.testing.assert_array_equal(dW[[2, 4]], 0)


def test_dropout_mask_and_backward():
    mask = F.dropout_mask((400, 50), 0.3, np.random.default_rng(0))
    assert mask.dtype == np.float32
    assert set(np.unique(mask)) == {np.float32(0.0), np.float32(1 / 0.7)}
    assert abs(float(mask.mean()) - 1.0) < 0.02  # E[mask] = 1: inference needs no scaling
    assert abs(float((mask == 0).mean()) - 0.3) < 0.01
    assert F.dropout_mask((2, 2), 0.0, np.random.default_rng(0)).min() == 1.0
    with pytest.raises(ValueError, match=r"dropout_mask: ratio must be in \[0, 1\), got 1.0"):
        F.dropout_mask((2, 2), 1.0, np.random.default_rng(0))
    m64 = F.dropout_mask((3, 4), 0.5, np.random.default_rng(1), dtype=np.float64)
    x, dout = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    check_gradient(lambda v: np.sum(dout * F.dropout(v, m64)), x, F.dropout_backward(dout, m64))


def test_l2_penalty_and_its_gradient():
    w1, w2 = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))
    assert F.l2_penalty([w1, w2], 0.1) == pytest.approx(0.05 * (np.sum(w1**2) + np.sum(w2**2)),
                                                        rel=1e-14)
    assert F.l2_penalty([w1], 0.0) == 0.0
    grad = np.ones_like(w1)
    out = F.l2_penalty_backward(grad, w1, 0.1, scratch=np.empty_like(w1))
    assert out is grad  # added in place
    check_gradient(lambda v: F.l2_penalty([v], 0.1), w1, grad - 1)


@pytest.mark.parametrize("n", [1, 4], ids=["one sample (outer product)", "batch"])
def test_matmul_weight_grad_matches_numerical(n):
    x, W, dout = RNG.normal(size=(n, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=(n, 5))
    dW = np.empty_like(W)
    F.matmul_weight_grad(x, dout, dW)
    check_gradient(lambda v: np.sum(dout * (x @ v)), W, dW)


# --------------------------------------------------------------------------- information


def test_information_in_bits_of_the_course_examples():
    # a coin's side, a card's suit, one of 8 directions: 1, 2 and 3 bits
    assert F.information(1 / 2) == 1.0
    assert F.information(1 / 4) == 2.0
    assert F.information(1 / 8) == 3.0
    np.testing.assert_array_equal(F.information(np.array([1.0, 0.5, 0.0])), [0.0, 1.0, np.inf])
    assert F.information(0.5, base=np.e) == pytest.approx(0.6931471805599453, rel=1e-15)


def test_entropy_of_uniform_distributions_and_of_a_certain_outcome():
    assert F.entropy([0.5, 0.5]) == pytest.approx(1.0, rel=1e-15)
    assert F.entropy(np.full(4, 0.25)) == pytest.approx(2.0, rel=1e-15)
    assert F.entropy(np.full(8, 0.125)) == pytest.approx(3.0, rel=1e-15)
    assert F.entropy([1.0, 0.0]) == 0.0  # 0·log 0 taken as 0, and +0, not −0
    assert str(F.entropy([0.0, 1.0])) == "0.0"
    # a biased coin: H = −0.9 log2 0.9 − 0.1 log2 0.1
    assert F.entropy([0.9, 0.1]) == pytest.approx(0.4689955935892812, rel=1e-12)
    np.testing.assert_allclose(F.entropy(np.array([[0.5, 0.5], [1.0, 0.0]])), [1.0, 0.0])


def test_cross_entropy_and_kl_divergence_between_distributions():
    p, q = [0.5, 0.5], [0.9, 0.1]
    # H(p, q) = −½ log2 0.9 − ½ log2 0.1 and D(p‖q) = H(p, q) − H(p)
    assert F.cross_entropy(p, q) == pytest.approx(1.736965594166206, rel=1e-12)
    assert F.kl_divergence(p, q) == pytest.approx(0.736965594166206, rel=1e-12)
    assert F.kl_divergence(q, p) == pytest.approx(0.5310044064107188, rel=1e-12)  # asymmetric
    assert F.kl_divergence(p, p) == 0.0
    assert F.cross_entropy([1.0, 0.0], [0.0, 1.0]) == np.inf
    # Gibbs' inequality on random distributions: H(p, q) >= H(p), equal for q = p
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
        assert F.cross_entropy(a, b) >= F.entropy(a)
        assert F.cross_entropy(a, a) == pytest.approx(F.entropy(a), rel=1e-12)


def test_cross_entropy_in_nats_with_a_label_is_the_loss():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.eye(10)[2]
    assert F.cross_entropy(t, y, base=np.e) == pytest.approx(-np.log(0.6), rel=1e-15)
    assert F.cross_entropy_error(y, t) == pytest.approx(-np.log(0.6), rel=1e-6)  # (its δ)


@pytest.mark.parametrize("call, match", [
    (lambda: F.information(0.5, base=1), "base must be a positive number other than 1"),
    (lambda: F.entropy([0.5, 0.5], base=-2), "base must be"),
    (lambda: F.information(1.5), r"probabilities in \[0, 1\]"),
    (lambda: F.entropy([0.5, 0.6]), "must sum to 1"),
    (lambda: F.entropy(0.5), "got a scalar"),
    (lambda: F.cross_entropy([0.5, 0.5], [0.2, 0.3, 0.5]), "p has shape"),
    (lambda: F.kl_divergence([0.5, 0.5], [1.2, -0.2]), "q must hold probabilities"),
])
def test_information_functions_name_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("index_targets", [False, True])
def test_cross_entropy_error_backward_matches_numerical(index_targets):
    rng = np.random.default_rng(3)
    y = rng.dirichlet(np.full(4, 8.0), size=3)  # no tiny y: log's curvature would defeat h
    labels = np.array([0, 2, 3])
    t = labels if index_targets else np.eye(4)[labels]
    dy = F.cross_entropy_error_backward(y, t)
    check_gradient(lambda v: F.cross_entropy_error(v, t), y.copy(), dy)
    # only the true class gets a gradient, −1/(y_t + δ)/N
    np.testing.assert_allclose(dy[np.arange(3), labels], -1 / (y[np.arange(3), labels] + 1e-7) / 3)
    assert np.count_nonzero(dy) == 3


def test_softmax_then_cross_entropy_backward_is_y_minus_t_over_n():
    """The two layers chained give the fused layer's (y − t)/N (up to δ)."""
    a = np.array([[0.3, 2.9, 4.0], [1.0, -1.0, 0.5]])
    t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    y = F.softmax(a)
    da = F.softmax_backward(F.cross_entropy_error_backward(y, t), y)
    np.testing.assert_allclose(da, (y - t) / 2, atol=1e-6)
    np.testing.assert_allclose(da, F.softmax_cross_entropy_backward(y, t), atol=1e-6)


# --------------------------------------------------------------------------- argument order


def test_the_notes_swapped_call_is_refused_instead_of_giving_a_wrong_number():
    """[RC] writes cross_entropy_error(d, y), target first. Before this check the swapped call
    returned −0.3·log(1e-7) ≈ 4.835 for a loss of −log 0.7 ≈ 0.357."""
    y = np.array([0.1, 0.7, 0.2])
    d = np.array([0.0, 1.0, 0.0])
    assert F.cross_entropy_error(y, d) == pytest.approx(0.35667480108159993, rel=1e-6)
    with pytest.raises(ValueError, match=r"cross_entropy_error: the arguments look swapped.*"
                                         r"exactly one-hot labels.*prediction first"):
        F.cross_entropy_error(d, y)


@pytest.mark.parametrize("call", [
    lambda y, d, i: F.cross_entropy_error(d, y),                       # one-hot first
    lambda y, d, i: F.cross_entropy_error(d.astype(int), y),           # integer one-hot first
    lambda y, d, i: F.cross_entropy_error(i, y),                       # class indices first
    lambda y, d, i: F.cross_entropy_error(int(i[0]), y[0]),            # one label, one sample
    lambda y, d, i: F.softmax_cross_entropy(d, np.log(y) + 1.0),       # one-hot, then scores
    lambda y, d, i: F.softmax_cross_entropy(i, np.log(y)),             # indices, then scores
    lambda y, d, i: F.softmax_cross_entropy(d, 0.5 * y),               # scores inside [0, 1]
    lambda y, d, i: F.cross_entropy_error_backward(d, y),              # its gradient too
    lambda y, d, i: F.cross_entropy_error_backward(i, y),
])
def test_recognisably_swapped_arguments_raise(call):
    rng = np.random.default_rng(1)
    y = rng.dirichlet(np.ones(4), size=5)
    i = np.array([0, 3, 1, 1, 2])
    d = np.eye(4)[i]
    with pytest.raises(ValueError, match="the arguments look swapped"):
        call(y, d, i)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_legitimate_inputs_raise_no_false_alarm(dtype):
    rng = np.random.default_rng(2)
    y = rng.dirichlet(np.ones(4), size=5).astype(dtype)
    i = np.array([0, 3, 1, 1, 2])
    d = np.eye(4, dtype=dtype)[i]
    soft = (0.9 * d + 0.025).astype(dtype)  # label smoothing: rows still sum to 1
    F.cross_entropy_error(y, d)                        # probabilities, one-hot
    F.cross_entropy_error(y, i)                        # probabilities, indices
    F.cross_entropy_error(y, soft)                     # probabilities, soft targets
    F.cross_entropy_error(d, d)                        # a perfect prediction, one-hot
    F.cross_entropy_error(d, i)                        # a perfect prediction, indices
    F.cross_entropy_error(d.astype(int), i)            # even given as integers
    F.cross_entropy_error(Y_GOOD, T_ONE_HOT)           # the notes' y, zeros in it
    F.cross_entropy_error(Y_GOOD, T_ONE_HOT.astype(int))
    y_mixed = y.copy()
    y_mixed[0] = d[0]                                  # one sample exactly one-hot, not all
    F.cross_entropy_error(y_mixed, soft)
    scores = np.log(y)
    F.softmax_cross_entropy(scores, d)
    F.softmax_cross_entropy(scores, i)
    F.softmax_cross_entropy(d, i)                      # scores that happen to be 0/1
    F.softmax_cross_entropy(d, soft)                   # ... even against soft targets
    F.softmax_cross_entropy(d, d)
    F.cross_entropy_error_backward(y, d)
    F.cross_entropy_error_backward(y, i)
    F.cross_entropy_error_backward(y, soft)


def test_a_swapped_squared_error_gradient_flips_its_sign_as_the_docs_warn():
    """[RC]'s d_mean_squared_error(d, y) passes the target first; both are real numbers, so
    no check can see it: docs/course-names.md and the docstrings warn that the gradient is
    taken w.r.t. the first argument. y = (1.02, 2.29), d = (2, 4): ∂E/∂y = (y − d)/2."""
    y, d = np.array([1.02, 2.29]), np.array([2.0, 4.0])
    np.testing.assert_allclose(F.mean_squared_error_backward(y, d), [-0.49, -0.855])
    np.testing.assert_allclose(F.mean_squared_error_backward(d, y), [0.49, 0.855])
    np.testing.assert_allclose(F.sum_squared_error_backward(d, y), [0.98, 1.71])
    assert F.mean_squared_error(d, y) == F.mean_squared_error(y, d)  # the value is symmetric


def test_every_probability_prediction_against_labels_passes():
    """Whatever the probabilities (random, peaked, with exact zeros), labels second: no error."""
    rng = np.random.default_rng(3)
    for alpha in (0.05, 1.0, 50.0):
        y = rng.dirichlet(np.full(6, alpha), size=20)
        t = rng.integers(0, 6, 20)
        y[0] = 0.0
        y[0, t[0]] = 0.5
        y[0, (t[0] + 1) % 6] = 0.5
        assert F.cross_entropy_error(y, t) > 0
        assert F.cross_entropy_error(y, np.eye(6)[t]) > 0
        assert F.softmax_cross_entropy(np.log(y + 1e-9), t) > 0
