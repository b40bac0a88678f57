"""ippo (一歩, "one step"): a neural-network library written from scratch on NumPy.

The package mirrors the course, one module per concept:

- ``ippo.functions``  the math core: activations, losses and their derivatives
- ``ippo.numerical``  numerical differentiation, the oracle every gradient is checked against
- ``ippo.graph``      computational-graph nodes (Add, Mul, Branch, Repeat, Sum, MatMul)
- ``ippo.layers``     layers with hand-written forward/backward (Affine, ReLU, SoftmaxWithLoss, …)
- ``ippo.models``     Sequential and MLP models, save/load
- ``ippo.gradcheck``  back-propagation checked against numerical gradients
"""

__version__ = "0.1.0"
