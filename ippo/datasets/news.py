"""News headlines in four categories: the data of the NLP 100 Knock, chapters 6 and 8.

The UCI News Aggregator corpus, filtered to five publishers and split 80/10/10 as exercise
50 asks: ``train.tsv``, ``valid.tsv`` and ``test.tsv``, one ``CATEGORY<TAB>TITLE`` per line,
UTF-8, no header, no quoting (titles can hold ``"``). Categories: ``b`` business, ``t``
science and technology, ``e`` entertainment, ``m`` health.

- ``load_news(data_dir)`` reads such a folder: a ``Dataset`` whose inputs are the titles
  (arrays of str) and targets the category ids, plus ``.valid`` and the class names.
- ``make_news_split(newsCorpora_csv, out_dir, seed)`` makes such a folder from the raw UCI
  file (exercise 50).
"""

import math
import os
from pathlib import Path

import numpy as np

from ippo.datasets import files
from ippo.datasets.base import Dataset

__all__ = ["load_news", "make_news_split", "NEWS_CATEGORIES", "NEWS_CLASSES", "NEWS_PUBLISHERS",
           "NewsDataset"]

#: The category letters in class-id order, and their names.
NEWS_CATEGORIES = ("b", "t", "e", "m")
NEWS_CLASSES = ("business", "science and technology", "entertainment", "health")
#: The publishers exercise 50 keeps.
NEWS_PUBLISHERS = ("Reuters", "Huffington Post", "Businessweek", "Contactmusic.com",
                   "Daily Mail")
_PARTS = ("train", "valid", "test")


class NewsDataset(Dataset):
    """A ``Dataset`` of texts: ``(x_train, t_train), (x_test, t_test)`` with x arrays of
    str (the titles) and t int64 class ids, plus ``valid`` = ``(x_valid, t_valid)``,
    ``class_names`` and ``categories`` (the letters of the files, in class-id order)."""

    @property
    def n_features(self):
        """None: the inputs are texts (a model's features come from its tokenizer)."""
        return None


def _read_part(path):
    """``(titles, class ids)`` of one ``CATEGORY<TAB>TITLE`` file; ``ValueError`` naming the
    file and line for anything else."""
    titles, labels = [], []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\n").rstrip("\r")
                if not line.strip():
                    raise ValueError(f"{path}, line {lineno}: empty line (expected "
                                     f"CATEGORY<TAB>TITLE)")
                category, tab, title = line.partition("\t")
                if not tab:
                    raise ValueError(f"{path}, line {lineno}: no tab; expected "
                                     f"CATEGORY<TAB>TITLE, got {_shorten(line)!r}")
                if category not in NEWS_CATEGORIES:
                    raise ValueError(f"{path}, line {lineno}: unknown category "
                                     f"{_shorten(category)!r} (expected one of "
                                     f"{', '.join(NEWS_CATEGORIES)})")
                if not title.strip():
                    raise ValueError(f"{path}, line {lineno}: empty title")
                titles.append(title)
                labels.append(NEWS_CATEGORIES.index(category))
    except UnicodeDecodeError as exc:
        lineno = _line_of_byte(path, exc.start)
        raise ValueError(f"{path}, line {lineno}: not UTF-8 text") from None
    if not titles:
        raise ValueError(f"{path}: the file is empty")
    return np.array(titles, dtype=str), np.array(labels, dtype=np.int64)


def _line_of_byte(path, start):
    """The 1-based line of the first byte that is not UTF-8 (the decoder's error gives the
    offset within the chunk it read, so the file is scanned again line by line)."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return "?"


def _shorten(s, n=60):
    return s if len(s) <= n else s[:n] + "..."


def _locate(data_dir):
    """The folder holding train.tsv, valid.tsv and test.tsv."""
    if data_dir is None:
        folder = files.find_data_dir("news")
        if folder is None:
            raise OSError("news: no data folder found in "
                          + ", ".join(str(d) for d in files.candidate_dirs("news"))
                          + "; pass the folder holding train.tsv, valid.tsv and test.tsv "
                          "(make one from newsCorpora.csv with ippo.text.make_news_split)")
        data_dir = folder
    folder = Path(data_dir)
    if not folder.is_dir():
        raise OSError(f"news: {folder} is not a folder (give the folder holding train.tsv, "
                      f"valid.tsv and test.tsv)")
    if not any(folder.iterdir()):
        raise OSError(f"news: {folder} is empty (expected train.tsv, valid.tsv and test.tsv)")
    for cand in (folder, folder / "news"):
        if all((cand / f"{p}.tsv").is_file() for p in _PARTS):
            return cand
    missing = [f"{p}.tsv" for p in _PARTS if not (folder / f"{p}.tsv").is_file()]
    raise OSError(f"news: {folder} lacks {', '.join(missing)}")


def load_news(data_dir=None):
    """The news headlines: ``(x_train, t_train), (x_test, t_test)`` and ``.valid``.

    x are arrays of str (the titles as written), t int64 class ids 0..3 in the order of
    ``NEWS_CLASSES``: business, science and technology, entertainment, health.
    ``data_dir``: the folder with ``train.tsv``, ``valid.tsv`` and ``test.tsv`` (or a data
    folder holding it as ``news/``); default: ``$IPPO_DATA_DIR/news``, then
    ``../shared/data/news``. A malformed line (no tab, an unknown category, an empty title,
    bytes that are not UTF-8) raises ``ValueError`` naming the file and the line.
    """
    folder = _locate(None if data_dir is None else os.fspath(data_dir))
    parts = {p: _read_part(folder / f"{p}.tsv") for p in _PARTS}
    data = NewsDataset(parts["train"], parts["test"], name="news", task="multiclass",
                       class_names=list(NEWS_CLASSES),
                       description=f"news headlines from {folder}")
    data.valid = parts["valid"]
    data.categories = list(NEWS_CATEGORIES)
    data.folder = str(folder)
    return data


# --------------------------------------------------------------------------- exercise 50

#: The columns of newsCorpora.csv (tab-separated, no header, no quoting).
UCI_COLUMNS = ("ID", "TITLE", "URL", "PUBLISHER", "CATEGORY", "STORY", "HOSTNAME", "TIMESTAMP")


def make_news_split(newsCorpora_csv, out_dir, seed=0, publishers=NEWS_PUBLISHERS,
                    stratify=True):
    """Exercise 50: the train / valid / test files from the raw UCI ``newsCorpora.csv``.

    Keeps the rows of ``publishers`` (Reuters, Huffington Post, Businessweek,
    Contactmusic.com, Daily Mail), shuffles them with ``seed`` and splits them 80/10/10:
    ⌈20 %⌉ held out, of which test gets ⌈half⌉ and valid the rest (13,340 rows give
    10,672 / 1,334 / 1,334), within each category when ``stratify`` (so that every part has
    the same mix of categories, as the course's split was made), then writes
    ``train.tsv``, ``valid.tsv`` and ``test.tsv`` (``CATEGORY<TAB>TITLE``) into ``out_dir``.
    The raw file is read line by line as tab-separated fields, without quote handling (a
    title may start with ``"``). Returns ``{part: number of rows}``.

    The shared split in ``../shared/data/news`` was made with pandas and scikit-learn
    (SOURCE.md): the same rows, another random partition.
    """
    path = os.fspath(newsCorpora_csv)
    publishers = set(publishers)
    rows = []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            for lineno, line in enumerate(f, 1):
                fields = line.rstrip("\n").rstrip("\r").split("\t")
                if len(fields) != len(UCI_COLUMNS):
                    raise ValueError(f"{path}, line {lineno}: expected {len(UCI_COLUMNS)} "
                                     f"tab-separated fields ({' '.join(UCI_COLUMNS)}), got "
                                     f"{len(fields)}")
                title, publisher, category = fields[1], fields[3], fields[4]
                if publisher not in publishers:
                    continue
                if category not in NEWS_CATEGORIES:
                    raise ValueError(f"{path}, line {lineno}: unknown category "
                                     f"{_shorten(category)!r}")
                if not title.strip():
                    raise ValueError(f"{path}, line {lineno}: empty title")
                rows.append((category, title.strip()))
    except UnicodeDecodeError:
        raise ValueError(f"{path}, line {_line_of_byte(path, 0)}: not UTF-8 text") from None
    if len(rows) < 3:
        raise ValueError(f"{path}: only {len(rows)} rows of the publishers "
                         f"{', '.join(sorted(publishers))}; a split needs at least 3")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    if stratify:
        groups = [order[[rows[i][0] == c for i in order]] for c in NEWS_CATEGORIES]
    else:
        groups = [order]
    parts = {p: [] for p in _PARTS}
    for g in groups:
        n_held = math.ceil(0.2 * len(g))
        n_test = math.ceil(n_held / 2)
        n_train = len(g) - n_held
        parts["train"].extend(g[:n_train])
        parts["valid"].extend(g[n_train:n_train + n_held - n_test])
        parts["test"].extend(g[n_train + n_held - n_test:])
    from ippo.io import write_atomically

    os.makedirs(out_dir, exist_ok=True)
    counts = {}
    for p, idx in parts.items():
        idx = rng.permutation(np.asarray(idx, dtype=np.int64))  # mix the categories again
        text = "".join(f"{rows[i][0]}\t{rows[i][1]}\n" for i in idx).encode("utf-8")
        write_atomically(os.path.join(out_dir, f"{p}.tsv"), lambda f, t=text: f.write(t))
        counts[p] = len(idx)
    return counts
