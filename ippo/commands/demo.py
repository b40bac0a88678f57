"""``ippo demo``: the math core at work, in a few printed lines."""

import numpy as np


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help="show the math core at work (activations, losses, "
                              "numerical gradients, gradient descent)")
    p.set_defaults(func=run, command="demo")


def run(args):
    from ippo import functions as F
    from ippo.numerical import gradient_descent, numerical_gradient

    np.set_printoptions(precision=4, suppress=True)
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    print("x            ", x)
    for name in ("step", "sigmoid", "relu", "tanh"):
        print(f"{name:<13}", getattr(F, name)(x))
    print("softmax([6, 4])", F.softmax(np.array([6.0, 4.0])))
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    print("cross_entropy_error(y, t=2) =", F.cross_entropy_error(y, 2))

    def f(v):
        return np.sum(v**2)

    print("∇(x0² + x1²) at (3, 4) =", numerical_gradient(f, np.array([3.0, 4.0])))
    print("gradient descent from (−3, 4), lr 0.1, 100 steps →",
          gradient_descent(f, np.array([-3.0, 4.0]), lr=0.1, steps=100))
    return 0
