"""The benchmark's data: MNIST when it is on disk, else MNIST-shaped random data.

The benchmark reads the IDX files itself (a dozen lines) so that it does not depend on any
other part of ippo being present.
"""

import gzip
import os
from pathlib import Path

import numpy as np

N_TRAIN = 60000
N_FEATURES = 784
N_CLASSES = 10


def mnist_dir():
    """``$IPPO_DATA_DIR/mnist`` or ``../shared/data/mnist`` beside the project root, or None."""
    candidates = []
    if os.environ.get("IPPO_DATA_DIR"):
        candidates.append(Path(os.environ["IPPO_DATA_DIR"]) / "mnist")
    root = Path(__file__).resolve().parent.parent
    candidates.append(root.parent / "shared" / "data" / "mnist")
    for path in candidates:
        if (path / "train-images-idx3-ubyte.gz").is_file():
            return path
    return None


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(seed=0, synthetic=False):
    """Training data ``(x, t, source)``: x (60000, 784) float32 in [0, 1], t int64 labels.

    Real MNIST when found (``source`` names the directory); otherwise (or with
    ``synthetic=True``) uniform random pixels and random labels from a fixed seed.
    """
    path = None if synthetic else mnist_dir()
    if path is not None:
        images = _read_idx(path / "train-images-idx3-ubyte.gz")
        labels = _read_idx(path / "train-labels-idx1-ubyte.gz")
        x = images.reshape(len(images), -1).astype(np.float32)
        x *= np.float32(1 / 255)
        return x, labels.astype(np.int64), f"MNIST ({path})"
    rng = np.random.default_rng(seed)
    x = rng.random((N_TRAIN, N_FEATURES), dtype=np.float32)
    t = rng.integers(0, N_CLASSES, size=N_TRAIN, dtype=np.int64)
    return x, t, f"synthetic MNIST-shaped data (seed {seed})"
