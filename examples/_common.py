"""What every example shares: where figures go, the fast mode, MNIST or its stand-in.

- Figures go to ``examples/figures/`` (created when needed), to the folder named by the
  environment variable ``IPPO_FIGURES_DIR``, or to the folder given as the first argument:
  ``python examples/05_gradient_descent.py /tmp/figures``.
- ``IPPO_EXAMPLES_FAST=1`` shrinks epochs and sample counts so that every example runs in
  seconds (the test suite runs them so); the printed numbers of the course do not change.
- Matplotlib draws into files only (the Agg backend): no window opens.
- The matrix products run on one BLAS thread: the examples' networks are small, and on a
  busy 2-core machine a second thread mostly waits for a core (see ``ippo.blas``).
"""

import os
import sys
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only, no window: this must come before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402

from ippo import blas  # noqa: E402

blas.set_threads(1)

FAST = os.environ.get("IPPO_EXAMPLES_FAST", "") not in ("", "0")


def fast(normal, quick):
    """``quick`` in fast mode, ``normal`` otherwise (epochs, sample counts, steps)."""
    return quick if FAST else normal


def figure_dir():
    """The folder the figures go to (created), printed once so the reader can find it."""
    if len(sys.argv) > 1:
        folder = Path(sys.argv[1])
    elif os.environ.get("IPPO_FIGURES_DIR"):
        folder = Path(os.environ["IPPO_FIGURES_DIR"])
    else:
        folder = Path(__file__).resolve().parent / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"figures go to {folder}" + ("   (fast mode: fewer epochs and samples)" if FAST else ""))
    return folder


def save(fig, folder, name):
    """Write ``fig`` as ``folder/name``, say so, and free its memory."""
    path = Path(folder) / name
    fig.savefig(path, dpi=fast(100, 60))  # fast mode: smaller files, quicker to write
    plt.close(fig)
    print(f"wrote {path}")
    return path


def heading(text):
    print(f"\n== {text} ==")


def mnist_or_digits(n_train, n_test=0, seed=0):
    """``(x_train, t_train), (x_test, t_test), name``: a random subset of MNIST when its
    files are on this machine, else scikit-learn's 8x8 digits (always there), with a note."""
    from ippo.datasets import find_data_dir, load_digits, load_mnist

    if find_data_dir("mnist") is not None:
        (x, t), (xt, tt) = load_mnist(download=False)
        name = "MNIST"
    else:
        print("note: the MNIST files were not found ($IPPO_DATA_DIR/mnist, ../shared/data/mnist "
              "or the user cache), so this example uses scikit-learn's 8x8 digits instead;\n"
              "      python -c 'import ippo.datasets as d; d.load_mnist()' downloads MNIST "
              "(about 11 MB) into the cache")
        (x, t), (xt, tt) = load_digits()
        name = "8x8 digits"
    rng = np.random.default_rng(seed)
    i = rng.permutation(len(x))[:n_train]
    j = rng.permutation(len(xt))[:n_test]
    test = f" and {len(j)} test" if len(j) else ""
    print(f"data: {name}, {len(i)} training{test} images of {x.shape[1]} pixels")
    return (x[i], t[i]), (xt[j], tt[j]), name
