"""Data sets: built-in tables, generated toys, MNIST / Fashion-MNIST and your own CSV.

Every loader returns ``(x_train, t_train), (x_test, t_test)``: float32 inputs, int64 class
labels (or one-hot float32 with ``one_hot=True``; float32 (N, 1) targets for regression),
deterministic for a given seed. The value is a :class:`Dataset`, a tuple that also carries
``task``, ``class_names``, ``feature_names`` and ``image_shape``::

    from ippo.datasets import load_mnist
    (x_train, t_train), (x_test, t_test) = load_mnist()

Modules: ``idx`` (the IDX file reader), ``files`` (where data lives, downloads), ``mnist``,
``builtin`` (scikit-learn's bundled sets, spiral, linear_toy), ``tabular`` (CSV),
``registry`` (names the command line knows).
"""

from ippo.datasets.base import Dataset
from ippo.datasets.builtin import (
    linear_toy,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    spiral,
)
from ippo.datasets.files import find_data_dir
from ippo.datasets.idx import read_idx, write_idx
from ippo.datasets.mnist import FASHION_CLASSES, load_fashion_mnist, load_mnist
from ippo.datasets.news import NEWS_CLASSES, load_news, make_news_split
from ippo.datasets.registry import DATASETS, dataset_names, get_spec, load_dataset
from ippo.datasets.tabular import load_csv

__all__ = [
    "DATASETS", "Dataset", "FASHION_CLASSES", "dataset_names", "find_data_dir", "get_spec",
    "linear_toy", "load_breast_cancer", "load_csv", "load_dataset", "load_diabetes",
    "load_digits", "load_fashion_mnist", "load_iris", "load_mnist", "load_news",
    "make_news_split", "NEWS_CLASSES", "read_idx", "spiral", "write_idx",
]
