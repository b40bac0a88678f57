"""Define-by-run automatic differentiation on the same math core (``ippo.functions``).

Instead of writing ``backward`` for each layer, compute with ``Tensor`` objects: every
operation is recorded as it runs, and ``loss.backward()`` derives all the gradients::

    from ippo.autograd import Tensor
    x = Tensor(3.0, requires_grad=True)
    y = x ** 2
    z = y ** 3          # z = x⁶
    z.backward()
    x.grad.data         # 6·x⁵ = 1458.0

Modules:

- ``ippo.autograd.tensor``  ``Tensor``, the graph and the backward pass, ``no_grad``
- ``ippo.autograd.ops``     the recorded operations (arithmetic, matmul, reductions,
  indexing, activations, losses), each with its backward formula
- ``ippo.autograd.nn``      ``Module``, ``Linear``, ``Sequential``, ``MLP``, and
  ``Optimizer``, the adapter that drives ``ippo.optimizers`` with a module's parameters
- ``ippo.autograd.dot``     ``to_dot``: the recorded graph as Graphviz DOT text
"""

from ippo.autograd import nn, ops
from ippo.autograd.dot import to_dot
from ippo.autograd.ops import (
    abs,
    add,
    batch_norm,
    binary_cross_entropy,
    broadcast_to,
    concatenate,
    cross_entropy,
    div,
    dropout,
    embedding,
    embedding_bag,
    exp,
    getitem,
    identity,
    l2_penalty,
    leaky_relu,
    linear,
    log,
    log_softmax,
    matmul,
    max,
    mean,
    min,
    mse,
    mul,
    neg,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sigmoid_binary_cross_entropy,
    softmax,
    sqrt,
    stack,
    sub,
    sum,
    sum_squared_error,
    sum_to,
    swapaxes,
    tanh,
    transpose,
)
from ippo.autograd.tensor import (
    Function,
    Tensor,
    as_tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
)

__all__ = [
    "Tensor",
    "Function",
    "as_tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "to_dot",
    "ops",
    "nn",
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "matmul",
    "linear",
    "sum",
    "mean",
    "max",
    "min",
    "reshape",
    "transpose",
    "swapaxes",
    "permute",
    "broadcast_to",
    "sum_to",
    "getitem",
    "concatenate",
    "stack",
    "exp",
    "log",
    "sqrt",
    "abs",
    "relu",
    "leaky_relu",
    "identity",
    "l2_penalty",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "sigmoid_binary_cross_entropy",
    "binary_cross_entropy",
    "mse",
    "sum_squared_error",
    "dropout",
    "batch_norm",
    "embedding",
    "embedding_bag",
]
