"""A model's state as named arrays: one walk for every model family.

A model (``ippo.models.Sequential`` or an ``ippo.autograd.nn.Module``) lists its arrays by
name ("Affine1.W", "BatchNormalization1.running_mean", ...); these functions copy them out,
load them back in place, and do the same for the random generators of its layers (Dropout's
masks), which a checkpoint needs to resume the very same run.
"""

from collections.abc import Mapping

import numpy as np

__all__ = ["copy_arrays", "load_arrays", "generator_states", "set_generator_states"]


def copy_arrays(named):
    """``{name: copy of array}`` of the ``{name: array}`` a model lists: its ``state_dict()``."""
    return {name: a.copy() for name, a in named.items()}


def load_arrays(own, state, where):
    """Copy ``state`` ({name: array}, as ``state_dict()`` returns) into the model's own arrays
    ``own`` ({name: array}) in place, cast to their dtype.

    Names must match exactly and every array must be numeric and of its target's shape;
    everything is checked before anything is copied, so on a ValueError (naming ``where``,
    the missing or unexpected names, or the array and both shapes) the model is unchanged.
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"{where}: expected a dict {{name: array}} such as state_dict() "
                         f"returns, got {type(state).__name__}")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise ValueError(
            f"{where}: names do not match the model"
            + (f"; missing keys: {', '.join(missing)}" if missing else "")
            + (f"; unexpected keys: {', '.join(map(str, unexpected))}" if unexpected else "")
        )
    sources = {}
    for k, dst in own.items():
        src = np.asarray(state[k])
        if src.shape != dst.shape:
            raise ValueError(f"{where}: {k} has shape {src.shape}, expected {dst.shape}")
        if src.dtype.kind not in "biuf":
            raise ValueError(f"{where}: {k} has non-numeric dtype {src.dtype}")
        sources[k] = src
    for k, dst in own.items():
        np.copyto(dst, sources[k], casting="unsafe")


def generator_states(layers):
    """``{position: state}`` of the ``numpy.random.Generator`` (``layer.rng``) of every layer
    that has one, by its position in ``layers`` ("3": Dropout1 of an MLP with batch
    normalization): JSON-able, what a checkpoint saves."""
    return {str(i): layer.rng.bit_generator.state for i, layer in enumerate(layers)
            if isinstance(getattr(layer, "rng", None), np.random.Generator)}


def set_generator_states(layers, states):
    """Put the generators of ``layers`` back into the ``states`` that ``generator_states``
    gave (positions absent from ``states`` are left as they are)."""
    for i, layer in enumerate(layers):
        rng = getattr(layer, "rng", None)
        if isinstance(rng, np.random.Generator) and str(i) in states:
            rng.bit_generator.state = states[str(i)]
