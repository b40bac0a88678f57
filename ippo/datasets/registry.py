"""The data sets the command line knows by name.

``DATASETS[name]`` is a :class:`DatasetSpec`: its loader, its task, the input scaling the
CLI applies by default (fitted on the training part and stored in the model file so that
``ippo predict`` repeats it), and training defaults that work well for it.
``load_dataset("csv:path/to/file.csv")`` loads a user's CSV file.
"""

import difflib
from dataclasses import dataclass, field

from ippo.datasets import builtin, mnist, news, tabular


@dataclass(frozen=True)
class DatasetSpec:
    """What the CLI knows about one named data set: ``loader`` (a function returning a
    ``Dataset``), ``task``, a one-line ``description``, the default input ``scaling``,
    ``image_shape``, ``flip`` (a mirror image keeps its class) and ``defaults``, the CLI's
    training defaults for it."""

    name: str
    loader: object
    task: str
    description: str
    #: "standardize", "min_max" or None (inputs already in a good range)
    scaling: object = None
    #: (H, W) when samples are images (augmentation needs it), else None
    image_shape: object = None
    #: whether a mirror image keeps its class (``--augment flip`` is refused otherwise:
    #: a mirrored 2 is no digit)
    flip: bool = False
    #: whether the loader accepts ``data_dir`` (files on disk) / ``seed`` (its split)
    uses_data_dir: bool = False
    uses_seed: bool = True
    #: training defaults for the CLI (hidden sizes, epochs, ...; an "lr" here is meant for
    #: the default optimizer, Adam, and is dropped when another optimizer is chosen)
    defaults: dict = field(default_factory=dict)
    #: the inputs are texts, not feature vectors: ``ippo news`` trains on them
    text: bool = False


DATASETS = {
    s.name: s for s in [
        DatasetSpec("digits", builtin.load_digits, "multiclass",
                    "8x8 handwritten digits, 1,797 images (built in)", image_shape=(8, 8),
                    defaults={"hidden": [256], "epochs": 30, "batch_size": 32}),
        DatasetSpec("iris", builtin.load_iris, "multiclass",
                    "iris species, 150 flowers x 4 measurements (built in)",
                    scaling="standardize",
                    defaults={"hidden": [16], "epochs": 300, "batch_size": 16}),
        DatasetSpec("breast_cancer", builtin.load_breast_cancer, "binary",
                    "breast cancer diagnosis, 569 x 30 features (built in)",
                    scaling="standardize",
                    defaults={"hidden": [32], "epochs": 50, "batch_size": 32}),
        DatasetSpec("diabetes", builtin.load_diabetes, "regression",
                    "diabetes progression, 442 x 10 features, regression (built in)",
                    scaling="standardize",
                    defaults={"hidden": [32], "epochs": 100, "batch_size": 32,
                              "weight_decay": 0.01}),
        DatasetSpec("spiral", builtin.spiral, "multiclass",
                    "3-arm spiral, 300 2-D points (generated)",
                    defaults={"hidden": [64, 64], "epochs": 200, "batch_size": 30}),
        DatasetSpec("linear_toy", builtin.linear_toy, "regression",
                    "y = 3 x0 + 2 x1 + noise, 100 points (generated)",
                    defaults={"hidden": [], "epochs": 100, "batch_size": 10, "lr": 0.01}),
        DatasetSpec("mnist", mnist.load_mnist, "multiclass",
                    "MNIST handwritten digits, 70,000 28x28 images (IDX files)",
                    image_shape=(28, 28), uses_data_dir=True, uses_seed=False,
                    defaults={"hidden": [100], "epochs": 10, "batch_size": 100}),
        DatasetSpec("fashion-mnist", mnist.load_fashion_mnist, "multiclass",
                    "Fashion-MNIST clothing, 70,000 28x28 images (IDX files)",
                    image_shape=(28, 28), uses_data_dir=True, uses_seed=False, flip=True,
                    defaults={"hidden": [256, 128], "epochs": 20, "batch_size": 100}),
        DatasetSpec("news", news.load_news, "multiclass",
                    "news headlines in 4 categories, 13,339 titles (text: ippo news)",
                    uses_data_dir=True, uses_seed=False, text=True),
    ]
}

#: Other spellings accepted on the command line.
ALIASES = {"fashion_mnist": "fashion-mnist", "fashion": "fashion-mnist",
           "breast-cancer": "breast_cancer", "linear-toy": "linear_toy"}


def dataset_names():
    """Names accepted by :func:`load_dataset` (plus ``csv:PATH``)."""
    return list(DATASETS) + ["csv:PATH"]


def get_spec(name):
    """The :class:`DatasetSpec` for ``name``, in any case or by an alias such as
    ``fashion_mnist`` (``csv:PATH`` gets a generic tabular spec)."""
    if name.startswith("csv:"):
        return DatasetSpec(name, tabular.load_csv, "auto", f"CSV file {name[4:]}",
                           scaling="standardize",
                           defaults={"hidden": [64], "epochs": 50, "batch_size": 32})
    key = name.strip().lower()  # "MNIST", "Iris" are the same data sets
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        close = difflib.get_close_matches(key, [*DATASETS, *ALIASES], n=1)
        hint = f" (did you mean {ALIASES.get(close[0], close[0])!r}?)" if close else ""
        raise ValueError(f"unknown dataset {name!r}{hint}; choose one of "
                         + ", ".join(dataset_names()))
    return DATASETS[key]


def load_dataset(name, data_dir=None, seed=0, **kwargs):
    """Load a data set by name: one of :data:`DATASETS` or ``csv:PATH``."""
    spec = get_spec(name)
    if name.startswith("csv:"):
        path = name[4:]
        if not path:
            raise ValueError("dataset 'csv:' needs a path, e.g. csv:data/houses.csv")
        return tabular.load_csv(path, seed=seed, **kwargs)
    if spec.uses_data_dir:
        kwargs["data_dir"] = data_dir
    elif data_dir is not None:
        raise ValueError(f"--data-dir is only used by mnist, fashion-mnist and news, "
                         f"not by {spec.name}")
    if spec.uses_seed:
        kwargs["seed"] = seed
    return spec.loader(**kwargs)
