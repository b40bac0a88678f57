"""06 — The forward pass (順伝播) with the notes' weights.

A single unit u = x·W + b; the notes' 3-layer network (2-3-2-2, ReLU hidden layers,
identity output) on x = (1, 2); the 2-3-2 regression network and its squared error
against the target d = (2, 4).

    python examples/06_forward_pass.py

The notes call two different errors "mean_squared_error": ½·Σ over the outputs in one,
½·mean in another. ippo has both (``sum_squared_error`` / ``SumSquaredLoss`` and
``mean_squared_error`` / ``MeanSquaredLoss``); with C outputs they differ by the factor C,
so training with ½Σ at learning rate η takes exactly the steps of ½·mean at C·η.

Prints: u = 1.3 for the single unit, u1 = [0.6, 1.3, 2.0] ... y = [1.56, 3.222] for the
3-layer network, y = [1.02, 2.29] and both errors for the 2-3-2 network, and the weights
after training with either error. No figure.
"""

import _common
import numpy as np

from ippo import functions as F
from ippo.layers import Affine, Identity, MeanSquaredLoss, ReLU, SumSquaredLoss
from ippo.models import Sequential

np.set_printoptions(precision=6, suppress=True)
f64 = np.float64  # the notes compute in float64; ippo's default float32 would show 1.5600001

# --------------------------------------------------------------------------- one unit
_common.heading("A single unit (単層・単ユニット): u = x·W + b")
unit = Affine([[0.1], [0.2]], 0.5, dtype=f64)  # W (2 inputs, 1 unit); the bias may be a number
x = np.array([2.0, 3.0])
u = unit.forward(x)
print(f"x = {x}, W = {unit.W.ravel()}, b = {unit.b}: u = 2·0.1 + 3·0.2 + 0.5 = {u}")
print(f"z = ReLU(u) = {F.relu(u)}")

# --------------------------------------------------------------------------- three layers
_common.heading("The notes' 3-layer network (3層・複数ユニット)")
W1, b1 = [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [0.1, 0.2, 0.3]
W2, b2 = [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], [0.1, 0.2]
W3, b3 = [[0.1, 0.3], [0.2, 0.4]], [1, 2]
layers = [Affine(W1, b1, dtype=f64), ReLU(), Affine(W2, b2, dtype=f64), ReLU(),
          Affine(W3, b3, dtype=f64), Identity()]
names = ["u1 (total input of layer 1)", "z1 = ReLU(u1)", "u2", "z2 = ReLU(u2)", "u3", "y = u3"]
h = np.array([1.0, 2.0])
print(f"x  = {h}")
for name, layer in zip(names, layers, strict=True):
    h = layer.forward(h)  # each layer's output is the next one's input
    print(f"{name:28s} = {h}")

# --------------------------------------------------------------------------- regression 2-3-2
_common.heading("The 2-3-2 regression network and its squared error (回帰, 2乗誤差)")
net = Sequential([Affine(W1, b1, dtype=f64), ReLU(), Affine(W2, b2, dtype=f64)],
                 MeanSquaredLoss())
x = np.array([[1.0, 2.0]])
d = np.array([[2.0, 4.0]])  # the target (the notes call it d; ippo calls it t)
y = net.predict(x)
print(f"y = {y[0]}, target d = {d[0]}, error y − d = {(y - d)[0]}")
print(f"½·mean((y − d)²) = {F.mean_squared_error(y, d):.6f}   (the notes' mean_squared_error "
      f"and ippo's MeanSquaredLoss: {net.loss(x, d):.6f})")
print(f"½·Σ(y − d)²      = {F.sum_squared_error(y, d):.6f}   (the per-sample squared error "
      "E = ½Σⱼ(yⱼ − dⱼ)²: ippo's sum_squared_error)")
print("the two differ by the factor 2 = the number of outputs, and so do their gradients")

# --------------------------------------------------------------------------- the factor
_common.heading("Training with ½Σ or with ½·mean: the learning rate absorbs the factor")


def two_three_two(loss):
    return Sequential([Affine(W1, b1, dtype=f64), ReLU(), Affine(W2, b2, dtype=f64)], loss)


def train(model, lr, steps=5):
    for _ in range(steps):  # plain gradient descent on the one sample
        model.loss(x, d)
        model.backward()
        for p, g in zip(model.params, model.grads, strict=True):
            p -= lr * g
    return model


per_sample = train(two_three_two(SumSquaredLoss()), lr=0.05)    # E = ½Σ, lr η
half_mean = train(two_three_two(MeanSquaredLoss()), lr=0.1)     # E = ½·mean, lr 2η
same_lr = train(two_three_two(MeanSquaredLoss()), lr=0.05)      # ½·mean, lr η: half the steps


def largest_difference(a, b):
    return max(np.abs(p - q).max() for p, q in zip(a.params, b.params, strict=True))


print(f"after 5 steps,  ½Σ at lr 0.05 vs ½·mean at lr 0.1: largest weight difference "
      f"{largest_difference(per_sample, half_mean):.1e}; y = {per_sample.predict(x)[0]}")
print(f"                ½Σ at lr 0.05 vs ½·mean at lr 0.05: largest weight difference "
      f"{largest_difference(per_sample, same_lr):.1e}; y = {same_lr.predict(x)[0]}")
print("the same network and the same steps: only the learning rate's scale differs")
