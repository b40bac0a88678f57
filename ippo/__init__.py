"""ippo (一歩, "one step"): a neural-network library written from scratch on NumPy.

The package mirrors the course, one module per concept:

- ``ippo.functions``  the math core: activations, losses and their derivatives
  (``ippo.kernels``: the fused losses unchecked; ``ippo.checks``: the input checks)
- ``ippo.numerical``  numerical differentiation, the oracle every gradient is checked against
- ``ippo.graph``      computational-graph nodes (Add, Mul, Div, Exp, Branch, Repeat, Sum, MatMul)
- ``ippo.layers``     layers with hand-written forward/backward (Affine, ReLU, SoftmaxWithLoss, …)
- ``ippo.tasks``      the task and activation tables an MLP is built from
- ``ippo.models``     Sequential and MLP models, save/load (``ippo.io``: the file format)
- ``ippo.autograd``   define-by-run automatic differentiation on the same math core
- ``ippo.training``   ``Trainer.fit``: the training loop and its callbacks
- ``ippo.gradcheck``  back-propagation checked against numerical gradients

``docs/design.md`` gives the contract between them.
"""

__version__ = "0.1.0"
