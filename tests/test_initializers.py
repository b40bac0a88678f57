"""ippo.initializers: the std of He and Xavier, seeded draws, and clear errors."""

import math

import numpy as np
import pytest

from ippo.initializers import get_rng, he, he_std, init_std, normal, xavier, xavier_std


def test_std_formulas():
    assert he_std(50) == math.sqrt(2 / 50)
    assert xavier_std(50) == math.sqrt(1 / 50)
    assert he_std(np.int64(8)) == 0.5
    assert init_std("auto", 8, "relu") == init_std("he", 8) == init_std("He", 8) == 0.5
    assert init_std("auto", 8, "leaky_relu") == 0.5
    for act in ("sigmoid", "tanh", "identity"):
        assert init_std("auto", 4, act) == init_std("xavier", 4) == 0.5
    assert init_std(0.01, 8) == 0.01
    assert init_std(np.float32(0.25), 8) == 0.25  # a NumPy number is a number too


def test_draws_have_the_std_and_dtype_and_repeat_with_a_seed():
    w = he(400, 300, rng=0)
    assert w.shape == (400, 300) and w.dtype == np.float32
    assert w.std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert abs(w.mean()) < 0.003
    assert xavier(400, 300, rng=1).std() == pytest.approx(math.sqrt(1 / 400), rel=0.02)
    assert he(5, 4, rng=7).tobytes() == he(5, 4, rng=7).tobytes()
    assert he(5, 4, rng=7).tobytes() != he(5, 4, rng=8).tobytes()
    # drawn in float64 then cast: float32 and float64 weights agree up to rounding
    np.testing.assert_allclose(normal((3, 3), 0.1, 5, np.float64), normal((3, 3), 0.1, 5),
                               rtol=1e-6)
    g = np.random.default_rng(0)
    assert get_rng(g) is g  # a Generator is used as is, so draws continue its stream


@pytest.mark.parametrize("call,match", [
    (lambda: he_std(0), r"he_std: n_in \(the number of inputs\) must be a positive integer, "
                        r"got 0"),
    (lambda: xavier_std(2.5), "xavier_std: n_in"),
    (lambda: normal((2, 2), 0.0), "std must be a positive finite number, got 0.0"),
    (lambda: normal((2, 2), float("nan")), "std must be a positive finite number"),
    (lambda: init_std("lecun", 3), "init must be 'auto', 'he', 'xavier'"),
    (lambda: init_std(True, 3), "init must be"),
    (lambda: init_std(-0.1, 3), "a std must be a positive finite number"),
    (lambda: get_rng("seven"), "seed must be None, a non-negative integer or a "
                               "numpy.random.Generator, got 'seven'"),
    (lambda: get_rng(-1), "seed must be"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
