"""``ippo news``: the NLP 100 Knock chapter 8 (exercises 70–79) on the news headlines.

One run classifies the headlines of ``--data-dir`` (``train.tsv``, ``valid.tsv``,
``test.tsv``) into business / science and technology / entertainment / health, printing
each exercise's result, and writes a run folder (``runs/<timestamp>/`` or ``--out``):

- ``command.txt``, ``config.json`` (the resolved options), ``output.txt`` (what was printed)
- ``word2vec.bin`` (the vectors trained here, word2vec binary format) and ``features.npz``
  (exercise 70's matrices)
- ``single_layer/``, ``mlp/``, ``fasttext/``: ``model.npz``, ``history.json``,
  ``curves.png`` (75), ``checkpoint/`` (what ``--resume`` continues from); the single
  layer also keeps ``checkpoints/epoch-NNN.npz`` (76: parameters and optimizer state)
- ``vocab.json`` (the fastText-style model's vocabulary and tokenizer), ``batch_sizes.json``
  (77), ``results.json`` (every model's accuracy and report)

``--resume RUN_DIR`` continues a run: what is saved is read back, interrupted trainings go on
from their last checkpoint.
"""

import json
import os
import shlex
import sys
import time

import numpy as np

from ippo.commands import _common as C

DEVICES = ("auto", "cpu", "gpu")


def _batch_sizes(value):
    """'1,2,4' -> [1, 2, 4] (each a positive integer)."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [p for p in str(value).replace(" ", "").split(",") if p]
    out = [C._int_min("batch-sizes", 1)(v) for v in items]
    if not out:
        raise ValueError("--batch-sizes: give at least one batch size, e.g. 1,2,4")
    return out


def _hidden(value):
    sizes = C.parse_hidden(value)
    if not sizes:
        raise ValueError("--mlp-hidden: the multi-layer network needs a hidden layer, "
                         "e.g. 256")
    return sizes


#: key -> (checker, default, help): the flags, config.json and --help come from this table.
OPTIONS = {
    "data_dir": (C._str, None, "folder with train.tsv, valid.tsv and test.tsv (default: "
                 "$IPPO_DATA_DIR/news, then ../shared/data/news)"),
    "vectors": (C._str, None, "pretrained word vectors for exercise 70: word2vec binary or "
                "text, or GloVe (detected); default: word2vec trained here on the training "
                "headlines"),
    "vectors_limit": (C._int_min("vectors-limit", 1), None, "read only the first N words of "
                      "--vectors (bounds memory for big files)"),
    "dim": (C._int_min("dim", 1), 200, "dimensions of the word2vec trained here "
            "(default: 200)"),
    "w2v_epochs": (C._int_min("w2v-epochs", 1), 40, "word2vec epochs over the training "
                   "headlines (default: 40)"),
    "epochs": (C._int_min("epochs", 1), 30, "epochs of the single-layer network (73, "
               "default: 30)"),
    "lr": (C._float_in("lr", 0.0, 1e6, lo_open=True), 0.001, "SGD learning rate of the "
           "single-layer network (default: 0.001)"),
    "batch_size": (C._int_min("batch-size", 1), 1, "batch size of the single-layer "
                   "network (default: 1, SGD one headline at a time)"),
    "batch_sizes": (_batch_sizes, [2 ** k for k in range(11)], "batch sizes timed in "
                    "exercise 77 (default: 1,2,4,...,1024)"),
    "mlp_hidden": (_hidden, [256], "hidden layer sizes of the multi-layer network (79, "
                   "default: 256)"),
    "mlp_epochs": (C._int_min("mlp-epochs", 1), 30, "epochs of the multi-layer network "
                   "(default: 30, fewer when the validation loss stops improving)"),
    "fasttext_dim": (C._int_min("fasttext-dim", 1), 32, "embedding size of the "
                     "fastText-style model (default: 32)"),
    "fasttext_epochs": (C._int_min("fasttext-epochs", 1), 10, "epochs of the fastText-style "
                        "model (default: 10, fewer when the validation loss stops improving)"),
    "device": (C._choice("device", DEVICES), "auto", "exercise 78: gpu (required), cpu "
               "(skip it) or auto (a GPU when ippo has one; default)"),
    "seed": (C._int_min("seed", 0), 0, "random seed of every model and shuffle (default: 0)"),
    "threads": (C._int_min("threads", 1), 1, "BLAS threads (default: 1)"),
}

#: Options a resumed run may change: the others would make it another run.
RESUME_CHANGEABLE = ("data_dir", "device", "threads")
METAVARS = {"data_dir": "DIR", "vectors": "FILE", "batch_sizes": "LIST",
            "mlp_hidden": "SIZES", "device": "NAME", "lr": "LR"}


def add_parser(subparsers):
    """Register ``ippo news`` and its options (built from ``OPTIONS``)."""
    p = subparsers.add_parser(
        "news", help="the NLP 100 Knock chapter 8: classify news headlines (exercises 70-79)",
        description="Run exercises 70-79 of the NLP 100 Knock on the news headlines: "
                    "averaged word vectors, a single-layer network trained by SGD, "
                    "checkpoints, batch-size timing, a multi-layer network and a "
                    "fastText-style model; writes a run folder (runs/<timestamp>/ "
                    "or --out).")
    for key, (_, _, help_text) in OPTIONS.items():
        p.add_argument("--" + key.replace("_", "-"), default=None,
                       metavar=METAVARS.get(key, "N"), help=help_text)
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<timestamp>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run in its "
                   "folder (its config.json is the base)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-epoch progress")
    p.set_defaults(func=run, command="news")


def resolve_options(args):
    """defaults < the resumed run's config.json < flags; checked."""
    given = {}
    for key, (check, _, _) in OPTIONS.items():
        v = getattr(args, key, None)
        if v is not None:
            given[key] = check(v)
    opts = {k: d for k, (_, d, _) in OPTIONS.items()}
    if args.resume:
        if args.out:
            raise ValueError(f"--resume: a resumed run stays in its folder {args.resume}; "
                             f"leave out --out")
        path = os.path.join(args.resume, "config.json")
        if not os.path.isfile(path):
            raise OSError(f"--resume: {args.resume} holds no config.json (not an ippo news "
                          f"run folder)")
        try:
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            saved = {k: OPTIONS[k][0](v) for k, v in saved.items()
                     if k in OPTIONS and v is not None}
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a valid run configuration: {exc}") from None
        for key, value in given.items():
            if key not in RESUME_CHANGEABLE and value != saved.get(key, opts[key]):
                raise ValueError(f"--resume: --{key.replace('_', '-')} cannot change when "
                                 f"resuming (the run used {saved.get(key, opts[key])!r}, got "
                                 f"{value!r}); only "
                                 + ", ".join("--" + k.replace("_", "-")
                                             for k in RESUME_CHANGEABLE) + " can")
        opts.update(saved)
    opts.update(given)
    for key in ("data_dir", "vectors"):
        if opts.get(key):
            opts[key] = os.path.abspath(opts[key])
    return opts


class _Output:
    """print() to stdout that also keeps every line for output.txt."""

    def __init__(self):
        self.lines = []

    def __call__(self, *parts):
        line = " ".join(str(p) for p in parts)
        self.lines.append(line)
        print(line, flush=True)


def run(args):
    """Run exercises 70-79 and write the run folder; returns 0 (1 for a user's error,
    through the CLI)."""
    opts = resolve_options(args)
    if opts["device"] == "gpu":
        from ippo.text.classify import gpu_unavailable_reason

        reason = gpu_unavailable_reason()
        if reason:
            raise ValueError(f"--device gpu: {reason}; use --device auto or cpu")
    from ippo import blas

    with blas.threads(opts["threads"]):
        return _run(args, opts)


def _run(args, opts):
    from ippo import text

    say = _Output()

    # ------------------------------------------------------------------ inputs first:
    # everything a user can get wrong is read and checked before the run folder is touched
    data = text.load_news(opts["data_dir"])
    pretrained = None
    if opts["vectors"]:
        pretrained = text.load_word_vectors(opts["vectors"], limit=opts["vectors_limit"])

    from ippo.commands.train import _out_dir

    if args.out and not args.resume:
        _check_not_a_run(args.out)
    out = _out_dir(args.resume or args.out)
    try:
        return _chapter(args, opts, data, pretrained, out, say)
    except KeyboardInterrupt:  # Ctrl-C: what is saved stays; say how to go on
        print(f"ippo news: interrupted; ippo news --resume {shlex.quote(out)} continues",
              file=sys.stderr)
        return 130
    finally:  # what was printed so far, also after an error or an interruption
        C.write_text(os.path.join(out, "output.txt"), "\n".join(say.lines) + "\n")


def _chapter(args, opts, data, pretrained, out, say):
    """Exercises 70-79 into the run folder ``out``, printing through ``say``."""
    from ippo import text
    from ippo.text import classify

    seed = opts["seed"]
    (x_train, t_train), (x_test, t_test) = data
    x_valid, t_valid = data.valid
    names = data.class_names
    resume = bool(args.resume)
    argv = getattr(args, "argv", None) or sys.argv[1:]
    command = "ippo " + " ".join(shlex.quote(a) for a in argv)
    earlier = _read(os.path.join(out, "command.txt")) if resume else ""
    C.write_text(os.path.join(out, "command.txt"), earlier + command + "\n")
    C.write_json(os.path.join(out, "config.json"), opts)
    results = _load_json(os.path.join(out, "results.json")) if resume else {}
    results = results if isinstance(results, dict) else {}
    verbose = 0 if args.quiet else 1

    def save_results():
        C.write_json(os.path.join(out, "results.json"), results)

    say(f"data: {data.folder}: {len(x_train):,} train / {len(x_valid):,} valid / "
        f"{len(x_test):,} test headlines; classes: {', '.join(names)}")

    # ------------------------------------------------------------------ 70
    say("\n== 70  features: each headline as the mean of its words' vectors")
    tokenizer = text.Tokenizer()
    train_tokens = [tokenizer(s) for s in x_train]
    w2v_path = os.path.join(out, "word2vec.bin")
    if pretrained is not None:
        vectors = pretrained
        say(f"vectors: {vectors.source} ({vectors.format}): {len(vectors):,} words x "
            f"{vectors.dim}")
    elif resume and os.path.isfile(w2v_path):
        vectors = text.load_word_vectors(w2v_path)
        say(f"vectors: word2vec trained on the training headlines, read back from {w2v_path}: "
            f"{len(vectors):,} words x {vectors.dim}")
    else:
        t0 = time.perf_counter()
        w2v = _w2v_settings(opts)
        log = None if args.quiet else (lambda e, loss, s: say(
            f"  word2vec epoch {e}/{w2v['epochs']}  loss {loss:.4f}  {s:.1f}s"))
        vectors = text.train_word2vec(train_tokens, log=log, **w2v)
        vectors.save(w2v_path, binary=True)
        say(f"vectors: word2vec (CBOW, negative sampling) trained here on the "
            f"{len(x_train):,} training headlines only: {len(vectors):,} words x "
            f"{vectors.dim}, {w2v['epochs']} epochs, window {w2v['window']}, "
            f"{w2v['negative']} negatives, in {time.perf_counter() - t0:.1f} s "
            f"(saved {w2v_path})")
    features = {}
    for part, x in (("train", x_train), ("valid", x_valid), ("test", x_test)):
        features[part], n_empty = text.average_word_vectors(x, vectors, tokenizer)
        say(f"X_{part}: {features[part].shape[0]:,} x {features[part].shape[1]}; "
            f"{n_empty} headline(s) without a known word (zero vectors)")
    from ippo.io import save_npz

    save_npz(os.path.join(out, "features.npz"), {
        "X_train": features["train"], "X_valid": features["valid"],
        "X_test": features["test"], "y_train": t_train, "y_valid": t_valid, "y_test": t_test},
        {"format": "ippo-news-features", "classes": list(names),
         "vectors": _vectors_note(vectors)})
    for word in ("apple", "ebola", "obama"):
        if word in vectors:
            near = ", ".join(w for w, _ in vectors.most_similar(word, 5))
            say(f"nearest to {word!r}: {near}")
    # standardised features (training statistics): a better-posed input for SGD
    from ippo.preprocessing import Standardizer

    scaler = Standardizer().fit(features["train"])
    X = {p: scaler.transform(f) for p, f in features.items()}
    d = X["train"].shape[1]

    # ------------------------------------------------------------------ 71
    say("\n== 71  single-layer network: y = softmax(x W), W random")
    model = classify.single_layer_model(d, len(names), seed=seed)
    say(f"y for x1:\n{_fmt(model.predict(X['train'][:1]))}")
    say(f"Y for x1..x4:\n{_fmt(model.predict(X['train'][:4]))}")

    # ------------------------------------------------------------------ 72
    say("\n== 72  cross-entropy loss and its gradient dL/dW, back-propagation vs numerical")
    for label, n in (("x1", 1), ("x1..x4", 4)):
        check = classify.check_gradients(model, X["train"][:n], t_train[:n])
        grad = check["grads"]["MatMul1.W"]
        say(f"{label}: loss {check['loss']:.6f}; dL/dW[:2] =\n{_fmt(grad[:2])}\n"
            f"  max |back-propagation - numerical| = {check['max_abs_diff']:.2e}")

    # ------------------------------------------------------------------ 73-76
    say(f"\n== 73  training by SGD: lr {opts['lr']:g}, batch {opts['batch_size']}, "
        f"{opts['epochs']} epochs")
    from ippo import optimizers

    folder = os.path.join(out, "single_layer")
    history = classify.train_classifier(
        model, optimizers.SGD(lr=opts["lr"]), X["train"], t_train, X["valid"], t_valid,
        epochs=opts["epochs"], batch_size=opts["batch_size"], seed=seed, out_dir=folder,
        resume=resume, every_epoch=True, verbose=verbose)
    say("\n== 74  accuracy")
    say(f"train {model.accuracy(X['train'], t_train):.4f}, "
        f"test {model.accuracy(X['test'], t_test):.4f}")
    _finish(say, "single-layer network", model, history, X["test"], t_test, names, folder,
            results, extra={"scaler": scaler.to_dict(), "vectors": _vectors_note(vectors)})
    save_results()
    say("\n== 75  loss and accuracy per epoch (train and validation): "
        + os.path.join(folder, "curves.png"))
    ckpts = sorted(os.listdir(os.path.join(folder, "checkpoints")))
    say(f"\n== 76  a checkpoint per epoch (parameters and optimizer state): "
        f"{os.path.join(folder, 'checkpoints')}/{ckpts[0]} ... {ckpts[-1]}; "
        f"--resume {shlex.quote(out)} continues an interrupted run")

    # ------------------------------------------------------------------ 77
    say("\n== 77  time per epoch by batch size (SGD, the single-layer network; training "
        "only, the median of 3 epochs)")
    timing_path = os.path.join(out, "batch_sizes.json")
    rows = _load_json(timing_path) if resume else None
    if not (isinstance(rows, list) and [r.get("batch_size") for r in rows if
                                       isinstance(r, dict)] == opts["batch_sizes"]):
        rows = classify.time_batch_sizes(
            lambda: classify.single_layer_model(d, len(names), seed=seed),
            lambda bs: optimizers.SGD(lr=opts["lr"]), X["train"], t_train,
            opts["batch_sizes"], seed=seed)
        C.write_json(timing_path, rows)
    say("| batch size | seconds per epoch | samples/s | loss |")
    say("| ---: | ---: | ---: | ---: |")
    for r in rows:
        say(f"| {r['batch_size']} | {r['seconds']:.3f} | {r['samples_per_s']:,.0f} | "
            f"{r['loss']:.4f} |")

    # ------------------------------------------------------------------ 78
    reason = classify.gpu_unavailable_reason()
    if opts["device"] == "cpu":
        say("\n== 78  GPU: skipped (--device cpu)")
    elif reason:
        say(f"\n== 78  GPU: skipped: {reason}")
    else:  # pragma: no cover - needs the CuPy backend and a GPU
        say("\n== 78  GPU: a GPU is present, but ippo news does not move its models to it "
            "yet; nothing measured")

    # ------------------------------------------------------------------ 79
    say(f"\n== 79  multi-layer network: hidden {opts['mlp_hidden']}, batch normalisation, "
        f"dropout 0.5, Adam")
    folder = os.path.join(out, "mlp")
    mlp = classify.mlp_model(d, opts["mlp_hidden"], len(names), seed=seed)
    history = classify.train_classifier(
        mlp, optimizers.Adam(lr=0.001), X["train"], t_train, X["valid"], t_valid,
        epochs=opts["mlp_epochs"], batch_size=64, seed=seed, out_dir=folder, resume=resume,
        early_stopping=5, verbose=verbose)
    _finish(say, "multi-layer network", mlp, history, X["test"], t_test, names, folder,
            results, extra={"scaler": scaler.to_dict(), "vectors": _vectors_note(vectors)})
    save_results()

    say(f"\n== 79  fastText-style model: mean of learned {opts['fasttext_dim']}-d word "
        f"embeddings (EmbeddingBag), then softmax; Adam")
    vocab = text.Vocabulary.build(train_tokens, tokenizer=tokenizer)
    vocab.save(os.path.join(out, "vocab.json"))
    ids = {p: vocab.encode_batch([tokenizer(s) for s in x])
           for p, x in (("train", x_train), ("valid", x_valid), ("test", x_test))}
    say(f"vocabulary: {len(vocab):,} ids (<pad>, <unk> and every training word); "
        f"{vocab.coverage([tokenizer(s) for s in x_test]):.1%} of the test tokens known")
    folder = os.path.join(out, "fasttext")
    ft = classify.fasttext_model(len(vocab), len(names), dim=opts["fasttext_dim"], seed=seed)
    history = classify.train_classifier(
        ft, optimizers.Adam(lr=0.01), ids["train"], t_train, ids["valid"], t_valid,
        epochs=opts["fasttext_epochs"], batch_size=64, seed=seed, out_dir=folder,
        resume=resume, early_stopping=3, verbose=verbose)
    _finish(say, "fastText-style model", ft, history, ids["test"], t_test, names, folder,
            results, extra={"vocabulary": vocab.to_dict()})
    save_results()

    # ------------------------------------------------------------------ summary
    say("\n== summary (test accuracy)")
    for name, r in results.items():
        say(f"{name}: {r['accuracy']:.4f}")
    print(f"saved {out}/: command.txt, config.json, output.txt, results.json, "
          f"{'' if pretrained is not None else 'word2vec.bin, '}features.npz, vocab.json, "
          f"batch_sizes.json, single_layer/, mlp/, fasttext/")
    return 0


def _fmt(a):
    """An array printed with 4 decimals (without changing NumPy's global print options)."""
    with np.printoptions(precision=4, suppress=True):
        return str(np.asarray(a))


def _w2v_settings(opts):
    """The word2vec settings of the run (tuned on the validation headlines)."""
    return {"dim": opts["dim"], "window": 10, "negative": 5, "epochs": opts["w2v_epochs"],
            "min_count": 2, "sample": 1e-3, "lr": 0.1, "batch_size": 256,
            "combine": "input+output", "seed": opts["seed"]}


def _vectors_note(vectors):
    return {"source": vectors.source, "words": len(vectors), "dim": vectors.dim,
            "settings": getattr(vectors, "settings", None)}


def _finish(say, name, model, history, x_test, t_test, class_names, folder, results, extra):
    """The model's closing lines (test accuracy, the report), its files and its results."""
    report = _report(model, x_test, t_test, class_names)
    say(f"{name}: test accuracy {report.accuracy:.4f}")
    say(str(report))
    model.save(os.path.join(folder, "model.npz"),
               extra={"class_names": list(class_names), "test": report.to_dict(), **extra})
    C.write_json(os.path.join(folder, "history.json"), history.to_dict())
    try:
        history.plot(os.path.join(folder, "curves.png"), title=f"news headlines: {name}")
    except ImportError as exc:
        print(f"ippo news: note: curves.png not written ({exc})", file=sys.stderr)
    results[name] = {**report.to_dict(), "epochs_run": len(history)}


def _report(model, x, t, class_names):
    from ippo.text.classify import classification_report

    return classification_report(model.predict_classes(x), t, class_names)


#: The files that make a folder an ``ippo news`` run worth keeping.
RUN_MARKERS = ("results.json", "word2vec.bin")


def _check_not_a_run(out):
    """ValueError when ``--out`` names a folder that already holds an ``ippo news`` run:
    writing into it would mix the two runs' files."""
    held = [f for f in RUN_MARKERS if os.path.exists(os.path.join(out, f))]
    if held:
        raise ValueError(f"--out {out} already holds an ippo news run ({', '.join(held)}); "
                         f"continue it with ippo news --resume {shlex.quote(out)}, or choose "
                         f"another --out (or remove the folder first)")


def _read(path):
    if not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read()


def _load_json(path):
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError):
        return None


__all__ = ["add_parser", "run", "OPTIONS"]
