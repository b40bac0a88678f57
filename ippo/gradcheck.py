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

Kinks: ReLU and Leaky ReLU have no derivative at 0. When an input of such a layer lies within
about h of 0, w ± h puts it on both sides of the kink and the central difference measures a
slope that back-propagation never sees — a large "error" from a correct implementation.
``gradient_check`` warns (``KinkWarning``) when any such input is within ``10·h`` of 0;
``kinks_near`` lists them, so that a test can draw other inputs, and
``gradient_check_kink_free`` draws again by itself (``ippo gradcheck`` uses it).
"""

import copy
import warnings

import numpy as np

from ippo.layers import Dropout, LeakyReLU, ReLU
from ippo.numerical import numerical_gradient

#: Relative error under which a gradient counts as correct (float64).
TOLERANCE = 1e-6


#: The floor of the error's denominator, as a fraction of the model's largest gradient.
FLOOR = 1e-3

#: Layers whose function has a kink (no derivative) at input 0.
KINKED_LAYERS = (ReLU, LeakyReLU)

#: How close to a kink, in units of the step h, an input makes the numerical gradient suspect.
KINK_MARGIN = 10


class KinkWarning(UserWarning):
    """An input of a ReLU-like layer lies so close to its kink that the numerical gradient
    straddles it: a large error there does not mean a wrong backward."""


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


def random_targets(task, n, n_out, rng):
    """Random targets for ``n`` samples of a ``task`` with ``n_out`` outputs, to check
    gradients with: class indices in 0..n_out−1 (multiclass), 0/1 labels (binary) or
    standard normal values of shape (n, n_out) (regression). ``rng``: a NumPy Generator."""
    if task == "multiclass":
        return rng.integers(0, n_out, n)
    if task == "binary":
        return rng.integers(0, 2, n)
    return rng.standard_normal((n, n_out))


def _float64(a):
    a = np.asarray(a)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def kinks_near(model, x, margin):
    """[(layer name, smallest |input|)] for every ReLU / Leaky ReLU layer of ``model`` that
    gets an input within ``margin`` of its kink at 0, when ``x`` is forwarded in the model's
    current mode (this runs the forward pass, so it replaces what ``backward`` would use)."""
    found = []
    x = _float64(x)
    for name, layer in zip(model.layer_names, model.layers, strict=True):
        if isinstance(layer, KINKED_LAYERS) and x.size:
            closest = float(np.min(np.abs(x)))
            if closest < margin:
                found.append((name, closest))
        x = layer.forward(x)
    return found


def gradient_check(model, x, t, h=1e-5):
    """{parameter name: relative error} between back-propagation and numerical gradients.

    Runs on a float64 copy of ``model`` (the model itself is not changed), in training mode,
    with every Dropout mask fixed after one forward pass so that all evaluations see the same
    network. BatchNorm uses the batch statistics, as in training. Warns with ``KinkWarning``
    when a ReLU-like layer gets an input within ``KINK_MARGIN·h`` of its kink (see above).
    """
    if model.dtype == np.float64:
        m = copy.deepcopy(model).train()  # works for custom layers too
    else:
        try:
            m = model.astype(np.float64).train()
        except ValueError as exc:  # a layer class ippo cannot rebuild in float64
            raise ValueError(f"gradient_check: cannot make a float64 copy of this "
                             f"{model.dtype} model ({exc}); build it with dtype=np.float64 "
                             f"to check it") from None
    x = _float64(x)
    t = _float64(t)
    for layer in m.layers:
        if isinstance(layer, Dropout):
            layer.fix_mask = True
            layer.mask = None
    m.loss(x, t)  # draws the dropout masks
    kinks = kinks_near(m, x, KINK_MARGIN * h)
    if kinks:
        where = ", ".join(f"{name} (|input| = {closest:.1e})" for name, closest in kinks)
        warnings.warn(f"gradient_check: an input of {where} lies within {KINK_MARGIN}·h = "
                      f"{KINK_MARGIN * h:g} of the kink at 0, where the numerical gradient is "
                      f"unreliable; a large error there does not mean a wrong backward. "
                      f"Try other inputs or biases.", KinkWarning, stacklevel=2)
    m.loss(x, t)
    m.backward()
    analytic = [g.copy() for g in m.grads]
    numeric = [numerical_gradient(lambda _: m.loss(x, t), p, h=h) for p in m.params]
    floor = FLOOR * max([_max_abs(g) for g in analytic + numeric], default=0.0)
    return {name: relative_error(a, n, floor)
            for name, a, n in zip(m.param_names, analytic, numeric, strict=True)}


def gradient_check_kink_free(model, draw, h=1e-5, tries=20):
    """``gradient_check(model, *draw(), h)`` for inputs away from every ReLU kink.

    ``draw()`` returns a new random batch ``(x, t)``; while an input of a ReLU-like layer
    lands within ``KINK_MARGIN·h`` of its kink (where the numerical gradient is meaningless,
    see ``KinkWarning``), the batch is drawn again, up to ``tries`` times (after that the
    last batch is checked and the warning shown).
    """
    for _ in range(tries - 1):
        x, t = draw()
        with warnings.catch_warnings():
            warnings.simplefilter("error", KinkWarning)
            try:
                return gradient_check(model, x, t, h=h)
            except KinkWarning:
                continue
    x, t = draw()
    return gradient_check(model, x, t, h=h)
