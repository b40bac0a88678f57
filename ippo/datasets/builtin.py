"""Small data sets that need no network: scikit-learn's bundled copies and generated toys.

Each loader splits with a fixed ``seed`` (stratified for classification) and returns a
:class:`~ippo.datasets.base.Dataset`: ``(x_train, t_train), (x_test, t_test)`` with float32
inputs and int64 labels (``one_hot=True`` for one-hot float32 labels). Regression targets
are float32 of shape (N, 1), matching a network with one output.
"""

import numpy as np

from ippo.datasets.base import Dataset
from ippo.io import write_atomically
from ippo.preprocessing import one_hot as _one_hot
from ippo.preprocessing import train_test_split


def _finish(x, t, name, task, test_size, seed, one_hot, **info):
    x = np.ascontiguousarray(x, dtype=np.float32)
    if task == "regression":
        t = np.asarray(t, dtype=np.float32).reshape(len(t), -1)
        (xa, ta), (xb, tb) = train_test_split(x, t, test_size, seed)
    else:
        t = np.asarray(t, dtype=np.int64)
        (xa, ta), (xb, tb) = train_test_split(x, t, test_size, seed, stratify=True)
        if one_hot:
            k = len(info["class_names"]) if info.get("class_names") else int(t.max()) + 1
            ta, tb = _one_hot(ta, k), _one_hot(tb, k)
    return Dataset((xa, ta), (xb, tb), name=name, task=task, **info)


class _Bunch:
    def __init__(self, data, target, target_names=None, feature_names=None):
        self.data, self.target = data, target
        self.target_names, self.feature_names = target_names, feature_names


#: Cache the arrays of scikit-learn's bundled sets (a few hundred kB) in the user cache:
#: importing scikit-learn takes 1.5-4 s here, reading the cached .npz a few ms.
USE_CACHE = True


def _sklearn(fn_name):
    """scikit-learn's ``fn_name()`` as arrays, through a small .npz cache."""
    from ippo.datasets.files import cache_dir

    path = cache_dir("sklearn") / f"{fn_name}.npz"
    if USE_CACHE and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return _Bunch(z["data"], z["target"],
                              list(z["target_names"]) if "target_names" in z else None,
                              list(z["feature_names"]) if "feature_names" in z else None)
        except Exception:  # a damaged cache file: rebuild it below
            pass
    try:
        import sklearn.datasets as skd
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise ImportError("the built-in tabular data sets need scikit-learn: "
                          "pip install scikit-learn") from exc
    b = getattr(skd, fn_name)()
    arrays = {"data": np.asarray(b.data), "target": np.asarray(b.target)}
    for key in ("target_names", "feature_names"):
        if getattr(b, key, None) is not None:
            arrays[key] = np.asarray([str(v) for v in getattr(b, key)])
    if USE_CACHE:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, lambda f: np.savez(f, **arrays), suffix=".npz")
        except OSError:  # a read-only cache is fine: just slower next time
            pass
    return _Bunch(arrays["data"], arrays["target"],
                  list(arrays["target_names"]) if "target_names" in arrays else None,
                  list(arrays["feature_names"]) if "feature_names" in arrays else None)


def load_digits(normalize=True, flatten=True, one_hot=False, test_size=0.2, seed=0):
    """8×8 handwritten digits (1,797 images, 10 classes; UCI, via scikit-learn).

    Pixels are 0..16; ``normalize`` divides by 16 so inputs are in [0, 1]. ``flatten=False``
    gives images of shape (N, 1, 8, 8). Split 80/20, stratified, by ``seed``.
    """
    b = _sklearn("load_digits")
    x = b.data.astype(np.float32)
    if normalize:
        x /= 16.0
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    return _finish(x, b.target, "digits", "multiclass", test_size, seed, one_hot,
                   class_names=[str(i) for i in range(10)], image_shape=(8, 8),
                   description="8x8 handwritten digits (scikit-learn)")


def load_iris(one_hot=False, test_size=0.2, seed=0):
    """Fisher's iris flowers: 150 samples, 4 features (cm), 3 species."""
    b = _sklearn("load_iris")
    return _finish(b.data, b.target, "iris", "multiclass", test_size, seed, one_hot,
                   class_names=b.target_names, feature_names=b.feature_names,
                   description="iris flower species (scikit-learn)")


def load_breast_cancer(one_hot=False, test_size=0.2, seed=0):
    """Wisconsin breast cancer: 569 samples, 30 features, binary (0 malignant, 1 benign)."""
    b = _sklearn("load_breast_cancer")
    return _finish(b.data, b.target, "breast_cancer", "binary", test_size, seed, one_hot,
                   class_names=b.target_names, feature_names=b.feature_names,
                   description="breast cancer diagnosis (scikit-learn)")


def load_diabetes(test_size=0.2, seed=0):
    """Diabetes progression: 442 samples, 10 (already scaled) features, regression target."""
    b = _sklearn("load_diabetes")
    return _finish(b.data, b.target, "diabetes", "regression", test_size, seed, False,
                   feature_names=b.feature_names,
                   description="diabetes disease progression (scikit-learn)")


def spiral(n_per_class=100, n_classes=3, seed=0, noise=0.2, one_hot=False, test_size=0.2):
    """The spiral toy problem: ``n_classes`` interleaved arms of ``n_per_class`` 2-D points.

    Point i of class j: r = i / n_per_class, θ = 4 j + 4 r + ε (ε ~ N(0, noise²)),
    x = (r sin θ, r cos θ). Not linearly separable: a network needs a hidden layer.
    """
    if n_per_class < 2 or n_classes < 2:
        raise ValueError(f"spiral: need n_per_class >= 2 and n_classes >= 2, got "
                         f"{n_per_class} and {n_classes}")
    rng = np.random.default_rng(seed)
    r = np.tile(np.arange(n_per_class) / n_per_class, n_classes)
    cls = np.repeat(np.arange(n_classes), n_per_class)
    theta = 4.0 * cls + 4.0 * r + rng.normal(0.0, noise, r.shape)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return _finish(x, cls, "spiral", "multiclass", test_size, seed, one_hot,
                   class_names=[str(i) for i in range(n_classes)],
                   description=f"spiral, {n_classes} arms of {n_per_class} points")


def linear_toy(n=100, seed=0, noise=0.1, test_size=0.2):
    """Linear regression toy: y = 3·x0 + 2·x1 + ε, with x ~ U(0, 1)² and ε ~ N(0, noise²)."""
    if n < 2:
        raise ValueError(f"linear_toy: need n >= 2, got {n}")
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    y = 3.0 * x[:, 0] + 2.0 * x[:, 1] + rng.normal(0.0, noise, n)
    return _finish(x, y, "linear_toy", "regression", test_size, seed, False,
                   feature_names=["x0", "x1"], description="y = 3 x0 + 2 x1 + noise")
