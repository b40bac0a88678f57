"""10 — A two-layer network learns the spiral (渦巻きデータ): its decision regions.

Three interleaved spiral arms of 100 points each: no straight line separates them, so a
network without a hidden layer cannot. A 2-10-3 network (sigmoid hidden layer, softmax
output) trained by mini-batch SGD (lr 1.0, batch 30, 300 epochs) bends its boundaries
around the arms. ``ippo.plotting.plot_decision_regions`` colours the plane by the class
the network predicts; it works for any model with two inputs.

    python examples/10_spiral.py

Prints: the loss every 50 epochs and the final training and test accuracy.
Draws: 10_spiral.png (decision regions and the loss curve).
"""

import _common
import matplotlib.pyplot as plt

from ippo.datasets import spiral
from ippo.models import MLP
from ippo.optimizers import SGD
from ippo.plotting import plot_decision_regions
from ippo.training import Trainer

out = _common.figure_dir()

(x, t), (x_test, t_test) = spiral(n_per_class=100, n_classes=3, seed=0)  # 240 / 60 points
print(f"spiral: {len(x)} training and {len(x_test)} test points, 3 classes")

model = MLP([2, 10, 3], activation="sigmoid", seed=0)
epochs = _common.fast(300, 60)
history = Trainer(model, SGD(lr=1.0), verbose=0).fit(
    x, t, epochs=epochs, batch_size=30, x_val=x_test, t_val=t_test, seed=0)
for e in range(0, epochs, 50):
    print(f"epoch {e + 1:3d}: loss {history['loss'][e]:.4f}, training accuracy "
          f"{history['accuracy'][e]:.3f}")
print(f"after {epochs} epochs: training accuracy {model.accuracy(x, t):.3f}, test accuracy "
      f"{model.accuracy(x_test, t_test):.3f}")

fig, (ax_regions, ax_loss) = plt.subplots(1, 2, figsize=(12, 5.2), layout="constrained")
plot_decision_regions(model, x, t, ax=ax_regions,
                      title=f"decision regions of a 2-10-3 network after {epochs} epochs")
ax_loss.plot(history["epoch"], history["loss"], label="training loss")
ax_loss.plot(history["epoch"], history["val_loss"], label="test loss")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy loss")
ax_loss.set_title("loss curve (SGD, lr 1.0, batch 30)")
ax_loss.legend()
ax_loss.grid(alpha=0.3)
_common.save(fig, out, "10_spiral.png")
