"""``ippo evaluate MODEL``: test a saved model on a data set.

Classifiers: accuracy, per-class precision / recall / F1 and the confusion matrix.
Regression: MSE, RMSE, MAE and R². The data set, its split seed and the input scaling are
read from the model file (``--dataset`` picks another data set with the same features).
"""

import numpy as np

from ippo.commands import _common as C


def add_parser(subparsers):
    """Register ``ippo evaluate`` and its options with the ``argparse`` subparsers."""
    from ippo.datasets import dataset_names

    p = subparsers.add_parser(
        "evaluate", help="test a saved model: accuracy, per-class P/R/F1, confusion matrix",
        description="Evaluate a model saved by 'ippo train' (a model.npz or its run folder).")
    p.add_argument("model", metavar="MODEL", help="model.npz, or a run folder holding one")
    p.add_argument("--dataset", metavar="NAME",
                   help="data set with the model's features: "
                        + ", ".join(dataset_names()) + " (default: the one the model was "
                        "trained on)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the mnist / fashion-mnist "
                   "IDX files, or holding them in NAME/")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="which part of the data set (default: test)")
    p.set_defaults(func=run, command="evaluate")


def _csv_options(extra, same):
    """``load_csv``'s arguments that read a CSV as the model's training CSV was read: the
    target column and the task; its text columns encoded with the model's categories and
    its missing cells filled with the model's values; for the training file itself (``same``)
    its header as found then."""
    kwargs = {}
    if extra.get("target") is not None:
        kwargs["target"] = extra["target"]
    if extra.get("task") in ("multiclass", "binary", "regression"):
        kwargs["task"] = extra["task"]
    if same and extra.get("header") is not None:
        kwargs["header"] = bool(extra["header"])
    if extra.get("columns"):
        kwargs["columns"] = extra["columns"]
    if extra.get("fill_values") is not None:
        kwargs["fill_values"] = extra["fill_values"]
    return kwargs


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    lines = [fmt.format(*header)]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)


def run(args):
    """Evaluate the model on its data set's test (or train) part and print the
    report; returns 0."""
    from ippo import metrics
    from ippo.datasets import load_dataset

    model, extra, path = C.load_model(args.model)
    name = args.dataset or extra.get("dataset")
    if not name:
        raise ValueError(f"{path} does not record its data set: give --dataset NAME")
    kwargs = {}
    if name.startswith("csv:"):  # read as the training CSV was: its columns, task, header
        kwargs = _csv_options(extra, same=name == extra.get("dataset"))
    data_dir = args.data_dir
    if data_dir is None and name == extra.get("dataset"):
        data_dir = extra.get("data_dir")
    data = load_dataset(name, data_dir=data_dir, seed=int(extra.get("seed") or 0), **kwargs)
    x, t = data[0] if args.split == "train" else data[1]
    x = C.check_width(model, np.asarray(x), f"data set {name!r}")
    x = C.prepare_inputs(x, extra)
    task = getattr(model, "task", extra.get("task"))
    print(f"model: {path} ({model!r})".splitlines()[0])
    print(f"data: {name}, {args.split} split, {len(x):,} samples")
    y = C.outputs(model, x, extra)
    if task == "regression":
        t = np.asarray(t, dtype=np.float32).reshape(y.shape)
        print(f"MSE  {metrics.mean_squared_error(y, t):.6g}")
        print(f"RMSE {metrics.root_mean_squared_error(y, t):.6g}")
        print(f"MAE  {metrics.mean_absolute_error(y, t):.6g}")
        print(f"R²   {metrics.r2_score(y, t):.6f}")
        return 0
    t = np.asarray(t)
    if t.ndim == 2:
        t = t.argmax(axis=1)
    k = int(y.shape[1]) if task == "multiclass" else 2
    if t.size and int(t.max()) >= k:
        raise ValueError(f"data set {name!r} has labels up to {int(t.max())} but the model "
                         f"predicts {k} classes")
    names = extra.get("class_names") or [str(i) for i in range(k)]
    if len(names) != k:
        names = [str(i) for i in range(k)]
    acc = metrics.accuracy(y, t)
    print(f"accuracy {acc:.4f} ({int(round(acc * len(t))):,}/{len(t):,})")
    prf = metrics.precision_recall_f1(y, t, n_classes=k)
    rows = [(names[i], f"{prf['precision'][i]:.4f}", f"{prf['recall'][i]:.4f}",
             f"{prf['f1'][i]:.4f}", int(prf["support"][i])) for i in range(k)]
    for avg in ("macro", "weighted"):
        a = metrics.precision_recall_f1(y, t, n_classes=k, average=avg)
        rows.append((f"{avg} avg", f"{a['precision']:.4f}", f"{a['recall']:.4f}",
                     f"{a['f1']:.4f}", a["support"]))
    print()
    print(_table(rows, ("class", "precision", "recall", "f1", "support")))
    cm = metrics.confusion_matrix(y, t, n_classes=k)
    print()
    print("confusion matrix (rows: true class, columns: predicted)")
    short = [n if len(n) <= 8 else n[:7] + "." for n in names]
    print(_table([(short[i], *cm[i].tolist()) for i in range(k)], ("", *short)))
    return 0
