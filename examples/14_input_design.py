"""14 — Designing the input layer (入力層の設計): labels, missing values, joins, scaling,
and data augmentation (データ拡張).

1. Class labels as one-hot vectors (one-hot表現).
2. Missing values (欠損値) in a table, dealt with four ways: fill with zero, drop the rows,
   drop the columns, fill with the column's mean.
3. Joining (結合) two tables on a key: each house gets its town's figures.
4. Normalisation (正規化) fitted on the training data only, then applied to the test data.
5. Augmentation: shifted and rotated copies of digit images, and what they do for a
   network trained on few images.

    python examples/14_input_design.py

Prints: the one-hot matrix, the table after each missing-value strategy, the joined table,
the scaler's statistics, the test accuracy with and without augmentation.
Draws: 14_augmented_digits.png (a grid of augmented digits), 14_augmentation_accuracy.png.
"""

import csv
from pathlib import Path

import _common
import matplotlib.pyplot as plt
import numpy as np

from ippo.augment import Compose, RandomRotation, RandomShift
from ippo.models import MLP
from ippo.optimizers import Adam
from ippo.preprocessing import Standardizer, fill_missing, one_hot, train_test_split
from ippo.training import Trainer

out = _common.figure_dir()
data = Path(__file__).resolve().parent / "data"
np.set_printoptions(precision=2, suppress=True, linewidth=100)

# --------------------------------------------------------------------------- 1. one-hot
_common.heading("1. Class labels as one-hot vectors (one-hot表現)")
labels = np.array([2, 0, 1, 2])
print(f"labels {labels} →\n{one_hot(labels, 3)}")


# --------------------------------------------------------------------------- 2. missing
def read_table(path):
    """A CSV file as (column names, float array); an empty cell becomes NaN."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    values = [[float(cell) if cell else np.nan for cell in row] for row in rows[1:]]
    return rows[0], np.array(values)


_common.heading("2. Missing values (欠損値): houses.csv")
columns, houses = read_table(data / "houses.csv")
print(f"{len(houses)} houses, columns {columns}; missing cells per column: "
      f"{dict(zip(columns, np.isnan(houses).sum(axis=0).tolist(), strict=True))}")
print(f"first rows:\n{houses[:5]}")
x, price = houses[:, :-1], houses[:, -1]
print(f"the second house, {x[1]}, misses its age:")
for strategy in ("zero", "drop_rows", "drop_columns", "mean"):
    filled = fill_missing(x, strategy)
    what = f"the second house becomes {filled[1]}" if filled.shape == x.shape else \
        f"{len(x) - len(filled)} rows gone" if strategy == "drop_rows" else \
        f"{x.shape[1] - filled.shape[1]} columns gone: only {filled.shape[1]} feature left"
    print(f"  {strategy:12s}: shape {x.shape} → {filled.shape}; {what}")
print("zero makes it a brand-new house; dropping throws data away; the column's mean keeps "
      "every row with a plausible value")


# --------------------------------------------------------------------------- 3. join
_common.heading("3. Joining two tables on a key (データの結合): houses + towns")
town_columns, towns = read_table(data / "towns.csv")
by_town = {int(row[0]): row[1:] for row in towns}  # town_id → (minutes, population)
town_ids = x[:, 0].astype(int)
joined = np.column_stack([x[:, 1:], [by_town[i] for i in town_ids]])
joined_columns = columns[1:-1] + town_columns[1:]
print(f"columns {joined_columns}")
print(f"first rows:\n{joined[:3]}")
print("town_id itself is a name, not a quantity (town 4 is not twice town 2): it is used to "
      "look up the town's figures, and then dropped")

# --------------------------------------------------------------------------- 4. scaling
_common.heading("4. Normalisation fitted on the training data only (正規化)")
x_ready = fill_missing(joined, "mean")
(x_train, p_train), (x_test, p_test) = train_test_split(x_ready, price, test_size=0.3, seed=0)
scaler = Standardizer().fit(x_train)         # mean and std of the training rows only
x_train_s, x_test_s = scaler.transform(x_train), scaler.transform(x_test)
print(f"training means {scaler.mean_}\ntraining stds  {scaler.std_}")
print(f"after scaling: training columns have mean {x_train_s.mean(axis=0).round(2) + 0.0} and std "
      f"{x_train_s.std(axis=0).round(2)}")
print(f"the {len(x_test)} test houses are scaled with the training statistics, so their means "
      f"are not 0: {x_test_s.mean(axis=0).round(2)}")
print("that is right: fitting the scaler on the test data too would leak it into training")

# --------------------------------------------------------------------------- 5. augment
_common.heading("5. Data augmentation (データ拡張)")
(x, t), (x_test, t_test), name = _common.mnist_or_digits(_common.fast(500, 200),
                                                         _common.fast(5000, 300))
side = int(np.sqrt(x.shape[1]))
augment = Compose([RandomShift(2 if side == 28 else 1), RandomRotation(15)],
                  image_shape=(side, side))
rng = np.random.default_rng(0)
fig, axes = plt.subplots(4, 8, figsize=(10, 5.6), layout="constrained")
for row in range(4):
    axes[row, 0].imshow(x[row].reshape(side, side), cmap="gray_r")
    axes[row, 0].set_title(f"original {t[row]}", fontsize=9)
    copies = augment(np.repeat(x[row:row + 1], 7, axis=0), rng)  # 7 new versions of it
    for col in range(1, 8):
        axes[row, col].imshow(copies[col - 1].reshape(side, side), cmap="gray_r")
        axes[row, col].set_title("augmented", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"Random shifts (up to {2 if side == 28 else 1} px) and rotations (up to 15°) of "
             f"{name} images")
_common.save(fig, out, "14_augmented_digits.png")

epochs = _common.fast(40, 3)
fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
final = {}
for label, aug in (("without augmentation", None), ("with augmentation", augment)):
    model = MLP([x.shape[1], 100, 10], seed=0)
    h = Trainer(model, Adam(lr=0.001), verbose=0).fit(
        x, t, epochs=epochs, batch_size=50, x_val=x_test, t_val=t_test, augment=aug, seed=0)
    final[label] = h["val_accuracy"][-1]
    print(f"{label:21s}: {len(x)} training images, {epochs} epochs → training accuracy "
          f"{model.accuracy(x, t):.3f}, test accuracy {final[label]:.3f}")
    ax.plot(h["epoch"], h["val_accuracy"], label=f"{label}, test")
    ax.plot(h["epoch"], h["accuracy"], ls="--", color=ax.lines[-1].get_color(),
            label=f"{label}, training")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy")
ax.set_title(f"{len(x)} {name} training images: fresh shifted and rotated copies every epoch")
ax.legend()
ax.grid(alpha=0.3)
_common.save(fig, out, "14_augmentation_accuracy.png")
gain = final["with augmentation"] - final["without augmentation"]
if gain > 0:
    print(f"augmentation raised the test accuracy by {gain:.3f}: every epoch the network saw "
          f"new variations of its {len(x)} images instead of the same ones by heart")
else:  # measured, not assumed: say so
    print(f"augmentation did not raise the test accuracy here ({gain:+.3f})"
          + (": on 8x8 images, already centred, a 1-pixel shift moves an eighth of the "
             "picture;" if side == 8 else ";")
          + "\nan augmentation must suit the data (and never make one class look like "
            "another), and it pays off over enough epochs")
