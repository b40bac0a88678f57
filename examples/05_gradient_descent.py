"""05 — Gradient descent (勾配降下法): x ← x − η·∇f(x).

On f(x0, x1) = x0² + x1²: the path from (−3, 4) with learning rate (学習率) η = 0.1, what
too large and too small a rate do, and gradient ascent (勾配上昇法). Then the course's 1-D
descent of f(x) = 0.01x² + 0.1x from x = 0, printed every 10,000 steps.

About that table: the notes print x = −1.648426583231277 at step 10,000, but their code
says lr = 0.001, which gives −0.9063544220185227 there. The printed table comes from
lr = 0.002 (the step is η·f'(x) = η·(0.02x + 0.1), so 10,000 steps at 0.002 travel as far
as 20,000 at 0.001). This example runs both and prints them side by side; both reach the
minimum x = −5, f = −0.25, the smaller rate later. (From step 130,000 on, the last two
digits of x differ from the notes' in the 14th decimal: rounding on their machine.)

    python examples/05_gradient_descent.py

Prints: the path's end point, the distance to the minimum after 20 steps for five rates,
the 1-D table for lr = 0.002 and lr = 0.001. Draws: 05_gradient_descent.png.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.numerical import gradient_descent

out = _common.figure_dir()


def f(v):
    return np.sum(v**2)


fig, axes = plt.subplots(2, 2, figsize=(12, 10), layout="constrained")
g = np.linspace(-4.5, 4.5, 200)
X0, X1 = np.meshgrid(g, g)

# --------------------------------------------------------------------------- (a) the path
_common.heading("Gradient descent on x0² + x1² from (-3, 4), lr = 0.1, 20 steps")
x, path = gradient_descent(f, np.array([-3.0, 4.0]), lr=0.1, steps=20, history=True)
print(f"after 20 steps: x = {x}, f(x) = {f(x):.2e}  (the minimum is f(0, 0) = 0)")
ax = axes[0, 0]
ax.contour(X0, X1, X0**2 + X1**2, levels=12, colors="lightgray", linewidths=0.8)
ax.plot(path[:, 0], path[:, 1], "o-", color="tab:blue", ms=4, label="path, lr = 0.1")
ax.plot(0, 0, "r*", ms=12, label="minimum")
ax.set_title("(a) gradient descent from (−3, 4) over the contours of f")

# --------------------------------------------------------------------------- (b) the rate
_common.heading("Too large and too small learning rates (20 steps from (-3, 4))")
ax_b = axes[0, 1]
for lr in (1e-10, 0.1, 0.95, 1.1, 1.5):
    x, path = gradient_descent(f, np.array([-3.0, 4.0]), lr=lr, steps=20, history=True)
    dist = np.linalg.norm(path, axis=1)
    verdict = ("diverges" if dist[-1] > dist[0] else
               "barely moves" if dist[-1] > 0.99 * dist[0] else "converges")
    print(f"lr = {lr:<6g} x after 20 steps = {x}, distance to the minimum "
          f"{dist[0]:.0f} → {dist[-1]:.3g}  ({verdict})")
    ax_b.semilogy(dist, "o-", ms=3, label=f"lr = {lr:g} ({verdict})")
x = gradient_descent(f, np.array([-3.0, 4.0]), lr=10.0, steps=100)
print(f"lr = 10     x after 100 steps = {x}  (diverges; beyond |x| ~ 1e13 the step h = 1e-4 "
      "of the numerical gradient is lost in rounding, so x stops moving)")
ax_b.set_xlabel("step")
ax_b.set_ylabel("distance to the minimum |x| (log scale)")
ax_b.set_title("(b) the learning rate decides: too small, good, too large")
ax_b.set_ylim(1e-2, 1e7)
ax_b.legend(fontsize=9)
ax_b.grid(alpha=0.3)

# --------------------------------------------------------------------------- (c) ascent
_common.heading("Gradient ascent: x ← x + lr·∇f climbs (descent on −f is ascent on f)")
x_up, up = gradient_descent(lambda v: -f(v), np.array([0.3, -0.4]), lr=0.1, steps=10,
                            history=True)
x_down, down = gradient_descent(f, np.array([0.3, -0.4]), lr=0.1, steps=10, history=True)
print(f"from (0.3, -0.4), 10 steps: ascent reaches {x_up} (f = {f(x_up):.2f}), descent "
      f"{x_down} (f = {f(x_down):.4f})")
ax = axes[1, 0]
ax.contour(X0, X1, X0**2 + X1**2, levels=12, colors="lightgray", linewidths=0.8)
ax.plot(up[:, 0], up[:, 1], "o-", color="tab:red", ms=4, label="ascent: x ← x + 0.1·∇f")
ax.plot(down[:, 0], down[:, 1], "o-", color="tab:blue", ms=4, label="descent: x ← x − 0.1·∇f")
ax.plot(0.3, -0.4, "ks", ms=6, label="start (0.3, −0.4)")
ax.set_title("(c) gradient ascent moves uphill, descent downhill")
for ax in (axes[0, 0], axes[1, 0]):
    ax.set_xlim(-4.5, 4.5)
    ax.set_ylim(-4.5, 4.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.legend(loc="lower right", fontsize=9)

# --------------------------------------------------------------------------- (d) the table
_common.heading("The notes' 1-D descent: f(x) = 0.01x² + 0.1x from x = 0")
steps = _common.fast(200_000, 20_000)


def f1(x):
    return 0.01 * x**2 + 0.1 * x


runs = {lr: gradient_descent(f1, 0.0, lr=lr, steps=steps, history=True)[1].tolist()
        for lr in (0.002, 0.001)}
print("the notes' printed table is the lr = 0.002 column; their code's lr = 0.001 gives the "
      "other")
print(f"{'step':>7} | {'x (lr=0.002)':>20} {'f(x)':>21} | {'x (lr=0.001)':>20} {'f(x)':>21}")
for i in range(0, steps, 10_000):
    a, b = runs[0.002][i], runs[0.001][i]
    print(f"{i:>7} | {a!r:>20} {f1(a)!r:>21} | {b!r:>20} {f1(b)!r:>21}")
ax = axes[1, 1]
for lr, xs in runs.items():
    ax.plot(np.arange(len(xs)), xs, lw=2,
            label=f"lr = {lr}" + (" (the notes' table)" if lr == 0.002 else " (the notes' code)"))
    ax.plot(10_000, xs[10_000], "o", color=ax.lines[-1].get_color())
    ax.annotate(f"{xs[10_000]:.3f} at step 10,000", (10_000, xs[10_000]),
                textcoords="offset points", xytext=(10, 4), fontsize=9)
ax.axhline(-5, color="gray", ls=":", label="minimum x = −5")
ax.set_xlabel("step")
ax.set_ylabel("x")
ax.set_title("(d) 1-D descent of 0.01x² + 0.1x from x = 0")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
fig.suptitle("Gradient descent on plain functions")
_common.save(fig, out, "05_gradient_descent.png")
