"""A/B: the same training work timed for two checkouts of ippo, interleaved.

    git worktree add /tmp/ippo-old <commit>          # the version to compare with
    python -m benchmarks.ab_versions --old /tmp/ippo-old
    git worktree remove /tmp/ippo-old

Each version runs in its own child process (``PYTHONPATH`` = its checkout), which builds
``ippo.models.MLP`` + ``ippo.optimizers.SGD`` for every cell and trains it through
``Trainer.fit`` (one epoch over the next chunk of the data, ``eval_train=False``: the code
path of a user's training call, as ``benchmarks.train_mlp``'s ``ippo`` contender). For every
cell the number of steps is calibrated once so that a timed run takes about ``--seconds``;
then ``--rounds`` rounds time that work in both children in turn, the one going first
alternating from round to round, so that both share the machine's noise. A cell's figure is
the median over rounds of the per-round ratio new ÷ old in samples/s (> 1: the new version is
faster), with the middle half of the ratios (25th–75th percentile) beside it, and the ratio
of the two versions' best runs (the least disturbed ones): on a busy 2-core machine single
rounds move by tens of per cent, so a cell is "within noise" when the middle half holds 1.

Only the public API is used (``MLP``, ``SGD``, ``Trainer``), so any two versions compare.
The data is MNIST when it is on disk (``benchmarks.data``), else MNIST-shaped random data.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

NETS = {
    "a": ((784, 50, 10), "sigmoid"),
    "b": ((784, 100, 100, 100, 10), "relu"),
    "c": ((784, 1000, 1000, 10), "relu"),
}

ROOT = Path(__file__).resolve().parent.parent

# The child: reads one JSON command a line on stdin, answers one JSON line on stdout.
WORKER = r"""
import json, sys, time
import numpy as np
sys.path.append(sys.argv[1])   # benchmarks.data from this checkout, after PYTHONPATH's ippo
from benchmarks import data
from ippo.models import MLP
from ippo.optimizers import SGD
from ippo.training import Trainer

x, t, source = data.load(seed=0, synthetic=sys.argv[2] == "1")
cells, starts = {}, {}

def runner(key, sizes, activation, batch):
    if key not in cells:
        model = MLP(list(sizes), activation=activation, seed=0)
        cells[key] = (Trainer(model, SGD(lr=0.01), verbose=0), [0])
        starts[key] = 0
    return cells[key]

for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "hello":
        import ippo
        print(json.dumps({"source": source, "file": ippo.__file__}), flush=True)
        continue
    trainer, epoch = runner(cmd["key"], cmd["sizes"], cmd["activation"], cmd["batch"])
    b, steps = cmd["batch"], cmd["steps"]
    n = steps * b
    s = starts[cmd["key"]]
    if s + n > len(x):
        s = 0
    starts[cmd["key"]] = s + n
    epoch[0] += 1
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.fit(x[s:s + n], t[s:s + n], epochs=1, batch_size=b, shuffle=True,
                seed=epoch[0], eval_train=False)
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}),
          flush=True)
"""


class Child:
    """One version of ippo in its own process."""

    def __init__(self, checkout, synthetic, threads):
        env = dict(os.environ, PYTHONPATH=str(checkout))
        if threads:
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env[var] = str(threads)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(ROOT), "1" if synthetic else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=checkout)
        self.info = self.ask({"op": "hello"})

    def ask(self, cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the child for {cmd} died (see its error above)")
        return json.loads(line)

    def time(self, key, net, batch, steps, clock="seconds"):
        sizes, activation = NETS[net]
        return self.ask({"op": "run", "key": key, "sizes": sizes, "activation": activation,
                         "batch": batch, "steps": steps})[clock]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.ab_versions", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--old", required=True, help="checkout of the version to compare with")
    p.add_argument("--new", default=str(ROOT), help="checkout of the new version (this one)")
    p.add_argument("--nets", default="a,b,c")
    p.add_argument("--batches", default="1,100,1000")
    p.add_argument("--rounds", type=int, default=21)
    p.add_argument("--seconds", type=float, default=0.3, help="length of one timed run")
    p.add_argument("--threads", type=int, help="BLAS threads (default: the library's own)")
    p.add_argument("--clock", choices=("seconds", "cpu"), default="seconds",
                   help="what a run's time is: wall-clock seconds (default) or the child's "
                   "CPU time, which other processes on a busy machine disturb less (with "
                   "--threads 1 it is the work done)")
    p.add_argument("--synthetic", action="store_true", help="random data even if MNIST is "
                   "on disk")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    nets = args.nets.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    load_before = os.getloadavg()
    started = datetime.now(timezone.utc)
    old = Child(args.old, args.synthetic, args.threads)
    new = Child(args.new, args.synthetic, args.threads)
    print(f"old: {old.info['file']}\nnew: {new.info['file']}\ndata: {new.info['source']}",
          file=sys.stderr)
    if old.info["file"] == new.info["file"]:
        raise SystemExit("both children imported the same ippo: check --old and --new")
    rows = []
    for net in nets:
        for batch in batches:
            key = f"{net}{batch}"
            for child in (old, new):  # warm-up: first-call allocations, thread pools
                child.time(key, net, batch, 2)
            steps = 2
            while True:  # calibrate on the new version
                took = new.time(key, net, batch, steps)
                if took >= args.seconds / 2 or steps * batch * 2 > 60000:
                    break
                steps *= 2
            steps = max(1, min(int(steps * args.seconds / max(took, 1e-9)), 60000 // batch))
            ratios, rates, best = [], {"old": [], "new": []}, {"old": 1e9, "new": 1e9}
            for r in range(args.rounds):
                pair = [("old", old), ("new", new)]
                if r % 2:
                    pair.reverse()
                seconds = {name: child.time(key, net, batch, steps, args.clock)
                           for name, child in pair}
                for name in seconds:
                    rates[name].append(steps * batch / seconds[name])
                    best[name] = min(best[name], seconds[name])
                ratios.append(seconds["old"] / seconds["new"])
            q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            row = {"net": net, "batch": batch, "steps": steps,
                   "old": statistics.median(rates["old"]),
                   "new": statistics.median(rates["new"]),
                   "ratio": statistics.median(ratios), "lo": q1, "hi": q3,
                   "best": best["old"] / best["new"]}
            rows.append(row)
            print(f"({net}) batch {batch}: new/old {row['ratio']:.3f} "
                  f"[{row['lo']:.3f}, {row['hi']:.3f}] best {row['best']:.3f}", file=sys.stderr)
    old.close()
    new.close()
    finished = datetime.now(timezone.utc)
    load_after = os.getloadavg()
    print(f"A/B {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC, {os.cpu_count()} CPUs, "
          f"load {load_before[0]:.1f} → {load_after[0]:.1f}, "
          f"threads {args.threads or 'default'}, {args.rounds} rounds of ~{args.seconds} s "
          f"({'CPU time' if args.clock == 'cpu' else 'wall clock'}), "
          f"data: {new.info['source']}")
    print()
    print("| net | batch | old samples/s | new samples/s | new ÷ old (median) | middle half "
          "| best ÷ best |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in rows:
        title = f"({r['net']}) {'-'.join(map(str, NETS[r['net']][0]))} {NETS[r['net']][1]}"
        print(f"| {title} | {r['batch']} | {r['old']:,.0f} | {r['new']:,.0f} | "
              f"{r['ratio']:.3f} | {r['lo']:.2f}–{r['hi']:.2f} | {r['best']:.3f} |")
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main()
    print(f"\n({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    sys.exit(code)
