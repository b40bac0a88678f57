"""Gradient checking: back-propagation against numerical differentiation.

Back-propagation is fast but easy to get wrong; the central difference
(f(w + h) − f(w − h)) / 2h is slow but hard to get wrong. ``gradient_check`` compares the two
for every parameter of a model, in float64 (in float32 the numerical gradient itself would
only have a few correct digits).

The error reported per parameter is the relative error of its worst element, measured against
the parameter's largest gradient:

    max |g_backprop − g_numerical| / max(max |g_backprop|, max |g_numerical|, floor)

where ``floor`` is 1/1000 of the largest gradient of the whole model: a parameter whose true
gradient is 0 (a bias just before batch normalization) is otherwise judged by rounding noise.

A correct implementation gives about 1e-8 or less in float64; a wrong formula gives 1e-2 or
more.
"""

import copy

import numpy as np

from ippo.layers import Dropout
from ippo.numerical import numerical_gradient

#: Relative error under which a gradient counts as correct (float64).
TOLERANCE = 1e-6


#: The floor of the error's denominator, as a fraction of the model's largest gradient.
FLOOR = 1e-3


def _max_abs(a):
    return float(np.max(np.abs(a), initial=0.0))


def relative_error(a, b, floor=0.0):
    """max |a − b| / max(max |a|, max |b|, floor); 0 when that denominator is 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(_max_abs(a), _max_abs(b), floor)
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(a - b))) / scale


def gradient_check(model, x, t, h=1e-5):
    """{parameter name: relative error} between back-propagation and numerical gradients.

    Runs on a float64 copy of ``model`` (the model itself is not changed), in training mode,
    with every Dropout mask fixed after one forward pass so that all evaluations see the same
    network. BatchNorm uses the batch statistics, as in training.
    """
    if model.dtype == np.float64:
        m = copy.deepcopy(model).train()  # works for custom layers too
    else:
        m = model.astype(np.float64).train()
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x = x.astype(np.float64)
    t = np.asarray(t)
    if t.dtype.kind == "f":
        t = t.astype(np.float64)
    for layer in m.layers:
        if isinstance(layer, Dropout):
            layer.fix_mask = True
            layer.mask = None
    m.loss(x, t)  # draws the dropout masks
    m.loss(x, t)
    m.backward()
    analytic = [g.copy() for g in m.grads]
    numeric = [numerical_gradient(lambda _: m.loss(x, t), p, h=h) for p in m.params]
    floor = FLOOR * max([_max_abs(g) for g in analytic + numeric], default=0.0)
    return {name: relative_error(a, n, floor)
            for name, a, n in zip(m.param_names, analytic, numeric, strict=True)}
