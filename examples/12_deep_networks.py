"""12 — Training deep networks: vanishing gradients (勾配消失), weight initialisation
(重みの初期値) and batch normalisation (バッチ正規化).

1. The size of the gradient in each layer of a 10-layer network at its first step: with
   sigmoid it shrinks layer by layer toward the input (σ' is at most 0.25), with ReLU
   (and He initialisation) it stays of one size.
2. Activations of a 5-layer ReLU network for three initial weight scales: std 0.01
   (the signal dies away), Xavier √(1/n) (it fades), He √(2/n) (it keeps its spread).
3. The loss of the same network on digits with each initialisation, and a deep network
   trained with and without batch normalisation.

    python examples/12_deep_networks.py

Prints: the gradient size per layer for both activations, the activations' spread per layer
for each initialisation, the final losses and accuracies.
Draws: 12_vanishing_gradients.png, 12_activation_histograms.png, 12_init_and_batchnorm.png.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.layers import ReLU
from ippo.models import MLP
from ippo.optimizers import SGD
from ippo.training import Trainer

out = _common.figure_dir()
(x, t), (x_test, t_test), name = _common.mnist_or_digits(_common.fast(2000, 300),
                                                         _common.fast(1000, 200))
n_in = x.shape[1]

# --------------------------------------------------------------------------- 1. gradients
_common.heading("1. Gradient size per layer of a 10-layer network (勾配消失)")
fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
for activation in ("sigmoid", "relu"):  # init "auto": Xavier for sigmoid, He for ReLU
    model = MLP([n_in] + [100] * 9 + [10], activation=activation, seed=0)
    model.loss(x[:100], t[:100])
    model.backward()
    sizes = [np.abs(g).mean() for g, pname in zip(model.grads, model.param_names, strict=True)
             if pname.endswith(".W")]  # mean |∂L/∂W| of each Affine layer, input side first
    print(f"{activation:7s}: mean |dL/dW| from the first to the last layer: "
          + " ".join(f"{s:.0e}" for s in sizes))
    ax.semilogy(range(1, len(sizes) + 1), sizes, "o-", label=f"{activation}")
ax.set_xlabel("layer (1 = next to the input)")
ax.set_ylabel("mean |∂L/∂W| (log scale)")
ax.set_title("Gradient size per layer at the first step, 10-layer network")
ax.legend()
ax.grid(alpha=0.3)
_common.save(fig, out, "12_vanishing_gradients.png")

# --------------------------------------------------------------------------- 2. histograms
_common.heading("2. Activations of a 5-layer ReLU network for three initial weight scales")
inputs = np.random.default_rng(0).normal(size=(1000, 100)).astype(np.float32)
inits = {"std 0.01": 0.01, "Xavier √(1/n)": "xavier", "He √(2/n)": "he"}
fig, axes = plt.subplots(3, 5, figsize=(15, 8), sharey="row", layout="constrained")
for row, (label, init) in enumerate(inits.items()):
    model = MLP([100] * 6 + [10], activation="relu", init=init, seed=0)
    h = inputs
    spreads = []
    for layer in model.layers:  # run the layers one by one, keeping each ReLU's output
        h = layer.forward(h)
        if isinstance(layer, ReLU):
            col = len(spreads)
            spreads.append(h.std())
            positive = h[h > 0]  # about half of the ReLU outputs are exactly 0: left out
            axes[row, col].hist(positive, bins=40, range=(0, 4))  # one scale for all panels
            axes[row, col].set_title(f"{label}: layer {col + 1} (std {h.std():.2g})",
                                     fontsize=10)
            axes[row, col].set_xlabel("activation (> 0)")
    axes[row, 0].set_ylabel("count")
    print(f"{label:14s} std of the activations, layers 1-5: "
          + " ".join(f"{s:.2g}" for s in spreads))
fig.suptitle("Positive ReLU outputs per layer for 1,000 random inputs, on one scale: with "
             "std 0.01 the signal dies, with Xavier it fades, with He it keeps its spread")
_common.save(fig, out, "12_activation_histograms.png")

# --------------------------------------------------------------------------- 3. training
_common.heading(f"3. Training on {name}: initial weights, then batch normalisation")
epochs = 15  # fast mode too: 45 updates on its 300 images, enough to see the lesson
fig, (ax_init, ax_bn) = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
for label, init in inits.items():
    model = MLP([n_in, 100, 100, 100, 100, 10], activation="relu", init=init, seed=0)
    h = Trainer(model, SGD(lr=0.01), verbose=0).fit(x, t, epochs=epochs, batch_size=100,
                                                     seed=0, eval_train=False)
    print(f"init {label:14s}: training loss {h['loss'][0]:.3f} → {h['loss'][-1]:.3f}")
    ax_init.plot(h.iteration_loss, label=label)
ax_init.set_xlabel("iteration (batch of 100)")
ax_init.set_ylabel("training loss")
ax_init.set_title(f"{n_in}-100×4-10 ReLU, SGD lr 0.01: the initial weights")
ax_init.legend()
ax_init.grid(alpha=0.3)

for batchnorm in (False, True):
    model = MLP([n_in] + [100] * 5 + [10], activation="relu", init=0.05, batchnorm=batchnorm,
                seed=0)
    h = Trainer(model, SGD(lr=0.01), verbose=0).fit(
        x, t, epochs=epochs, batch_size=100, x_val=x_test, t_val=t_test, seed=0)
    label = "with batch normalisation" if batchnorm else "without"
    print(f"{label:24s}: test accuracy after {epochs} epochs {h['val_accuracy'][-1]:.3f}")
    ax_bn.plot(h["epoch"], h["accuracy"], "-", label=f"{label}, training")
    ax_bn.plot(h["epoch"], h["val_accuracy"], "--", color=ax_bn.lines[-1].get_color(),
               label=f"{label}, test")
ax_bn.set_xlabel("epoch")
ax_bn.set_ylabel("accuracy")
ax_bn.set_title("6-layer ReLU network (init std 0.05), SGD lr 0.01")
ax_bn.legend()
ax_bn.grid(alpha=0.3)
_common.save(fig, out, "12_init_and_batchnorm.png")
