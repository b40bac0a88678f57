"""Shared by the training tests: the course's spiral data and a small MLP."""

import numpy as np


def spiral(n_per_class=100, n_classes=3, seed=0, dtype=np.float32):
    """The course's spiral: ``n_classes`` arms of ``n_per_class`` points in 2-D, with noise.

    (ippo.datasets.spiral is the library's version; this copy keeps the tests independent.)
    """
    rng = np.random.default_rng(seed)
    xs, ts = [], []
    for j in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = j * 4.0 + 4.0 * r + rng.standard_normal(n_per_class) * 0.2
        xs.append(np.c_[r * np.sin(theta), r * np.cos(theta)])
        ts.append(np.full(n_per_class, j))
    return np.concatenate(xs).astype(dtype), np.concatenate(ts)


def mlp(sizes=(2, 10, 3), activation="sigmoid", seed=0, **kwargs):
    """The course's small network: ippo.models.MLP, sigmoid hidden layers by default."""
    from ippo.models import MLP

    return MLP(list(sizes), activation=activation, seed=seed, **kwargs)
