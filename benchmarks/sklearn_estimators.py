"""ippo's scikit-learn estimator against scikit-learn's own MLPClassifier, in one run.

    python -m benchmarks.sklearn_estimators                   # digits and MNIST, 5 rounds
    python -m benchmarks.sklearn_estimators --threads 1       # every library on one thread
    python -m benchmarks.sklearn_estimators --quick           # digits only, short (a smoke test)

Both get the same work: the network ``ippo train`` uses for the data set (its defaults in
``ippo.datasets``: digits 64-256-10, MNIST 784-100-10, ReLU), Adam with the same learning
rate, β₁, β₂ and ε, the same batch size and number of epochs, no weight decay (scikit-learn's
``alpha=0``), shuffled batches, float32 inputs (both then train in float32), and no early
stop (scikit-learn's ``tol=0`` with ``n_iter_no_change`` above the epochs: it runs every
epoch, which is checked). The data come from ``ippo.datasets`` (MNIST from its IDX files).
Each round fits both estimators on the same data with the same seed, alternating which goes
first, so that both share the machine's noise; the report gives the fit times, the median
of the per-round time ratios, and the test accuracies side by side. Both use the same BLAS
threads: the libraries' default (all cores), or ``--threads N`` for both (ippo's estimator
runs with ``threads=None`` here, so that its own default of one thread does not apply).
"""

import argparse
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np

from benchmarks import machine

#: The data sets compared (their networks and options: ``ippo train``'s defaults).
DATASETS = ("digits", "mnist")


def log(*args):
    """Progress on stderr (stdout carries the report)."""
    print(*args, file=sys.stderr, flush=True)


def settings(name, quick=False):
    """``ippo train``'s network and training options for data set ``name`` (from
    ``ippo.datasets``), shortened with ``quick``."""
    from ippo.datasets import get_spec

    d = dict(get_spec(name).defaults)
    s = {"hidden": tuple(d["hidden"]), "epochs": int(d["epochs"]),
         "batch_size": int(d["batch_size"]), "lr": float(d.get("lr", 0.001))}
    if quick:
        s["epochs"] = min(s["epochs"], 2)
    return s


def load(name, data_dir=None):
    """``(x_train, t_train, x_test, t_test)`` as float32 features in [0, 1] and int labels."""
    from ippo.datasets import load_dataset

    (x, t), (xt, tt) = load_dataset(name, data_dir=data_dir)
    return (x.reshape(len(x), -1).astype(np.float32), t, xt.reshape(len(xt), -1)
            .astype(np.float32), tt)


def make(contender, s, seed):
    """A fresh estimator: "ippo" (ippo.sklearn) or "sklearn" with the settings ``s``."""
    if contender == "ippo":
        from ippo.sklearn import MLPClassifier

        return MLPClassifier(hidden=s["hidden"], activation="relu", optimizer="adam",
                             lr=s["lr"], epochs=s["epochs"], batch_size=s["batch_size"],
                             seed=seed, threads=None)  # --threads sets both libraries'
    from sklearn.neural_network import MLPClassifier

    # ippo's Adam: β₁ 0.9, β₂ 0.999, ε 1e-7 (scikit-learn's default ε is 1e-8)
    return MLPClassifier(hidden_layer_sizes=s["hidden"], activation="relu", solver="adam",
                         learning_rate_init=s["lr"], beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                         batch_size=s["batch_size"], max_iter=s["epochs"], alpha=0.0,
                         shuffle=True, tol=0.0, n_iter_no_change=s["epochs"] + 1,
                         early_stopping=False, random_state=seed)


def fit_once(contender, s, seed, data):
    """``(fit seconds, test accuracy)`` of one fresh estimator."""
    x, t, xt, tt = data
    est = make(contender, s, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning at max_iter
        start = time.perf_counter()
        est.fit(x, t)
        seconds = time.perf_counter() - start
    if est.n_iter_ != s["epochs"]:
        raise RuntimeError(f"{contender} ran {est.n_iter_} epochs, not {s['epochs']}")
    return seconds, float(est.score(xt, tt))


def run(names, rounds, quick=False, data_dir=None):
    """Per data set: the settings and per-round results ``{contender: [(s, acc), ...]}``."""
    out = {}
    for name in names:
        s = settings(name, quick)
        data = load(name, data_dir)
        res = {"ippo": [], "sklearn": []}
        for r in range(rounds):
            order = ("ippo", "sklearn") if r % 2 == 0 else ("sklearn", "ippo")
            for contender in order:
                seconds, acc = fit_once(contender, s, r, data)
                res[contender].append((seconds, acc))
                log(f"{name} round {r + 1}/{rounds} {contender}: {seconds:.2f} s, test "
                    f"accuracy {acc:.4f}")
        out[name] = {"settings": s, "n_train": len(data[0]), "n_test": len(data[2]),
                     "n_features": data[0].shape[1], "results": res}
    return out


def _spread(values, fmt):
    """"median (min–max)" of ``values``, each formatted with ``fmt``."""
    v = np.asarray(values)
    return f"{fmt.format(np.median(v))} ({fmt.format(v.min())}–{fmt.format(v.max())})"


def report(results, env, args, started, ended, load_before, load_after):
    """The Markdown section of ``results``."""
    v = env["versions"]
    threads = "every library's default" if not args.threads else f"{args.threads} (threadpoolctl)"
    lines = [
        "## scikit-learn estimators: `ippo.sklearn.MLPClassifier` against "
        "`sklearn.neural_network.MLPClassifier`",
        "",
        f"Run {started:%Y-%m-%d %H:%M} – {ended:%H:%M} UTC, `python -m "
        f"benchmarks.sklearn_estimators {' '.join(args.argv)}`.".replace(" `.", "`."),
        "",
        f"- CPU: {env['cpu']}, {env['cores']} logical cores; BLAS threads: {threads}",
        f"- Load average (1, 5, 15 min) at start: "
        f"{', '.join(f'{x:.2f}' for x in load_before or ())}; at end: "
        f"{', '.join(f'{x:.2f}' for x in load_after or ())}",
        f"- Versions: python {v['python']}, numpy {v['numpy']}, ippo {v['ippo']}, "
        f"scikit-learn {v['scikit-learn']}",
        f"- BLAS: {'; '.join(env['blas'])}",
        "",
        "Same network (ReLU), Adam (same learning rate, β₁, β₂, ε), batch size and epochs, "
        "no weight decay, float32 inputs, every epoch run; "
        f"{args.rounds} round{'s' if args.rounds != 1 else ''}, each fitting both (seed = "
        "round, alternating which goes first). Fit time: median (min–max) over the rounds; "
        "*sklearn ÷ ippo*: the median of "
        "the per-round ratios of fit times (above 1: ippo is faster). Accuracy on the test "
        "set: median (min–max).",
        "",
        "| data | network | epochs, batch | ippo fit s | sklearn fit s | sklearn ÷ ippo | "
        "ippo test accuracy | sklearn test accuracy |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        s, res = r["settings"], r["results"]
        ratios = [b[0] / a[0] for a, b in zip(res["ippo"], res["sklearn"], strict=True)]
        net = "-".join(str(n) for n in (r["n_features"], *s["hidden"], 10))
        lines.append(
            f"| {name} ({r['n_train']:,} train / {r['n_test']:,} test) | {net} | "
            f"{s['epochs']}, {s['batch_size']} | "
            f"{_spread([a for a, _ in res['ippo']], '{:.2f}')} | "
            f"{_spread([a for a, _ in res['sklearn']], '{:.2f}')} | "
            f"{np.median(ratios):.2f} | "
            f"{_spread([b for _, b in res['ippo']], '{:.4f}')} | "
            f"{_spread([b for _, b in res['sklearn']], '{:.4f}')} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the benchmark and print (and with ``--output`` write) the Markdown report."""
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(prog="python -m benchmarks.sklearn_estimators",
                                description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=",".join(DATASETS),
                   help="comma-separated: digits, mnist (default: both)")
    p.add_argument("--rounds", type=int, default=5, help="fits of each estimator (default 5)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads for every library (default: the libraries' own)")
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ (default: "
                   "ippo.datasets' search)")
    p.add_argument("--quick", action="store_true",
                   help="digits only, 2 epochs, 1 round (checks that the script runs)")
    p.add_argument("--output", help="also write the Markdown here")
    args = p.parse_args(argv)
    args.argv = argv
    names = ["digits"] if args.quick else [n.strip() for n in args.datasets.split(",")]
    for n in names:
        if n not in DATASETS:
            p.error(f"unknown data set {n!r}; choose from {', '.join(DATASETS)}")
    if args.quick:
        args.rounds = 1
    started, load_before = datetime.now(timezone.utc), machine.load_average()
    # both libraries (and their BLAS / OpenMP libraries) load now, so that the thread limit
    # below reaches every one of them
    import sklearn.neural_network  # noqa: F401

    import ippo.sklearn  # noqa: F401

    ctl = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        ctl = threadpool_limits(args.threads)
    try:
        results = run(names, args.rounds, args.quick, args.data_dir)
        env = machine.environment()  # inside the limit: the threads it ran with
    finally:
        if ctl is not None:
            ctl.restore_original_limits()
    text = report(results, env, args, started, datetime.now(timezone.utc), load_before,
                  machine.load_average())
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
