"""01 — Activation functions (活性化関数).

The five activations of the course side by side with their derivatives; why a network
needs a *non-linear* activation; the softmax of the output layer.

    python examples/01_activations.py            # figures into examples/figures/

Prints: the check that two stacked linear maps are one linear map, that ReLU is not
additive (ReLU(−1 + 1) = 0 but ReLU(−1) + ReLU(1) = 1), and softmax([6, 4]) = [0.88, 0.12].
Draws: 01_activations.png (each function with its derivative).
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo import functions as F

out = _common.figure_dir()

# --------------------------------------------------------------------------- the picture
# Each activation h(x) beside its derivative h'(x): the derivative is what back-propagation
# multiplies by, so a flat region (step: 0 everywhere; sigmoid far from 0) passes no signal.
x = np.linspace(-4, 4, 801)
curves = [  # name, h, h', the y range to show
    ("step", F.step, F.step_grad, (-0.2, 1.2)),
    ("sigmoid", F.sigmoid, F.sigmoid_grad, (-0.2, 1.2)),
    ("ReLU", F.relu, F.relu_grad, (-0.5, 3)),
    ("tanh", F.tanh, F.tanh_grad, (-1.2, 1.2)),
    ("leaky ReLU (α = 0.1)", lambda v: F.leaky_relu(v, 0.1), lambda v: F.leaky_relu_grad(v, 0.1),
     (-0.5, 3)),
]
fig, axes = plt.subplots(1, 5, figsize=(16, 3.6), sharex=True, layout="constrained")
for ax, (name, h, dh, ylim) in zip(axes, curves, strict=True):
    ax.plot(x, h(x), lw=2, label="h(x)")
    ax.plot(x, dh(x), lw=1.5, ls="--", label="h'(x)")
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_title(name)
    ax.set_xlabel("x")
    ax.set_ylim(*ylim)
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("value")
fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
_common.save(fig, out, "01_activations.png")

# --------------------------------------------------------------------------- linear adds nothing
_common.heading("Why the activation must be non-linear (線形と非線形)")
rng = np.random.default_rng(0)
W1, W2 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
xs = rng.normal(size=(5, 3))
two_layers = (xs @ W1) @ W2  # two layers with a linear (identity) activation ...
one_layer = xs @ (W1 @ W2)   # ... are one layer whose weight is the product W1·W2
print(f"two stacked linear layers vs one layer with W = W1·W2: largest difference "
      f"{np.abs(two_layers - one_layer).max():.1e}")
print("so without a non-linear activation, depth adds nothing.")
a, b = -1.0, 1.0
print(f"ReLU(-1 + 1) = {F.relu(a + b)}, but ReLU(-1) + ReLU(1) = {F.relu(a) + F.relu(b)}: "
      "ReLU is not additive, so it is not linear")

# --------------------------------------------------------------------------- softmax
_common.heading("Softmax of the output layer (ソフトマックス関数)")
scores = np.array([6.0, 4.0])
p = F.softmax(scores)
print(f"exp(6) = {np.exp(6):.0f}, exp(4) = {np.exp(4):.0f}, sum {np.exp(6) + np.exp(4):.0f}")
print(f"softmax([6, 4]) = [{p[0]:.2f}, {p[1]:.2f}]  (exactly {p}), sum {p.sum():.1f}")
print(f"softmax([1000, 998]) = {F.softmax(np.array([1000.0, 998.0]))}: the same, no overflow "
      "(the maximum is subtracted first)")
