"""Time one training epoch of the NLP 100 Knock chapter 8 models, ippo against PyTorch.

    python -m benchmarks.news                  # 7 rounds (about a minute)
    python -m benchmarks.news --rounds 3 --output benchmarks/last_run.md

Three cases, each one epoch over the 10,671 training headlines of the shared split:

- *single layer, batch 1*: ŷ = softmax(x·W), x the 300-d features of exercise 70 (random
  numbers of that shape here: the timing does not depend on their values), plain SGD,
  one headline per step (exercise 73);
- *single layer, batch 64*: the same with mini-batches of 64;
- *fastText-style, batch 64*: the mean of 32-d embeddings over the headline's word ids
  (padding left out; the real ids of the shared split, 12,996 words), then a linear layer,
  Adam — ``Sequential([EmbeddingBag, Affine])`` against ``nn.EmbeddingBag(mode="mean",
  padding_idx=0)`` + ``nn.Linear``. Both update the whole embedding matrix densely.

ippo runs through ``Trainer.fit(epochs=1, eval_train=False)``, what ``ippo news`` runs;
PyTorch through the usual loop (shuffled ``index_select`` batches, ``zero_grad``, forward,
``backward``, ``step``). Every round times one epoch of every contender of a case in turn,
the first one alternating, so that both share the machine's noise; the ratio is the median
over rounds of the per-round ratio of epoch times (PyTorch's ÷ ippo's: above 1, ippo is
faster).
"""

import argparse
import gc
import statistics
import sys
import time
from datetime import datetime, timezone

import numpy as np

from benchmarks import machine

CASES = ("single layer, batch 1", "single layer, batch 64", "fastText-style, batch 64")
#: The fastText-style model's embedding size: ``ippo news``'s default.
FASTTEXT_DIM = 32


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def load_data(data_dir=None, dim=300, seed=0):
    """(features (N, dim) float32, labels, ids (N, L) int64, vocabulary size)."""
    from ippo.text import Tokenizer, Vocabulary, load_news

    data = load_news(data_dir)
    (titles, labels), _ = data
    tok = Tokenizer()
    tokens = [tok(s) for s in titles]
    vocab = Vocabulary.build(tokens)
    ids = vocab.encode_batch(tokens).astype(np.int64)
    x = np.random.default_rng(seed).standard_normal((len(titles), dim)).astype(np.float32)
    return x, labels.astype(np.int64), ids, len(vocab)


# ---------------------------------------------------------------------------- ippo


def ippo_single(x, t, batch_size, seed=0):
    from ippo.optimizers import SGD
    from ippo.text.classify import single_layer_model
    from ippo.training import Trainer

    model = single_layer_model(x.shape[1], 4, seed=seed)
    trainer = Trainer(model, SGD(lr=0.01), verbose=0)
    epoch = [0]

    def run():
        epoch[0] += 1
        return trainer.fit(x, t, epochs=1, batch_size=batch_size, seed=epoch[0],
                           eval_train=False)["loss"][0]

    return run


def ippo_fasttext(ids, t, vocab_size, dim=FASTTEXT_DIM, seed=0):
    from ippo.optimizers import Adam
    from ippo.text.classify import fasttext_model
    from ippo.training import Trainer

    model = fasttext_model(vocab_size, 4, dim=dim, seed=seed)
    trainer = Trainer(model, Adam(lr=0.01), verbose=0)
    epoch = [0]

    def run():
        epoch[0] += 1
        return trainer.fit(ids, t, epochs=1, batch_size=64, seed=epoch[0],
                           eval_train=False)["loss"][0]

    return run


# ---------------------------------------------------------------------------- PyTorch


def _torch_epoch(model, opt, xs, ts, batch_size, gen):
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(xs.shape[0], generator=gen)
    total = 0.0
    for s in range(0, xs.shape[0], batch_size):
        idx = order[s:s + batch_size]
        xb, tb = xs.index_select(0, idx), ts.index_select(0, idx)
        opt.zero_grad()
        loss = loss_fn(model(xb), tb)
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / xs.shape[0]


def torch_single(x, t, batch_size, seed=0):
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Linear(x.shape[1], 4, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xs, ts = torch.from_numpy(x), torch.from_numpy(t)
    gen = torch.Generator().manual_seed(seed)
    return lambda: _torch_epoch(model, opt, xs, ts, batch_size, gen)


def torch_fasttext(ids, t, vocab_size, dim=FASTTEXT_DIM, seed=0):
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.EmbeddingBag(vocab_size, dim, mode="mean", padding_idx=0),
        torch.nn.Linear(dim, 4))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xs, ts = torch.from_numpy(ids), torch.from_numpy(t)
    gen = torch.Generator().manual_seed(seed)
    return lambda: _torch_epoch(model, opt, xs, ts, 64, gen)


# ---------------------------------------------------------------------------- runner


def build(case, data):
    x, t, ids, vocab_size = data
    if case == CASES[0]:
        return {"ippo": ippo_single(x, t, 1), "torch": torch_single(x, t, 1)}
    if case == CASES[1]:
        return {"ippo": ippo_single(x, t, 64), "torch": torch_single(x, t, 64)}
    return {"ippo": ippo_fasttext(ids, t, vocab_size), "torch": torch_fasttext(ids, t,
                                                                              vocab_size)}


def time_case(runs, rounds, pause):
    """{name: [seconds per epoch, one per round]}, round-robin, first contender rotating."""
    names = list(runs)
    for run in runs.values():  # warm-up epoch: allocations, lazy state, thread pools
        run()
    times = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            gc.collect()
            time.sleep(pause)
            t0 = time.perf_counter()
            runs[n]()
            times[n].append(time.perf_counter() - t0)
    return times


def report(env, results, args, started, finished, load_before, load_after, n, vocab_size):
    v = env["versions"]
    rounds = args.rounds
    flags = f"--rounds {rounds}" + (f" --threads {args.threads}" if args.threads else "")
    lines = [
        "## NLP 100 Knock chapter 8: one training epoch, ippo against PyTorch "
        "(`benchmarks/news.py`)",
        "",
        f"Run {started:%Y-%m-%d %H:%M} – {finished:%H:%M} UTC, `python -m benchmarks.news "
        f"{flags}`: {env['cpu']}, {env['cores']} logical cores; python "
        f"{v['python']}, numpy {v['numpy']}, torch {v['torch']} "
        f"({_threads(env.get('torch_threads'))}); load average "
        f"{_load(load_before)} at the start, {_load(load_after)} at the end.",
        "",
        f"One epoch = {n:,} headlines. Seconds per epoch: median (min–max) over {rounds} "
        "rounds; *ratio*: median over rounds of PyTorch's epoch time ÷ ippo's (above 1: ippo "
        f"is faster). fastText-style: {vocab_size:,} × {FASTTEXT_DIM} embeddings, Adam.",
        "",
        "| case | ippo s/epoch | PyTorch s/epoch | ratio (PyTorch ÷ ippo) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for case, times in results.items():
        ratio = statistics.median(b / a for a, b in zip(times["ippo"], times["torch"],
                                                        strict=True))
        lines.append(f"| {case} | {_cell(times['ippo'])} | {_cell(times['torch'])} | "
                     f"{ratio:.2f} |")
    return "\n".join(lines) + "\n"


def _threads(n):
    return "? threads" if n is None else f"{n} thread" + ("s" if n != 1 else "")


def _cell(ts):
    return f"{statistics.median(ts):.3f} ({min(ts):.3f}–{max(ts):.3f})"


def _load(avg):
    return "n/a" if avg is None else ", ".join(f"{a:.2f}" for a in avg)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.news", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="timed epochs per contender")
    p.add_argument("--cases", default="all", help="comma-separated case numbers 1,2,3 "
                   "(default: all)")
    p.add_argument("--pause", type=float, default=0.2, help="seconds of rest before each "
                   "timed epoch (thread pools wind down)")
    p.add_argument("--threads", type=int, default=None, help="BLAS and PyTorch threads "
                   "(default: each library's own, 2 on the 2-core machine)")
    p.add_argument("--data-dir", help="the news folder (default: ../shared/data/news)")
    p.add_argument("--output", default="benchmarks/last_run.md", help="Markdown report")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch  # imported before the environment report names its threads

    limiter = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        limiter = threadpool_limits(args.threads)
    cases = CASES if args.cases == "all" else [CASES[int(c) - 1]
                                               for c in args.cases.split(",")]
    data = load_data(args.data_dir)
    env = machine.environment()
    load_before = machine.load_average()
    started = datetime.now(timezone.utc)
    results = {}
    for case in cases:
        log(f"{case}: building, warming up, {args.rounds} rounds")
        results[case] = time_case(build(case, data), args.rounds, args.pause)
        log("  " + ", ".join(f"{n} {statistics.median(ts):.3f} s" for n, ts in
                             results[case].items()))
    if limiter is not None:
        limiter.restore_original_limits()
    text = report(env, results, args, started, datetime.now(timezone.utc),
                  load_before, machine.load_average(), len(data[0]), data[3])
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
