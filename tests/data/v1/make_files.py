"""Writes the version-1 files that ``tests/test_old_files.py`` loads: a model file and two
training checkpoints, plus the numbers they must give (``expected.npz``).

They were written ONCE, by ippo at commit 7097d3c (before the training loop became a package
and the checks moved to the boundary), and are committed: the test proves that files written
by that code still load and resume to the same bits. Regenerating them with newer code
would prove nothing; run this only to add a new version's files into a new folder::

    python tests/data/v1/make_files.py tests/data/v1
"""

import os
import sys

import numpy as np

from ippo import optimizers as O
from ippo.autograd import nn
from ippo.models import MLP
from ippo.training import EarlyStopping, Trainer

#: The network of every file: batch normalization and dropout, so that running averages
#: and a dropout generator's state are part of what is saved.
NET = dict(sizes=[6, 8, 3], activation="relu", batchnorm=True, dropout=0.25)


def data():
    """40 training and 12 validation samples, 6 features, 3 classes (stored with the files,
    so that the test does not depend on a generator's stream)."""
    rng = np.random.default_rng(2024)
    x = rng.standard_normal((52, 6)).astype(np.float32)
    t = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    return x[:40], t[:40], x[40:], t[40:]


def fit(model, epochs, checkpoint_dir=None):
    """The run the checkpoints hold: Adam, batch 8, validation, early stopping, seed 5."""
    x, t, xv, tv = data()
    return Trainer(model, O.Adam(0.01), verbose=0).fit(
        x, t, epochs=epochs, batch_size=8, x_val=xv, t_val=tv, seed=5,
        early_stopping=EarlyStopping(patience=3), checkpoint_dir=checkpoint_dir)


def main(folder):
    os.makedirs(folder, exist_ok=True)
    x, t, xv, tv = data()
    expected = {"x": x, "t": t, "x_val": xv, "t_val": tv}

    # a model file: three SGD steps so that weights and running averages are not initial
    model = MLP(seed=3, **NET)
    for _ in range(3):
        model.loss(x, t)
        model.backward()
        for p, g in zip(model.params, model.grads, strict=True):
            p -= 0.1 * g
    model.save(os.path.join(folder, "mlp_bn_dropout.npz"), extra={"epoch": 3, "note": "v1"})
    expected["model/predict"] = model.predict(x)
    for k, v in model.state_dict().items():
        expected[f"model/state/{k}"] = v

    # checkpoints after epoch 2 of 4, and the final weights of the uninterrupted 4 epochs
    for name, make in (("run", lambda seed: MLP(seed=seed, **NET)),
                       ("run_autograd", lambda seed: nn.Trainable(nn.MLP(seed=seed, **NET)))):
        fit(make(3), 2, checkpoint_dir=os.path.join(folder, name))
        ref = make(3)
        h = fit(ref, 4)
        for k, v in ref.state_dict().items():
            expected[f"{name}/state/{k}"] = v
        expected[f"{name}/iteration_loss"] = np.asarray(h.iteration_loss)
        expected[f"{name}/val_loss"] = np.asarray(h["val_loss"])
    np.savez(os.path.join(folder, "expected.npz"), **expected)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
