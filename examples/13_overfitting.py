"""13 — Overfitting (過学習) and its cures: weight decay, dropout, early stopping.

A network with far more weights than training images (300 handwritten digits) learns them
by heart: training accuracy reaches 100 % while test accuracy stalls well below. Three
cures, each trained on the same 300 images from the same initial weights:

- weight decay (荷重減衰, L2, λ = 0.01): ½·λ·ΣW² is added to the loss, so large weights
  cost;
- dropout (ドロップアウト): every step switches off a random 20 % of the hidden units;
- early stopping (早期終了): stop when the loss on held-out validation images has not
  improved for 10 epochs, and go back to the best weights.

    python examples/13_overfitting.py

What to look for: without a cure the training accuracy reaches 100 % within about 25
epochs and the training loss keeps falling toward 0, while the test loss stops falling and
then creeps up again: the network memorises its 300 images (overfitting). Measured on MNIST
(seed 0): weight decay holds the training loss at a floor and ends with a lower test loss
(0.46 against 0.53); dropout slows the memorising, but on this small set does not lower the
test loss (0.56); early stopping keeps the weights of the epoch with the lowest validation
loss (test loss 0.47). None of them moves the test accuracy by more than about 0.01 here
(0.85): with 300 images the data, not the cure, sets the limit. The cures change how far
the model trusts its training data; larger gains need more data (see 14: augmentation).

Prints: per cure the final training and test accuracy, their gap and the test loss.
Draws: 13_overfitting.png (accuracy and loss per epoch, training vs test, one column per
cure).
"""

import _common
import matplotlib.pyplot as plt

from ippo import functions as F
from ippo.models import MLP
from ippo.optimizers import SGD
from ippo.training import Callback, EarlyStopping, Trainer

out = _common.figure_dir()
(x_all, t_all), (x_test, t_test), name = _common.mnist_or_digits(1300, _common.fast(2000, 300))
x, t = x_all[:300], t_all[:300]          # the 300 training images
x_val, t_val = x_all[300:], t_all[300:]  # 1,000 more, held out for early stopping
print(f"of the {len(x_all)} training images, {len(x)} train the network and {len(x_val)} are "
      f"held out as validation data for early stopping;\n{len(x_test)} test images, never "
      f"trained on, measure what it has learnt")
epochs = _common.fast(150, 60)


class Record(Callback):
    """After every epoch, the test accuracy and the cross-entropy on the training and test
    images (without the weight-decay term, so that every cure is measured alike).
    A callback: fit calls its hooks."""

    def __init__(self):
        self.test_accuracy, self.train_loss, self.test_loss = [], [], []

    def on_epoch_end(self, epoch, logs):
        model = self.trainer.model  # scores and accuracy run in inference mode (no dropout)
        self.test_accuracy.append(model.accuracy(x_test, t_test))
        self.train_loss.append(F.softmax_cross_entropy(model.scores(x), t))
        self.test_loss.append(F.softmax_cross_entropy(model.scores(x_test), t_test))


cures = {
    "no cure": {},
    "weight decay λ = 0.01": {"weight_decay": 0.01},
    "dropout 0.2": {"dropout": 0.2},
    "early stopping (patience 10)": {},
}
fig, axes = plt.subplots(2, 4, figsize=(17, 8), sharey="row", sharex=True,
                         layout="constrained")
_common.heading(f"Training on {len(x)} images, {epochs} epochs of SGD (lr 0.1, batch 100)")
for ax, ax_loss, (cure, options) in zip(axes[0], axes[1], cures.items(), strict=True):
    model = MLP([x.shape[1], 100, 100, 100, 10], seed=0, **options)  # 99,710+ weights
    record = Record()
    stop = EarlyStopping(monitor="val_loss", patience=10) if cure.startswith("early") else None
    h = Trainer(model, SGD(lr=0.1), verbose=0).fit(
        x, t, epochs=epochs, batch_size=100, x_val=x_val, t_val=t_val, seed=0,
        callbacks=[record], early_stopping=stop)
    train_acc, test_acc = model.accuracy(x, t), model.accuracy(x_test, t_test)
    note = f" (stopped after epoch {h.stopped_epoch}, weights of epoch {h.best_epoch})" \
        if stop is not None and h.stopped_epoch else ""
    print(f"{cure:29s} accuracy: training {train_acc:.3f}, test {test_acc:.3f}, gap "
          f"{train_acc - test_acc:.3f}; lowest test loss {min(record.test_loss):.3f}, last "
          f"{record.test_loss[-1]:.3f}{note}")
    ax.plot(h["epoch"], h["accuracy"], label="training")
    ax.plot(h["epoch"], record.test_accuracy, label="test")
    ax_loss.plot(h["epoch"], record.train_loss, label="training")
    ax_loss.plot(h["epoch"], record.test_loss, label="test")
    for a, where in ((ax, "center right"), (ax_loss, "lower left")):  # where no curve runs
        if h.best_epoch is not None:
            a.axvline(h.best_epoch, color="gray", ls="--", label=f"best epoch {h.best_epoch}")
        a.set_xlim(0, epochs)
        a.grid(alpha=0.3)
        a.legend(loc=where)
    ax.set_title(cure)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
axes[0, 0].set_ylabel("accuracy")
axes[1, 0].set_ylabel("cross-entropy (log scale)")
fig.suptitle(f"Overfitting on {len(x)} {name} images ({x.shape[1]}-100-100-100-10 ReLU "
             f"network) and three cures")
_common.save(fig, out, "13_overfitting.png")
