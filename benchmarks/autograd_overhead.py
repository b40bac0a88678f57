"""How much does recording the graph cost? ippo.autograd vs ippo.models, same MLP, same steps.

Trains the 784-100-10 ReLU MLP on MNIST-shaped random data (float32, batch 100, plain SGD)
both ways, in one interleaved run: each repeat times ``--steps`` training steps of one, then
of the other (the order alternates), so that the noise of a shared machine hits both alike.
Prints the per-step times and the ratio autograd / models (median over repeats of the
per-repeat ratios, and the ratio of the best times).

    python benchmarks/autograd_overhead.py [--repeats 15] [--steps 20] [--threads 1]

``--threads N`` limits the BLAS threads (through threadpoolctl, when installed): on a
loaded 2-core machine, multi-threaded BLAS timings are mostly noise.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ippo import models, optimizers  # noqa: E402
from ippo.autograd import nn  # noqa: E402


def make_runners(sizes, batch, n, lr, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0]), dtype=np.float32)
    t = rng.integers(0, sizes[-1], n)
    order = rng.permutation(n)

    ref = models.MLP(sizes, seed=seed)
    ref_opt = optimizers.SGD(lr=lr)
    ag = nn.MLP(sizes, seed=seed)
    ag_opt = nn.Optimizer(optimizers.SGD(lr=lr), ag.parameters())
    pos = {"models": 0, "autograd": 0}

    def batches(name, steps):
        for _ in range(steps):
            i = pos[name]
            if i + batch > n:
                i = 0
            pos[name] = i + batch
            idx = order[i:i + batch]
            yield x[idx], t[idx]

    def run_models(steps):
        for xb, tb in batches("models", steps):
            loss = ref.loss(xb, tb)
            ref.backward()
            ref_opt.update(ref.params, ref.grads)
        return loss

    def run_autograd(steps):
        for xb, tb in batches("autograd", steps):
            loss = ag.loss(xb, tb)
            ag_opt.zero_grad()
            loss.backward()
            ag_opt.step()
        return loss.item()

    return {"models": run_models, "autograd": run_autograd}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--sizes", type=int, nargs="+", default=[784, 100, 10])
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    args = p.parse_args(argv)
    if args.threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            print("--threads needs threadpoolctl; running with the default thread count")
        else:
            threadpool_limits(args.threads)

    runners = make_runners(args.sizes, args.batch, n=6000, lr=0.1, seed=0)
    for run in runners.values():  # warm up: caches, BLAS threads, lazy optimizer state
        run(3)
    times = {k: [] for k in runners}
    names = list(runners)
    for r in range(args.repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            runners[name](args.steps)
            times[name].append((time.perf_counter() - start) / args.steps)
    ratios = [a / m for a, m in zip(times["autograd"], times["models"], strict=True)]
    sizes = "-".join(map(str, args.sizes))
    threads = f", {args.threads} BLAS thread(s)" if args.threads else ""
    print(f"MLP {sizes}, batch {args.batch}, float32, SGD{threads}; {args.repeats} interleaved "
          f"repeats of {args.steps} steps")
    for name in names:
        ts = times[name]
        print(f"  {name:9s} median {statistics.median(ts) * 1e3:7.3f} ms/step, "
              f"best {min(ts) * 1e3:7.3f} ms/step")
    print(f"  ratio autograd/models: median of per-repeat ratios "
          f"{statistics.median(ratios):.3f}, best-vs-best "
          f"{min(times['autograd']) / min(times['models']):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
