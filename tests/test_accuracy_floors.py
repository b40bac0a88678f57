"""The issue's accuracy floors on real data, through the command line exactly as the README
shows it: MNIST 784-100-10 ≥ 0.97, MNIST 784-512-256-10 with dropout ≥ 0.98, Fashion-MNIST
≥ 0.87.

The first (about 7 s) runs every time. The two others take 35-100 s each on a 2-core machine,
too long for every CI run: they run when ``IPPO_SLOW_TESTS=1`` is set (``IPPO_SLOW_TESTS=1
python -m pytest tests/test_accuracy_floors.py``); a short Fashion-MNIST run is always tested,
so the real files, the loaders and the command line are exercised on every CI run.
"""

import os

import pytest

from ippo.cli import main
from ippo.datasets import find_data_dir

MNIST_DIR = find_data_dir("mnist")
FASHION_DIR = find_data_dir("fashion-mnist")
DIRS = {"mnist": MNIST_DIR, "fashion-mnist": FASHION_DIR}

SLOW = os.environ.get("IPPO_SLOW_TESTS", "") not in ("", "0")
slow = pytest.mark.skipif(not SLOW, reason="a long MNIST / Fashion-MNIST run (35-100 s); set "
                          "IPPO_SLOW_TESTS=1 to run it")


def _test_accuracy(dataset, flags, out, capsys):
    if DIRS[dataset] is None:
        pytest.skip(f"{dataset} IDX files not found in $IPPO_DATA_DIR/{dataset} or "
                    f"../shared/data/{dataset}")
    rc = main(["train", "-q", "--dataset", dataset, "--data-dir", str(DIRS[dataset]),
               *flags, "--out", str(out)])
    out_text, err = capsys.readouterr()
    assert rc == 0, err
    # "test accuracy 0.9765 (9,765/10,000); trained in 12.7 s"
    line = next(s for s in out_text.splitlines() if s.startswith("test accuracy"))
    assert "/10,000)" in line
    return float(line.split()[2])


# the README's table: (data set, flags, floor from the issue)
README_RUNS = [
    ("mnist", ["--hidden", "100", "--epochs", "10"], 0.97),  # the one that runs every time
    ("mnist", ["--hidden", "512,256", "--epochs", "20", "--dropout", "0.2"], 0.98),
    ("fashion-mnist", [], 0.87),  # defaults: --hidden 256,128 --epochs 20
]


@pytest.mark.parametrize("dataset,flags,floor",
                         [README_RUNS[0], *(pytest.param(*r, marks=slow) for r in README_RUNS[1:])],
                         ids=[f"{d} {' '.join(f)}".strip() for d, f, _ in README_RUNS])
def test_readme_runs_reach_the_issue_floors(dataset, flags, floor, tmp_path, capsys):
    assert floor <= _test_accuracy(dataset, flags, tmp_path / "run", capsys) <= 1.0


def test_fashion_mnist_one_short_run(tmp_path, capsys):
    # one epoch of 784-64-10 on the real files: about 0.84 (a wrong label order, the
    # MNIST files, or unscaled pixels would fall far below)
    acc = _test_accuracy("fashion-mnist", ["--hidden", "64", "--epochs", "1"],
                         tmp_path / "f", capsys)
    assert 0.80 <= acc <= 1.0
