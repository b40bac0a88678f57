"""``ippo train``: train an MLP on a data set and save everything about the run.

With no arguments it trains on the built-in 8x8 digits in a few seconds. A run writes
into ``runs/<timestamp>/`` (or ``--out``): ``model.npz`` (weights + architecture + the
input scaling, so ``ippo evaluate`` / ``ippo predict`` can use it alone),
``history.json``, ``curves.png``, ``config.toml`` (the resolved options: pass it back with
``--config`` to repeat the run) and ``command.txt`` (the exact command line).
"""

import argparse
import os
import shlex
import sys
import time

from ippo.commands import _common as C


def add_parser(subparsers):
    """Register ``ippo train`` and its options (built from ``_common.OPTIONS``)."""
    p = subparsers.add_parser(
        "train", help="train an MLP on a data set (default: the built-in digits)",
        description="Train a multi-layer perceptron and write model.npz, history.json, "
                    "curves.png and config.toml into runs/<timestamp>/ (or --out). "
                    "Options can also come from --config FILE.toml (same names, with "
                    "underscores); flags given on the command line win.")
    metavars = {"dataset": "NAME", "data_dir": "DIR", "target": "COLUMN", "hidden": "SIZES",
                "activation": "NAME", "init": "INIT", "optimizer": "NAME", "lr": "LR",
                "epochs": "N", "batch_size": "N", "dropout": "RATIO", "weight_decay": "L2",
                "augment": "SPEC", "seed": "N", "early_stopping": "N", "val_split": "FRAC",
                "out": "DIR", "threads": "N"}
    for key, (_, _, help_text) in C.OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        if key == "batchnorm":
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=help_text)
        else:
            p.add_argument(flag, default=None, metavar=metavars.get(key, "X"), help=help_text)
    p.add_argument("--config", metavar="FILE.toml", help="read options from a TOML file")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run from its last checkpoint (its "
                        "config.toml is the base; e.g. --epochs can be raised)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-epoch progress")
    p.set_defaults(func=run, command="train")


def checkpoint_every(epochs):
    """Epochs between checkpoints: every epoch for runs of up to 25 epochs, else about 25
    checkpoints in all (300 short epochs of iris spent 70 % of their time saving; the last
    epoch and an early stop are always saved)."""
    return max(1, epochs // 25)


def resolve_options(args):
    """The final options: defaults < data set defaults < config file < flags."""
    from ippo.datasets import get_spec

    given = {}
    for key, (check, _, _) in C.OPTIONS.items():
        v = getattr(args, key, None)
        if v is not None:
            given[key] = check(v)
    base = {}
    if getattr(args, "resume", None):
        cfg = os.path.join(args.resume, "config.toml")
        if not os.path.isfile(cfg):
            raise OSError(f"--resume: {args.resume} holds no config.toml (not a run folder)")
        base.update(C.read_config(cfg))
        base["out"] = args.resume
        from_file = C.read_config(args.config) if getattr(args, "config", None) else {}
        _check_resume_changes(args.resume, base, {**from_file, **given})
        base.update(from_file)
    elif getattr(args, "config", None):
        base.update(C.read_config(args.config))
    dataset = given.get("dataset", base.get("dataset", C.OPTIONS["dataset"][1]))
    spec = get_spec(dataset)
    opts = {k: d for k, (_, d, _) in C.OPTIONS.items()}
    own_optimizer = "optimizer" in base or "optimizer" in given
    opts.update({k: v for k, v in spec.defaults.items()
                 if not (k == "lr" and own_optimizer)})
    batch_size_set = "batch_size" in base or "batch_size" in given
    opts.update(base)
    opts.update(given)
    opts["dataset"] = _canonical_dataset(spec.name)  # "MNIST" -> "mnist" in config and model
    if opts.get("data_dir"):
        opts["data_dir"] = os.path.abspath(opts["data_dir"])
    if batch_size_set:
        opts["_batch_size_given"] = True
    return opts, spec


#: Options a resumed run may change: the rest would make it another run (other data, model,
#: optimizer or batches), which the checkpoint cannot continue.
RESUME_CHANGEABLE = ("epochs", "threads", "data_dir")


def _check_resume_changes(run_dir, run_config, changes):
    """ValueError when ``changes`` (from flags or --config) alter an option of the run in
    ``run_dir`` other than those in ``RESUME_CHANGEABLE``."""
    from ippo.datasets import get_spec

    for key, value in changes.items():
        old = run_config.get(key)
        if key in RESUME_CHANGEABLE or value == old:
            continue
        if key == "dataset" and old is not None and \
                _canonical_dataset(get_spec(value).name) == _canonical_dataset(old):
            continue  # "Iris" is "iris", csv:data.csv is csv:/home/me/data.csv
        flag = "--" + key.replace("_", "-")
        if key == "out":
            raise ValueError(f"--resume: a resumed run stays in its folder {run_dir}; "
                             f"leave out --out")
        raise ValueError(f"--resume: {flag} cannot change when resuming (the run in {run_dir} "
                         f"used {_shown(old)}, got {_shown(value)}); only "
                         + ", ".join("--" + k.replace("_", "-") for k in RESUME_CHANGEABLE)
                         + " can, or start a new run")


def _canonical_dataset(name):
    """A data set's name as config.toml records it: a csv:PATH with an absolute path, so
    that --config and --resume find the file from any folder."""
    return f"csv:{os.path.abspath(name[4:])}" if name.startswith("csv:") and name[4:] else name


def _shown(value):
    return "the default" if value is None else repr(value)


def _out_dir(out):
    if out:
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"--out: {out} exists and is not a folder")
        os.makedirs(out, exist_ok=True)
        return out
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join("runs", stamp)
    path, k = base, 1
    while os.path.exists(path):
        k += 1
        path = f"{base}-{k}"
    os.makedirs(path)
    return path


def _make_optimizer(name, lr):
    from ippo import optimizers

    kwargs = {} if lr is None else {"lr": lr}
    return optimizers.get(name, **kwargs)


def run(args):
    """Train with the resolved options and write the run folder; returns 0."""
    from ippo import blas

    opts, spec = resolve_options(args)
    if spec.text:
        raise ValueError(f"{spec.name} holds texts, not feature vectors: ippo news trains "
                         f"on them")
    with blas.threads(opts["threads"]):
        return _run(args, opts, spec)


def _run(args, opts, spec):
    from ippo import augment as augment_mod
    from ippo import metrics
    from ippo.datasets import load_dataset
    from ippo.models import MLP
    from ippo.preprocessing import MinMaxScaler, Standardizer, train_test_split
    from ippo.training import Trainer

    say = (lambda *a: None) if args.quiet else print
    seed = opts["seed"]

    # ------------------------------------------------------------------ data
    kwargs = {}
    if opts["dataset"].startswith("csv:") and opts.get("target") is not None:
        kwargs["target"] = opts["target"]
    elif opts.get("target") is not None:
        raise ValueError("--target is only for csv:PATH data sets")
    t0 = time.perf_counter()
    data = load_dataset(opts["dataset"], data_dir=opts.get("data_dir"), seed=seed, **kwargs)
    (x_train, t_train), (x_test, t_test) = data
    load_s = time.perf_counter() - t0
    task = data.task
    x_train = x_train.reshape(len(x_train), -1)
    x_test = x_test.reshape(len(x_test), -1)
    n_features = x_train.shape[1]

    val_split = opts["val_split"]
    if val_split is None:
        val_split = 0.1 if opts["early_stopping"] else 0.0
    x_val = t_val = None
    if val_split > 0:
        n_val = int(round(len(x_train) * val_split))
        if not 0 < n_val < len(x_train):
            raise ValueError(f"--val-split {val_split:g} holds out {n_val:,} of the "
                             f"{len(x_train):,} training samples; both parts need at least one")
        (x_train, t_train), (x_val, t_val) = train_test_split(
            x_train, t_train, test_size=val_split, seed=seed,
            stratify=task != "regression")
    elif opts["early_stopping"]:
        raise ValueError("--early-stopping needs validation data: give --val-split > 0")

    scaler = None
    if spec.scaling == "standardize":
        scaler = Standardizer().fit(x_train)
    elif spec.scaling == "min_max":
        scaler = MinMaxScaler().fit(x_train)
    if scaler is not None:
        x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
        if x_val is not None:
            x_val = scaler.transform(x_val)
    t_scaler = None
    if task == "regression":  # learn standardized targets; report in the data's units
        t_scaler = Standardizer().fit(t_train)
        t_train_fit = t_scaler.transform(t_train)
        t_val_fit = None if t_val is None else t_scaler.transform(t_val)
    else:
        t_train_fit, t_val_fit = t_train, t_val

    batch_size = opts["batch_size"]
    if batch_size is not None and batch_size > len(x_train):
        if opts.get("_batch_size_given"):
            raise ValueError(f"--batch-size {batch_size} is larger than the training data "
                             f"({len(x_train)} samples); use --batch-size full for batch "
                             f"gradient descent")
        batch_size = len(x_train)
    if opts["batchnorm"] and batch_size == 1:
        raise ValueError("--batchnorm needs --batch-size 2 or more: a batch of one sample has "
                         "no variance to normalize with")

    augment = None
    if opts["augment"]:
        augment = augment_mod.from_spec(opts["augment"], image_shape=data.image_shape,
                                        seed=seed)

    # ------------------------------------------------------------------ model
    n_out = data.n_classes if task == "multiclass" else 1
    sizes = [n_features] + list(opts["hidden"]) + [n_out]
    model = MLP(sizes, activation=opts["activation"], task=task,
                init=opts["init"], dropout=opts["dropout"],
                batchnorm=opts["batchnorm"], weight_decay=opts["weight_decay"], seed=seed)
    optimizer = _make_optimizer(opts["optimizer"], opts["lr"])

    out = _out_dir(opts["out"] if not args.resume else args.resume)
    config = {k: opts.get(k) for k in C.OPTIONS if k != "out"}  # a rerun gets a new folder
    config["batch_size"] = batch_size
    argv = getattr(args, "argv", None) or sys.argv[1:]
    command = "ippo " + " ".join(shlex.quote(a) for a in argv)
    C.write_config(os.path.join(out, "config.toml"), config,
                   header=f"ippo train options (ippo train --config this file repeats the run)"
                          f"\ncommand: {command}")
    earlier = ""
    if args.resume and os.path.isfile(os.path.join(out, "command.txt")):
        with open(os.path.join(out, "command.txt"), encoding="utf-8") as f:
            earlier = f.read()  # a resumed run keeps the commands that made it, one a line
    C.write_text(os.path.join(out, "command.txt"), earlier + command + "\n")
    ckpt_dir = os.path.join(out, "checkpoint")
    if args.resume and not os.path.isfile(os.path.join(ckpt_dir, "checkpoint.npz")):
        print(f"ippo train: note: {args.resume} has no checkpoint; training from the start",
              file=sys.stderr)

    bs_text = "full batch" if batch_size is None else f"batch {batch_size}"
    lr_text = f"lr={optimizer.lr:g}"
    parts = [f"{len(x_train):,} train"] + ([f"{len(x_val):,} val"] if x_val is not None
                                           else []) + [f"{len(x_test):,} test"]
    what = (f"{data.n_classes} classes" if task != "regression" else "regression")
    say(f"data: {data.name} ({' / '.join(parts)}, {n_features} features, {what}; "
        f"loaded in {load_s:.1f} s)")
    say(f"model: MLP {sizes} {opts['activation']}"
        + (f", dropout {opts['dropout']:g}" if opts["dropout"] else "")
        + (", batchnorm" if opts["batchnorm"] else "")
        + (f", weight decay {opts['weight_decay']:g}" if opts["weight_decay"] else "")
        + f" ({model.n_params:,} parameters); {opts['optimizer']} {lr_text}, "
        f"{opts['epochs']} epochs, {bs_text}" + (f", augment {opts['augment']}"
                                                 if augment else ""))

    # ------------------------------------------------------------------ train
    trainer = Trainer(model, optimizer, verbose=0 if args.quiet else 1)
    t0 = time.perf_counter()
    try:
        history = trainer.fit(x_train, t_train_fit, epochs=opts["epochs"],
                              batch_size=batch_size, x_val=x_val, t_val=t_val_fit, seed=seed,
                              early_stopping=opts["early_stopping"],
                              checkpoint_dir=ckpt_dir,
                              checkpoint_every=checkpoint_every(opts["epochs"]),
                              resume=bool(args.resume), augment=augment)
    except KeyboardInterrupt:  # Ctrl-C: say how to go on from the last saved epoch
        done = trainer.checkpoint_epoch
        hint = (f"; epoch {done} is saved: ippo train --resume {shlex.quote(out)} continues"
                if done else "")
        print(f"ippo train: interrupted{hint}", file=sys.stderr)
        return 130
    train_s = time.perf_counter() - t0

    # ------------------------------------------------------------------ test + save
    model.eval()
    result = {"train_seconds": round(train_s, 3)}
    if task == "regression":
        y = t_scaler.inverse_transform(model.predict(x_test))
        result.update(mse=metrics.mean_squared_error(y, t_test),
                      rmse=metrics.root_mean_squared_error(y, t_test),
                      r2=metrics.r2_score(y, t_test))
        summary = (f"test MSE {result['mse']:.4g}, RMSE {result['rmse']:.4g}, "
                   f"R² {result['r2']:.4f}")
    else:
        acc = float(model.accuracy(x_test, t_test))
        result["accuracy"] = acc
        n_ok = int(round(acc * len(x_test)))
        summary = f"test accuracy {acc:.4f} ({n_ok:,}/{len(x_test):,})"
    extra = {
        # paths are absolute (resolve_options), so evaluate/predict work from any folder
        "dataset": opts["dataset"],
        "data_dir": opts.get("data_dir"),
        "target": opts.get("target"),
        "seed": seed,
        "task": task,
        "class_names": data.class_names,
        "feature_names": data.feature_names,
        "image_shape": list(data.image_shape) if data.image_shape else None,
        "scaler": scaler.to_dict() if scaler is not None else None,
        # a CSV's missing cells were filled with these (training means...): so are new ones
        "fill_values": data.fill_values,
        "target_scaler": t_scaler.to_dict() if t_scaler is not None else None,
        "test": {k: float(v) for k, v in result.items()},
        "epochs_run": len(history),
        "command": command,
    }
    model.save(os.path.join(out, "model.npz"), extra=extra)
    C.write_json(os.path.join(out, "history.json"), history.to_dict())
    files = ["model.npz", "history.json"]
    try:
        history.plot(os.path.join(out, "curves.png"),
                     title=f"{data.name}: MLP {sizes}")
        files.append("curves.png")
    except ImportError as exc:
        print(f"ippo train: note: curves.png not written ({exc})", file=sys.stderr)
    files += ["config.toml", "command.txt"]
    stopped = ""
    if history.stopped_epoch:
        stopped = f" (early stop at epoch {history.stopped_epoch}, best {history.best_epoch})"
    print(f"{summary}; trained in {train_s:.1f} s{stopped}")
    print(f"saved {out}/: {', '.join(files)}")
    return 0
