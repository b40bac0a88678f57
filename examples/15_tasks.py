"""15 — Regression, binary and multi-class classification (回帰・二値分類・多クラス分類).

The output layer and the loss follow from the task, as the notes' table says:

    task          output activation       loss
    regression    identity  f(u) = u       squared error
    binary        sigmoid   1/(1 + e⁻ᵘ)    (binary) cross-entropy
    multi-class   softmax   e^uᵢ / Σ e^uₖ  cross-entropy

``MLP(..., task=...)`` picks both. One network each on scikit-learn's built-in data: the
diabetes progression after a year (regression), breast-cancer diagnoses (benign or
malignant) and iris species (3 classes). The test sets are small (89, 114 and 30 samples),
so one sample more or less right moves the scores visibly.

    python examples/15_tasks.py

Prints: each model's layers and loss, its test score (R², accuracy).
Draws: 15_tasks.png (predicted vs true values, predicted probabilities per true class, the
iris confusion matrix).
"""

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.datasets import load_breast_cancer, load_diabetes, load_iris
from ippo.metrics import confusion_matrix, r2_score
from ippo.models import MLP
from ippo.optimizers import Adam
from ippo.preprocessing import Standardizer
from ippo.training import Trainer

out = _common.figure_dir()
fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")


def train(data, sizes, task, lr, epochs):
    """Standardise the inputs (statistics of the training data), train, return everything."""
    (x, t), (x_test, t_test) = data
    scaler = Standardizer().fit(x)
    x, x_test = scaler.transform(x), scaler.transform(x_test)
    model = MLP(sizes, task=task, seed=0)
    epochs = _common.fast(epochs, max(epochs // 4, 10))
    Trainer(model, Adam(lr=lr), verbose=0).fit(x, t, epochs=epochs, batch_size=32, seed=0)
    print(f"{model}\n  layers: {' → '.join(map(repr, model.layers))} → "
          f"{type(model.loss_layer).__name__}; Adam lr {lr}, {epochs} epochs of batch 32")
    return model, x_test, t_test


# --------------------------------------------------------------------------- regression
_common.heading("Regression (回帰): diabetes progression, identity output + squared error")
data = load_diabetes()
# the target (25 to 346) is standardised too, so the squared error starts near 1
y_scaler = Standardizer().fit(data.train[1])
(x, t), (x_test, t_test) = data
model, x_test, _ = train(((x, y_scaler.transform(t)), (x_test, t_test)), [10, 32, 1],
                         "regression", lr=0.001, epochs=50)
pred = y_scaler.inverse_transform(model.predict(x_test))  # back to the target's units
print(f"  test R² = {r2_score(pred, t_test):.3f} (1 is perfect, 0 is no better than the mean)")
ax = axes[0]
ax.scatter(t_test, pred, s=14)
ax.plot([25, 346], [25, 346], "k--", lw=1, label="perfect prediction")
ax.set_xlabel("true progression")
ax.set_ylabel("predicted progression")
ax.set_title(f"regression: diabetes (test R² {r2_score(pred, t_test):.2f})")
ax.legend()

# --------------------------------------------------------------------------- binary
_common.heading("Binary classification (二値分類): breast cancer, sigmoid output + "
                "binary cross-entropy")
data = load_breast_cancer()
model, x_test, t_test = train(data, [30, 16, 1], "binary", lr=0.01, epochs=50)
p = model.predict(x_test)[:, 0]  # the probability of class 1
print(f"  test accuracy = {model.accuracy(x_test, t_test):.3f}  (class 1 = "
      f"{data.class_names[1]}, predicted when p > 0.5)")
ax = axes[1]
for k, name in enumerate(data.class_names):
    ax.hist(p[t_test == k], bins=20, range=(0, 1), alpha=0.6, label=f"true {name}")
ax.axvline(0.5, color="k", ls="--", lw=1, label="threshold 0.5")
ax.set_xlabel(f"predicted probability of '{data.class_names[1]}'")
ax.set_ylabel("test samples")
ax.set_title(f"binary: breast cancer (test accuracy {model.accuracy(x_test, t_test):.3f})")
ax.legend()

# --------------------------------------------------------------------------- multi-class
_common.heading("Multi-class classification (多クラス分類): iris, softmax output + "
                "cross-entropy")
data = load_iris()
model, x_test, t_test = train(data, [4, 16, 3], "multiclass", lr=0.001, epochs=200)
print(f"  test accuracy = {model.accuracy(x_test, t_test):.3f}; the probabilities of the first "
      f"test flower: {np.round(model.predict(x_test[:1])[0], 3)} (they sum to 1)")
cm = confusion_matrix(model.predict(x_test), t_test, n_classes=3)
print(f"  confusion matrix (rows: true, columns: predicted):\n{cm}")
ax = axes[2]
ax.imshow(cm, cmap="Blues")
for i in range(3):
    for j in range(3):
        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=14,
                color="white" if cm[i, j] > cm.max() / 2 else "black")
ax.set_xticks(range(3), data.class_names)
ax.set_yticks(range(3), data.class_names)
ax.set_xlabel("predicted species")
ax.set_ylabel("true species")
ax.set_title(f"multi-class: iris (test accuracy {model.accuracy(x_test, t_test):.3f})")
_common.save(fig, out, "15_tasks.png")
