"""gradient_check and ``ippo gradcheck``: every MLP task × activation × init passes in float64,
and a wrong backward is caught."""

import warnings
import zlib

import numpy as np
import pytest

from ippo.cli import main
from ippo.gradcheck import (
    TOLERANCE,
    KinkWarning,
    gradient_check,
    gradient_check_kink_free,
    kinks_near,
    random_targets,
    relative_error,
)
from ippo.layers import Affine, Sigmoid, SoftmaxWithLoss
from ippo.models import MLP, Sequential
from ippo.numerical import numerical_gradient

TASKS = {"regression": 2, "binary": 1, "multiclass": 3}
ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu", "identity"]


def random_biases(model, rng):
    """Move biases off 0 so that no ReLU input sits exactly on the kink."""
    for name, p in zip(model.param_names, model.params, strict=True):
        if name.endswith(".b"):
            p[...] = rng.uniform(-0.5, 0.5, p.shape)


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("init", ["auto", "he", "xavier", 0.5])
def test_every_task_activation_init(task, activation, init):
    # a seed of its own per case, the same in every process (hash() of a str is not)
    rng = np.random.default_rng(zlib.crc32(f"{task}-{activation}-{init}".encode()))
    out = TASKS[task]
    m = MLP([3, 5, 4, out], activation=activation, task=task, init=init, seed=1)

    def draw():  # new biases and a new batch (drawn again while near a ReLU kink)
        random_biases(m, rng)
        return rng.standard_normal((6, 3)).astype(np.float32), random_targets(task, 6, out, rng)

    with warnings.catch_warnings():
        warnings.simplefilter("error", KinkWarning)  # no kink-free draw in 20 would fail
        errors = gradient_check_kink_free(m, draw)
    assert list(errors) == m.param_names
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_batchnorm_dropout_weight_decay(task, activation):
    rng = np.random.default_rng(7)
    out = TASKS[task]
    m = MLP([3, 5, 4, out], activation=activation, task=task, batchnorm=True, dropout=0.3,
            weight_decay=0.1, seed=2)
    random_biases(m, rng)
    x = rng.standard_normal((8, 3))
    errors = gradient_check(m, x, random_targets(task, 8, out, rng))
    assert max(errors.values()) < TOLERANCE, errors


def test_matches_numerical_gradient_directly():
    rng = np.random.default_rng(0)
    m = MLP([3, 4, 2], activation="tanh", dtype=np.float64, seed=0)
    x, t = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    before = [p.copy() for p in m.params]
    errors = gradient_check(m, x, t)
    for p, q in zip(m.params, before, strict=True):  # the model is left unchanged
        np.testing.assert_array_equal(p, q)
    m.loss(x, t)
    m.backward()
    for name, p, g in zip(m.param_names, m.params, m.grads, strict=True):
        num = numerical_gradient(lambda _: m.loss(x, t), p)
        assert relative_error(g, num) < 1e-6
        assert errors[name] < 1e-6


def test_a_wrong_backward_is_caught():
    class WrongSigmoid(Sigmoid):
        def backward(self, dout):
            return dout * self.y  # forgot the (1 − y)

    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    # built in float64, so that gradient_check checks this very model (custom layer included)
    layers64 = [Affine(rng.standard_normal((3, 4)), dtype=np.float64), WrongSigmoid(),
                Affine(rng.standard_normal((4, 2)), dtype=np.float64)]
    errors = gradient_check(Sequential(layers64, SoftmaxWithLoss()), x, t)
    assert errors["Affine2.W"] < 1e-6  # above the broken layer: fine
    assert errors["Affine1.W"] > 1e-2  # below it: wrong


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert relative_error([0.0], [0.0]) == 0
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert relative_error([1e-12], [0.0], floor=1e-3) == pytest.approx(1e-9)


def test_cli_prints_a_table(capsys):
    assert main(["gradcheck", "--activation", "relu"]) == 0
    out = capsys.readouterr().out
    for task in TASKS:
        assert task in out
    assert "Affine1.W" in out and "FAIL" not in out
    assert "18/18 parameters pass" in out


@pytest.mark.parametrize("args,message", [
    (["--activation", "softplus"], "--activation: must be one of relu, sigmoid"),
    # the same checks, and messages, as ippo train's options
    (["--dropout", "1.5"], "--dropout: must be in [0.0, 1.0), got '1.5'"),
    (["--weight-decay", "-1"], "--weight-decay: must be in [0.0, 1000000.0], got '-1'"),
    (["--init", "lecun"], "--init: expected auto, he, xavier or a number, got 'lecun'"),
    (["--sizes", "4,x"], "--sizes: expected comma-separated integers"),
])
def test_cli_bad_argument(capsys, args, message):
    assert main(["gradcheck", *args]) == 1
    assert message in capsys.readouterr().err


def test_cli_init_and_options(capsys):
    assert main(["gradcheck", "--activation", "tanh", "--init", "0.5", "--batchnorm",
                 "--dropout", "0.2", "--weight-decay", "0.1", "--sizes", "3,4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MLP 3-4-out (out: regression 2, binary 1, multiclass 3), batch 8, "
                          "float64, init 0.5\n")
    assert "BatchNormalization1.gamma" in out and "FAIL" not in out
    assert "18/18 parameters pass" in out


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_an_input_on_the_kink_is_warned_about(activation):
    # zero biases and an all-zero sample: every first-layer pre-activation is exactly 0
    m = MLP([3, 4, 2], activation=activation, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).standard_normal((4, 3))
    x[1] = 0.0
    with pytest.warns(KinkWarning, match=r"ReLU1 \(\|input\| = 0\.0e\+00\)"):
        errors = gradient_check(m, x, np.array([0, 1, 1, 0]))
    assert errors["Affine1.b"] > 1e-3  # the central difference straddles the kink


def test_kinks_near_lists_only_relu_like_layers_within_the_margin():
    m = MLP([2, 3, 2], activation="relu", dtype=np.float64, seed=0)
    for p in m.params:
        p[...] = 0.0
    m.params[0][...] = np.eye(2, 3)  # pre-activations = (x0, x1, 0)
    assert kinks_near(m, np.array([[1.0, 2.0]]), 1e-4) == [("ReLU1", 0.0)]
    m.params[1][...] = [0.0, 0.0, 5e-5]
    assert kinks_near(m, np.array([[1.0, 2.0]]), 1e-4) == [("ReLU1", 5e-5)]
    assert kinks_near(m, np.array([[1.0, 2.0]]), 1e-5) == []
    assert kinks_near(MLP([2, 3, 2], activation="tanh", seed=0), np.zeros((1, 2)), 1.0) == []


def test_gradient_check_kink_free_draws_again_near_a_kink():
    m = MLP([3, 4, 2], activation="relu", dtype=np.float64, seed=0)  # zero biases
    rng = np.random.default_rng(0)
    draws = []

    def draw():
        x = rng.standard_normal((4, 3))
        if not draws:
            x[1] = 0.0  # the first batch puts every ReLU1 input on the kink
        draws.append(x)
        return x, np.array([0, 1, 1, 0])

    with warnings.catch_warnings():
        warnings.simplefilter("error", KinkWarning)
        errors = gradient_check_kink_free(m, draw)
    assert len(draws) == 2
    assert max(errors.values()) < TOLERANCE, errors

    def always_on_the_kink():
        return np.zeros((4, 3)), np.array([0, 1, 1, 0])

    with pytest.warns(KinkWarning):  # gives up after `tries`, and says why
        gradient_check_kink_free(m, always_on_the_kink, tries=3)


def test_every_layer_in_one_float32_model():
    """Embedding (integer input), Affine, LeakyReLU, BatchNorm, Dropout, MatMul, weight decay:
    checked through a float32 model (the check itself runs on a float64 copy)."""
    from ippo.layers import BatchNormalization, Dropout, Embedding, LeakyReLU, MatMul

    rng = np.random.default_rng(5)
    f32 = np.float32
    s = Sequential([Embedding(rng.standard_normal((10, 4)), dtype=f32),
                    Affine(rng.standard_normal((12, 5)), rng.uniform(-1, 1, 5), dtype=f32),
                    BatchNormalization(rng.uniform(0.5, 1.5, 5), rng.uniform(0.5, 1, 5),
                                       dtype=f32),
                    LeakyReLU(0.2), Dropout(0.3, seed=0),
                    MatMul(rng.standard_normal((5, 3)), dtype=f32)],
                   SoftmaxWithLoss(), weight_decay=0.1)
    ids = rng.integers(0, 10, (6, 3))
    errors = gradient_check(s, ids, rng.integers(0, 3, 6))
    assert list(errors) == s.param_names and len(errors) == 6
    assert max(errors.values()) < TOLERANCE, errors


def test_a_float32_model_with_an_unregistered_layer_says_what_to_do():
    class MySigmoid(Sigmoid):
        pass

    s = Sequential([Affine(np.ones((3, 2)), dtype=np.float32), MySigmoid()], SoftmaxWithLoss())
    with pytest.raises(ValueError, match=r"gradient_check: cannot make a float64 copy of this "
                                         r"float32 model \(unknown layer type 'MySigmoid'.*"
                                         r"build it with dtype=np.float64"):
        gradient_check(s, np.ones((2, 3)), np.array([0, 1]))


def test_a_backward_wrong_by_1e4_is_caught_by_the_pass_rule(monkeypatch, capsys):
    """A bug of one part in 10,000 in dW: gradient_check measures about 1e-4, and the pass
    rule (`ippo gradcheck`'s FAIL, exit 1) catches it; a threshold loosened to 1e-2 would
    not."""
    real = Affine.backward

    def slightly_wrong(self, dout):
        dx = real(self, dout)
        self.grads[0] *= 1 + 1e-4
        return dx

    rng = np.random.default_rng(5)
    m = MLP([3, 4, 2], activation="tanh", dtype=np.float64, seed=0)
    x, t = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    correct = gradient_check(m, x, t)
    assert max(correct.values()) < 1e-7
    monkeypatch.setattr(Affine, "backward", slightly_wrong)
    errors = gradient_check(m, x, t)
    assert 5e-5 < errors["Affine1.W"] < 2e-4 and 5e-5 < errors["Affine2.W"] < 2e-4
    assert errors["Affine1.b"] < 1e-7  # the biases' gradients are still right
    rc = main(["gradcheck", "--sizes", "3,4", "--activation", "tanh"])
    out = capsys.readouterr().out
    assert rc == 1
    fails = [line for line in out.splitlines() if line.endswith("FAIL")]
    assert len(fails) == 6 and all(".W" in line for line in fails)  # 2 weights × 3 tasks
