"""03 — Numerical differentiation (数値微分) and partial derivatives (偏微分).

The course's f(x) = 0.01x² + 0.1x, its derivative by the central difference
(f(x + h) − f(x − h)) / 2h with h = 1e-4, drawn as tangent lines at x = −10, 5 and 15;
the function of two variables x0² + x1² as a surface; its partial derivatives at (3, 4).

(The notes write the function once as "0.001x² + 0.1x"; their code and printed numbers use
0.01x² + 0.1x, as here.)

    python examples/03_numerical_diff.py

Prints: f'(5) = 0.1999999999990898, f'(15) = 0.4000000000026205,
f'(-10) = -0.0999999999995449 (the notes' digits, exactly), ∂f/∂x0 = 6.00000000000378 and
∂f/∂x1 = 7.999999999999119 at (3, 4), the gradients (6, 8) and (0, 4).
Draws: 03_tangents.png, 03_surface.png.
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.numerical import numerical_diff, numerical_gradient

out = _common.figure_dir()


def f(x):
    return 0.01 * x**2 + 0.1 * x


# --------------------------------------------------------------------------- one variable
_common.heading("Derivative by central difference (中心差分), h = 1e-4")
slopes = {}
for x0 in (5, 15, -10):
    slopes[x0] = numerical_diff(f, x0)  # (f(x0 + h) − f(x0 − h)) / 2h
    print(f"f'({x0:>3}) = {slopes[x0]!r}   (exact: 0.02·{x0} + 0.1 = {0.02 * x0 + 0.1:g})")

x = np.linspace(-20, 20, 400)
fig, ax = plt.subplots(figsize=(7, 4.8), layout="constrained")
ax.plot(x, f(x), color="k", lw=2, label="f(x) = 0.01x² + 0.1x")
for x0, color in zip((-10, 5, 15), ("tab:blue", "tab:orange", "tab:green"), strict=True):
    # the tangent at x0: the line through (x0, f(x0)) with the numerical slope
    ax.plot(x, f(x0) + slopes[x0] * (x - x0), "--", color=color,
            label=f"tangent at x = {x0}, slope {slopes[x0]:.4f}")
    ax.plot(x0, f(x0), "o", color=color)
ax.set_ylim(-2, 6)
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.set_title("Numerical derivative as the slope of the tangent line")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
_common.save(fig, out, "03_tangents.png")

# --------------------------------------------------------------------------- two variables
_common.heading("Partial derivatives of f(x0, x1) = x0² + x1² at (3, 4) (偏微分)")
# ∂f/∂x0: fix x1 = 4 and differentiate the function of x0 alone (and the other way round)
d0 = numerical_diff(lambda x0: x0**2.0 + 4.0**2.0, 3.0)
d1 = numerical_diff(lambda x1: 3.0**2.0 + x1**2.0, 4.0)
print(f"∂f/∂x0 = {d0!r}   ∂f/∂x1 = {d1!r}   (exact: 2·3 = 6 and 2·4 = 8)")


def f2(v):
    return np.sum(v**2)


print(f"gradient (勾配) at (3, 4): {numerical_gradient(f2, np.array([3.0, 4.0]))}")
print(f"gradient at (0, 2): {numerical_gradient(f2, np.array([0.0, 2.0]))}")

g = np.linspace(-3, 3, 61)
X0, X1 = np.meshgrid(g, g)
fig = plt.figure(figsize=(6.5, 5.5), layout="constrained")
ax = fig.add_subplot(projection="3d")
ax.plot_surface(X0, X1, X0**2 + X1**2, cmap="viridis", alpha=0.85, linewidth=0)
ax.set_xlabel("x0")
ax.set_ylabel("x1")
ax.set_zlabel("f(x0, x1)")
ax.set_title("f(x0, x1) = x0² + x1²")
_common.save(fig, out, "03_surface.png")
