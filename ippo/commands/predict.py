"""``ippo predict MODEL INPUT``: predictions for new samples from a .csv or .npy file.

Inputs get the same scaling as the model's training data (stored in the model file), and
missing values (empty / NA cells, NaN) the same filling when its training CSV had them
filled (with ``--dataset csv:PATH``: the training part's column means by default).
A CSV may have a header; when its column names include the model's feature names, those
columns are used (so a file that still has its target column works). Classifiers print the
class and its probability per row; regression models print the predicted value.
"""

import argparse
import csv
import io
import os
import sys

import numpy as np

from ippo.commands import _common as C
from ippo.datasets.tabular import FLOAT32_MAX, parse_cell, read_rows


def add_parser(subparsers):
    """Register ``ippo predict`` and its options with the ``argparse`` subparsers."""
    p = subparsers.add_parser(
        "predict", help="predict classes / values for samples in a .csv or .npy file",
        description="Predict with a model saved by 'ippo train'.")
    p.add_argument("model", metavar="MODEL", help="model.npz, or a run folder holding one")
    p.add_argument("input", metavar="INPUT", help="samples: .csv (one per row; .tsv "
                   "tab-separated) or .npy (N, features) or images (N, H, W)")
    p.add_argument("-o", "--output", metavar="FILE.csv", help="write the predictions here "
                   "instead of printing them ('-': print); an existing file is replaced only "
                   "if it holds earlier predictions")
    p.add_argument("--probs", action="store_true",
                   help="also give every class's probability")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="a CSV's first line is a header (--header) or a sample (--no-header) "
                        "(default: detected, with the model's column names)")
    p.set_defaults(func=run, command="predict")


def read_inputs(path, extra, width, header=None):
    """Samples from a .npy or .csv file as a float32 (N, D) array (``header``: whether a
    CSV's first line is a header; None: detected)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise OSError(f"{path} is a folder; give a .csv or .npy file of samples")
    if not os.path.isfile(path):
        raise OSError(f"no such input file: {path}")
    low = path.lower()
    if low.endswith(".npy"):
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic != b"\x93NUMPY":  # np.load would try it as a pickle and say so
            raise ValueError(f"{path}: not a .npy file (save arrays with numpy.save)")
        try:
            x = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path}: not a numeric .npy array ({exc})") from None
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{path}: expected a numeric array, got dtype {x.dtype}")
        if x.ndim == 0:
            raise ValueError(f"{path}: holds a single number; expected samples (N, "
                             f"{width}) or one sample ({width},)")
        if x.ndim == 1:
            x = x[None] if x.size == width else x[:, None]
        if len(x) == 0:
            raise ValueError(f"{path}: no samples to predict (shape {x.shape})")
        return _finite(_fill_missing(x.reshape(len(x), -1), extra), path)
    if low.endswith((".csv", ".tsv", ".txt")):
        return _read_csv(path, extra, header)
    raise ValueError(f"{path}: unsupported input type; use a .csv or .npy file")


def _read_csv(path, extra, header=None):
    """A CSV's samples as the model's training CSV was read: its columns by name when the
    file has a header (the model's own names; a file whose columns are all others is
    refused), by position otherwise; text columns one-hot encoded with the model's
    categories (unknown ones reported, encoded as none); missing cells filled."""
    from ippo.datasets.tabular import describe_unknown, encode_rows

    columns = extra.get("columns")  # a model with text columns describes every column
    names = [c["name"] for c in columns] if columns else (extra.get("feature_names") or None)
    header, rows = read_rows(path, header="auto" if header is None else header, who=None,
                             expected=names)
    cols = None
    if header and names:
        present = [n for n in names if n in header]
        if len(present) == len(names):
            cols = [header.index(n) for n in names]
        elif present:
            lacking = [n for n in names if n not in header]
            raise ValueError(f"{path}: no column {', '.join(map(repr, lacking))}; the model "
                             f"needs the columns {', '.join(map(repr, names))}")
        else:
            raise ValueError(
                f"{path}: none of its columns ({_listed(header)}) is one of the model's "
                f"({_listed(names)}); name them as in training, or remove the header line "
                f"to give the columns by position")
    width = len(cols) if cols else len(rows[0][1])

    def column(j):  # the name of feature j's column, as the file's header spells it
        return header[cols[j] if cols else j] if header else f"column {j + 1}"

    picked = []
    for line, row in rows:
        vals = [row[j] for j in cols] if cols else row
        if len(vals) != width:
            raise ValueError(f"{path}: line {line} has {len(vals)} columns, expected {width}")
        picked.append((line, vals))
    if columns:
        if width != len(columns):
            raise ValueError(f"{path} has {width} columns but the model's training CSV had "
                             f"{len(columns)} feature columns ({_listed(names)})")
        x, unknown = encode_rows(columns, picked, f"{path}: ")
        if unknown:
            print(f"ippo predict: warning: {path}: categories the model was not trained on "
                  f"(encoded as none of its categories): {describe_unknown(unknown)}",
                  file=sys.stderr)
        return _finite(_fill_missing(x, extra), path)
    x = np.empty((len(picked), width))
    for r, (line, vals) in enumerate(picked):
        for j, c in enumerate(vals):
            try:
                x[r, j] = parse_cell(c)
            except ValueError as exc:
                raise ValueError(f"{path}: line {line}, {column(j)!r}: {exc}") from None
    x = _fill_missing(x, extra)
    if np.isnan(x).any():
        r, j = np.argwhere(np.isnan(x))[0]
        raise ValueError(f"{path}: line {rows[r][0]}, {column(j)!r}: missing value; fill "
                         f"in missing values first")
    return _finite(x, path)


def _listed(names, limit=6):
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _fill_missing(x, extra):
    """NaN (missing) values replaced as the model's training CSV was filled (its fitted
    ``fill_values``, e.g. training means); unchanged when the model has none."""
    fill = extra.get("fill_values")
    if fill is None or len(fill) != x.shape[1] or x.dtype.kind != "f":
        return x
    return np.where(np.isnan(x), np.asarray(fill, dtype=x.dtype), x)


def _finite(x, path):
    """``x`` (N, D) as float32 when every value is finite and within float32's range, else
    ValueError naming the first bad value (NaN or inf would give NaN predictions)."""
    bad = ~(np.abs(x) <= FLOAT32_MAX)  # NaN, inf, or beyond float32
    if bad.any():
        r, j = np.argwhere(bad)[0]
        v = float(x[r, j])
        why = ("is not a finite number" if not np.isfinite(v) else
               f"is beyond the float32 range (±{FLOAT32_MAX:.3g})")
        raise ValueError(f"{path}: sample {r} (0-based), feature {j}: {v:g} {why}")
    return x.astype(np.float32)


#: The first line of every file ``ippo predict -o`` writes starts with this.
OUTPUT_HEADER = "row,"


def _check_output(output, protected):
    """ValueError when writing the predictions to ``output`` would destroy something: one of
    the ``protected`` files (the input, the model), or an existing file that is not an
    earlier ``ippo predict -o`` output."""
    if not os.path.lexists(output):
        return
    if os.path.isdir(output):
        raise ValueError(f"-o {output} is a folder; give a file name such as "
                         f"{os.path.join(output, 'predictions.csv')}")
    for other in protected:
        if os.path.exists(other) and os.path.samefile(output, other):
            raise ValueError(f"-o {output} is the {'input' if other == protected[0] else 'model'}"
                             f" file itself; give another name, such as predictions.csv")
    if not os.path.isfile(output) or os.path.getsize(output) == 0:
        return  # a device, a pipe (-o /dev/stdout), an empty file: nothing saved to lose
    try:
        with open(output, "rb") as f:
            head = f.read(len(OUTPUT_HEADER))
    except OSError:
        return  # the writer will say what is wrong
    if head != OUTPUT_HEADER.encode():
        raise ValueError(f"-o {output} exists and is not a predictions file written by ippo "
                         f"predict; remove it first or choose another name")


def run(args):
    """Print (or write with -o) one prediction per input row; returns 0."""
    model, extra, model_path = C.load_model(args.model)
    if args.output in ("-", "/dev/stdout"):
        args.output = None  # printed, as without -o
    if args.output:
        _check_output(args.output, [args.input, model_path])
    width = C.input_width(model)
    x = read_inputs(args.input, extra, width, header=args.header)
    x = C.check_width(model, x, args.input)
    warning = C.range_warning(x, extra)
    if warning:
        print(f"ippo predict: warning: {args.input}: {warning}", file=sys.stderr)
    x = C.prepare_inputs(x, extra)
    y = C.outputs(model, x, extra)
    task = getattr(model, "task", extra.get("task"))
    if task == "regression":
        header = ["row"] + ([f"value_{j}" for j in range(y.shape[1])] if y.shape[1] > 1
                            else ["value"])
        rows = [[i] + [f"{v:.6g}" for v in y[i]] for i in range(len(y))]
    else:
        probs = np.hstack([1 - y, y]) if task == "binary" else y
        k = probs.shape[1]
        names = extra.get("class_names") or [str(i) for i in range(k)]
        cls = probs.argmax(axis=1)
        header = ["row", "class", "name", "probability"]
        if args.probs:
            header += [f"p_{n}" for n in names]
        rows = []
        for i in range(len(y)):
            row = [i, int(cls[i]), names[cls[i]], f"{probs[i, cls[i]]:.4f}"]
            if args.probs:
                row += [f"{p:.4f}" for p in probs[i]]
            rows.append(row)
    if args.output:
        text = io.StringIO()
        w = csv.writer(text)
        w.writerow(header)
        w.writerows(rows)
        C.write_text(args.output, text.getvalue())  # atomically, as every file ippo writes
        print(f"wrote {len(rows):,} predictions to {args.output}")
    else:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return 0
