"""Tests of ippo.models: Sequential, MLP, save/load."""

import numpy as np

from ippo.models import MLP, load


def test_mlp_smoke_train_step_float32(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 4)).astype(np.float32)
    t = rng.integers(0, 3, 20)
    m = MLP([4, 8, 3], seed=0)
    first = m.loss(x, t)
    for _ in range(50):
        m.loss(x, t)
        m.backward()
        for p, g in zip(m.params, m.grads, strict=True):
            p -= 0.5 * g
    assert m.loss(x, t) < first / 2
    m.save(tmp_path / "m.npz")
    assert np.array_equal(load(tmp_path / "m.npz").predict(x), m.predict(x))
