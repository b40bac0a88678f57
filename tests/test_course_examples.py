"""The course's worked examples, computed with ippo's layers and models."""

import numpy as np
import pytest

from ippo.autograd import Tensor, nn, ops
from ippo.gradcheck import relative_error
from ippo.layers import Affine, Identity, MeanSquaredLoss, ReLU, SumSquaredLoss
from ippo.models import MLP, Sequential, load
from ippo.numerical import numerical_gradient
from ippo.optimizers import SGD
from ippo.training import Trainer

W1 = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]
B1 = [0.1, 0.2, 0.3]
W2 = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]
B2 = [0.1, 0.2]
W3 = [[0.1, 0.3], [0.2, 0.4]]
B3 = [1, 2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_three_layer_forward_pass(dtype):
    layers = [Affine(W1, B1, dtype=dtype), ReLU(), Affine(W2, B2, dtype=dtype), ReLU(),
              Affine(W3, B3, dtype=dtype), Identity()]
    x = np.array([1.0, 2.0], dtype=dtype)
    h = x
    for layer in layers:
        h = layer.forward(h)
    np.testing.assert_allclose(h, [1.56, 3.222], rtol=1e-6)
    assert h.dtype == dtype
    # the same network as a Sequential model on a batch of one
    model = Sequential(layers, MeanSquaredLoss())
    np.testing.assert_allclose(model.predict(x[None, :]), [[1.56, 3.222]], rtol=1e-6)


def test_two_three_two_regression_network():
    """2-3-2 network (ReLU hidden, identity output), x = (1, 2), t = (1, 2).

    a1 = x·W1 + b1 = (0.6, 1.3, 2.0), y = a1·W2 + b2 = (1.02, 2.29).
    Squared error ½·Σ(y − t)² = ½·(0.02² + 0.29²) = 0.04225; ippo's mean squared error
    averages over the 2 outputs: 0.021125, and its gradient is (y − t)/2 = (0.01, 0.145).
    """
    model = Sequential([Affine(W1, B1, dtype=np.float64), ReLU(),
                        Affine(W2, B2, dtype=np.float64)], MeanSquaredLoss())
    x = np.array([[1.0, 2.0]])
    t = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(model.predict(x), [[1.02, 2.29]])
    assert model.loss(x, t) == pytest.approx(0.021125)
    model.backward()
    dW1, db1, dW2, db2 = model.grads
    np.testing.assert_allclose(db2, [0.01, 0.145])
    np.testing.assert_allclose(dW2, [[0.006, 0.087], [0.013, 0.1885], [0.02, 0.29]])
    # dh = dy·W2ᵀ = (0.059, 0.0745, 0.09), all hidden units active
    np.testing.assert_allclose(db1, [0.059, 0.0745, 0.09])
    np.testing.assert_allclose(dW1, [[0.059, 0.0745, 0.09], [0.118, 0.149, 0.18]])
    for p, g in zip(model.params, model.grads, strict=True):
        num = numerical_gradient(lambda _: model.loss(x, t), p, h=1e-5)
        assert relative_error(g, num) < 1e-9
    # one gradient-descent step lowers the squared error
    before = model.loss(x, t)
    model.backward()
    for p, g in zip(model.params, model.grads, strict=True):
        p -= 0.1 * g
    assert model.loss(x, t) < before


def test_online_sgd_learns_a_linear_function():
    """2-10-1 network, y = 3·x0 + 2·x1, x uniform in [0, 1)², online SGD: one sample per
    step, lr 0.07, 1000 steps."""
    rng = np.random.default_rng(0)
    x = rng.random((1000, 2), dtype=np.float32)
    t = (3 * x[:, 0] + 2 * x[:, 1])[:, None]
    model = MLP([2, 10, 1], activation="sigmoid", task="regression", seed=0)
    losses = []
    for i in range(1000):
        losses.append(model.loss(x[i:i + 1], t[i:i + 1]))
        model.backward()
        for p, g in zip(model.params, model.grads, strict=True):
            p -= 0.07 * g
    first, last = np.mean(losses[:100]), np.mean(losses[-100:])
    assert last < first / 50, (first, last)
    x_new = np.array([[0.5, 0.5], [0.2, 0.9]], dtype=np.float32)
    np.testing.assert_allclose(model.predict(x_new)[:, 0], [2.5, 2.4], atol=0.25)


def test_the_per_sample_squared_error_trains_like_half_mean_at_c_times_the_rate(tmp_path):
    """E = ½Σⱼ(yⱼ − dⱼ)² (SumSquaredLoss) is C = 2 times ½·mean here, and so is its gradient:
    SGD with lr η on it takes exactly the steps of MeanSquaredLoss with lr 2η."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 2))
    d = np.c_[x[:, 0] + x[:, 1], x[:, 0] - 2 * x[:, 1]]

    def net(loss):
        return Sequential([Affine(W1, B1, dtype=np.float64), ReLU(),
                           Affine(W2, B2, dtype=np.float64)], loss)

    per_sample, half_mean = net(SumSquaredLoss()), net(MeanSquaredLoss())
    for _ in range(50):
        i = rng.integers(0, 20, 5)
        a = per_sample.loss(x[i], d[i])
        b = half_mean.loss(x[i], d[i])
        assert a == pytest.approx(2 * b, rel=1e-12)
        per_sample.backward()
        half_mean.backward()
        for p, g in zip(per_sample.params, per_sample.grads, strict=True):
            p -= 0.05 * g
        for p, g in zip(half_mean.params, half_mean.grads, strict=True):
            p -= 0.1 * g
    for p, q in zip(per_sample.params, half_mean.params, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
    assert per_sample.loss(x, d) < 0.5 * net(SumSquaredLoss()).loss(x, d)  # it learned
    # a model with this loss saves and loads like any other
    per_sample.save(tmp_path / "m.npz")
    again = load(tmp_path / "m.npz")
    assert isinstance(again.loss_layer, SumSquaredLoss)
    assert again.loss(x, d) == pytest.approx(per_sample.loss(x, d), rel=1e-12)


def test_an_mlp_trains_with_the_per_sample_squared_error_too(tmp_path):
    """MLP(task="regression", loss="sum_squared_error") in both model families: the loss is
    ½·Σⱼ(yⱼ − dⱼ)² per sample (by hand), trained with Trainer at lr η it takes the steps of
    the default ½·mean at C·η, the two families stay equal, and the choice is saved."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2))
    d = np.c_[x[:, 0] + x[:, 1], x[:, 0] - 2 * x[:, 1], 3 * x[:, 1]]  # C = 3 outputs
    kw = dict(task="regression", dtype=np.float64, seed=0)
    per_sample = MLP([2, 8, 3], loss="sum_squared_error", **kw)
    assert isinstance(per_sample.loss_layer, SumSquaredLoss)
    assert isinstance(MLP([2, 8, 3], **kw).loss_layer, MeanSquaredLoss)
    y = per_sample.predict(x)
    assert per_sample.loss(x, d) == pytest.approx(0.5 * ((y - d) ** 2).sum() / 40, rel=1e-12)
    half_mean = MLP([2, 8, 3], **kw)
    auto = nn.Trainable(nn.MLP([2, 8, 3], loss="sum_squared_error", **kw))
    for model, lr in ((per_sample, 0.02), (half_mean, 0.06), (auto, 0.02)):
        Trainer(model, SGD(lr=lr), verbose=0).fit(x, d, epochs=5, batch_size=8, seed=0)
    for a, b in zip(per_sample.params, half_mean.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(per_sample.params, auto.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert per_sample.loss(x, d) < 0.5 * MLP([2, 8, 3], loss="sum_squared_error",
                                             **kw).loss(x, d)  # it learned
    per_sample.save(tmp_path / "m.npz")
    again = load(tmp_path / "m.npz")
    assert again.config()["loss"] == "sum_squared_error"
    assert "loss" not in half_mean.config()  # the default is not written: old readers cope
    assert isinstance(again.loss_layer, SumSquaredLoss)
    assert "loss='sum_squared_error'" in repr(again)
    with pytest.raises(ValueError, match="loss for task='binary' must be one of"):
        nn.MLP([2, 1], task="binary", loss="sum_squared_error")


def test_autograd_sum_squared_error_matches_its_formula_and_numerical_gradients():
    y = Tensor(np.array([[1.02, 2.29], [0.5, -1.0]]), requires_grad=True)
    d = np.array([[2.0, 4.0], [0.0, 0.0]])
    loss = ops.sum_squared_error(y, d)
    # ½·((0.98² + 1.71²) + (0.5² + 1²)) / 2 samples
    assert loss.item() == pytest.approx(0.5 * (0.9604 + 2.9241 + 0.25 + 1.0) / 2, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(y.grad.data, (y.data - d) / 2, rtol=1e-12)
    num = numerical_gradient(lambda v: ops.sum_squared_error(v, d).item(), y.data.copy())
    assert relative_error(y.grad.data, num) < 1e-8
    assert ops.sum_squared_error(y, d).item() == pytest.approx(2 * ops.mse(y, d).item())
    one = ops.sum_squared_error(Tensor(np.array([[1.0], [3.0]])), np.array([0.0, 1.0]))
    assert one.item() == pytest.approx(0.5 * (1 + 4) / 2)  # a (N,) target for (N, 1)
