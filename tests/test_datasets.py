"""Loaders: shapes, dtypes, determinism, the IDX reader's checks, data-dir search, downloads."""

import gzip
import hashlib
import os
import shutil

import numpy as np
import pytest

from ippo import datasets
from ippo.datasets import files, idx

MNIST_DIR = datasets.find_data_dir("mnist")
FASHION_DIR = datasets.find_data_dir("fashion-mnist")
needs_mnist = pytest.mark.skipif(
    MNIST_DIR is None or files.find_file(MNIST_DIR, "t10k-labels-idx1-ubyte.gz") is None,
    reason="MNIST IDX files not found in $IPPO_DATA_DIR/mnist or ../shared/data/mnist")
needs_fashion = pytest.mark.skipif(
    FASHION_DIR is None
    or files.find_file(FASHION_DIR, "t10k-labels-idx1-ubyte.gz") is None,
    reason="Fashion-MNIST IDX files not found in $IPPO_DATA_DIR/fashion-mnist or "
           "../shared/data/fashion-mnist")


# --------------------------------------------------------------------------- MNIST


@pytest.fixture(scope="module")
def mnist():
    return datasets.load_mnist(MNIST_DIR, download=False)


@needs_mnist
def test_mnist_shapes_dtypes_and_known_statistics(mnist):
    (x, t), (xt, tt) = mnist
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == np.float32 and t.dtype == np.int64
    assert 0.0 <= x.min() and x.max() == 1.0
    # known facts from SOURCE.md: mean pixel 33.318 (train), label counts
    assert abs(float(x.mean(dtype=np.float64)) * 255 - 33.318) < 1e-3
    assert np.bincount(t).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                       5949]
    assert np.bincount(tt, minlength=10)[1] == 1135
    assert mnist.task == "multiclass" and mnist.n_classes == 10
    assert mnist.image_shape == (28, 28)


@needs_mnist
def test_mnist_raw_images_and_one_hot():
    d = datasets.load_mnist(MNIST_DIR, normalize=False, flatten=False, one_hot=True,
                            download=False)
    (x, t), (xt, tt) = d
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.float32
    assert x.max() == 255.0 and float(x[0].sum()).is_integer()
    assert t.shape == (60000, 10) and np.all(t.sum(axis=1) == 1)
    assert tt.dtype == np.float32


@needs_fashion
def test_fashion_mnist_balanced_classes():
    (x, t), (xt, tt) = datasets.load_fashion_mnist(FASHION_DIR, download=False)
    assert x.shape == (60000, 784)
    assert np.all(np.bincount(t) == 6000) and np.all(np.bincount(tt) == 1000)
    assert abs(float(x.mean(dtype=np.float64)) * 255 - 72.940) < 1e-3


@needs_mnist
@needs_fashion
def test_the_other_sets_files_are_refused():
    # both sets use the same file names: a --data-dir pointing at the other one must not
    # silently train on the wrong data
    with pytest.raises(ValueError, match=r"fashion-mnist: the files in .* are mnist's, not "
                                         r"fashion-mnist's \(check --data-dir\)"):
        datasets.load_fashion_mnist(MNIST_DIR, download=False)
    with pytest.raises(ValueError, match=r"mnist: the files in .* are fashion-mnist's"):
        datasets.load_mnist(FASHION_DIR, download=False)


@needs_mnist
def _same_folder(a, b):
    """Whether two paths name the same folder (or are both None), through any links."""
    if a is None or b is None:
        return a is None and b is None
    return os.path.samefile(a, b)


def test_find_data_dir_honours_env(tmp_path, monkeypatch):
    real = tmp_path / "real"
    (real / "mnist").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)  # the data folder reached through a symbolic link
    monkeypatch.setenv("IPPO_DATA_DIR", str(link))
    # an empty folder (as a failed download leaves in the cache) is not the data set
    assert _same_folder(datasets.find_data_dir("mnist"), MNIST_DIR)
    _small_idx_dir(real / "mnist")
    found = datasets.find_data_dir("mnist")
    assert found == link / "mnist" and _same_folder(found, real / "mnist")
    monkeypatch.delenv("IPPO_DATA_DIR")
    assert _same_folder(datasets.find_data_dir("mnist"), MNIST_DIR)
    assert datasets.find_data_dir("no-such-set-xyz") is None


def test_idx_header_is_read_big_endian_from_fixed_bytes():
    # written by hand, not by write_idx: magic 0x00000803 (uint8, 3 dims), then the sizes
    # 2, 3 and 258 as big-endian 32-bit integers (258 = 0x00000102: little-endian would
    # read 0x02010000 = 33,619,968)
    header = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 1, 2])
    body = bytes(range(256)) * 6 + bytes(12)
    arr = idx.parse_idx(header + body[: 2 * 3 * 258])
    assert arr.shape == (2, 3, 258) and arr.dtype == np.uint8
    assert arr[0, 0, :3].tolist() == [0, 1, 2] and arr[0, 0, 257] == 1
    # int32 data (type 0x0C) is big-endian too: 1 and -2
    ints = idx.parse_idx(bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE]))
    assert ints.tolist() == [1, -2] and ints.dtype == np.dtype(">i4").newbyteorder("=")


def _small_idx_dir(folder, n=5, gz=True):
    """Four tiny valid MNIST-like IDX files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    for split, k in (("train", n), ("t10k", n - 1)):
        idx.write_idx(folder / f"{split}-images-idx3-ubyte{ext}",
                      rng.integers(0, 256, (k, 28, 28)).astype(np.uint8))
        idx.write_idx(folder / f"{split}-labels-idx1-ubyte{ext}",
                      rng.integers(0, 10, k).astype(np.uint8))
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_load_from_small_idx_files_gz_or_not(tmp_path, gz):
    d = _small_idx_dir(tmp_path / "m", gz=gz)
    (x, t), (xt, tt) = datasets.load_mnist(d, download=False)
    assert x.shape == (5, 784) and xt.shape == (4, 784) and t.shape == (5,)
    raw = idx.read_idx(files.find_file(d, "train-images-idx3-ubyte.gz"))
    np.testing.assert_allclose(x * 255, raw.reshape(5, -1), atol=1e-4)


# --------------------------------------------------------------------------- IDX reader


def test_idx_roundtrip_all_types(tmp_path):
    for dtype in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        if dtype == np.uint8:
            a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
        idx.write_idx(tmp_path / "a.idx", a)
        b = idx.read_idx(tmp_path / "a.idx")
        assert b.dtype == a.dtype and np.array_equal(a, b)


def test_idx_truncated_file_is_a_clear_error(tmp_path):
    p = tmp_path / "x-idx3-ubyte"
    idx.write_idx(p, np.zeros((3, 28, 28), np.uint8))
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"truncated.*\(3, 28, 28\).*2352 bytes.*found 2342"):
        idx.read_idx(p)


def test_idx_trailing_bytes_and_wrong_magic(tmp_path):
    p = tmp_path / "x"
    idx.write_idx(p, np.zeros(4, np.uint8))
    p.write_bytes(p.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="trailing"):
        idx.read_idx(p)
    p.write_bytes(b"PK\x03\x04 not an idx file at all")
    with pytest.raises(ValueError, match=r"not an IDX file: magic number 0x504B0304"):
        idx.read_idx(p)
    p.write_bytes(b"\0\0")
    with pytest.raises(ValueError, match="only 2 bytes"):
        idx.read_idx(p)
    # a damaged header with huge sizes: the byte count is exact (int64 would wrap around)
    p.write_bytes(bytes([0, 0, 8, 2]) + (2**32 - 1).to_bytes(4, "big") * 2 + b"12")
    with pytest.raises(ValueError, match=r"truncated: header says shape \(4294967295, "
                                         r"4294967295\) of uint8 \(18446744065119617025 bytes"):
        idx.read_idx(p)


def test_idx_truncated_gzip_and_wrong_rank(tmp_path):
    p = tmp_path / "x.gz"
    idx.write_idx(p, np.zeros((100, 28, 28), np.uint8))
    p.write_bytes(p.read_bytes()[:40])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        idx.read_idx(p)
    idx.write_idx(p, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="expected an IDX file with 1 dimension"):
        idx.read_idx(p, expect_ndim=1)


def test_mnist_mismatched_counts_and_bad_labels(tmp_path):
    d = _small_idx_dir(tmp_path / "m")
    idx.write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(ValueError, match="holds 5 images but .* holds 7 labels"):
        datasets.load_mnist(d, download=False)
    idx.write_idx(d / "train-labels-idx1-ubyte.gz", np.full(5, 12, np.uint8))
    with pytest.raises(ValueError, match="labels must be 0..9, found 12"):
        datasets.load_mnist(d, download=False)


def test_data_dir_may_be_the_data_root_holding_the_set(tmp_path):
    _small_idx_dir(tmp_path / "mnist")
    data = datasets.load_mnist(tmp_path, download=False)  # the parent, as $IPPO_DATA_DIR
    assert data.description == f"mnist from {tmp_path / 'mnist'}"
    assert np.array_equal(data[0][1], datasets.load_mnist(tmp_path / "mnist", download=False)[0][1])
    with pytest.raises(OSError, match="lacks train-images-idx3-ubyte.gz"):
        datasets.load_fashion_mnist(tmp_path, download=False)  # mnist/ is not fashion-mnist/


def test_missing_files_without_download(tmp_path):
    with pytest.raises(OSError, match="lacks train-images-idx3-ubyte.gz"):
        datasets.load_mnist(tmp_path, download=False)
    with pytest.raises(OSError, match="is not a folder"):
        datasets.load_mnist(tmp_path / "typo")
    assert not (tmp_path / "typo").exists()


# --------------------------------------------------------------------------- download path


def _copying_downloader(source_dir, log):
    def download(url, output_file, pooch_instance):
        log.append(url)
        shutil.copyfile(source_dir / url.rsplit("/", 1)[1], output_file)
    return download


def test_download_verifies_checksums_and_caches(tmp_path, monkeypatch):
    src = _small_idx_dir(tmp_path / "upstream")
    sums = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in src.iterdir()}
    monkeypatch.setitem(files.REMOTE, "mnist",
                        {"mirrors": ["https://mirror.invalid/mnist/"], "files": sums})
    log = []
    monkeypatch.setattr(files, "DOWNLOADER", _copying_downloader(src, log))
    dest = tmp_path / "dest"
    dest.mkdir()
    (x, t), _ = datasets.load_mnist(dest)
    assert x.shape == (5, 784) and len(log) == 4
    assert log[0].startswith("https://mirror.invalid/mnist/")
    datasets.load_mnist(dest)  # second call: all cached, no download
    assert len(log) == 4


def test_download_into_user_cache(tmp_path, monkeypatch):
    src = _small_idx_dir(tmp_path / "upstream")
    sums = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in src.iterdir()}
    monkeypatch.setitem(files.REMOTE, "mnist", {"mirrors": ["https://m.invalid/"],
                                                "files": sums})
    monkeypatch.setattr(files, "DOWNLOADER", _copying_downloader(src, []))
    monkeypatch.setattr(files, "PROJECT_ROOT", tmp_path / "nowhere" / "project")
    monkeypatch.setattr(files, "cache_dir", lambda name=None: tmp_path / "cache" / name)
    monkeypatch.delenv("IPPO_DATA_DIR", raising=False)
    (x, _), _ = datasets.load_mnist()
    assert x.shape == (5, 784)
    assert (tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz").is_file()


def test_download_rejects_bad_checksum_then_tries_next_mirror(tmp_path, monkeypatch):
    src = _small_idx_dir(tmp_path / "upstream")
    sums = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in src.iterdir()}
    monkeypatch.setitem(files.REMOTE, "mnist", {"mirrors": ["https://evil.invalid/",
                                                            "https://good.invalid/"],
                                                "files": sums})

    def download(url, output_file, pooch_instance):
        if "evil" in url:
            with open(output_file, "wb") as f:
                f.write(gzip.compress(b"tampered"))
        else:
            shutil.copyfile(src / url.rsplit("/", 1)[1], output_file)

    monkeypatch.setattr(files, "DOWNLOADER", download)
    (x, _), _ = datasets.load_mnist(tmp_path)
    assert x.shape == (5, 784)


def test_download_failure_is_one_clear_oserror(tmp_path, monkeypatch):
    def download(url, output_file, pooch_instance):
        raise ConnectionError("no network")

    monkeypatch.setattr(files, "DOWNLOADER", download)
    with pytest.raises(OSError, match=r"could not download mnist file .*no network.*"
                                      r"IPPO_DATA_DIR"):
        datasets.load_mnist(tmp_path)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_remote_checksums_match_the_shared_files(name):
    """Every SHA-256 in the download table is the one of the original file (a wrong one
    would make every user's download fail the check)."""
    folder = {"mnist": MNIST_DIR, "fashion-mnist": FASHION_DIR}[name]
    if folder is None or not all((folder / f).is_file() for f in files.REMOTE[name]["files"]):
        pytest.skip(f"the {name} .gz files are not all in $IPPO_DATA_DIR/{name} or "
                    f"../shared/data/{name}")
    for fname, sha in files.REMOTE[name]["files"].items():
        assert hashlib.sha256((folder / fname).read_bytes()).hexdigest() == sha, fname


# --------------------------------------------------------------------------- built-in sets


@pytest.mark.parametrize("loader,n,d,k", [
    (datasets.load_digits, 1797, 64, 10),
    (datasets.load_iris, 150, 4, 3),
    (datasets.load_breast_cancer, 569, 30, 2),
])
def test_builtin_classification_sets(loader, n, d, k):
    data = loader()
    (x, t), (xt, tt) = data
    assert len(x) + len(xt) == n and x.shape[1] == d and xt.shape[1] == d
    assert x.dtype == np.float32 and t.dtype == np.int64
    assert data.n_classes == k and len(data.class_names) == k
    # stratified 80/20: every class is in the test part, in about the right share
    share = np.bincount(t, minlength=k) / len(t)
    share_t = np.bincount(tt, minlength=k) / len(tt)
    assert np.all(np.abs(share - share_t) < 0.03)
    again = loader()
    assert np.array_equal(again[0][0], x) and np.array_equal(again[1][1], tt)
    other = loader(seed=1)
    assert not np.array_equal(other[0][1], t)


def test_digits_normalized_images_and_one_hot():
    (x, t), _ = datasets.load_digits(flatten=False, one_hot=True)
    assert x.shape[1:] == (1, 8, 8) and x.max() == 1.0 and x.min() == 0.0
    assert t.shape[1] == 10 and t.dtype == np.float32


def test_diabetes_regression_targets():
    data = datasets.load_diabetes()
    (x, t), (xt, tt) = data
    assert data.task == "regression" and data.n_classes is None
    assert x.shape == (354, 10) and t.shape == (354, 1) and t.dtype == np.float32
    assert 25 <= t.min() and t.max() <= 346


def test_spiral_and_linear_toy():
    (x, t), (xt, tt) = datasets.spiral(50, 4, seed=3)
    assert x.shape == (160, 2) and len(xt) == 40 and set(np.unique(t)) == {0, 1, 2, 3}
    r = np.sqrt((np.concatenate([x, xt]) ** 2).sum(1))
    assert r.max() < 1.0
    assert np.array_equal(datasets.spiral(50, 4, seed=3)[0][0], x)
    (x, t), _ = datasets.linear_toy(200, seed=1, noise=0.0)
    np.testing.assert_allclose(t[:, 0], 3 * x[:, 0] + 2 * x[:, 1], rtol=1e-5)
    (x, t), _ = datasets.linear_toy(2000, seed=1)
    w, *_ = np.linalg.lstsq(x.astype(np.float64), t[:, 0], rcond=None)
    np.testing.assert_allclose(w, [3, 2], atol=0.05)
    with pytest.raises(ValueError, match="n_classes >= 2"):
        datasets.spiral(10, 1)


# --------------------------------------------------------------------------- registry


def test_registry_names_and_errors():
    assert {"digits", "iris", "breast_cancer", "diabetes", "spiral", "mnist",
            "fashion-mnist"} <= set(datasets.DATASETS)
    assert datasets.get_spec("fashion_mnist").name == "fashion-mnist"
    with pytest.raises(ValueError, match="unknown dataset 'cifar'.*digits.*csv:PATH"):
        datasets.load_dataset("cifar")
    with pytest.raises(ValueError, match="only used by mnist"):
        datasets.load_dataset("iris", data_dir="x")
    assert datasets.get_spec("MNIST").name == "mnist"
    assert datasets.get_spec(" Fashion_MNIST ").name == "fashion-mnist"
    with pytest.raises(ValueError, match=r"unknown dataset 'digts' \(did you mean 'digits'\?\); "):
        datasets.get_spec("digts")
    with pytest.raises(ValueError, match=r"unknown dataset 'fashion_mnst' \(did you mean "
                                         r"'fashion-mnist'\?\)"):
        datasets.get_spec("fashion_mnst")
    data = datasets.load_dataset("iris", seed=5)
    assert np.array_equal(data[0][0], datasets.load_iris(seed=5)[0][0])


# --------------------------------------------------------------------------- CSV


def _write(path, text):
    path.write_text(text)
    return path


def test_load_csv_header_class_names_and_missing(tmp_path):
    rows = ["a,b,species"] + [f"{i},{i % 3 if i != 4 else ''},{'cat' if i % 2 else 'dog'}"
                              for i in range(20)]
    p = _write(tmp_path / "d.csv", "\n".join(rows) + "\n")
    data = datasets.load_csv(p, target="species", test_size=0.25, seed=0)
    (x, t), (xt, tt) = data
    assert data.task == "binary" and data.class_names == ["cat", "dog"]
    assert data.feature_names == ["a", "b"]
    assert x.shape == (15, 2) and xt.shape == (5, 2) and x.dtype == np.float32
    assert not np.isnan(x).any() and not np.isnan(xt).any()
    # labels follow the rows: a (column 0) even <-> dog
    for xs, ts in ((x, t), (xt, tt)):
        assert np.array_equal(ts, (xs[:, 0] % 2 == 0).astype(np.int64))


def test_load_csv_regression_and_no_header(tmp_path):
    rows = [f"{i / 10},{i * 0.37 + 0.1}" for i in range(30)]
    p = _write(tmp_path / "r.csv", "\n".join(rows))
    data = datasets.load_csv(p)
    assert data.task == "regression" and data[0][1].shape == (24, 1)
    np.testing.assert_allclose(data[0][1][:, 0], data[0][0][:, 0] * 3.7 + 0.1, rtol=1e-5)


def test_load_csv_guesses_semicolon_and_tab_separators(tmp_path):
    rows = ["a,b,y"] + [f"{i / 10},{(i * 7) % 5},{i % 2}" for i in range(20)]
    comma = datasets.load_csv(_write(tmp_path / "c.csv", "\n".join(rows)))
    for name, sep in (("s.csv", ";"), ("t.txt", "\t"), ("t.tsv", "\t")):
        other = datasets.load_csv(_write(tmp_path / name,
                                         "\n".join(r.replace(",", sep) for r in rows)))
        assert other.feature_names == ["a", "b"] and other.class_names == ["0", "1"], name
        for u, v in zip(comma[0] + comma[1], other[0] + other[1], strict=True):
            np.testing.assert_array_equal(u, v)
    # a decimal comma is named as such
    _write(tmp_path / "dc.csv", "a;b;y\n1,5;2;0\n2;3;1\n")
    with pytest.raises(ValueError, match=r"line 2, column 'a': cannot read '1,5' as a number "
                                         r"\(write decimals with a point: 1.5, not 1,5\)"):
        datasets.load_csv(tmp_path / "dc.csv")
    # an explicit delimiter still wins: ";" finds one column only
    with pytest.raises(ValueError, match="need at least 2 columns"):
        datasets.load_csv(tmp_path / "c.csv", delimiter=";")


def test_load_csv_non_numeric_cell_names_line_and_column(tmp_path):
    p = _write(tmp_path / "bad.csv", "x1,x2,y\n1,2,0\n3,abc,1\n")
    with pytest.raises(ValueError, match=r"line 3, column 'x2': cannot read 'abc' as a number"):
        datasets.load_csv(p, target="y")


def test_load_csv_errors(tmp_path):
    with pytest.raises(OSError, match="no such file"):
        datasets.load_csv(tmp_path / "nope.csv")
    p = _write(tmp_path / "d.csv", "x1,x2,y\n1,2,0\n3,4\n")
    with pytest.raises(ValueError, match="line 3 has 2 columns, expected 3"):
        datasets.load_csv(p)
    p = _write(tmp_path / "d.csv", "x1,x2,y\n1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match="no column named 'z'; columns: x1, x2, y"):
        datasets.load_csv(p, target="z")
    p = _write(tmp_path / "m.csv", "x1,x2,y\n1,,0\n3,4,1\n5,6,0\n7,8,1\n")
    with pytest.raises(ValueError, match="missing value in column 'x2'"):
        datasets.load_csv(p, missing="error", test_size=1)
    data = datasets.load_csv(p, missing="drop_rows", test_size=1)
    assert len(data[0][0]) + len(data[1][0]) == 3
    data = datasets.load_csv(p, missing="drop_columns", test_size=1)
    assert data.feature_names == ["x1"]


def test_load_csv_one_class_target_names_the_column(tmp_path):
    p = _write(tmp_path / "one.csv", "x1,x2,y\n1,2,0\n3,4,0\n5,6,0\n")
    with pytest.raises(ValueError, match=r"one.csv: the target column 'y' holds one value only "
                       r"\('0'\); a classifier needs at least 2 classes"):
        datasets.load_csv(p)


def test_builtin_cache_gives_the_same_arrays(tmp_path, monkeypatch):
    from ippo.datasets import builtin

    monkeypatch.setattr(files, "cache_dir", lambda name=None: tmp_path / name)
    first = builtin.load_iris()  # from scikit-learn, writes the cache
    assert (tmp_path / "sklearn" / "load_iris.npz").is_file()
    second = builtin.load_iris()  # from the cache
    for a, b in zip(first[0] + first[1], second[0] + second[1], strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert second.class_names == ["setosa", "versicolor", "virginica"]
    assert second.feature_names == first.feature_names
    (tmp_path / "sklearn" / "load_iris.npz").write_bytes(b"garbage")  # damaged: rebuilt
    assert np.array_equal(builtin.load_iris()[0][0], first[0][0])
