"""MNIST and Fashion-MNIST from the original IDX files.

Both data sets are 28×28 grey images, 60,000 for training and 10,000 for testing, 10
classes. The four files per set are looked up (``data_dir`` or ``data_dir/<name>``, then
``$IPPO_DATA_DIR/<name>``, ``../shared/data/<name>`` beside the project, the user cache) and
downloaded with checksum verification into the user cache (or into ``data_dir`` when one is
given) when absent.
"""

import os
from pathlib import Path

import numpy as np

from ippo.datasets import files
from ippo.datasets.base import Dataset
from ippo.datasets.idx import read_idx
from ippo.preprocessing import one_hot as _one_hot

_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

#: The first 12 training labels of each original set: enough to tell the two apart, so that a
#: folder of the other set's files (same file names) gives an error instead of silently
#: training on the wrong data.
_FIRST_TRAIN_LABELS = {
    "mnist": [5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5],
    "fashion-mnist": [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9],
}

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


def _locate(name, data_dir, download):
    """The folder holding all four files of ``name``, downloading them if allowed."""
    if data_dir is not None:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise OSError(f"{name}: data_dir {folder} is not a folder (give the folder that "
                          f"holds the four IDX files, or leave it out to use the default "
                          f"places and download)")
        for cand in (folder, folder / name):  # the folder itself, or a data root holding it
            if all(files.find_file(cand, f) for f in _FILES):
                return cand
        if not download:
            missing = [f for f in _FILES if not files.find_file(folder, f)]
            raise OSError(f"{name}: {folder} lacks {', '.join(missing)}")
        return files.fetch(name, folder)
    for folder in files.candidate_dirs(name):
        if all(files.find_file(folder, f) for f in _FILES):
            return folder
    if not download:
        raise OSError(f"{name}: files not found in any of "
                      + ", ".join(str(d) for d in files.candidate_dirs(name))
                      + " (download=False)")
    return files.fetch(name, files.cache_dir(name))


def _read_pair(folder, images, labels, name):
    x = read_idx(files.find_file(folder, images), expect_ndim=3)
    t = read_idx(files.find_file(folder, labels), expect_ndim=1)
    if len(x) != len(t):
        raise ValueError(f"{name}: {images} holds {len(x)} images but {labels} holds "
                         f"{len(t)} labels")
    if x.shape[1:] != (28, 28):
        raise ValueError(f"{name}: {images}: expected 28x28 images, got {x.shape[1:]}")
    if t.size and t.max() > 9:
        raise ValueError(f"{name}: {labels}: labels must be 0..9, found {int(t.max())}")
    return x, t


def _check_not_the_other_set(name, folder, t_train):
    """ValueError when ``folder`` holds the other set's files (MNIST and Fashion-MNIST share
    their file names, so a wrong --data-dir would otherwise train on the wrong data)."""
    first = t_train[:12].tolist()
    for other, labels in _FIRST_TRAIN_LABELS.items():
        if other != name and first == labels:
            raise ValueError(f"{name}: the files in {folder} are {other}'s, not {name}'s "
                             f"(check --data-dir)")


def _prepare(x, normalize, flatten, dtype):
    n = len(x)
    x = x.reshape(n, 784) if flatten else x.reshape(n, 1, 28, 28)
    out = np.empty(x.shape, dtype=dtype)
    if normalize:
        np.multiply(x, dtype(1.0 / 255.0), out=out)  # one pass: uint8 -> float in [0, 1]
    else:
        out[...] = x
    return out


def _load(name, data_dir, normalize, flatten, one_hot, dtype, download, class_names):
    dtype = np.dtype(dtype).type
    folder = _locate(name, None if data_dir is None else os.fspath(data_dir), download)
    x_train, t_train = _read_pair(folder, _FILES[0], _FILES[1], name)
    x_test, t_test = _read_pair(folder, _FILES[2], _FILES[3], name)
    _check_not_the_other_set(name, folder, t_train)
    x_train = _prepare(x_train, normalize, flatten, dtype)
    x_test = _prepare(x_test, normalize, flatten, dtype)
    t_train, t_test = t_train.astype(np.int64), t_test.astype(np.int64)
    if one_hot:
        t_train, t_test = _one_hot(t_train, 10), _one_hot(t_test, 10)
    return Dataset((x_train, t_train), (x_test, t_test), name=name, task="multiclass",
                   class_names=class_names, image_shape=(28, 28),
                   description=f"{name} from {folder}")


def load_mnist(data_dir=None, normalize=True, flatten=True, one_hot=False, dtype=np.float32,
               download=True):
    """MNIST handwritten digits: ``(x_train, t_train), (x_test, t_test)``.

    ``normalize``: pixels / 255 in [0, 1] (else 0..255 as floats). ``flatten``: x of shape
    (N, 784), else (N, 1, 28, 28). ``one_hot``: labels as (N, 10) float32, else int64.
    ``data_dir``: the folder with the four IDX files (``.gz`` or not), or a data folder
    holding it as ``mnist/``; default: search
    ``$IPPO_DATA_DIR/mnist``, ``../shared/data/mnist``, the user cache; download when absent.
    """
    return _load("mnist", data_dir, normalize, flatten, one_hot, dtype, download,
                 [str(i) for i in range(10)])


def load_fashion_mnist(data_dir=None, normalize=True, flatten=True, one_hot=False,
                       dtype=np.float32, download=True):
    """Fashion-MNIST (Zalando): 28×28 clothing images in 10 classes; same API as
    :func:`load_mnist`. Class names are in ``FASHION_CLASSES``."""
    return _load("fashion-mnist", data_dir, normalize, flatten, one_hot, dtype, download,
                 FASHION_CLASSES)
