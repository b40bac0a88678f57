"""``ippo demo``: the math core at work, in a few printed lines."""

import numpy as np


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help="show the math core at work (activations, losses, "
                              "numerical gradients, gradient descent, a computational graph)")
    p.set_defaults(func=run, command="demo")


def run(args):
    from ippo import functions as F
    from ippo.graph import Mul
    from ippo.numerical import gradient_descent, numerical_gradient

    def f(v):
        return np.sum(v**2)

    # a context, not set_printoptions: running the demo must not change global state
    with np.printoptions(precision=4, suppress=True):
        x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
        print("activations of x =", x)
        for name in ("step", "sigmoid", "relu", "tanh"):
            print(f"  {name:<8}", getattr(F, name)(x))
        print("softmax([6, 4])             =", F.softmax(np.array([6.0, 4.0])))
        y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
        print("cross_entropy_error(y, t=2) =", F.cross_entropy_error(y, 2))
        print("sum_squared_error(y, t=2)   =", F.sum_squared_error(y, np.eye(10)[2]))

        print("numerical ∇(x0² + x1²) at (3, 4) =", numerical_gradient(f, np.array([3.0, 4.0])))
        x0 = np.linspace(-3, 3, 7)
        err = np.max(np.abs(F.sigmoid_grad(x0) - numerical_gradient(
            lambda v: np.sum(F.sigmoid(v)), x0.copy())))
        print(f"sigmoid_grad vs numerical gradient: max difference {err:.1e}")
        end = gradient_descent(f, np.array([-3.0, 4.0]), lr=0.1, steps=100)
        print("gradient descent on x0² + x1² from (-3, 4), lr 0.1, 100 steps -> "
              f"({end[0]:.1e}, {end[1]:.1e})")

    mul_apple, mul_tax = Mul(), Mul()
    price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)
    d_total, d_tax = mul_tax.backward(1)
    d_apple, d_count = mul_apple.backward(d_total)
    print(f"shopping graph: 2 apples at 100, tax 1.1 -> price {price:.1f}; "
          f"d(price) {d_apple:.1f}, d(count) {d_count:.1f}, d(tax) {d_tax:.1f}")
    return 0
