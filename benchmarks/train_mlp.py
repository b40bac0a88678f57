"""Time MLP training for ippo, PyTorch, scikit-learn and book-style NumPy in one run.

    python -m benchmarks.train_mlp            # full table (a few minutes per network)
    python -m benchmarks.train_mlp --quick    # the same table, shorter timings (< 2 minutes)

What is timed: for every network (a), (b), (c) and batch size, every contender is built
once, warmed up, and calibrated to a fixed number of SGD steps that takes about
``--seconds`` seconds; then ``--repeats`` rounds time that fixed number of steps for every
contender in turn (round-robin, the starting contender rotating each round), so that all
contenders share the machine's noise. Each timed run trains on the next consecutive chunk of
the data, shuffled and gathered into mini-batches the way a training loop does. Samples/s is
(steps × batch size) / elapsed seconds; the ratio to PyTorch is the median over rounds of the
per-round ratio. The FLOP limit is the machine's measured GEMM rate ÷ (6 × number of
weights). Peak resident memory is measured in a fresh child process per contender, for one
epoch of network (c).

The Markdown report goes to stdout and to ``--output``.
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks import contenders as C
from benchmarks import data, machine

DEFAULT_CONTENDERS = ["ippo", "ippo-f64", "ippo.autograd", "torch", "sklearn", "numpy-book"]
BASELINE = "torch"
GEMM_KEY = "__gemm__"


def make_contender(name):
    """The contender object for a command-line name."""
    factories = {
        "ippo": lambda: C.IppoContender("float32"),
        "ippo-f64": lambda: C.IppoContender("float64"),
        "ippo-step": lambda: C.IppoContender("float32", through_trainer=False),
        "ippo.autograd": C.AutogradContender,
        "torch": C.TorchContender,
        "sklearn": C.SklearnContender,
        "numpy-book": C.NumpyBookContender,
        "numpy-book-f32": lambda: C.NumpyBookContender("float32"),
    }
    if name not in factories:
        raise SystemExit(f"unknown contender {name!r}; choose from {', '.join(factories)}")
    return factories[name]()


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- timing


def timed(run, n_steps, pause=0.0, collect=True):
    if collect:
        gc.collect()
    if pause:
        # let the previous contender's thread pools (OpenBLAS, OpenMP) stop spinning, so
        # that they do not steal the two cores from this one
        time.sleep(pause)
    start = time.perf_counter()
    loss = run(n_steps)
    return time.perf_counter() - start, loss


def calibrate(run, batch_size, n_total, seconds):
    """Steps per timed run so that one run takes about ``seconds`` (at most one epoch)."""
    max_steps = max(1, n_total // batch_size)
    timed(run, 1, collect=False)  # warm-up: first-call allocations, lazy state, thread pools
    steps = 1
    while True:
        elapsed, _ = timed(run, steps, collect=False)
        if elapsed >= seconds / 4 or steps >= max_steps:
            break
        steps = min(max_steps, steps * 4)
    per_step = elapsed / steps
    return int(min(max_steps, max(1, round(seconds / per_step))))


def bench_cell(net, batch_size, contenders, x_by_dtype, t, args, probes):
    """Time every contender on one (network, batch size) cell; returns {name: result}.

    ``probes`` ({dtype: machine.GemmProbe}) are timed once per round after the contenders;
    ``result[GEMM_KEY]`` holds their median GEMM rate, the FLOP limit's rate for this cell.
    """
    runners, results = {}, {}
    for name, cont in contenders.items():
        try:
            run = cont.build(net, batch_size, x_by_dtype[cont.dtype], t, lr=args.lr,
                             seed=args.seed)
            steps = calibrate(run, batch_size, len(t), args.seconds)
        except Exception as exc:  # a contender that breaks must not stop the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            log(f"  {name}: FAILED {type(exc).__name__}: {exc}")
            continue
        runners[name] = (run, steps)
        results[name] = {"steps": steps, "rates": [], "losses": []}
    names = list(runners)
    # move everything alive now (libraries, models, data) out of the collector's sight, so
    # that the gc.collect() before each timed run is quick (a full collection over torch's
    # and scikit-learn's objects takes ~0.2 s)
    gc.collect()
    gc.freeze()
    gemm_rates = {dt: [] for dt in probes}
    for r in range(args.repeats):
        order = names[r % len(names):] + names[: r % len(names)] if names else []
        for name in order:
            run, steps = runners[name]
            elapsed, loss = timed(run, steps, args.pause)
            results[name]["rates"].append(steps * batch_size / elapsed)
            results[name]["losses"].append(loss)
        for dt, probe in probes.items():  # the limit, under this round's load
            time.sleep(args.pause)
            gemm_rates[dt].append(probe.measure(args.probe_seconds))
    results[GEMM_KEY] = {dt: float(np.median(v)) for dt, v in gemm_rates.items() if v}
    base = results.get(BASELINE, {}).get("rates")
    for name in names:
        res = results[name]
        rates = np.array(res["rates"])
        res["median"] = float(np.median(rates))
        res["min"] = float(rates.min())
        res["max"] = float(rates.max())
        if base:
            res["ratio"] = float(np.median(rates / np.array(base)))
    return results


# ---------------------------------------------------------------------------- memory


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def memory_child(args):
    """Run in a fresh process: one epoch of ``args.net`` for one contender; print JSON."""
    cont = make_contender(args.memory_child)
    x, t, _ = data.load(seed=args.seed, synthetic=args.synthetic)
    if cont.dtype != "float32":
        x = x.astype(cont.dtype)
    net = C.NETS[args.net]
    run = cont.build(net, args.batch, x, t, lr=args.lr, seed=args.seed)
    run(1)
    gc.collect()
    start_kb = _status_kb("VmRSS")
    try:  # reset the high-water mark so that loading and building do not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    n_steps = args.samples // args.batch
    run(n_steps)
    peak_kb = _status_kb("VmHWM")
    print(json.dumps({"start_mb": start_kb / 1024, "peak_mb": peak_kb / 1024,
                      "reset": reset, "samples": n_steps * args.batch}))
    return 0


def measure_memory(names, args):
    out = {}
    for name in names:
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "benchmarks.train_mlp", "--memory-child", name,
               "--net", args.mem_net, "--batch", str(args.mem_batch),
               "--samples", str(args.mem_samples), "--lr", str(args.lr),
               "--seed", str(args.seed)] + (["--synthetic"] if args.synthetic else []) \
            + (["--threads", str(args.threads)] if args.threads else [])
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
        if proc.returncode != 0:
            out[name] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        else:
            out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        log(f"  memory {name}: {out[name]} ({time.perf_counter() - t0:.1f} s)")
    return out


# ---------------------------------------------------------------------------- report


def fmt_rate(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def report(env, gemm, cells, memory, skipped, args, started, finished, load_before, load_after):
    lines = []
    w = lines.append
    w("# ippo training benchmark: MLP on MNIST-shaped data")
    w("")
    w(f"Run {started:%Y-%m-%d %H:%M} – {finished:%H:%M} UTC, "
      f"`python -m benchmarks.train_mlp {' '.join(sys.argv[1:])}`".rstrip() + ".")
    w("")
    w("## Environment")
    w("")
    w(f"- CPU: {env['cpu']}, {env['cores']} logical cores; {env['platform']}")
    w("- Load average (1, 5, 15 min) at start: "
      + (", ".join(f"{v:.2f}" for v in load_before) if load_before else "n/a")
      + "; at end: " + (", ".join(f"{v:.2f}" for v in load_after) if load_after else "n/a"))
    w("- Versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    w("- BLAS / threading libraries loaded: " + "; ".join(env["blas"]))
    if args.threads:
        w(f"- Threads limited to {args.threads} (`--threads`) in every library")
    if "torch_threads" in env:
        default = "" if args.threads else " (default)"
        w(f"- PyTorch: {env['torch_threads']} threads{default}, {env['torch_blas']}, "
          f"oneDNN {'on' if env['torch_mkldnn'] else 'off'}")
    w(f"- Data: {args.data_source}")
    n = args.gemm_n
    w(f"- GEMM rate (np.dot, {n}² · {n}², median of {3 if args.quick else 5}): float32 "
      f"{gemm['float32'][0] / 1e9:.1f} GFLOP/s (min {gemm['float32'][1] / 1e9:.1f}, max "
      f"{gemm['float32'][2] / 1e9:.1f}); float64 {gemm['float64'][0] / 1e9:.1f} GFLOP/s "
      f"(min {gemm['float64'][1] / 1e9:.1f}, max {gemm['float64'][2] / 1e9:.1f})")
    w("")
    w("## What was timed")
    w("")
    w(f"Plain SGD (lr {args.lr}, no momentum, no weight decay), softmax cross-entropy, "
      "shuffled mini-batches. Per cell every contender was warmed up and calibrated to a "
      f"fixed number of steps (column *steps*) lasting about {args.seconds} s, then timed "
      f"{args.repeats} times round-robin. *samples/s*: median (min–max) over the rounds; "
      "*× torch*: median over rounds of the per-round ratio to PyTorch; *% limit*: median "
      "samples/s ÷ FLOP limit, the limit being (GEMM rate of the contender's dtype) ÷ "
      "(6 FLOPs × weights), with the GEMM rate measured in every round of the same cell "
      "(the same products, after the contenders), so that it sees the same machine load. "
      "The step itself needs fewer than 6 FLOPs per weight (no input gradient for the first "
      "layer: 4), so a cell can exceed 100 %.")
    w("")
    w(summary_section(cells))
    if skipped:
        w("")
        for name, why in skipped.items():
            w(f"- `{name}` skipped: {why}")
    for net in cells:
        w("")
        lim32 = machine.flop_limit(net.sizes, gemm["float32"][0])
        lim64 = machine.flop_limit(net.sizes, gemm["float64"][0])
        w(f"## {net.title}: {machine.n_weights(net.sizes):,} weights; FLOP limit at the "
          f"run's start {fmt_rate(lim32)} samples/s (float32), {fmt_rate(lim64)} (float64)")
        w("")
        w("| batch | contender | dtype | steps | samples/s median | min – max | × torch "
          "| % limit |")
        w("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
        cell_rates = []
        for batch, results in cells[net].items():
            rates = results.get(GEMM_KEY, {})
            cell_rates.append(f"batch {batch}: " + ", ".join(
                f"{dt} {v / 1e9:.1f}" for dt, v in rates.items()))
            for name, res in results.items():
                if name == GEMM_KEY:
                    continue
                dtype = args.dtypes[name]
                if "error" in res:
                    w(f"| {batch} | {name} | {dtype} | – | failed: {res['error']} | | | |")
                    continue
                lim = cell_limit(net, results, dtype, gemm)
                ratio = f"{res['ratio']:.2f}" if "ratio" in res else "–"
                w(f"| {batch} | {name} | {dtype} | {res['steps']} | {fmt_rate(res['median'])} "
                  f"| {fmt_rate(res['min'])} – {fmt_rate(res['max'])} | {ratio} "
                  f"| {100 * res['median'] / lim:.0f} % |")
        w("")
        w("GEMM rate (GFLOP/s) measured in each round of each cell, median, used for *% limit*: "
          + "; ".join(cell_rates) + ".")
    if memory:
        w("")
        w(f"## Peak resident memory, network ({args.mem_net}), batch {args.mem_batch}, "
          f"{args.mem_samples:,} samples")
        w("")
        w("Each contender in its own fresh process: data loaded (converted to the contender's "
          "dtype), model built, one warm-up step, then the high-water mark reset and the "
          "samples trained. *peak* is the process's peak RSS during training; *above start* "
          "subtracts the RSS just before it (library, data and model already resident).")
        w("")
        w("| contender | peak RSS MiB | RSS at start MiB | above start MiB |")
        w("| --- | ---: | ---: | ---: |")
        for name, m in memory.items():
            if "error" in m:
                w(f"| {name} | failed: {m['error']} | | |")
            else:
                w(f"| {name} | {m['peak_mb']:.0f} | {m['start_mb']:.0f} "
                  f"| {m['peak_mb'] - m['start_mb']:.0f} |")
    w("")
    w(targets_section(cells, memory, gemm))
    return "\n".join(lines) + "\n"


def cell_limit(net, results, dtype, gemm):
    """The FLOP limit (samples/s) of ``net`` in ``dtype``, at the GEMM rate measured inside the
    cell (interleaved with the contenders), or at the run's start when there is none."""
    key = "float32" if dtype == "float32" else "float64"
    rate = results.get(GEMM_KEY, {}).get(key) or gemm[key][0]
    return machine.flop_limit(net.sizes, rate)


def summary_section(cells):
    """One table: every contender's samples/s ÷ PyTorch's, per network and batch size."""
    batches = sorted({b for by_batch in cells.values() for b in by_batch})
    names = []
    for by_batch in cells.values():
        for results in by_batch.values():
            names += [n for n, r in results.items() if n not in (BASELINE, GEMM_KEY)
                      and n not in names and "ratio" in r]
    if not names:
        return "## Summary\n\nNo ratio to PyTorch (it did not run).\n"
    out = ["## Summary: samples/s ÷ PyTorch's (median of the per-round ratios)", "",
           "| net | contender | " + " | ".join(f"batch {b}" for b in batches) + " |",
           "| --- | --- | " + " | ".join("---:" for _ in batches) + " |"]
    for net, by_batch in cells.items():
        for name in names:
            vals = []
            for b in batches:
                r = by_batch.get(b, {}).get(name, {})
                vals.append(f"{r['ratio']:.2f}" if "ratio" in r else "–")
            if any(v != "–" for v in vals):
                out.append(f"| {net.key} | {name} | " + " | ".join(vals) + " |")
    return "\n".join(out)


def targets_section(cells, memory, gemm):
    """The issue's targets for float32 ippo, each marked met / missed with the measured value."""
    rows = []
    for net, by_batch in cells.items():
        for batch, results in by_batch.items():
            res = results.get("ippo", {})
            if "ratio" not in res:
                continue
            goal = 3.0 if batch == 1 else 1.0 if batch >= 1000 else 1.3
            ok = res["ratio"] >= goal
            rows.append(f"| {net.key} | batch {batch} ≥ {goal}× torch | {res['ratio']:.2f}× "
                        f"| {'met' if ok else '**missed**'} |")
            if net.key == "c" and batch == 1000:
                frac = res["median"] / cell_limit(net, results, "float32", gemm)
                rows.append(f"| c | batch 1000 ≥ 85 % of FLOP limit | {100 * frac:.0f} % "
                            f"| {'met' if frac >= 0.85 else '**missed**'} |")
    mi, mt = memory.get("ippo", {}), memory.get("torch", {})
    if "peak_mb" in mi and "peak_mb" in mt:
        ok = mi["peak_mb"] <= mt["peak_mb"]
        rows.append(f"| c | peak RSS ≤ torch's | {mi['peak_mb']:.0f} vs {mt['peak_mb']:.0f} MiB "
                    f"| {'met' if ok else '**missed**'} |")
    if not rows:
        return "## Targets\n\nNot evaluated: the `ippo` or `torch` contender did not run.\n"
    head = ["## Targets (float32 ippo)", "", "| net | target | measured | |",
            "| --- | --- | ---: | --- |"]
    return "\n".join(head + rows) + "\n"


# ---------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_mlp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="short timings (0.1 s × 3 rounds) and a 5-step memory run: < 2 min")
    p.add_argument("--nets", default="a,b,c", help="networks to run (default a,b,c)")
    p.add_argument("--batches", default="1,32,100,1000", help="batch sizes")
    p.add_argument("--contenders", default=",".join(DEFAULT_CONTENDERS),
                   help="comma-separated; also available: ippo-step, numpy-book-f32")
    p.add_argument("--repeats", type=int, help="timed rounds per cell (default 5, quick 3)")
    p.add_argument("--seconds", type=float,
                   help="target seconds per timed run (default 0.5, quick 0.1)")
    p.add_argument("--threads", type=int,
                   help="limit BLAS / OpenMP / torch threads (default: each library's default)")
    p.add_argument("--pause", type=float,
                   help="idle seconds before each timed run (default 0.15, quick 0.03)")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--synthetic", action="store_true",
                   help="random MNIST-shaped data even when MNIST is on disk")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory children")
    p.add_argument("--mem-net", default="c", choices=sorted(C.NETS))
    p.add_argument("--mem-batch", type=int, default=1000)
    p.add_argument("--mem-samples", type=int, help="samples (default 60000, quick 5000)")
    p.add_argument("--n-train", type=int, default=None,
                   help="use only the first N training samples (default: all 60000)")
    p.add_argument("--output", default="benchmarks/last_run.md",
                   help="Markdown file to write (default benchmarks/last_run.md)")
    p.add_argument("--gemm-n", type=int, default=1536, help=argparse.SUPPRESS)
    p.add_argument("--probe-seconds", type=float, help=argparse.SUPPRESS)
    p.add_argument("--memory-child", metavar="CONTENDER", help=argparse.SUPPRESS)
    p.add_argument("--net", default="c", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=1000, help=argparse.SUPPRESS)
    p.add_argument("--samples", type=int, default=60000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.seconds is None:
        args.seconds = 0.1 if args.quick else 0.5
    if args.probe_seconds is None:
        args.probe_seconds = 0.05 if args.quick else 0.15
    if args.pause is None:
        args.pause = 0.03 if args.quick else 0.15
    if args.mem_samples is None:
        args.mem_samples = 5000 if args.quick else 60000
    return args


def limit_threads(n):
    """Use ``n`` threads in every BLAS / OpenMP pool, now and in libraries loaded later."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)  # read by torch / scipy at import and by the children
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        limit_threads(args.threads)
    if args.memory_child:
        return memory_child(args)
    started = datetime.now(timezone.utc)
    load_before = machine.load_average()
    nets = [C.NETS[k.strip()] for k in args.nets.split(",") if k.strip()]
    batches = [int(b) for b in args.batches.split(",")]
    contenders, skipped = {}, {}
    for name in [n.strip() for n in args.contenders.split(",") if n.strip()]:
        cont = make_contender(name)
        why = cont.unavailable()
        if why:
            skipped[name] = why
            log(f"skipping {name}: {why}")
        else:
            contenders[name] = cont
    args.dtypes = {name: c.dtype for name, c in contenders.items()}
    x, t, args.data_source = data.load(seed=args.seed, synthetic=args.synthetic)
    if args.n_train:
        x, t = x[:args.n_train], t[:args.n_train]
        args.data_source += f", first {len(x):,} samples"
    x_by_dtype = {"float32": x}
    for cont in contenders.values():
        if cont.dtype not in x_by_dtype:
            x_by_dtype[cont.dtype] = x.astype(cont.dtype)
    log("measuring the GEMM rate ...")
    reps, min_time = (3, 0.1) if args.quick else (5, 0.2)
    gemm = {dt: machine.gemm_rate(getattr(np, dt), n=args.gemm_n, repeats=reps,
                                  min_time=min_time)
            for dt in ("float32", "float64")}
    probe_dtypes = {"float32"} if args.quick else set(args.dtypes.values()) | {"float32"}
    probes = {dt: machine.GemmProbe(getattr(np, dt), n=args.gemm_n) for dt in sorted(probe_dtypes)}
    cells = {}
    for net in nets:
        cells[net] = {}
        for batch in batches:
            log(f"{net.title}, batch {batch} ...")
            t0 = time.perf_counter()
            cells[net][batch] = bench_cell(net, batch, contenders, x_by_dtype, t, args, probes)
            log(f"  ({time.perf_counter() - t0:.1f} s)")
            for name, res in cells[net][batch].items():
                if name != GEMM_KEY and "median" in res:
                    log(f"  {name:14s} {res['median']:12,.0f} samples/s"
                        + (f"  ×torch {res['ratio']:.2f}" if "ratio" in res else ""))
    memory = {}
    if not args.no_memory:
        log("peak memory, one child process per contender ...")
        memory = measure_memory(list(contenders), args)
    env = machine.environment()
    text = report(env, gemm, cells, memory, skipped, args, started,
                  datetime.now(timezone.utc), load_before, machine.load_average())
    print(text)
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        log(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
