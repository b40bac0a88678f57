"""02 — Loss functions (損失関数) and the information behind the cross-entropy.

The course's two losses on its example: the label is "2" and the network's output is
either good (0.6 for "2") or bad (0.6 for "7"). Then why −log suits learning, and
information and entropy in bits (情報量, エントロピー).

    python examples/02_losses.py

Prints: sum of squares 0.0975 / 0.84625, cross-entropy 0.5108… / 2.3025…, the information
of a coin, a card's suit and 8 directions (1, 2, 3 bits), entropies and a cross-entropy
between two distributions. Draws: 02_log_curves.png (log x and −log y on (0, 1]).
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo import functions as F

out = _common.figure_dir()

# --------------------------------------------------------------------------- the two losses
_common.heading("Sum of squares and cross-entropy (2乗和誤差, 交差エントロピー誤差)")
t = np.zeros(10)
t[2] = 1  # one-hot label: the digit is a "2"
y_good = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])  # "2" most likely
y_bad = np.array([0.1, 0.5, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.5, 0.0])   # "7" most likely
# ippo's losses take (prediction, target): y first, t second
for name, y in (("good", y_good), ("bad", y_bad)):
    print(f"{name} output: sum of squares ½Σ(y − t)² = {F.sum_squared_error(y, t):.6g},  "
          f"cross-entropy −Σ t log(y + 1e-7) = {F.cross_entropy_error(y, t)!r}")
print("(the course's sum of squares is ippo's sum_squared_error; ippo's mean_squared_error "
      f"averages over the 10 outputs instead: {F.mean_squared_error(y_good, t):.6g})")
print(f"with a class index instead of one-hot: cross_entropy_error(y, 2) = "
      f"{F.cross_entropy_error(y_good, 2)!r}")

# --------------------------------------------------------------------------- why −log
_common.heading("Why the cross-entropy suits learning")
for p in (0.99, 0.6, 0.1, 0.01):
    print(f"probability of the true class {p:>4}: loss −log p = {-np.log(p):6.3f}")
print("the further the output is from the answer, the steeper the penalty; near 1 it is ~0")
x = np.linspace(0.001, 1, 1000)
fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
ax.plot(x, np.log(x), lw=2, label="log x")
ax.plot(x, -np.log(x), lw=2, label="−log y  (the loss when y is the true class's probability)")
for name, p in (("good output", y_good[2]), ("bad output", y_bad[2])):
    ax.plot(p, -np.log(p), "o", ms=7, label=f"{name}: y = {p}, loss {-np.log(p):.3f}")
ax.axhline(0, color="gray", lw=0.5)
ax.set_xlim(0, 1.02)
ax.set_ylim(-5, 5)
ax.set_xlabel("x, y  (a probability in (0, 1])")
ax.set_ylabel("value")
ax.set_title("log x and −log y on (0, 1]: the cross-entropy's penalty")
ax.legend(loc="upper right", fontsize=9)
ax.grid(alpha=0.3)
_common.save(fig, out, "02_log_curves.png")

# --------------------------------------------------------------------------- information
_common.heading("Information and entropy in bits (情報量, エントロピー)")
for event, p in (("a coin shows heads", 1 / 2), ("a card is a heart", 1 / 4),
                 ("a spinner points east (1 of 8 directions)", 1 / 8)):
    print(f"{event:42s} p = {p:<6.4g} information −log2 p = {F.information(p):.0f} bit(s)")
print(f"entropy of a fair coin        H = {F.entropy([0.5, 0.5]):.3f} bits")
print(f"entropy of a biased coin 9:1  H = {F.entropy([0.9, 0.1]):.3f} bits (less surprise)")
print(f"entropy of 8 equal directions H = {F.entropy(np.full(8, 1 / 8)):.3f} bits")
p_true, q_model = np.array([0.5, 0.5]), np.array([0.9, 0.1])
print(f"cross-entropy of a model q = {q_model} against the truth p = {p_true}: "
      f"H(p, q) = {F.cross_entropy(p_true, q_model):.4f} bits >= H(p) = {F.entropy(p_true):.0f}")
print(f"  the extra {F.kl_divergence(p_true, q_model):.4f} bits is the KL divergence: what "
      "the wrong model costs")
print(f"in nats with a one-hot p, it is the loss: cross_entropy(t, y, base=e) = "
      f"{F.cross_entropy(t, y_good, base=np.e):.6f}")
