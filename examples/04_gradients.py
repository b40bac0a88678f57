"""04 — The gradient (勾配) as a field of arrows.

At every point of a grid, the numerical gradient of f(x0, x1) = x0² + x1²; the arrows show
the *negative* gradient, the direction in which f falls fastest. They all point at the
minimum (0, 0), and they are longer the further away it is.

    python examples/04_gradients.py

Prints: a few gradients (at (3, 4): (6, 8); at (0, 2): (0, 4); at the minimum: (0, 0)).
Draws: 04_gradient_field.png.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.numerical import numerical_gradient

out = _common.figure_dir()


def f(v):
    return np.sum(v**2)  # f(x0, x1) = x0² + x1²


_common.heading("Numerical gradients of x0² + x1²")
for point in ((3.0, 4.0), (0.0, 2.0), (-2.0, 1.0), (0.0, 0.0)):
    print(f"gradient at {point}: {numerical_gradient(f, np.array(point))}")

# one gradient per grid point (numerical_gradient takes one point at a time)
g = np.linspace(-2, 2, 17)
X0, X1 = np.meshgrid(g, g)
points = np.column_stack([X0.ravel(), X1.ravel()])
grads = np.array([numerical_gradient(f, p.copy()) for p in points])
fig, ax = plt.subplots(figsize=(6.5, 6), layout="constrained")
ax.contour(X0, X1, X0**2 + X1**2, levels=8, colors="lightgray", linewidths=0.8)  # f = const
ax.quiver(points[:, 0], points[:, 1], -grads[:, 0], -grads[:, 1], angles="xy", color="tab:blue",
          label="−gradient (steepest descent)")
ax.plot(0, 0, "r*", ms=14, label="minimum (0, 0)")
ax.set_xlim(-2.5, 2.5)
ax.set_ylim(-2.9, 2.5)
ax.set_aspect("equal")
ax.set_xlabel("x0")
ax.set_ylabel("x1")
ax.set_title("−∇f of f = x0² + x1²: every arrow points at the minimum")
ax.legend(loc="lower center", fontsize=9, ncols=2, framealpha=1)
_common.save(fig, out, "04_gradient_field.png")
print(f"computed {len(grads)} gradients for the figure; the arrows grow with the distance "
      "from (0, 0)")
