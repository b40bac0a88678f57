"""``load_csv``: a user's own tabular data, one sample per row."""

import csv
import io
import math
import os

import numpy as np

from ippo.datasets.base import Dataset
from ippo.preprocessing import MissingFiller, train_test_split
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


def _is_missing(cell):
    return cell.strip().lower() in MISSING


def _guess_delimiter(path, text):
    """Tab for .tsv / .tab files; else the first of ",", ";" (spreadsheets in locales with a
    decimal comma), tab that occurs in the first non-blank line; "," when none does."""
    if path.lower().endswith((".tsv", ".tab")):
        return "\t"
    first = next((line for line in text.splitlines() if line.strip()), "")
    return next((d for d in (",", ";", "\t") if d in first), ",")


def detect_header(rows, expected=None):
    """Whether the first of ``rows`` (lists of cells) is a header: True, False, or None when
    the file does not say.

    Each column votes by comparing its first cell with the cells below it: in a column of
    numbers, a text first cell is a name (header) and a number is data; in a column of text,
    a first cell that recurs below is data (a category); missing cells and mixed columns do
    not vote. A header needs at least one vote for it and none against, and so does data.
    ``expected``: column names the first row holds when it is a header (a model's feature
    names): a first row that holds one of them is a header, and without votes a row that
    holds none is data. Without votes and without ``expected`` (a file of one row, or of
    text columns whose first values never recur), a first row with a text cell is a header.
    """
    first = [c.strip() for c in rows[0]]
    if expected:
        if any(c in expected for c in first):
            return True
    votes_header = votes_data = 0
    for j, cell in enumerate(first):
        below = [r[j].strip() for r in rows[1:] if j < len(r) and not _is_missing(r[j])]
        if not below or _is_missing(cell):
            continue
        numbers = [_is_float(c) for c in below]
        if all(numbers):
            if _is_float(cell):
                votes_data += 1
            else:
                votes_header += 1
        elif not any(numbers) and not _is_float(cell) and cell in below:
            votes_data += 1
    if votes_header and not votes_data:
        return True
    if votes_data and not votes_header:
        return False
    if votes_header and votes_data:
        return None
    if expected:
        return False
    return not all(_is_float(c) or _is_missing(c) for c in first)


def read_rows(path, delimiter=None, header="auto", who="load_csv", expected=None):
    """The non-blank rows of a CSV file: ``(names, rows)``.

    ``delimiter=None`` guesses it: tab for .tsv / .tab files, else ",", ";" or tab, whichever
    the first line holds.

    ``rows`` is a list of ``(line_number, cells)``, numbered from 1 as an editor shows them;
    ``names`` the header's column names, or None without a header. ``header``: True, False,
    or "auto" (``detect_header``, with the column names ``expected`` if given); when "auto"
    cannot tell, ValueError asks for --header or --no-header. Errors start with ``who``
    (nothing when it is None).
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
    if header not in (True, False, "auto"):
        raise ValueError(f"{where}header must be True, False or 'auto', got {header!r}")
    if header == "auto":
        header = detect_header([r for _, r in rows[:1000]], expected)
        if header is None:
            raise ValueError(
                f"{where}{path}: cannot tell whether line {rows[0][0]} "
                f"({', '.join(c.strip() for c in rows[0][1][:4])}"
                f"{', ...' if len(rows[0][1]) > 4 else ''}) is a header: some of its "
                f"columns look like names, others like data; say which with --header or "
                f"--no-header (header=True / False)")
    names = None
    if header:
        names = [c.strip() for c in rows[0][1]]
        rows = rows[1:]
        if not rows:
            raise ValueError(f"{where}{path} has a header but no data rows")
    return names, rows


# --------------------------------------------------------------------------- feature columns


def column_kind(cells):
    """"number" or "category" for a feature column's cells (missing ones left out): a
    column of text only holds categories; a column with any number is numeric (its text
    cells are then errors, named when parsed), and so is one written with decimal commas,
    whose error says so."""
    values = [c.strip() for c in cells if not _is_missing(c)]
    if any(_is_float(v) or _is_float(v.replace(",", ".")) for v in values):
        return "number"
    return "category" if values else "number"


def fit_columns(names, cells, max_categories=100, kinds=None):
    """The feature columns' description, fitted on training rows: a list of
    ``{"name", "kind": "number"}`` or ``{"name", "kind": "category", "categories": [...]}``
    (the column's texts in the training rows, sorted; missing cells left out).

    ``cells``: one list of cells per row, a cell per column of ``names``; ``kinds``: each
    column's kind when known (from all the rows, ``column_kind``). A text column with
    more than ``max_categories`` different values, or with a different value in every row,
    is not a category column (an identifier, free text) and raises ValueError."""
    columns = []
    for j, name in enumerate(names):
        col = [row[j] for row in cells]
        kind = column_kind(col) if kinds is None else kinds[j]
        if kind == "number":
            columns.append({"name": name, "kind": "number"})
            continue
        values = [c.strip() for c in col if not _is_missing(c)]
        categories = sorted(set(values))
        if len(categories) > max_categories or (len(categories) == len(values) > 10):
            raise ValueError(
                f"column {name!r} holds text with {len(categories):,} different values in "
                f"{len(values):,} rows: too many to be categories (an identifier or free "
                f"text?); remove the column, or keep at most {max_categories} categories")
        columns.append({"name": name, "kind": "category", "categories": categories})
    return columns


def encoded_names(columns):
    """The model's input features of ``columns``: a number column's name, and one
    ``"name=category"`` per category (its one-hot indicator)."""
    out = []
    for c in columns:
        if c["kind"] == "number":
            out.append(c["name"])
        else:
            out.extend(f"{c['name']}={v}" for v in c["categories"])
    return out


def encode_rows(columns, rows, where=""):
    """Feature rows as numbers: ``(x, unknown)``.

    ``rows``: ``(line_number, cells)`` pairs with a cell per column of ``columns``
    (``fit_columns``). Number cells are parsed (``parse_cell``; missing ones become NaN);
    a category becomes its one-hot indicators (all 0 for a missing cell, and for a category
    the training rows did not have). ``x`` is float64 (N, features); ``unknown`` maps a
    column's name to ``{category: first line}`` for the categories it did not know.
    ValueError names the line and the column of a cell that is not a number.
    """
    width = len(encoded_names(columns))
    x = np.zeros((len(rows), width), dtype=np.float64)
    unknown = {}
    for r, (line, cells) in enumerate(rows):
        k = 0
        for c, cell in zip(columns, cells, strict=True):
            if c["kind"] == "number":
                try:
                    x[r, k] = parse_cell(cell)
                except ValueError as exc:
                    raise ValueError(f"{where}line {line}, column {c['name']!r}: "
                                     f"{_with_context(exc, cell)}") from None
                k += 1
                continue
            cats = c["categories"]
            value = cell.strip()
            if not _is_missing(value):
                index = _category_index(c, value)
                if index is None:
                    unknown.setdefault(c["name"], {}).setdefault(value, line)
                else:
                    x[r, k + index] = 1.0
            k += len(cats)
    return x, unknown


def _category_index(column, value):
    lookup = column.get("_index")
    if lookup is None:
        lookup = column["_index"] = {v: i for i, v in enumerate(column["categories"])}
    return lookup.get(value)


def _with_context(exc, cell):
    """parse_cell's message, plus why a text cell in a column of numbers is an error."""
    msg = str(exc)
    s = cell.strip()
    if msg.startswith("cannot read") and not _is_float(s.replace(",", ".")):
        msg += (" (the column holds numbers; a column of text only is read as categories "
                "and one-hot encoded)")
    return msg


def describe_unknown(unknown, limit=3):
    """One phrase for ``encode_rows``'s unknown categories: "column 'city': 'Kyoto' (line
    4), 'Nara' (line 9)", at most ``limit`` values per column."""
    parts = []
    for name, values in unknown.items():
        shown = [f"{v!r} (line {line})" for v, line in list(values.items())[:limit]]
        more = len(values) - limit
        parts.append(f"column {name!r}: {', '.join(shown)}"
                     + (f" and {more} more" if more > 0 else ""))
    return "; ".join(parts)


# --------------------------------------------------------------------------- the target


def guess_task(t_raw, max_classes=20):
    """``(task, reason)`` for a target column's cells (missing ones left out).

    Text labels are classes (binary for two). Numbers are class labels only when they look
    like class codes: whole numbers, at most ``max_classes`` different values, most of them
    repeated (each appears in two rows or more on average), and small steps apart (the
    values span at most twice their count, as 0..K−1, 1..K or −1/1 do); two different whole
    numbers are binary. Anything else (decimals, many values, prices) is regression.
    """
    try:
        t_num = np.array([float(c) for c in t_raw])
    except ValueError:
        k = len(set(t_raw))
        return ("binary" if k == 2 else "multiclass"), f"text labels, {k} classes"
    values = np.unique(t_num)
    k = len(values)
    if not np.all(values == np.round(values)):
        return "regression", "the target has decimals"
    lo, hi = _fmt(values[0]), _fmt(values[-1])
    if k == 2:
        return "binary", f"two values, {lo} and {hi}"
    if k > max_classes:
        return "regression", f"{k:,} different whole numbers"
    if 2 * k > len(t_num):
        return "regression", f"{k} different whole numbers in {len(t_num)} rows"
    if values[-1] - values[0] + 1 > 2 * k:
        return "regression", f"{k} whole numbers from {lo} to {hi}: amounts, not class codes"
    return "multiclass", f"{k} whole numbers from {lo} to {hi}, read as class codes"


def load_csv(path, target=-1, header="auto", delimiter=None, task="auto", test_size=0.2,
             seed=0, missing="mean", one_hot=False, max_classes=20, max_categories=100,
             columns=None, fill_values=None):
    """Load a CSV file of feature columns and one target column.

    - ``target``: the target column, by name (with a header) or index (default: the last).
    - ``header``: True, False or "auto" (``detect_header``: the first row is a header when
      its columns read as names over the data below them; a file where it cannot tell is
      an error that asks for one of the two).
    - ``delimiter``: default: guessed from the first line ("," ";" or tab; tab for ``.tsv``
      files).
    - ``task``: "auto", "multiclass", "binary" or "regression". Auto (``guess_task``): text
      labels are classes; numbers are class labels only when they look like class codes
      (whole numbers, at most ``max_classes`` values, repeated, close together), else
      regression. ``dataset.task_reason`` says why.
    - Feature columns of numbers are used as they are; a column of text only holds
      categories, one-hot encoded (one 0/1 feature per category seen in the training part,
      sorted; all 0 for a missing cell or a category the training part did not have,
      reported in ``dataset.unknown_categories`` for the test part). ``dataset.columns``
      describes the columns (``fit_columns``) so that new rows are encoded the same way
      (``encode_rows``); ``feature_names`` has one name per encoded feature ("city=Osaka").
    - ``missing``: what to do with empty / NA / ? cells in the features: "mean", "median",
      "zero" (statistics fitted on the training part, kept as ``dataset.fill_values`` for
      new samples), "drop_rows", "drop_columns", or "error". Rows whose target is missing
      are always dropped.

    - ``columns`` / ``fill_values``: a model's column description and fill values, to read
      this file as that model's training file was read (``ippo evaluate --dataset
      csv:OTHER``): the feature columns must be those of ``columns``, a category is encoded
      with the model's categories, and missing cells get ``fill_values``; nothing is fitted.

    Class labels are mapped to 0..K-1 in sorted order; the original values are in
    ``dataset.class_names``. A text cell in a column of numbers raises ``ValueError`` naming
    the row (1-based line number in the file) and the column. ``dataset.header`` says
    whether the file had a header line.
    """
    path = os.fspath(path)
    names, rows = read_rows(path, delimiter, header,
                            expected=None if columns is None else [c["name"] for c in columns])
    had_header = names is not None
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
    for line, row in rows:
        if len(row) != width:
            raise ValueError(f"load_csv: {path}: line {line} has {len(row)} columns, "
                             f"expected {width}")
    feat_cols = [j for j in range(width) if j != tcol]
    rows = [(line, row) for line, row in rows if not _is_missing(row[tcol])]
    if len(rows) < 2:
        raise ValueError(f"load_csv: {path}: need at least 2 rows with a target value")
    feature_names = [names[j] for j in feat_cols]
    cells = [[row[j] for j in feat_cols] for _, row in rows]
    t_raw = np.array([row[tcol].strip() for _, row in rows], dtype=object)

    # the target: numbers or labels
    task_reason = "given"
    if task == "auto":
        task, task_reason = guess_task(list(t_raw), max_classes)
    if task not in ("multiclass", "binary", "regression"):
        raise ValueError(f"load_csv: task must be auto, multiclass, binary or regression, "
                         f"got {task!r}")
    class_names = None
    if task == "regression":
        bad = next((c for c in t_raw if not _is_float(c)), None)
        if bad is not None:
            raise ValueError(f"load_csv: {path}: regression target column "
                             f"{names[tcol]!r} holds text {bad!r}")
        t = np.array([float(c) for c in t_raw]).astype(np.float32).reshape(-1, 1)
    else:
        if all(_is_float(c) for c in t_raw):
            values, t = np.unique(np.array([float(c) for c in t_raw]), return_inverse=True)
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

    # missing feature cells: dropped before anything is fitted, when asked
    if missing not in ("mean", "median", "zero", "error", "drop_rows", "drop_columns"):
        raise ValueError(f"load_csv: missing must be mean, median, zero, drop_rows, "
                         f"drop_columns or error, got {missing!r}")
    lines = [line for line, _ in rows]
    absent = np.array([[_is_missing(c) for c in r] for r in cells], dtype=bool).reshape(
        len(cells), len(feat_cols))
    if missing == "error" and absent.any():
        r, c = np.argwhere(absent)[0]
        raise ValueError(f"load_csv: {path}: missing value in column "
                         f"{feature_names[c]!r} (line {lines[r]})")
    if missing == "drop_rows":
        keep = ~absent.any(axis=1)
        cells = [r for r, k in zip(cells, keep, strict=True) if k]
        lines = [n for n, k in zip(lines, keep, strict=True) if k]
        t = t[keep]
    elif missing == "drop_columns":
        keep = ~absent.any(axis=0)
        cells = [[c for c, k in zip(r, keep, strict=True) if k] for r in cells]
        feature_names = [n for n, k in zip(feature_names, keep, strict=True) if k]
    if len(t) < 2:
        raise ValueError(f"load_csv: {path}: fewer than 2 rows left after dropping the rows "
                         f"with missing values")

    # every cell read once in file order (the first bad one is named), then the split, so
    # that categories and fill values are fitted on the training part
    where = f"load_csv: {path}: "
    if columns is not None:
        wanted = [c["name"] for c in columns]
        if feature_names != wanted:
            raise ValueError(f"{where}the feature columns are {', '.join(feature_names)}; "
                             f"the model's are {', '.join(wanted)}")
        every = [dict(c) for c in columns]
    else:
        try:
            every = fit_columns(feature_names, cells, max_categories)
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from None
    encode_rows(every, list(zip(lines, cells, strict=True)), where)
    strat = task != "regression"
    index = np.arange(len(t))
    try:
        (ia, ta), (ib, tb) = train_test_split(index, t, test_size, seed, stratify=strat)
    except ValueError:
        if not strat:
            raise
        (ia, ta), (ib, tb) = train_test_split(index, t, test_size, seed)
    if columns is None:
        try:
            columns = fit_columns(feature_names, [cells[i] for i in ia], max_categories,
                                  kinds=[c["kind"] for c in every])
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from None
    else:
        columns = every
    xa, _ = encode_rows(columns, [(lines[i], cells[i]) for i in ia], where)
    xb, unknown = encode_rows(columns, [(lines[i], cells[i]) for i in ib], where)
    xa, xb = xa.astype(np.float32), xb.astype(np.float32)
    if fill_values is not None:
        filler = MissingFiller("mean")
        filler.values_ = np.asarray(fill_values, dtype=np.float32)
        if filler.values_.shape != (xa.shape[1],):
            raise ValueError(f"{where}fill_values has {filler.values_.size} values for "
                             f"{xa.shape[1]} features")
        xa, xb = filler.transform(xa), filler.transform(xb)
    elif missing in ("mean", "median", "zero"):
        filler = MissingFiller(missing).fit(xa)
        xa, xb = filler.transform(xa), filler.transform(xb)
        fill_values = filler.values_
    if one_hot and task != "regression":
        ta, tb = _one_hot(ta, len(class_names)), _one_hot(tb, len(class_names))
    data = Dataset((xa, ta), (xb, tb), name=os.path.basename(path), task=task,
                   class_names=class_names, feature_names=encoded_names(columns),
                   description=f"CSV {path}, target {names[tcol]!r}", fill_values=fill_values)
    data.task_reason = task_reason
    data.header = had_header
    data.columns = [{k: v for k, v in c.items() if not k.startswith("_")} for c in columns]
    data.unknown_categories = unknown
    return data


def _is_float(c):
    try:
        float(c)
        return True
    except ValueError:
        return False


def _fmt(v):
    return str(int(v)) if float(v).is_integer() else repr(float(v))
