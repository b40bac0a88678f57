"""09 — Online, mini-batch and batch learning (オンライン学習・ミニバッチ学習・バッチ学習).

The notes' experiment: a network learns y = 3·x0 + 2·x1 from samples x in [0, 1)². Their
2-10-1 network has a ReLU hidden layer and an identity output; each step takes one sample
drawn at random *with replacement* (``np.random.choice``) and moves the weights by
learning rate 0.07 times the gradient of that sample's squared error ½(y − d)². With one
output, ½(y − d)² is exactly ippo's regression loss (½·mean over one output).

In ippo the three ways of feeding the data are options of ``Trainer.fit``:

- online (確率的勾配降下法, SGD): ``batch_size=1, replacement=True`` — the notes' way;
- mini-batch: ``batch_size=10, replacement=True`` — the mean error of 10 draws per step;
- batch (バッチ学習): ``batch_size=None`` — all samples in every step, one step per epoch.

    python examples/09_learning_modes.py

Prints: per mode the number of updates, the loss after each epoch and a few predictions.
Draws: 09_learning_modes.png (the notes' picture: the loss of each of the first 1,000
draws of online learning; and the three modes' loss per epoch).
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.models import MLP
from ippo.optimizers import SGD
from ippo.training import Trainer

out = _common.figure_dir()
rng = np.random.default_rng(0)
n = _common.fast(1000, 200)
x = rng.random((n, 2), dtype=np.float32)          # x in [0, 1)², as the notes draw it
d = 3 * x[:, 0] + 2 * x[:, 1]                     # the target y = 3·x0 + 2·x1
epochs = _common.fast(20, 3)
modes = {  # name: the fit options
    "online (batch 1, with replacement)": {"batch_size": 1, "replacement": True},
    "mini-batch (10, with replacement)": {"batch_size": 10, "replacement": True},
    "batch (all samples)": {"batch_size": None},
}

_common.heading(f"Learning y = 3·x0 + 2·x1 from {n} samples, 2-10-1 ReLU network, SGD lr 0.07")
histories = {}
for name, options in modes.items():
    model = MLP([2, 10, 1], activation="relu", task="regression", seed=0)  # same start
    h = Trainer(model, SGD(lr=0.07), verbose=0).fit(x, d, epochs=epochs, seed=0,
                                                     eval_train=False, **options)
    histories[name] = h
    probe = np.array([[0.5, 0.5], [0.2, 0.9], [1.0, 0.0]], dtype=np.float32)
    print(f"{name:36s} {len(h.iteration_loss):6d} updates; loss per epoch "
          + " ".join(f"{v:.4f}" for v in h["loss"][:3]) + " … " + f"{h['loss'][-1]:.5f}")
    print(f"{'':36s} predictions for (0.5, 0.5), (0.2, 0.9), (1, 0): "
          f"{np.round(model.predict(probe)[:, 0], 3)}  (true 2.5, 2.4, 3.0)")

fig, (ax_draws, ax_modes) = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
online = np.array(histories["online (batch 1, with replacement)"].iteration_loss[:1000])
ax_draws.plot(np.arange(len(online)), online, ".", ms=3)
ax_draws.set_yscale("log")
ax_draws.set_xlabel("draw (one sample per update)")
ax_draws.set_ylabel("squared error ½(y − d)² of the drawn sample (log)")
ax_draws.set_title(f"online learning, the notes' picture: the first {len(online)} draws")
ax_draws.grid(alpha=0.3)
for name, h in histories.items():
    ax_modes.semilogy(h["epoch"], h["loss"], "o-", ms=4, label=name)
ax_modes.set_xlabel("epoch (one pass's worth of samples)")
ax_modes.set_ylabel("mean training loss of the epoch (log)")
ax_modes.set_title("three ways to feed the same data, lr 0.07")
ax_modes.legend()
ax_modes.grid(alpha=0.3)
_common.save(fig, out, "09_learning_modes.png")
print(f"per epoch online learning makes {n} updates, mini-batch {n // 10} and batch 1: at the "
      "same learning rate batch learning needs far more epochs; in exchange each of its steps "
      "follows the exact gradient of all samples, computed as one large matrix product")
