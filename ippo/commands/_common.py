"""Helpers shared by ``ippo train``, ``ippo evaluate`` and ``ippo predict``.

The training options live in one table, :data:`OPTIONS`, used three ways: to build the
``argparse`` flags, to read and check a ``--config FILE.toml``, and to write the
``config.toml`` of a run (which ``--config`` reads back). Precedence, lowest first:
built-in defaults < the data set's defaults < the config file < command-line flags.
"""

import json
import math
import os
import sys

import numpy as np

from ippo import optimizers, tasks


def parse_hidden(value):
    """'100,100' / [100, 100] -> [100, 100]; 'none' / [] -> [] (no hidden layer).

    '0' and '' are refused: "a layer of 0 units" and an empty value (an unset shell
    variable) are more likely mistakes than a request for a linear model."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        s = str(value).strip().lower()
        if s in ("", "0"):
            raise ValueError(f"--hidden {value!r}: a layer needs at least one unit; for a "
                             f"network without hidden layers write --hidden none")
        items = [] if s in ("none", "[]") else [p for p in s.replace(" ", "").split(",")]
    out = []
    for it in items:
        try:
            n = int(it)
        except (TypeError, ValueError):
            raise ValueError(f"--hidden: {it!r} is not a layer size; use e.g. --hidden 100,100"
                             ) from None
        if isinstance(it, float) or n < 1:
            raise ValueError(f"--hidden: layer sizes must be positive integers, got {it!r}")
        out.append(n)
    return out


def parse_batch_size(value):
    """'full' -> None (batch gradient descent), 'online' -> 1, else a positive int."""
    if value is None:
        return None
    s = str(value).strip().lower()
    if s in ("full", "batch", "all"):
        return None
    if s == "online":
        return 1
    try:
        n = int(s)
    except ValueError:
        raise ValueError(f"--batch-size: expected a positive integer, 'full' (batch gradient "
                         f"descent) or 1 (online), got {value!r}") from None
    if n < 1:
        raise ValueError(f"--batch-size: must be >= 1, got {n}")
    return n


def _float_in(name, lo, hi, lo_open=False, hi_open=False):
    def check(v):
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"--{name}: expected a number, got {v!r}") from None
        if isinstance(v, bool) or math.isnan(x) or x < lo or x > hi or (lo_open and x == lo) \
                or (hi_open and x == hi):
            left, right = "(" if lo_open else "[", ")" if hi_open else "]"
            raise ValueError(f"--{name}: must be in {left}{lo}, {hi}{right}, got {v!r}")
        return x
    return check


def _int_min(name, lo):
    def check(v):
        try:
            if isinstance(v, (bool, float)):
                raise ValueError
            x = int(v)
        except (TypeError, ValueError):
            raise ValueError(f"--{name}: expected an integer, got {v!r}") from None
        if x < lo:
            raise ValueError(f"--{name}: must be >= {lo}, got {x}")
        return x
    return check


def _choice(name, choices):
    def check(v):
        s = str(v).strip().lower()
        if s not in choices:
            raise ValueError(f"--{name}: {v!r} is not one of {', '.join(choices)}")
        return s
    return check


def _init(v):
    """--init: auto, he, xavier (any case) or a positive weight std such as 0.01."""
    s = str(v).strip().lower()
    if s in ("auto", "he", "xavier"):
        return s
    try:
        std = float(s)
    except ValueError:
        raise ValueError(f"--init: expected auto, he, xavier or a number, got {v!r}") from None
    if isinstance(v, bool) or not 0.0 < std < math.inf:
        raise ValueError(f"--init: a weight std must be a positive number, got {v!r}")
    return std


def _str(v):
    return None if v is None else str(v)


def _header(v):
    """--header / --no-header: True or False (None: detect it)."""
    if v is None or isinstance(v, bool):
        return v
    return _bool(v)


def cpu_count():
    """The CPU cores this process may use (its affinity where the platform says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def usable_threads(n, say):
    """``n`` BLAS threads, capped at the cores this process may use; ``say`` gets a note
    when it is capped (more threads than cores only wait for each other)."""
    cores = cpu_count()
    if n > cores:
        say(f"note: --threads {n} is more than the {cores} CPU cores this process may use; "
            f"using {cores}")
        return cores
    return n


def _lr_defaults():
    """"adam 0.001, sgd 0.01, ...": each optimizer's default learning rate, read from its
    constructor (so the help cannot drift from the code)."""
    import inspect

    from ippo import optimizers

    return ", ".join(
        f"{name} {inspect.signature(optimizers.OPTIMIZERS[name]).parameters['lr'].default:g}"
        for name in OPTIMIZERS)


def _augment_help():
    from ippo import augment

    return ("augment training batches, NAME[:VALUE] joined by commas: "
            + augment.spec_help() + "; all but noise need image data, and flip only data "
            "whose classes survive a mirror (not digits)")


def _bool(v):
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {v!r}")


#: The hidden activations ``ippo train`` offers (the identity would make the network linear).
ACTIVATIONS = tuple(a.name for a in tasks.ACTIVATIONS.values() if a.hidden)
#: The optimizers ``ippo train`` offers: ``ippo.optimizers.OPTIMIZERS``, the default first.
OPTIMIZERS = ("adam",) + tuple(n for n in optimizers.OPTIMIZERS if n != "adam")
#: ``--task``: "auto" or one of ``ippo.tasks.TASKS``.
TASK_CHOICES = ("auto",) + tuple(tasks.TASKS)

#: The largest --val-split: a validation part larger than the training part is a mistake
#: (0.999 left one training sample and silently made the batch size 1).
MAX_VAL_SPLIT = 0.5

#: key -> (checker, built-in default, help). ``None`` default: decided at run time.
OPTIONS = {
    "dataset": (_str, "digits", "data set: digits, iris, breast_cancer, diabetes, spiral, "
                "linear_toy, mnist, fashion-mnist or csv:PATH (default: digits)"),
    "data_dir": (_str, None, "folder holding the IDX files of mnist / fashion-mnist, or "
                 "holding them in NAME/ (default: $IPPO_DATA_DIR/NAME, ../shared/data/NAME, "
                 "the user cache, downloading when absent)"),
    "target": (_str, None, "csv:PATH only: target column, by name or index (default: last)"),
    "task": (_choice("task", TASK_CHOICES), "auto", "csv:PATH only: "
             + ", ".join(TASK_CHOICES) + " (default: auto: text labels and whole-number class "
             "codes are classes, decimals and amounts regression; the data: line says which "
             "and why)"),
    "header": (_header, None, "csv:PATH only: the first line is a header (--header) or "
               "data (--no-header) (default: detected)"),
    "hidden": (parse_hidden, None, "hidden layer sizes, e.g. 100,100 ('none' for no hidden "
               "layer; default depends on the data set)"),
    "activation": (_choice("activation", ACTIVATIONS), "relu", "hidden activation: "
                   + ", ".join(ACTIVATIONS) + " (default: relu)"),
    "init": (_init, "auto", "weight init: auto, he, xavier or a std like 0.01 (default: auto)"),
    "optimizer": (_choice("optimizer", OPTIMIZERS), "adam", "optimizer: "
                  + ", ".join(OPTIMIZERS) + " (default: adam)"),
    "lr": (_float_in("lr", 0.0, 1e6, lo_open=True), None,
           "learning rate (default: the data set's for adam, if it has one, else the "
           "optimizer's: " + _lr_defaults() + ")"),
    "epochs": (_int_min("epochs", 1), None, "passes over the training data (default "
               "depends on the data set)"),
    "batch_size": (parse_batch_size, None, "mini-batch size; 1 = online SGD, 'full' = batch "
                   "gradient descent (default depends on the data set)"),
    "dropout": (_float_in("dropout", 0.0, 1.0, hi_open=True), 0.0,
                "dropout ratio after each hidden layer, in [0, 1) (default: 0)"),
    "batchnorm": (_bool, False, "batch normalization after each hidden Affine"),
    "weight_decay": (_float_in("weight-decay", 0.0, 1e6), 0.0, "L2 weight decay λ "
                     "(default: 0)"),
    "augment": (_str, None, _augment_help()),
    "seed": (_int_min("seed", 0), 0, "random seed for weights, split, shuffling (default: 0)"),
    "early_stopping": (_int_min("early-stopping", 1), None, "stop when the validation loss "
                       "has not improved for N epochs, keeping the best weights"),
    "val_split": (_float_in("val-split", 0.0, MAX_VAL_SPLIT), 0.1,
                  f"fraction of the training data held out for validation, reported beside "
                  f"the training figures every epoch, in [0, {MAX_VAL_SPLIT:g}] (default: "
                  f"0.1; 0: none)"),
    "out": (_str, None, "output folder (default: runs/<timestamp>; an existing run is "
            "never replaced without --overwrite)"),
    "threads": (_int_min("threads", 1), 1, "BLAS threads (default: 1, the fastest for "
                "MLP-sized matrices on a small, busy machine; see the README; at most the "
                "CPU cores)"),
}

def read_config(path):
    """The options in a TOML file, checked: unknown keys and bad values are errors."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise OSError(f"--config: no such file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"--config {path}: not valid TOML: {exc}") from None
    if isinstance(raw.get("train"), dict):  # a [train] table is accepted as well
        raw = {**{k: v for k, v in raw.items() if k != "train"}, **raw["train"]}
    out = {}
    for key, value in raw.items():
        k = key.replace("-", "_")
        if k not in OPTIONS:
            raise ValueError(f"--config {path}: unknown key {key!r}; known keys: "
                             + ", ".join(sorted(OPTIONS)))
        try:
            out[k] = OPTIONS[k][0](value)
        except ValueError as exc:
            raise ValueError(f"--config {path}: {key} = {value!r}: {exc}") from None
    return out


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_config(path, config, header=""):
    """Write the resolved options as TOML (None values are left out: they mean 'default')."""
    lines = [f"# {line}" for line in header.splitlines()]
    for k in OPTIONS:
        v = config.get(k)
        if k == "batch_size" and v is None and "batch_size" in config:
            v = "full"
        if v is not None:
            lines.append(f"{k} = {_toml_value(v)}")
    write_text(path, "\n".join(lines) + "\n")


def write_json(path, obj):
    """Write JSON atomically (temp file + rename)."""
    write_text(path, json.dumps(obj, indent=1, allow_nan=False, default=_json_default) + "\n")


def write_text(path, text):
    """Write a UTF-8 text file atomically (``ippo.io.write_atomically``), so that a run
    stopped mid-write (``--resume`` reads config.toml back) never leaves half a file."""
    from ippo.io import write_atomically

    data = text.encode("utf-8")
    write_atomically(path, lambda f: f.write(data))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON-able: {type(o).__name__}")


def load_model(path):
    """``ippo.models.load`` with the CLI's error messages."""
    from ippo import models

    path = os.fspath(path)
    if os.path.isdir(path):
        cand = os.path.join(path, "model.npz")
        if not os.path.isfile(cand):
            raise OSError(f"{path} is a folder without a model.npz")
        path = cand
    if not os.path.isfile(path):
        raise OSError(f"no such model file: {path}")
    model = models.load(path)
    extra = getattr(model, "extra", None) or {}
    return model, extra, path


def input_width(model):
    """The number of input features the model expects."""
    sizes = getattr(model, "sizes", None)
    if sizes:
        return int(sizes[0])
    w = model.params[0]
    return int(w.shape[0])


def check_width(model, x, source):
    """``x`` as (N, features) when each sample has the model's input width (images are
    flattened); else ValueError naming ``source`` and both widths."""
    want = input_width(model)
    got = int(np.prod(x.shape[1:])) if x.ndim > 1 else 1
    if got != want:
        raise ValueError(f"{source} has {got} features per sample but the model expects "
                         f"{want}")
    return x.reshape(len(x), want)


def prepare_inputs(x, extra):
    """Apply the input scaling stored with a model (fitted on its training data)."""
    from ippo.preprocessing import scaler_from_dict

    scaler = scaler_from_dict(extra.get("scaler"))
    x = np.asarray(x, dtype=np.float32)
    return x if scaler is None else scaler.transform(x)


def outputs(model, x, extra):
    """Predictions in the data's own units: probabilities (classifiers) or values."""
    from ippo.preprocessing import scaler_from_dict

    y = model.predict(x)
    tscaler = scaler_from_dict(extra.get("target_scaler"))
    if tscaler is not None:
        y = tscaler.inverse_transform(y)
    return y


def range_warning(x, extra, limit=3):
    """A one-line warning when samples ``x`` (N, features, before scaling) lie far outside
    the range of the model's training data (``extra["input_range"]``), else None.

    A value is far outside when it is beyond the training minimum or maximum by more than
    the feature's training range (or the median range, for a feature that was constant):
    images given as 0-255 to a model trained on [0, 1], a feature in other units."""
    rng = extra.get("input_range")
    if not rng or len(rng.get("min", ())) != x.shape[1]:
        return None
    lo, hi = np.asarray(rng["min"], np.float64), np.asarray(rng["max"], np.float64)
    span = hi - lo
    typical = float(np.median(span[span > 0])) if (span > 0).any() else 1.0
    margin = np.where(span > 0, span, typical)
    far = (x < lo - margin) | (x > hi + margin)
    rows = far.any(axis=1)
    if not rows.any():
        return None
    r = int(np.argmax(rows))
    j = int(np.argmax(far[r]))
    names = extra.get("feature_names") or []
    name = repr(names[j]) if j < len(names) else f"feature {j}"
    return (f"{int(rows.sum()):,} of {len(x):,} samples have features far outside the "
            f"training data's range (sample {r} (0-based), {name}: {x[r, j]:g}, where "
            f"training had {lo[j]:g} to {hi[j]:g}); were they scaled as the training data "
            f"was (e.g. images in [0, 1], not 0-255)?")
