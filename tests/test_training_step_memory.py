"""Regression tests for the speed design of a training step (not timing tests).

A training step (``model.loss``, ``model.backward``, ``optimizer.update``, as ``Trainer.fit``
runs it) must

- allocate no new parameter-sized array: gradients are written into ``model.grads`` in place
  and the optimizer updates in place through buffers made once — so steady-state memory does
  not grow and the peak during a step stays far below the size of one weight matrix;
- keep a float32 model float32 end to end (NumPy 2 silently promotes float32 × float64
  scalars): every layer's output and input gradient, the parameters, the gradients and the
  optimizer state.

How: ``tracemalloc`` sees every NumPy data buffer. The network's weight matrices are
≥ 512 KiB each while a batch of 4 samples makes activations of a few KiB, so one stray
parameter-sized temporary (``lr * grad``, ``x.T @ dout`` without ``out=``, a float64 copy)
shows up as a jump of the per-step peak far above the threshold. The benchmark scripts in
``benchmarks/`` measure the speed itself.
"""

import tracemalloc

import numpy as np
import pytest

from ippo.models import MLP
from ippo.optimizers import SGD, Adam, Momentum
from ippo.training import Callback, Trainer

SIZES = [512, 512, 512, 256]  # weight matrices of 1 MiB, 1 MiB and 512 KiB in float32
BATCH = 4
N = 100


def data(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, SIZES[0])).astype(dtype)
    t = rng.integers(0, SIZES[-1], size=N)
    return x, t


def smallest_weight_bytes(model):
    return min(p.nbytes for p in model.params if p.ndim == 2)


class StepMemory(Callback):
    """Records, for every step after the first ``warmup``, the peak traced memory above the
    memory held at the end of the previous step, and the memory held at each step's end."""

    def __init__(self, warmup=3):
        self.warmup = warmup
        self.peaks = []
        self.ends = []
        self._last = None

    def on_batch_end(self, iteration, loss):
        current, peak = tracemalloc.get_traced_memory()
        if iteration > self.warmup and self._last is not None:
            self.peaks.append(peak - self._last)
            self.ends.append(current)
        tracemalloc.reset_peak()
        self._last = tracemalloc.get_traced_memory()[0]


def run_fit(model, optimizer, x, t, epochs=1):
    cb = StepMemory()
    tracemalloc.start()
    try:
        Trainer(model, optimizer, verbose=0).fit(
            x, t, epochs=epochs, batch_size=BATCH, seed=0, callbacks=[cb], eval_train=False
        )
    finally:
        tracemalloc.stop()
    return cb


@pytest.mark.parametrize(
    "activation, make_opt",
    [("relu", lambda: SGD(lr=0.01)), ("sigmoid", lambda: SGD(lr=0.01)),
     ("relu", lambda: Momentum(lr=0.01)), ("relu", lambda: Adam(lr=0.001))],
    ids=["relu-SGD", "sigmoid-SGD", "relu-Momentum", "relu-Adam"],
)
def test_trainer_step_allocates_no_parameter_sized_array(activation, make_opt):
    model = MLP(SIZES, activation=activation, seed=0)
    x, t = data()
    cb = run_fit(model, make_opt(), x, t)
    limit = smallest_weight_bytes(model) // 4  # 128 KiB; a batch's activations are ~8 KiB each
    assert len(cb.peaks) >= 20
    worst = max(cb.peaks)
    assert worst < limit, (
        f"a training step allocated {worst} bytes at its peak above the previous step's "
        f"memory; one weight matrix is {smallest_weight_bytes(model)} bytes: some update or "
        f"gradient makes a new parameter-sized array"
    )
    # steady state: what a step leaves behind does not grow from step to step
    assert max(cb.ends) - min(cb.ends) < limit


def test_bare_step_allocates_no_parameter_sized_array():
    """The three calls of the step themselves, without the Trainer around them."""
    model = MLP(SIZES, seed=1)
    opt = SGD(lr=0.01)
    x, t = data(seed=1)
    for i in range(3):  # warm-up: lazy optimizer buffers, first-call allocations
        model.loss(x[i * BATCH:(i + 1) * BATCH], t[i * BATCH:(i + 1) * BATCH])
        model.backward()
        opt.update(model.params, model.grads)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        peaks = []
        for i in range(3, N // BATCH):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            model.loss(x[i * BATCH:(i + 1) * BATCH], t[i * BATCH:(i + 1) * BATCH])
            model.backward()
            opt.update(model.params, model.grads)
            peaks.append(tracemalloc.get_traced_memory()[1] - before)
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    limit = smallest_weight_bytes(model) // 4
    assert max(peaks) < limit
    assert grown < limit


def test_sanity_a_parameter_sized_temporary_is_detected():
    """The method can fail: an out-of-place update (``p -= lr * g``) is caught."""
    model = MLP(SIZES, seed=2)
    x, t = data(seed=2)
    model.loss(x[:BATCH], t[:BATCH])
    model.backward()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        for p, g in zip(model.params, model.grads, strict=True):
            p -= 0.01 * g
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak >= smallest_weight_bytes(model)


class DtypeRecorder:
    """Wraps every layer's forward / backward and the loss layer to record output dtypes."""

    def __init__(self, model):
        self.seen = []
        for layer in model.layers:
            self._wrap(layer, "forward")
            self._wrap(layer, "backward")
        self._wrap(model.loss_layer, "backward")

    def _wrap(self, layer, method):
        inner = getattr(layer, method)
        name = f"{type(layer).__name__}.{method}"

        def wrapped(*args):
            out = inner(*args)
            if out is not None:
                self.seen.append((name, np.asarray(out).dtype))
            return out

        setattr(layer, method, wrapped)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_opt", [lambda: SGD(lr=0.01), lambda: Momentum(lr=0.01),
                                      lambda: Adam(lr=0.001)], ids=["SGD", "Momentum", "Adam"])
def test_step_keeps_the_model_dtype_end_to_end(dtype, make_opt):
    model = MLP(SIZES[:3] + [10], activation="sigmoid", dtype=dtype, seed=3)
    rec = DtypeRecorder(model)
    opt = make_opt()
    x, t = data(dtype=dtype, seed=3)
    history = Trainer(model, opt, verbose=0).fit(x, t % 10, epochs=1, batch_size=16, seed=0)
    assert rec.seen, "no layer was called"
    wrong = [(name, dt) for name, dt in rec.seen if dt != dtype]
    assert not wrong, f"{np.dtype(dtype).name} model produced other dtypes: {wrong[:5]}"
    assert all(p.dtype == dtype for p in model.params)
    assert all(g.dtype == dtype for g in model.grads)
    state = opt.state_dict()["state"]
    assert all(a.dtype == dtype for a in state.values())
    assert all(np.isfinite(v) for v in history.iteration_loss)


def test_float32_model_fed_float64_data_trains_in_float32():
    """float64 input is converted once: the float32 model stays float32."""
    model = MLP([20, 30, 5], seed=4)
    rec = DtypeRecorder(model)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 20))  # float64
    t = rng.integers(0, 5, size=40)
    Trainer(model, SGD(lr=0.1), verbose=0).fit(x, t, epochs=1, batch_size=8, seed=0)
    assert {dt for _, dt in rec.seen} == {np.dtype(np.float32)}
    assert all(p.dtype == np.float32 for p in model.params)
