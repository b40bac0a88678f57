"""Where data files live, and how missing ones are downloaded.

``find_data_dir(name)`` is the one place that knows the search order:

1. ``$IPPO_DATA_DIR/<name>`` when the environment variable is set;
2. ``../shared/data/<name>`` beside the project root (the development layout: a checkout
   in ``work/ippo`` finds ``work/shared/data/mnist``);
3. the user cache, ``<os cache>/ippo/<name>`` (``~/.cache/ippo/<name>`` on Linux), where
   downloads go.

Downloads use ``pooch`` with a SHA-256 checksum per file: a file is fetched only when it is
absent, a corrupt or tampered download is rejected, and several mirrors are tried in turn.
"""

import os
from pathlib import Path

#: The project root: the folder that holds the ``ippo`` package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent

#: Upstream mirrors and SHA-256 sums of the original gzip files (identical at every mirror).
REMOTE = {
    "mnist": {
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        "files": {
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion-mnist": {
        "mirrors": [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ],
        "files": {
            "train-images-idx3-ubyte.gz":
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz":
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz":
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz":
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
}

#: A pooch downloader (``callable(url, output_file, pooch)``) used instead of HTTP; the
#: tests set it to copy local files so that the download path runs without a network.
DOWNLOADER = None


def cache_dir(name=None):
    """The user cache folder for ippo data (``$XDG_CACHE_HOME/ippo`` or the OS default)."""
    import pooch

    base = Path(pooch.os_cache("ippo"))
    return base / name if name else base


def candidate_dirs(name):
    """The folders searched for data set ``name``, in order (they need not exist)."""
    dirs = []
    env = os.environ.get("IPPO_DATA_DIR")
    if env:
        dirs.append(Path(env) / name)
    dirs.append(PROJECT_ROOT.parent / "shared" / "data" / name)
    dirs.append(cache_dir(name))
    return dirs


def find_data_dir(name):
    """The first existing folder for data set ``name`` (see the module doc), or None."""
    for d in candidate_dirs(name):
        if d.is_dir():
            return d
    return None


def find_file(folder, fname):
    """``folder/fname`` or an equivalent spelling that exists there, else None.

    Accepts the file with or without ``.gz`` and LeCun's older ``train-images.idx3-ubyte``
    spelling.
    """
    folder = Path(folder)
    stem = fname[:-3] if fname.endswith(".gz") else fname
    dotted = stem.replace("-idx", ".idx")
    for cand in (fname, stem, stem + ".gz", dotted, dotted + ".gz"):
        p = folder / cand
        if p.is_file():
            return p
    return None


def _short(exc, limit=120):
    """The gist of a (often very long) network error message."""
    text = " ".join(str(exc).split())
    for key in ("Failed to resolve", "Name or service not known", "timed out",
                "Connection refused", "404", "403"):
        if key in text:
            return key
    return text if len(text) <= limit else text[:limit] + "..."


def fetch(name, folder, fnames=None):
    """Download the files of data set ``name`` that are missing in ``folder``.

    Each file is verified against its SHA-256 sum; mirrors are tried in turn. Returns the
    folder. Raises ``OSError`` with the URLs tried when no mirror works, and ``ValueError``
    when a download does not match its checksum.
    """
    import pooch

    spec = REMOTE[name]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for fname, sha in spec["files"].items():
        if fnames is not None and fname not in fnames:
            continue
        if find_file(folder, fname) is not None:
            continue
        errors = []
        for mirror in spec["mirrors"]:
            url = mirror + fname
            try:
                pooch.retrieve(url, known_hash=f"sha256:{sha}", fname=fname, path=folder,
                               downloader=DOWNLOADER, progressbar=False)
                break
            except ValueError as exc:  # checksum mismatch: do not trust this mirror
                errors.append(f"{url}: {str(exc).splitlines()[0]}")
            except Exception as exc:  # network errors of every kind
                errors.append(f"{url}: {type(exc).__name__}: {_short(exc)}")
        else:
            raise OSError(
                f"could not download {name} file {fname} into {folder}: "
                + "; ".join(errors)
                + f". Put the files there by hand, or set IPPO_DATA_DIR to a folder holding "
                f"{name}/"
            )
    return folder
