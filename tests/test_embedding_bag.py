"""The embedding bag (fastText's sentence vector): the formula, the layer's hand-written
backward, the autograd op, and training on integer ids — checked against numerical
gradients and against hand-computed means."""

import numpy as np
import pytest

from ippo import functions as F
from ippo.autograd import Tensor, embedding_bag
from ippo.gradcheck import gradient_check
from ippo.layers import Affine, EmbeddingBag, SoftmaxWithLoss, layer_from_config
from ippo.models import Sequential, load
from ippo.numerical import numerical_gradient
from ippo.optimizers import Adam
from ippo.training import Trainer
from tests.helpers import assert_grad_close, check_gradient

W7 = np.arange(21, dtype=np.float64).reshape(7, 3) / 10 - 1
IDS = np.array([[1, 2, 2, 0],     # a repeated id, then padding
                [3, 0, 0, 0],     # one id
                [0, 0, 0, 0],     # padding only
                [6, 5, 4, 1]])    # full row


def test_forward_is_the_mean_of_the_non_padding_rows():
    y = EmbeddingBag(W7, dtype=np.float64).forward(IDS)
    np.testing.assert_allclose(y[0], (W7[1] + 2 * W7[2]) / 3)
    np.testing.assert_allclose(y[1], W7[3])
    np.testing.assert_array_equal(y[2], np.zeros(3))          # no word: the zero vector
    np.testing.assert_allclose(y[3], (W7[6] + W7[5] + W7[4] + W7[1]) / 4)


def test_padding_idx_none_counts_every_id_and_another_padding_id_is_skipped():
    y = EmbeddingBag(W7, padding_idx=None, dtype=np.float64).forward(IDS[:2])
    np.testing.assert_allclose(y[0], (W7[1] + 2 * W7[2] + W7[0]) / 4)
    y = EmbeddingBag(W7, padding_idx=2, dtype=np.float64).forward(IDS[:1])
    np.testing.assert_allclose(y[0], (W7[1] + W7[0]) / 2)


def test_backward_matches_numerical_gradient_with_repeated_ids_and_padding():
    rng = np.random.default_rng(0)
    layer = EmbeddingBag(W7, dtype=np.float64)
    y = layer.forward(IDS)
    dout = rng.normal(size=y.shape)
    assert layer.backward(dout) is None                       # ids have no gradient
    W = W7.copy()
    check_gradient(lambda w: float((F.embedding_bag(w, IDS, layer.weights) * dout).sum()),
                   W, layer.grads[0], name="EmbeddingBag dW")
    # by hand: id 2 occurs twice in row 0 (2/3 of dout[0]); padding row 0 gets nothing
    np.testing.assert_allclose(layer.grads[0][2], 2 * dout[0] / 3)
    np.testing.assert_allclose(layer.grads[0][1], dout[0] / 3 + dout[3] / 4)
    np.testing.assert_array_equal(layer.grads[0][0], np.zeros(3))


def test_row_grads_sum_to_the_dense_gradient():
    rng = np.random.default_rng(1)
    layer = EmbeddingBag(W7, dtype=np.float64)
    dout = rng.normal(size=layer.forward(IDS).shape)
    layer.backward(dout)
    ids, rows = layer.row_grads(dout)
    assert len(ids) == 3 + 1 + 0 + 4  # one row per non-padding place of IDS
    dense = np.zeros_like(W7)
    np.add.at(dense, ids, rows)
    np.testing.assert_allclose(dense, layer.grads[0])


def test_scatter_add_rows_adds_repeated_ids_and_works_on_views():
    W = np.zeros((4, 3))
    F.scatter_add_rows(W, np.array([1, 3, 1]), np.array([[1., 2, 3], [4, 5, 6], [10, 20, 30]]))
    np.testing.assert_array_equal(W, [[0, 0, 0], [11, 22, 33], [0, 0, 0], [4, 5, 6]])
    big = np.zeros((4, 6))
    view = big[:, ::2]                                        # not contiguous
    F.scatter_add_rows(view, np.array([2, 2]), np.ones((2, 3)))
    np.testing.assert_array_equal(big[2], [2, 0, 2, 0, 2, 0])


def test_autograd_op_agrees_with_the_layer_and_has_a_second_derivative():
    rng = np.random.default_rng(2)
    dout = rng.normal(size=(4, 3))
    layer = EmbeddingBag(W7, dtype=np.float64)
    layer.forward(IDS)
    layer.backward(dout)
    W = Tensor(W7.copy(), requires_grad=True)
    y = embedding_bag(W, IDS)
    np.testing.assert_allclose(y.data, layer.forward(IDS))
    (y * Tensor(dout)).sum().backward()
    np.testing.assert_allclose(W.grad.data, layer.grads[0])

    def grad_norm(w):  # ‖∂L/∂W‖² for L = Σ y³, through the recorded backward
        wt = Tensor(w, requires_grad=True)
        (embedding_bag(wt, IDS) ** 3).sum().backward()
        return float((wt.grad.data ** 2).sum())

    W = Tensor(W7.copy(), requires_grad=True)
    (embedding_bag(W, IDS) ** 3).sum().backward(create_graph=True)
    g = W.grad
    W.grad = None
    (g * g).sum().backward()
    assert_grad_close(W.grad.data, numerical_gradient(grad_norm, W7.copy()), rtol=1e-5,
                      name="second derivative")


@pytest.mark.parametrize("ids, message", [
    (np.array([[1.0, 2.0]]), "integers"),
    (np.array([1, 2]), "shape (N, L)"),
    (np.array([[1, 7]]), "0..6"),
    (np.array([[-1, 2]]), "0..6"),
])
def test_bad_ids_are_refused_naming_the_layer(ids, message):
    with pytest.raises(ValueError, match="EmbeddingBag") as exc:
        EmbeddingBag(W7).forward(ids)
    assert message in str(exc.value)


def test_bad_padding_idx_and_backward_before_forward():
    with pytest.raises(ValueError, match="padding_idx"):
        EmbeddingBag(W7, padding_idx=7)
    with pytest.raises(ValueError, match="before forward"):
        EmbeddingBag(W7).backward(np.ones((4, 3)))


def _bag_model(seed=0):
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(7, 3)).astype(np.float32)
    return Sequential([EmbeddingBag(E), Affine(rng.normal(size=(3, 4)).astype(np.float32))],
                      SoftmaxWithLoss())


def test_model_gradient_check_save_and_load(tmp_path):
    model = _bag_model()
    errors = gradient_check(model, IDS, np.array([0, 1, 2, 3]))
    assert max(errors.values()) < 1e-6, errors
    model.save(tmp_path / "bag.npz")
    back = load(tmp_path / "bag.npz")
    assert isinstance(back.layers[0], EmbeddingBag) and back.layers[0].padding_idx == 0
    np.testing.assert_array_equal(back.scores(IDS), model.scores(IDS))
    layer = layer_from_config({"type": "EmbeddingBag", "vocab_size": 5, "dim": 2,
                               "padding_idx": None})
    assert layer.W.shape == (5, 2) and layer.padding_idx is None


def test_trainer_keeps_integer_ids_and_learns_a_word_rule():
    # class = which of the ids 1..4 a row holds (with noise words 5, 6 and padding):
    # a linear model on the bag of words separates it perfectly
    rng = np.random.default_rng(3)
    n = 400
    t = rng.integers(0, 4, size=n)
    ids = np.zeros((n, 5), dtype=np.int64)
    ids[:, 0] = t + 1
    ids[:, 1:3] = rng.integers(5, 7, size=(n, 2))
    model = _bag_model(1)
    history = Trainer(model, Adam(lr=0.05), verbose=0).fit(ids, t, epochs=30, batch_size=32,
                                                           seed=0)
    assert history["accuracy"][-1] == 1.0
    assert model.accuracy(ids, t) == 1.0
