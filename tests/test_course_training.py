"""The course's training runs, end to end, on ippo.models.MLP and ippo.training.Trainer."""

import numpy as np
import pytest

from ippo import optimizers as O
from ippo.training import Trainer
from tests._training_helpers import mlp, spiral


@pytest.fixture(scope="module")
def data():
    return spiral(100, 3, seed=0)  # 3 classes × 100 points


def test_spiral_2_10_3_sigmoid_sgd(data):
    """2-10-3 sigmoid network, SGD lr 1.0, batch 30, 300 epochs: ≥ 90 % training accuracy."""
    x, t = data
    model = mlp((2, 10, 3), activation="sigmoid", seed=0)
    h = Trainer(model, O.SGD(lr=1.0), verbose=0).fit(x, t, epochs=300, batch_size=30, seed=0)
    assert len(h.iteration_loss) == 300 * 10
    assert 0.9 <= h["accuracy"][-1] <= 1.0
    assert 0.9 <= model.accuracy(x, t) <= 1.0
    # the loss curve falls: from about log 3 ≈ 1.1 to a small fraction of it
    assert h["loss"][0] > 1.0
    assert np.mean(h["loss"][-10:]) < 0.3 * h["loss"][0]
    assert np.mean(h.iteration_loss[-100:]) < np.mean(h.iteration_loss[:100])




@pytest.mark.parametrize(
    "mode, batch_size, epochs, per_epoch",
    [
        ("batch", None, 60, 1),  # all 300 samples per step: one update per epoch
        ("online", 1, 2, 300),  # one sample per step: 300 updates per epoch
        ("mini-batch", 30, 10, 10),  # 300 / 30
        ("mini-batch, uneven", 32, 10, 10),  # 9 batches of 32 and one of 12
    ],
)
def test_batch_online_minibatch_modes(data, mode, batch_size, epochs, per_epoch):
    x, t = data
    model = mlp(seed=1)
    opt = O.SGD(lr=1.0 if batch_size != 1 else 0.1)
    trainer = Trainer(model, opt, verbose=0)
    before = trainer.evaluate(x, t)["loss"]
    h = trainer.fit(x, t, epochs=epochs, batch_size=batch_size, seed=0)
    assert opt.t == epochs * per_epoch, mode
    assert len(h.iteration_loss) == epochs * per_epoch
    assert h.iterations_per_epoch == per_epoch
    assert len(h) == epochs and h["epoch"] == list(range(1, epochs + 1))
    after = trainer.evaluate(x, t)["loss"]
    assert after < 0.9 * before, (mode, before, after)  # measured 0.63-0.83
    assert h["loss"][-1] < h["loss"][0]


def test_adaptive_optimizers_beat_sgd_after_few_steps(data):
    """The course's comparison (ch. 6) with its learning rates: after the same 100 updates
    of a 2-100-100-3 ReLU network, Momentum, AdaGrad and Adam are ahead of plain SGD."""
    x, t = data
    losses = {}
    for name, opt in [
        ("SGD", O.SGD(0.01)),
        ("Momentum", O.Momentum(0.01)),
        ("AdaGrad", O.AdaGrad(0.01)),
        ("Adam", O.Adam(0.001)),
    ]:
        model = mlp((2, 100, 100, 3), activation="relu", seed=0)
        trainer = Trainer(model, opt, verbose=0)
        trainer.fit(x, t, epochs=10, batch_size=30, seed=0, eval_train=False)
        assert opt.t == 100
        losses[name] = trainer.evaluate(x, t)["loss"]
    # measured: SGD 0.73, Momentum 0.46, AdaGrad 0.34, Adam 0.53 (seeds 0-4 within ±0.05)
    for name in ("Momentum", "AdaGrad", "Adam"):
        assert losses[name] < 0.85 * losses["SGD"], losses
