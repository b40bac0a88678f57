"""08 — Back-propagation (誤差逆伝播法) checked against numerical differentiation.

Back-propagation gives every gradient in one backward pass; numerical differentiation needs
two loss evaluations per weight, but is simple enough to be trusted. So the second checks the
first (勾配確認): for a two-layer network on three images, both gradients of every parameter
and how far apart they are. Then the output layer two ways: softmax and cross-entropy as two
separate steps, each with its own backward, and fused into ``SoftmaxWithLoss``, whose
backward is simply (y − t)/N.

    python examples/08_backprop_check.py

Prints: the gradient-check table (mean |difference| and relative error per parameter, all
tiny), the time each way, and the input gradient of softmax + cross-entropy both ways.
No figure.
"""

import time

import _common
import numpy as np

from ippo import functions as F
from ippo.gradcheck import relative_error
from ippo.layers import SoftmaxWithLoss
from ippo.models import MLP
from ippo.numerical import numerical_gradient

np.set_printoptions(precision=5, suppress=True)

# --------------------------------------------------------------------------- gradient check
_common.heading("Gradient check of a two-layer network (勾配確認)")
(x, t), _, name = _common.mnist_or_digits(3)
hidden = _common.fast(50, 10)
# float64: numerical differentiation needs the precision (float32 keeps ~7 digits)
net = MLP([x.shape[1], hidden, 10], activation="sigmoid", dtype=np.float64, seed=0)
x = x.astype(np.float64)

start = time.perf_counter()
net.loss(x, t)
net.backward()  # every gradient at once, into net.grads
backprop = [g.copy() for g in net.grads]
t_backprop = time.perf_counter() - start

start = time.perf_counter()
# one parameter array at a time: nudge each weight by ±h and re-evaluate the loss
numerical = [numerical_gradient(lambda _: net.loss(x, t), p) for p in net.params]
t_numerical = time.perf_counter() - start

print(f"network {x.shape[1]}-{hidden}-10 (sigmoid), {len(x)} {name} images, "
      f"{net.n_params:,} parameters")
print(f"{'parameter':10s} {'mean |backprop − numerical|':>28s} {'relative error':>15s}")
for pname, b, n in zip(net.param_names, backprop, numerical, strict=True):
    print(f"{pname:10s} {np.abs(b - n).mean():28.2e} {relative_error(b, n):15.2e}")
print(f"back-propagation took {t_backprop * 1e3:.2f} ms, numerical differentiation "
      f"{t_numerical:.1f} s ({t_numerical / t_backprop:,.0f}× slower)")

# --------------------------------------------------------------------------- softmax + CE
_common.heading("Softmax and cross-entropy: two steps, or one fused layer")
a = np.array([[0.3, 2.9, 4.0], [1.0, -1.0, 0.5]])   # scores of 2 samples, 3 classes
t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])    # one-hot labels
# two steps, each its own backward: loss → y → a
y = F.softmax(a)
loss_two = F.cross_entropy_error(y, t)
dy = F.cross_entropy_error_backward(y, t)            # ∂L/∂y = −t/(y + δ)/N
da_two = F.softmax_backward(dy, y)                   # through the softmax
# one fused layer
layer = SoftmaxWithLoss()
loss_fused = layer.forward(a, t)
da_fused = layer.backward()                          # (y − t)/N directly
print(f"softmax y =\n{y}")
print(f"loss: two steps {loss_two:.6f}, fused {loss_fused:.6f}")
print(f"∂L/∂y from the cross-entropy alone =\n{dy}")
print(f"∂L/∂a, two steps =\n{da_two}")
print(f"∂L/∂a, fused     =\n{da_fused}")
print(f"(y − t)/N        =\n{(y - t) / len(a)}")
print(f"largest difference two steps vs fused: {np.abs(da_two - da_fused).max():.1e} (the δ = "
      "1e-7 inside the log); the fused layer skips the division by y, which explodes for tiny y")
