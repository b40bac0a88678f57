"""07 — Computational graphs (計算グラフ) and back-propagation through their nodes.

Each node of ``ippo.graph`` computes its output forward and, backward, multiplies the
upstream gradient by its local derivative (the chain rule, 連鎖律). The shopping example;
the sigmoid as a graph of ×(−1), exp, +1 and ÷ nodes whose backward pass gives y(1 − y);
the Repeat, Sum and MatMul nodes on small arrays; the graph that ``ippo.autograd`` records.

    python examples/07_computational_graph.py

Prints: 715 and the gradients 2.2, 110, 3.3, 165, 650 of the shopping example; the
sigmoid's gradient by the graph against y(1 − y); Repeat/Sum/MatMul forward and backward.
Draws: 07_sigmoid_graph.png (the graph with its forward and backward values); writes
07_autograd_graph.dot, and 07_autograd_graph.png when Graphviz's ``dot`` is installed.
"""

import shutil
import subprocess

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.autograd import Tensor, to_dot
from ippo.graph import Add, Div, Exp, MatMul, Mul, Repeat, Sum

out = _common.figure_dir()

# --------------------------------------------------------------------------- shopping
_common.heading("Shopping: 2 apples at 100, 3 oranges at 150, tax 1.1")
mul_apple, mul_orange, add, mul_tax = Mul(), Mul(), Add(), Mul()
apples = mul_apple.forward(100, 2)                         # forward, left to right
oranges = mul_orange.forward(150, 3)
price = mul_tax.forward(add.forward(apples, oranges), 1.1)
print(f"forward: 100·2 + 150·3 = {apples + oranges}, times tax 1.1 = {price:.1f}")
d_total, d_tax = mul_tax.backward(1.0)                     # backward, right to left
d_apples, d_oranges = add.backward(d_total)                # addition passes it on unchanged
d_apple_price, d_apple_count = mul_apple.backward(d_apples)  # multiplication swaps inputs
d_orange_price, d_orange_count = mul_orange.backward(d_oranges)
print(f"backward: ∂price/∂apple price = {d_apple_price:.1f}, ∂/∂apple count = "
      f"{d_apple_count:.0f}, ∂/∂orange price = {d_orange_price:.1f}, ∂/∂orange count = "
      f"{d_orange_count:.0f}, ∂/∂tax = {d_tax:.0f}")

# --------------------------------------------------------------------------- sigmoid
_common.heading("The sigmoid y = 1 / (1 + exp(−x)) as a graph of four nodes")


def sigmoid_graph(x):
    """Forward and backward through ×(−1) → exp → +1 → ÷; returns (values, gradients)."""
    neg, exp, plus, div = Mul(), Exp(), Add(), Div()
    a = neg.forward(x, -1.0)
    b = exp.forward(a)
    c = plus.forward(b, 1.0)
    y = div.forward(1.0, c)          # the "/" node: 1 / c
    _, dc = div.backward(1.0)        # ∂y/∂c = −1/c² = −y²
    db, _ = plus.backward(dc)        # +: unchanged
    da = exp.backward(db)            # exp: times exp(a)
    dx, _ = neg.backward(da)         # ×(−1): times −1
    return (x, a, b, c, y), (dx, da, db, dc, 1.0)


for x in (-2.0, 0.0, 1.0, 3.0):
    values, grads = sigmoid_graph(x)
    y = values[-1]
    print(f"x = {x:4}: y = {y:.6f}, dy/dx by the graph = {grads[0]:.6f}, y(1 − y) = "
          f"{y * (1 - y):.6f}")

values, grads = sigmoid_graph(1.0)
fig, ax = plt.subplots(figsize=(12, 2.9), layout="constrained")
labels = ["×(−1)", "exp", "+1", "÷ (1/c)"]
gap, r = 2.6, 0.5  # distance between the nodes, their radius
for i, text in enumerate(labels):  # the nodes, at x = gap·(i + 1)
    ax.add_patch(plt.Circle((gap * (i + 1), 0), r, fc="lightyellow", ec="k"))
    ax.text(gap * (i + 1), 0, text, ha="center", va="center", fontsize=12)
names = ["x", "a", "b", "c", "y"]
for i in range(5):  # the edges: forward value above (black), backward gradient below (red)
    x0 = gap * i + (r if i else 0.3)
    x1 = gap * (i + 1) - (r if i < 4 else 0.3)
    ax.annotate("", (x1, 0), (x0, 0), arrowprops={"arrowstyle": "->", "lw": 1.5})
    ax.annotate("", (x0, -0.35), (x1, -0.35), arrowprops={"arrowstyle": "->", "color": "r"})
    ax.text((x0 + x1) / 2, 0.15, f"{names[i]} = {values[i]:.4f}", ha="center", fontsize=10)
    ax.text((x0 + x1) / 2, -0.7, f"∂y/∂{names[i]} = {grads[i]:.4f}", ha="center",
            fontsize=10, color="r")
ax.set_xlim(0, gap * 5)
ax.set_ylim(-1.0, 0.8)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title(f"Sigmoid as a computational graph at x = 1: forward values (black, →) and "
             f"backward gradients (red, ←)\n∂y/∂x = {grads[0]:.4f} = y(1 − y)")
_common.save(fig, out, "07_sigmoid_graph.png")

# --------------------------------------------------------------------------- arrays
_common.heading("Repeat, Sum and MatMul nodes on small arrays")
b = np.array([1.0, 2.0])
repeat = Repeat(3)             # copy a vector 3 times: how a bias reaches every row
print(f"Repeat(3) of {b} =\n{repeat.forward(b)}")
print(f"  backward of ones((3, 2)) sums the copies: {repeat.backward(np.ones((3, 2)))}")
s = Sum(axis=0)
m = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
print(f"Sum(axis=0) of {m.tolist()} = {s.forward(m)}")
print(f"  backward of [1, 10] copies it to every row: {s.backward(np.array([1.0, 10.0])).tolist()}")
mm = MatMul(np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]], dtype=np.float64))
xb = np.array([[1.0, 1.0], [2.0, 0.5]])
print(f"MatMul: x·W = {mm.forward(xb).tolist()}")
dx = mm.backward(np.ones((2, 3)))
print(f"  backward of ones: dx = dout·Wᵀ = {dx.tolist()}, dW = xᵀ·dout = {mm.grads[0].tolist()}")

# --------------------------------------------------------------------------- autograd
_common.heading("The graph ippo.autograd records as it computes (define-by-run)")
x = Tensor(1.0, requires_grad=True, dtype="float64", name="x")
y = 1 / (1 + (-x).exp())
y.name = "y"
dot_text = to_dot(y, title="y = 1 / (1 + exp(−x)) at x = 1, as ippo.autograd recorded it: "
                          "operations in boxes, tensors in ovals (grey: constants)")
dot_path = out / "07_autograd_graph.dot"
dot_path.write_text(dot_text, encoding="utf-8")
print(f"wrote {dot_path}  ({dot_text.count('shape=box')} recorded operations)")
if shutil.which("dot"):
    png = out / "07_autograd_graph.png"
    subprocess.run(["dot", "-Tpng", str(dot_path), "-o", str(png)], check=True)
    print(f"wrote {png}")
else:
    print(dot_text.rstrip())
    print("Graphviz's dot is not installed, so no PNG: paste the DOT text above into any "
          "Graphviz viewer, or install Graphviz (apt install graphviz, brew install graphviz) "
          f"and run\n    dot -Tpng {dot_path} -o 07_autograd_graph.png")
y.backward()
print(f"autograd: y = {y.item():.6f}, dy/dx = {x.grad.item():.6f} (the same as the graph above)")
