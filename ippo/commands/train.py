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
import shutil
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
                "out": "DIR", "threads": "N", "task": "TASK"}
    for key, (_, _, help_text) in C.OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        if key in ("batchnorm", "header"):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=help_text)
        else:
            p.add_argument(flag, default=None, metavar=metavars.get(key, "X"), help=help_text)
    p.add_argument("--config", metavar="FILE.toml", help="read options from a TOML file")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run from its last checkpoint (its "
                        "config.toml is the base; e.g. --epochs can be raised)")
    p.add_argument("--overwrite", action="store_true",
                   help="let --out replace the run already in that folder (its model, "
                        "history, plot, config and checkpoint)")
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
        if "val_split" not in base:  # written before validation was held out by default
            base["val_split"] = 0.1 if base.get("early_stopping") else 0.0
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
    _check_data_options(opts, spec)
    return opts, spec


def _check_data_options(opts, spec):
    """ValueError for options that do not fit the data set: --target, --task, --header for
    a named data set, --early-stopping without validation, --augment flip on data whose
    classes change in a mirror."""
    if not spec.name.startswith("csv:"):
        if opts.get("target") is not None:
            raise ValueError("--target is only for csv:PATH data sets")
        if opts["task"] not in ("auto", spec.task):
            raise ValueError(f"--task {opts['task']}: {spec.name} is a {spec.task} data set "
                             f"(--task chooses for csv:PATH data)")
        if opts.get("header") is not None:
            raise ValueError("--header / --no-header are only for csv:PATH data sets")
    if opts["early_stopping"] and not opts["val_split"]:
        raise ValueError("--early-stopping needs validation data: give --val-split > 0")
    if opts["augment"] and spec.image_shape and not spec.flip and any(
            part.partition(":")[0].strip().lower() == "flip"
            for part in str(opts["augment"]).split(",")):
        raise ValueError(f"--augment flip: {spec.name}'s classes change in a mirror (a "
                         f"mirrored 2, 3 or 7 is no digit); flip suits images whose classes "
                         f"survive one, such as fashion-mnist")


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


#: What a run folder holds (``ippo train`` writes these and only these).
RUN_FILES = ("model.npz", "history.json", "curves.png", "config.toml", "command.txt",
             "checkpoint")
#: The files that make a folder a run worth keeping: a trained model, its history or plot,
#: a checkpoint of at least one epoch. (A run stopped before its first checkpoint, e.g. by
#: a mistake or a divergence in epoch 1, leaves only its options: the folder may be reused.)
TRAINED_FILES = ("model.npz", "history.json", "curves.png",
                 os.path.join("checkpoint", "checkpoint.npz"))
#: The link to the last run finished in ``runs/``.
LATEST = os.path.join("runs", "latest")


def _out_dir(out):
    """The run's folder: ``out`` (made if needed; a file there is an error), or a new
    ``runs/<timestamp>``. (``ippo news`` uses it too.)"""
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


def _new_run_dir(out, overwrite=False):
    """``_out_dir`` for a new ``ippo train`` run, which never replaces another unasked.

    A folder that already holds a run (any of ``TRAINED_FILES``) is refused, naming
    --resume and --overwrite; with ``overwrite``, or when only the options of a run that
    never saved an epoch are there, that run's files (``RUN_FILES``) are removed first (only
    those: the folder may hold other things). ``runs/latest`` is reserved for the link to
    the last run."""
    if out:
        if os.path.basename(os.path.normpath(out)) == "latest" and os.path.abspath(
                os.path.dirname(os.path.normpath(out))) == os.path.abspath("runs"):
            raise ValueError(f"--out {out}: runs/latest is the link to the last finished run; "
                             f"choose another name")
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"--out: {out} exists and is not a folder")
        trained = [f for f in TRAINED_FILES if os.path.lexists(os.path.join(out, f))]
        if trained and not overwrite:
            raise ValueError(
                f"--out {out} already holds a run ({', '.join(trained)}); continue it with "
                f"ippo train --resume {shlex.quote(out)}, replace it with --overwrite, or "
                f"choose another --out")
        held = [f for f in RUN_FILES if os.path.lexists(os.path.join(out, f))]
        for f in held:  # the old run's files only (--overwrite, or options of a failed start)
            path = os.path.join(out, f)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    return _out_dir(out)


def _link_latest(out, say):
    """Point ``runs/latest`` at ``out`` when ``out`` is in ``runs/`` (replaced atomically:
    a relative symbolic link). Anything else called ``runs/latest`` is left alone, with a
    note; so is a platform without symbolic links."""
    runs = os.path.abspath("runs")
    if os.path.dirname(os.path.abspath(out)) != runs:
        return
    if os.path.lexists(LATEST) and not os.path.islink(LATEST):
        say(f"note: {LATEST} is not a link made by ippo train; left as it is")
        return
    tmp = os.path.join("runs", f".latest-{os.getpid()}")
    try:
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.symlink(os.path.basename(os.path.abspath(out)), tmp, target_is_directory=True)
        os.replace(tmp, LATEST)
    except OSError as exc:  # e.g. Windows without the right to make links
        say(f"note: {LATEST} not updated ({exc.strerror or exc})")


def _check_resume(run_dir, epochs):
    """ValueError before anything is written when resuming ``run_dir`` would train nothing:
    it stopped early, or its checkpoint already holds ``epochs`` epochs or more."""
    from ippo.io import load_checkpoint
    from ippo.training import CHECKPOINT_NAME

    path = os.path.join(run_dir, "checkpoint", CHECKPOINT_NAME)
    if not os.path.isfile(path):
        return
    try:
        state = load_checkpoint(path)
    except ValueError as exc:
        raise ValueError(f"cannot resume: the checkpoint is damaged, remove it to start the "
                         f"run over: {exc}") from None
    done = int(state["epoch"])
    if state.get("stopped"):
        raise ValueError(f"--resume: the run in {run_dir} stopped early after epoch {done} "
                         f"(early stopping): it is finished; start a new run to train more")
    if epochs <= done:
        raise ValueError(f"--resume: the run in {run_dir} has already trained {done} epochs; "
                         f"--epochs {epochs} would train none (give --epochs {done + 1} or "
                         f"more to continue it)")


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
    if args.resume and args.overwrite:
        raise ValueError("--resume continues a run and --overwrite replaces one: give one")
    if args.resume:
        _check_resume(args.resume, opts["epochs"])
    threads = C.usable_threads(opts["threads"], lambda text: print(f"ippo train: {text}",
                                                                   file=sys.stderr))
    with blas.threads(threads):
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
    if opts["dataset"].startswith("csv:"):
        kwargs["task"] = opts["task"]
        for key in ("target", "header"):
            if opts.get(key) is not None:
                kwargs[key] = opts[key]
    t0 = time.perf_counter()
    data = load_dataset(opts["dataset"], data_dir=opts.get("data_dir"), seed=seed, **kwargs)
    (x_train, t_train), (x_test, t_test) = data
    load_s = time.perf_counter() - t0
    task = data.task
    x_train = x_train.reshape(len(x_train), -1)
    x_test = x_test.reshape(len(x_test), -1)
    n_features = x_train.shape[1]

    val_split = opts["val_split"]
    x_val = t_val = None
    if val_split > 0:
        n_val = int(round(len(x_train) * val_split))
        if not 0 < n_val < len(x_train):
            raise ValueError(f"--val-split {val_split:g} holds out {n_val:,} of the "
                             f"{len(x_train):,} training samples; both parts need at least one "
                             f"(--val-split 0 trains without validation)")
        (x_train, t_train), (x_val, t_val) = train_test_split(
            x_train, t_train, test_size=val_split, seed=seed,
            stratify=task != "regression")
    # the range of the features the model is trained on, for ippo predict's warning
    input_range = {"min": x_train.min(axis=0).tolist(), "max": x_train.max(axis=0).tolist()}

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

    out = args.resume if args.resume else _new_run_dir(opts["out"], args.overwrite)
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

    bs_text = ("full batch" if batch_size is None else
               f"full batch ({batch_size} samples)" if batch_size == len(x_train) else
               f"batch {batch_size}")
    lr_text = f"lr={optimizer.lr:g}"
    parts = [f"{len(x_train):,} train"] + ([f"{len(x_val):,} validation"] if x_val is not None
                                           else []) + [f"{len(x_test):,} test"]
    say(f"data: {data.name} ({' / '.join(parts)}, {_features_text(data, n_features)}; "
        f"{_task_text(data, opts)}; loaded in {load_s:.1f} s)")
    unknown = getattr(data, "unknown_categories", None)
    if unknown:
        from ippo.datasets.tabular import describe_unknown

        print(f"ippo train: note: the test part has categories the training part has not: "
              f"{describe_unknown(unknown)}; they are encoded as no category (all 0)",
              file=sys.stderr)
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
        "header": getattr(data, "header", None),  # a CSV's header, as found or given
        "seed": seed,
        "task": task,
        "class_names": data.class_names,
        "feature_names": data.feature_names,
        "image_shape": list(data.image_shape) if data.image_shape else None,
        "scaler": scaler.to_dict() if scaler is not None else None,
        # a CSV's missing cells were filled with these (training means...): so are new ones
        "fill_values": data.fill_values,
        # text columns one-hot encoded with the training part's categories: so are new rows
        "columns": _encoded_columns(data),
        "input_range": input_range,
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
    _link_latest(out, lambda text: print(f"ippo train: {text}", file=sys.stderr))
    return 0


def _features_text(data, n_features):
    """"64 features", or for a CSV with text columns "5 features (city: 3 categories)"."""
    cats = [c for c in _encoded_columns(data) or () if c["kind"] == "category"]
    text = f"{n_features:,} features"
    if cats:
        text += " (" + ", ".join(f"{c['name']}: {len(c['categories'])} categories"
                                 for c in cats) + ", one-hot)"
    return text


def _task_text(data, opts):
    """The task of the data line: "10 classes" / "regression", and for a CSV whose task was
    guessed, why and how to choose another."""
    text = (f"{data.task}, {data.n_classes} classes" if data.task != "regression"
            else "regression")
    reason = getattr(data, "task_reason", None)
    if opts["dataset"].startswith("csv:") and opts["task"] == "auto" and reason:
        text += f" (auto: {reason}; --task to choose)"
    return text


def _encoded_columns(data):
    """A CSV's column description when it has text columns (else None: every feature is a
    number, used as it is)."""
    columns = getattr(data, "columns", None)
    if columns and any(c["kind"] == "category" for c in columns):
        return columns
    return None
