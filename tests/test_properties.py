"""Property-based tests (hypothesis) of ippo.functions: identities that hold for every input."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from ippo import functions as F
from ippo import kernels as K

#: Modest and without deadline: fast and steady on a shared 2-core machine.
fast = settings(max_examples=40, deadline=None)

DELTA = F.CROSS_ENTROPY_DELTA


def floats(bound):
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


def batches(bound, min_classes=1):
    """float64 arrays of 1 to 3 axes (the last one: classes) with values in [−bound, bound]."""
    return arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=min_classes,
                                           max_side=6), elements=floats(bound))


@st.composite
def logits_and_labels(draw, bound=50.0):
    x = draw(batches(bound))
    t = draw(arrays(np.int64, x.shape[:-1], elements=st.integers(0, x.shape[-1] - 1)))
    return x, t


# --------------------------------------------------------------------------- softmax


@fast
@given(batches(1e6))
def test_softmax_is_a_distribution(x):
    y = F.softmax(x)
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    # the largest logit gets the largest probability
    np.testing.assert_array_equal(y.max(axis=-1), np.take_along_axis(
        y, x.argmax(axis=-1)[..., None], axis=-1)[..., 0])


@fast
@given(batches(50.0), floats(100.0))
def test_softmax_is_shift_invariant(x, c):
    np.testing.assert_allclose(F.softmax(x + c), F.softmax(x), rtol=1e-9, atol=1e-12)


@fast
@given(batches(1e307))
def test_softmax_finite_for_huge_inputs(x):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = F.softmax(x)
        log_y = F.log_softmax(x)
    assert np.all(np.isfinite(y))
    assert not np.any(np.isnan(log_y))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)


@fast
@given(batches(1e300))
def test_sigmoid_in_unit_interval_and_symmetric(x):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = F.sigmoid(x)
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(F.sigmoid(-x), 1 - y, atol=1e-15)


# --------------------------------------------------------------------------- losses


@fast
@given(batches(1e3), st.data())
def test_squared_errors_non_negative_and_zero_at_target(y, data):
    t = data.draw(arrays(np.float64, y.shape, elements=floats(1e3)))
    assert F.sum_squared_error(y, t) >= 0
    assert F.mean_squared_error(y, t) >= 0
    assert F.sum_squared_error(t, t) == 0
    assert F.mean_squared_error(t, t) == 0
    # the batch definitions: sum squared error is C times the mean squared error
    assert np.isclose(F.sum_squared_error(y, t), y.shape[-1] * F.mean_squared_error(y, t),
                      rtol=1e-12)


@fast
@given(logits_and_labels())
def test_cross_entropy_non_negative_up_to_delta_and_zero_at_one_hot(xt):
    x, t = xt
    y = F.softmax(x)
    one_hot = np.eye(x.shape[-1])[t]
    # −log(y + δ) ≥ −log(1 + δ) ≈ −δ: the δ is the only thing that can push it below 0
    assert F.cross_entropy_error(y, t) >= -np.log1p(DELTA) - 1e-15
    assert np.isclose(F.cross_entropy_error(y, t), F.cross_entropy_error(y, one_hot),
                      rtol=1e-12, atol=1e-15)
    # y = t: zero up to the δ
    assert abs(F.cross_entropy_error(one_hot, t)) <= 1.01 * DELTA
    assert abs(F.cross_entropy_error(one_hot, one_hot)) <= 1.01 * DELTA


@fast
@given(logits_and_labels())
def test_softmax_cross_entropy_non_negative_and_consistent(xt):
    x, t = xt
    loss = F.softmax_cross_entropy(x, t)
    assert loss >= 0
    assert np.isclose(loss, F.softmax_cross_entropy(x, np.eye(x.shape[-1])[t]), rtol=1e-12,
                      atol=1e-15)
    # the same as −log softmax, computed without δ
    picked = np.take_along_axis(F.log_softmax(x), t[..., None], axis=-1)
    n = 1 if x.ndim == 1 else x.size // x.shape[-1]
    assert np.isclose(loss, -picked.sum() / n, rtol=1e-10, atol=1e-12)
    # the gradient of each sample sums to 0 over the classes (probabilities minus one-hot)
    _, y = K.softmax_cross_entropy(x, t)
    np.testing.assert_allclose(F.softmax_cross_entropy_backward(y, t).sum(axis=-1), 0,
                               atol=1e-12)


@fast
@given(logits_and_labels(bound=1e300))
def test_softmax_cross_entropy_finite_for_huge_logits(xt):
    x, t = xt
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.softmax_cross_entropy(x, t)
    assert np.isfinite(loss) and loss >= 0


@fast
@given(batches(1e300), st.data())
def test_binary_cross_entropy_non_negative_and_finite(x, data):
    t = data.draw(arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.sigmoid_binary_cross_entropy(x, t)
    assert np.isfinite(loss) and loss >= 0


@fast
@given(batches(30.0))
def test_binary_cross_entropy_smallest_at_the_sigmoid_target(x):
    """For soft targets t = σ(x) the loss is the entropy, the smallest over all logits."""
    t = F.sigmoid(x)
    best = F.sigmoid_binary_cross_entropy(x, t)
    assert best <= F.sigmoid_binary_cross_entropy(x + 0.5, t) + 1e-12
    assert best <= F.sigmoid_binary_cross_entropy(x - 0.5, t) + 1e-12


# --------------------------------------------------------------------------- float32 (the default)


@fast
@given(arrays(np.float32, array_shapes(min_dims=1, max_dims=3, max_side=6),
              elements=st.floats(-2.0**120, 2.0**120, width=32)))
def test_float32_softmax_sigmoid_and_losses_stay_float32_and_finite(x):
    """float32 is the default dtype: the results stay float32, with no overflow warning."""
    t = x.argmax(axis=-1)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = F.softmax(x)
        s = F.sigmoid(x)
        loss = F.softmax_cross_entropy(x, t)
        bce = F.sigmoid_binary_cross_entropy(x, (x > 0).astype(np.float32))
    assert y.dtype == s.dtype == F.log_softmax(x).dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-6)
    assert np.all((s >= 0) & (s <= 1))
    assert np.isfinite(loss) and loss >= 0
    assert np.isfinite(bce) and bce >= 0
