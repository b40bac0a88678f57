"""11 — Optimizers (最適化手法): SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam.

First on a plain function, f(x, y) = x²/20 + y², whose valley is 20 times flatter along x
than along y: plain SGD zigzags across the steep direction and creeps along the flat one;
the others damp the zigzag (Momentum, Nesterov) or scale each direction's step (AdaGrad,
RMSprop, AdaDelta, Adam). Then on handwritten digits: the loss of the same network trained
by each of them.

    python examples/11_optimizers.py

Prints: where each optimizer is after 30 steps from (−7, 2); the final training loss on
MNIST (or the 8x8 digits when MNIST is absent) for each.
Draws: 11_optimizer_paths.png, 11_optimizer_mnist.png.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo import optimizers as O
from ippo.models import MLP
from ippo.training import Trainer

out = _common.figure_dir()


def f(x, y):
    return x**2 / 20 + y**2


def grad_f(p):
    return np.array([p[0] / 10, 2 * p[1]])  # (∂f/∂x, ∂f/∂y)


# the learning rates of the course's comparison where it has one; AdaDelta has none
path_optimizers = {
    "SGD (lr 0.95)": O.SGD(lr=0.95),
    "Momentum (lr 0.1)": O.Momentum(lr=0.1),
    "Nesterov (lr 0.1)": O.Nesterov(lr=0.1),
    "AdaGrad (lr 1.5)": O.AdaGrad(lr=1.5),
    "RMSprop (lr 0.3)": O.RMSprop(lr=0.3),
    # AdaDelta's first steps are about √ε long: with its default ε = 1e-6, 30 steps barely
    # leave (−7, 2), so this toy uses ε = 1e-2
    "AdaDelta (no lr; ε 1e-2)": O.AdaDelta(eps=1e-2),
    "Adam (lr 0.3)": O.Adam(lr=0.3),
}

_common.heading("30 steps on f(x, y) = x²/20 + y² from (-7, 2)")
g = np.linspace(-10, 10, 200)
X, Y = np.meshgrid(g, np.linspace(-5, 5, 100))
fig, axes = plt.subplots(2, 4, figsize=(17, 7.5), layout="constrained")
for ax, (name, opt) in zip(axes.ravel()[:7], path_optimizers.items(), strict=True):
    p = np.array([-7.0, 2.0])
    path = [p.copy()]
    for _ in range(30):
        opt.update([p], [grad_f(p)])  # the same call a network's training makes
        path.append(p.copy())
    path = np.array(path)
    print(f"{name:26s} ends at ({p[0]:7.3f}, {p[1]:7.3f}), f = {f(*p):.4f}")
    ax.contour(X, Y, f(X, Y), levels=[0.1, 0.5, 1, 2, 4, 6, 8], colors="lightgray",
               linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", ms=3, lw=1, label="path")
    ax.plot(0, 0, "k+", ms=12, mew=2, label="minimum")
    ax.set_title(name)
    ax.set_xlim(-10, 10)
    ax.set_ylim(-5, 5)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="lower right", fontsize=8)
axes[1, 3].axis("off")
axes[1, 3].text(0.05, 0.5, "f(x, y) = x²/20 + y²\n30 steps from (−7, 2)\n\nthe valley is 20× "
                "flatter along x:\nSGD zigzags in y and creeps in x", fontsize=12,
                va="center")
fig.suptitle("Seven optimizers on f(x, y) = x²/20 + y²")
_common.save(fig, out, "11_optimizer_paths.png")

# --------------------------------------------------------------------------- on digits
_common.heading("The same network trained by each optimizer")
(x, t), _, name = _common.mnist_or_digits(_common.fast(3000, 500))
epochs = _common.fast(10, 2)
mnist_optimizers = {
    "SGD": O.SGD(lr=0.01), "Momentum": O.Momentum(lr=0.01), "Nesterov": O.Nesterov(lr=0.01),
    "AdaGrad": O.AdaGrad(lr=0.01), "RMSprop": O.RMSprop(lr=0.001), "AdaDelta": O.AdaDelta(),
    "Adam": O.Adam(lr=0.001),
}
fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
for opt_name, opt in mnist_optimizers.items():
    model = MLP([x.shape[1], 100, 10], seed=0)  # the same starting weights for each
    h = Trainer(model, opt, verbose=0).fit(x, t, epochs=epochs, batch_size=100, seed=0,
                                           eval_train=False)
    loss = np.array(h.iteration_loss)
    smooth = np.convolve(loss, np.ones(10) / 10, mode="valid")  # mean of 10 iterations
    rate = "no lr" if opt_name == "AdaDelta" else f"lr {opt.lr:g}"
    ax.plot(np.arange(len(smooth)) + 10, smooth, label=f"{opt_name} ({rate})")
    print(f"{opt_name:9s} {'(' + rate + ')':11s} training loss: first iteration "
          f"{loss[0]:.3f}, last 10 iterations {loss[-10:].mean():.4f}")
ax.set_yscale("log")
ax.set_xlabel("iteration (batch of 100)")
ax.set_ylabel("training loss (mean of 10 iterations, log scale)")
ax.set_title(f"{name}: {len(x)} images, {x.shape[1]}-100-10 ReLU network, batch 100")
ax.legend()
ax.grid(alpha=0.3)
_common.save(fig, out, "11_optimizer_mnist.png")
print("(Momentum and Nesterov nearly coincide here: with lr 0.01 their look-ahead differs "
      "little)")
