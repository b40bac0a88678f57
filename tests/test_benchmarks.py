"""The benchmark code itself: the book-style reference is a correct network, and the runner
produces its Markdown table. Only NumPy is needed (torch / scikit-learn are not imported)."""

import numpy as np
import pytest

from benchmarks import numpy_reference as ref
from benchmarks import train_mlp
from ippo.numerical import numerical_gradient


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_book_reference_gradients_match_numerical_ones(activation):
    rng = np.random.default_rng(0)
    net = ref.MultiLayerNet([6, 5, 4, 3], activation, seed=1)
    x = rng.standard_normal((7, 6))
    t = rng.integers(0, 3, size=7)
    grads = net.gradient(x, t)
    for key, param in net.params.items():
        num = numerical_gradient(lambda _: net.loss(x, t), param)
        np.testing.assert_allclose(grads[key], num, rtol=1e-5, atol=1e-7, err_msg=key)


def test_book_reference_learns():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 8)).astype(np.float32)
    t = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    net = ref.MultiLayerNet([8, 16, 2], "relu", seed=0)
    before = net.loss(x, t)
    for _ in range(30):
        ref.train_steps(net, x, t, batch_size=20, learning_rate=0.1, rng=rng)
    assert net.loss(x, t) < 0.5 * before


def test_runner_writes_a_markdown_table(tmp_path, capsys):
    out = tmp_path / "bench.md"
    code = train_mlp.main([
        "--quick", "--synthetic", "--n-train", "2000", "--nets", "a", "--batches", "100",
        "--contenders", "ippo,numpy-book", "--repeats", "2", "--seconds", "0.01",
        "--pause", "0", "--no-memory", "--gemm-n", "256", "--output", str(out),
    ])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert "| 100 | ippo | float32 |" in capsys.readouterr().out
    assert "| 100 | ippo | float32 |" in text
    assert "| 100 | numpy-book | float64 |" in text
    assert "GEMM rate" in text and "FLOP limit" in text
