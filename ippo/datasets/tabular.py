"""``load_csv``: a user's own tabular data, one sample per row."""

import csv
import io
import math
import os

import numpy as np

from ippo.datasets.base import Dataset
from ippo.preprocessing import MissingFiller, fill_missing, train_test_split
from ippo.preprocessing import one_hot as _one_hot

#: Cell spellings read as a missing value (NaN).
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}


#: The largest float32: a cell beyond it would become inf in the float32 arrays ippo uses.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def parse_cell(cell):
    """One CSV cell as a float: NaN for a missing value (empty, NA, N/A, ?, ...).

    ValueError (its message says which) for text, and for a number that is infinite ('inf',
    '1e999') or beyond the float32 range (±3.4e38).
    """
    s = cell.strip()
    if s.lower() in MISSING:
        return math.nan
    try:
        v = float(s)
    except ValueError:
        hint = " (write decimals with a point: 1.5, not 1,5)" if _is_float(
            s.replace(",", ".")) else ""
        raise ValueError(f"cannot read {s!r} as a number{hint}") from None
    if math.isinf(v):
        raise ValueError(f"{s!r} is not a finite number")
    if abs(v) > FLOAT32_MAX:
        raise ValueError(f"{s!r} is beyond the float32 range (±{FLOAT32_MAX:.3g})")
    return v


def _looks_numeric(row):
    for c in row:
        s = c.strip()
        if s.lower() not in MISSING:
            try:
                float(s)  # 'inf' counts as a number here (and is refused later)
            except ValueError:
                return False
    return True


def _guess_delimiter(path, text):
    """Tab for .tsv / .tab files; else the first of ",", ";" (spreadsheets in locales with a
    decimal comma), tab that occurs in the first non-blank line; "," when none does."""
    if path.lower().endswith((".tsv", ".tab")):
        return "\t"
    first = next((line for line in text.splitlines() if line.strip()), "")
    return next((d for d in (",", ";", "\t") if d in first), ",")


def read_rows(path, delimiter=None, header="auto", who="load_csv"):
    """The non-blank rows of a CSV file: ``(names, rows)``.

    ``delimiter=None`` guesses it: tab for .tsv / .tab files, else ",", ";" or tab, whichever
    the first line holds.

    ``rows`` is a list of ``(line_number, cells)``, numbered from 1 as an editor shows them;
    ``names`` the header's column names, or None without a header. ``header="auto"``: the
    first row is a header when one of its cells is not a number (empty / NA cells count as
    missing numbers). Errors start with ``who`` (nothing when it is None).
    """
    path = os.fspath(path)
    where = f"{who}: " if who else ""
    if os.path.isdir(path):
        raise OSError(f"{where}{path} is a folder, not a CSV file")
    if not os.path.isfile(path):
        raise OSError(f"{where}no such file: {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}{path}: not a UTF-8 text file ({exc.reason}: byte "
                         f"0x{exc.object[exc.start]:02x}); save it as CSV in UTF-8") from None
    if delimiter is None:
        delimiter = _guess_delimiter(path, text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [(i, r) for i, r in enumerate(reader, start=1) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{where}{path} is empty")
    if header == "auto":
        header = not _looks_numeric(rows[0][1])
    names = None
    if header:
        names = [c.strip() for c in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise ValueError(f"{where}{path} has a header but no data rows")
    return names, rows


def load_csv(path, target=-1, header="auto", delimiter=None, task="auto", test_size=0.2,
             seed=0, missing="mean", one_hot=False, max_classes=20):
    """Load a CSV file of numeric features and one target column.

    - ``target``: the target column, by name (with a header) or index (default: the last).
    - ``header``: True, False or "auto" (a first row that is not all numbers is a header).
    - ``delimiter``: default: guessed from the first line ("," ";" or tab; tab for ``.tsv``
      files).
    - ``task``: "auto", "multiclass", "binary" or "regression". Auto: a non-numeric target,
      or an integer one with at most ``max_classes`` distinct values, is a class label
      (binary when there are two); anything else is regression.
    - ``missing``: what to do with empty / NA / ? cells in the features: "mean", "median",
      "zero" (statistics fitted on the training part, kept as ``dataset.fill_values`` for
      new samples), "drop_rows", "drop_columns", or "error". Rows whose target is missing
      are always dropped.

    Class labels are mapped to 0..K-1 in sorted order; the original values are in
    ``dataset.class_names``. A non-numeric feature cell raises ``ValueError`` naming the row
    (1-based line number in the file) and the column.
    """
    path = os.fspath(path)
    names, rows = read_rows(path, delimiter, header)
    width = len(rows[0][1])
    if names is None:
        names = [f"column {j + 1}" for j in range(width)]
    elif len(names) != width:
        raise ValueError(f"load_csv: {path}: the header has {len(names)} columns but line "
                         f"{rows[0][0]} has {width}")
    if width < 2:
        raise ValueError(f"load_csv: {path}: need at least 2 columns (features and a target), "
                         f"found {width}")
    # the target column
    if isinstance(target, str) and not target.lstrip("-").isdigit():
        if target not in names:
            raise ValueError(f"load_csv: {path}: no column named {target!r}; columns: "
                             + ", ".join(names))
        tcol = names.index(target)
    else:
        tcol = int(target)
        if not -width <= tcol < width:
            raise ValueError(f"load_csv: {path}: target column {tcol} out of range for "
                             f"{width} columns")
        tcol %= width
    feat_cols = [j for j in range(width) if j != tcol]
    x = np.empty((len(rows), width - 1), dtype=np.float64)
    t_raw = []
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"load_csv: {path}: line {line} has {len(row)} columns, "
                             f"expected {width}")
        for k, j in enumerate(feat_cols):
            try:
                x[r, k] = parse_cell(row[j])
            except ValueError as exc:
                raise ValueError(f"load_csv: {path}: line {line}, column {names[j]!r}: {exc}"
                                 ) from None
        t_raw.append(row[tcol].strip())
    t_raw = np.array(t_raw, dtype=object)
    keep = np.array([c.lower() not in MISSING for c in t_raw])
    x, t_raw = x[keep], t_raw[keep]
    if len(x) < 2:
        raise ValueError(f"load_csv: {path}: need at least 2 rows with a target value")
    feature_names = [names[j] for j in feat_cols]

    # the target: numbers or labels
    try:
        t_num = np.array([float(c) for c in t_raw])
    except ValueError:
        t_num = None
    if task == "auto":
        if t_num is None:
            task = "multiclass"
        elif np.all(t_num == np.round(t_num)) and len(np.unique(t_num)) <= max_classes:
            task = "multiclass"
        else:
            task = "regression"
        if task == "multiclass" and len(np.unique(t_raw if t_num is None else t_num)) == 2:
            task = "binary"
    if task not in ("multiclass", "binary", "regression"):
        raise ValueError(f"load_csv: task must be auto, multiclass, binary or regression, "
                         f"got {task!r}")
    class_names = None
    if task == "regression":
        if t_num is None:
            bad = next(i for i, c in enumerate(t_raw) if not _is_float(c))
            raise ValueError(f"load_csv: {path}: regression target column "
                             f"{names[tcol]!r} holds text {t_raw[bad]!r}")
        t = t_num.astype(np.float32).reshape(-1, 1)
    else:
        if t_num is not None:
            values, t = np.unique(t_num, return_inverse=True)
            class_names = [_fmt(v) for v in values]
        else:
            values, t = np.unique(t_raw.astype(str), return_inverse=True)
            class_names = list(values)
        t = t.astype(np.int64)
        if len(class_names) < 2:
            raise ValueError(f"load_csv: {path}: the target column {names[tcol]!r} holds one "
                             f"value only ({class_names[0]!r}); a classifier needs at least 2 "
                             f"classes (pick another column with --target)")
        if task == "binary" and len(class_names) > 2:
            raise ValueError(f"load_csv: {path}: task 'binary' but the target has "
                             f"{len(class_names)} classes")

    if missing == "error" and np.isnan(x).any():
        r, c = np.argwhere(np.isnan(x))[0]
        raise ValueError(f"load_csv: {path}: missing value in column "
                         f"{feature_names[c]!r} (data row {r + 1})")
    if missing in ("drop_rows", "drop_columns"):
        if missing == "drop_rows":
            x, t = fill_missing(x, "drop_rows", t=t)
        else:
            keep_cols = ~np.isnan(x).any(axis=0)
            x = x[:, keep_cols]
            feature_names = [n for n, k in zip(feature_names, keep_cols, strict=True) if k]
    elif missing not in ("mean", "median", "zero", "error"):
        raise ValueError(f"load_csv: missing must be mean, median, zero, drop_rows, "
                         f"drop_columns or error, got {missing!r}")
    x = x.astype(np.float32)
    strat = task != "regression"
    try:
        (xa, ta), (xb, tb) = train_test_split(x, t, test_size, seed, stratify=strat)
    except ValueError:
        if not strat:
            raise
        (xa, ta), (xb, tb) = train_test_split(x, t, test_size, seed)
    fill_values = None
    if missing in ("mean", "median", "zero"):
        filler = MissingFiller(missing).fit(xa)
        xa, xb = filler.transform(xa), filler.transform(xb)
        fill_values = filler.values_
    if one_hot and task != "regression":
        ta, tb = _one_hot(ta, len(class_names)), _one_hot(tb, len(class_names))
    return Dataset((xa, ta), (xb, tb), name=os.path.basename(path), task=task,
                   class_names=class_names, feature_names=feature_names,
                   description=f"CSV {path}, target {names[tcol]!r}", fill_values=fill_values)


def _is_float(c):
    try:
        float(c)
        return True
    except ValueError:
        return False


def _fmt(v):
    return str(int(v)) if float(v).is_integer() else repr(float(v))
