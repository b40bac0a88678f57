"""``ippo gradcheck``: back-propagation against numerical gradients, on a small random MLP of
each task, as a table."""

import numpy as np

from ippo.commands import _common as C
from ippo.tasks import ACTIVATIONS


def add_parser(subparsers):
    """Register ``ippo gradcheck`` and its options with the ``argparse`` subparsers."""
    p = subparsers.add_parser(
        "gradcheck",
        help="check back-propagation against numerical gradients on small random MLPs",
        description="Build a small random MLP for each task (regression, binary, multiclass), "
        "compare its back-propagated gradients with numerical ones in float64, and print the "
        "relative error per parameter.",
    )
    p.add_argument("--activation", default="all",
                   help=", ".join(ACTIVATIONS) + ", or all (default)")
    p.add_argument("--sizes", default="4,6,5", metavar="IN,HIDDEN...",
                   help="input and hidden sizes, comma-separated (default 4,6,5)")
    p.add_argument("--batch", type=int, default=8, help="samples in the batch (default 8)")
    p.add_argument("--init", default="auto",
                   help="initial weights: auto (default), he, xavier, or a std such as 0.1")
    p.add_argument("--batchnorm", action="store_true", help="add batch normalization")
    p.add_argument("--dropout", default=0.0, help="dropout ratio (default 0)")
    p.add_argument("--weight-decay", default=0.0, help="L2 weight decay λ")
    p.add_argument("--seed", default=0, help="random seed (default 0)")
    p.set_defaults(func=run, command="gradcheck")


def run(args):
    """Check every parameter's gradient on small random MLPs; returns 0 when all
    pass, 1 otherwise."""
    from ippo.gradcheck import TOLERANCE, gradient_check_kink_free, random_targets
    from ippo.models import MLP

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--sizes: expected comma-separated integers, got {args.sizes!r}") \
            from None
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError(f"--sizes: expected positive integers, got {args.sizes!r}")
    if args.batch < 2:
        raise ValueError(f"--batch: must be at least 2, got {args.batch}")
    # the options ippo train shares are checked by its own checks (ippo.commands._common)
    for key in ("seed", "dropout", "weight_decay", "init"):
        setattr(args, key, C.OPTIONS[key][0](getattr(args, key)))
    init = args.init
    if args.activation == "all":
        activations = list(ACTIVATIONS)
    elif args.activation in ACTIVATIONS:
        activations = [args.activation]
    else:
        raise ValueError(f"--activation: must be one of {', '.join(ACTIVATIONS)} or all, got "
                         f"{args.activation!r}")
    rng = np.random.default_rng(args.seed)
    outputs = {"regression": 2, "binary": 1, "multiclass": 3}
    rows, worst = [], 0.0
    for task, n_out in outputs.items():
        for activation in activations:
            model = MLP(sizes + [n_out], activation=activation, task=task, init=init,
                        dropout=args.dropout,
                        batchnorm=args.batchnorm, weight_decay=args.weight_decay,
                        dtype=np.float64, seed=int(rng.integers(2**31)))
            # biases away from 0, so that no ReLU sits exactly on its kink
            for name, p in zip(model.param_names, model.params, strict=True):
                if name.endswith(".b"):
                    p[...] = rng.uniform(-0.5, 0.5, p.shape)

            def draw(task=task, n_out=n_out):
                return (rng.standard_normal((args.batch, sizes[0])),
                        random_targets(task, args.batch, n_out, rng))

            # inputs next to a ReLU kink are drawn again: the numerical gradient is
            # meaningless there (see ippo.gradcheck.KinkWarning)
            for name, err in gradient_check_kink_free(model, draw).items():
                rows.append((task, activation, name, err))
                worst = max(worst, err)
    width = max(len(r[2]) for r in rows)
    arch = "-".join(map(str, sizes))
    print(f"MLP {arch}-out (out: regression 2, binary 1, multiclass 3), batch {args.batch}, "
          f"float64" + ("" if init == "auto" else f", init {init}"))
    print(f"relative error of back-propagation vs numerical gradient (pass < {TOLERANCE:g})")
    print(f"{'task':<11} {'activation':<11} {'parameter':<{width}}  {'rel. error':>10}")
    for task, activation, name, err in rows:
        mark = "ok" if err < TOLERANCE else "FAIL"
        print(f"{task:<11} {activation:<11} {name:<{width}}  {err:>10.2e}  {mark}")
    failed = sum(r[3] >= TOLERANCE for r in rows)
    print(f"{len(rows) - failed}/{len(rows)} parameters pass; worst {worst:.2e}")
    return 1 if failed else 0
