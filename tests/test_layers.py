"""Every layer of ippo.layers: back-propagation against numerical gradients (float64), the
train/inference switch, in-place gradients, float32 preservation and clear shape errors."""

import warnings

import numpy as np
import pytest

from ippo import functions as F
from ippo.gradcheck import relative_error
from ippo.layers import (
    Affine,
    BatchNormalization,
    Dropout,
    Embedding,
    Identity,
    LeakyReLU,
    MatMul,
    MeanSquaredLoss,
    ReLU,
    Sigmoid,
    SigmoidWithLoss,
    SoftmaxWithLoss,
    SumSquaredLoss,
    Tanh,
    describe,
    layer_from_config,
)
from ippo.numerical import numerical_gradient

TOL = 1e-6
H = 1e-5


def rng(seed=0):
    return np.random.default_rng(seed)


def check_layer(layer, x, seed=0, input_grad=True):
    """Compare backward with numerical gradients of f = Σ forward(x)·R for a random R."""
    r = rng(seed)
    y = layer.forward(x)
    R = r.standard_normal(y.shape)

    def f(_):
        return float(np.sum(layer.forward(x) * R))

    layer.forward(x)
    dx = layer.backward(R.copy())
    analytic = [g.copy() for g in layer.grads]
    errors = {}
    if input_grad:
        errors["x"] = relative_error(dx, numerical_gradient(f, x, h=H))
    for i, p in enumerate(layer.params):
        errors[i] = relative_error(analytic[i], numerical_gradient(f, p, h=H))
    return errors


def assert_ok(errors):
    assert errors and max(errors.values()) < TOL, errors


# --------------------------------------------------------------------------- gradients


def test_affine_gradients():
    r = rng(1)
    layer = Affine(r.standard_normal((4, 3)), r.standard_normal(3))
    assert_ok(check_layer(layer, r.standard_normal((5, 4))))


def test_affine_flattens_images_and_accepts_one_sample():
    r = rng(2)
    layer = Affine(r.standard_normal((12, 3)), r.standard_normal(3))
    x = r.standard_normal((2, 3, 2, 2))
    assert layer.forward(x).shape == (2, 3)
    assert_ok(check_layer(layer, x))
    assert layer.backward(np.ones((2, 3))).shape == x.shape
    one = r.standard_normal(12)
    y = layer.forward(one)
    assert y.shape == (3,)
    np.testing.assert_allclose(y, one @ layer.W + layer.b)


def test_affine_takes_the_course_scalar_bias_for_one_unit():
    """The course's single unit: W = [[0.1], [0.2]], b = 0.5, x = [2, 3] → u = 1.3."""
    layer = Affine([[0.1], [0.2]], 0.5, dtype=np.float64)
    assert layer.b.shape == (1,)
    np.testing.assert_allclose(layer.forward(np.array([2.0, 3.0])), [1.3], rtol=1e-15)
    np.testing.assert_allclose(layer.forward(np.array([[2.0, 3.0], [0.0, 0.0]])), [[1.3], [0.5]])
    layer.backward(np.array([[1.0], [1.0]]))
    np.testing.assert_allclose(layer.grads[1], [2.0])  # db = Σₙ dout
    assert_ok(check_layer(Affine(rng(7).standard_normal((3, 1)), -0.2, dtype=np.float64),
                          rng(8).standard_normal((4, 3))))
    with pytest.raises(ValueError, match=r"scalar bias b fits one output unit.*np.full\(3, b\)"):
        Affine(np.ones((2, 3)), 0.5)


def test_matmul_gradients():
    r = rng(3)
    layer = MatMul(r.standard_normal((4, 6)))
    assert_ok(check_layer(layer, r.standard_normal((3, 4))))


@pytest.mark.parametrize("cls", [ReLU, Sigmoid, Tanh, Identity, LeakyReLU])
def test_activation_gradients(cls):
    r = rng(4)
    x = r.standard_normal((4, 5))
    x[np.abs(x) < 0.05] = 0.3  # stay away from the ReLU kink
    assert_ok(check_layer(cls(), x))


def test_activation_values_come_from_functions():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_array_equal(ReLU().forward(x), F.relu(x))
    np.testing.assert_array_equal(Sigmoid().forward(x), F.sigmoid(x))
    np.testing.assert_array_equal(Tanh().forward(x), F.tanh(x))
    np.testing.assert_array_equal(LeakyReLU(0.1).forward(x), F.leaky_relu(x, 0.1))
    assert Identity().forward(x) is x


def test_dropout_with_fixed_mask_gradients_and_inference_identity():
    r = rng(5)
    layer = Dropout(0.4, seed=0)
    x = r.standard_normal((6, 5))
    layer.forward(x)
    layer.fix_mask = True
    mask = layer.mask.copy()
    assert_ok(check_layer(layer, x))
    np.testing.assert_array_equal(layer.mask, mask)  # the mask stayed fixed
    kept = mask != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(mask[kept], 1 / (1 - 0.4))  # inverted dropout scaling
    np.testing.assert_allclose(layer.forward(x)[kept], x[kept] / 0.6)
    layer.training = False
    assert layer.forward(x) is x
    assert layer.backward(x) is x


def test_dropout_keeps_the_expected_fraction_and_is_seeded():
    x = np.ones((200, 100), dtype=np.float32)
    a, b = Dropout(0.3, seed=7), Dropout(0.3, seed=7)
    ya, yb = a.forward(x), b.forward(x)
    np.testing.assert_array_equal(ya, yb)
    assert ya.dtype == np.float32
    assert abs((ya == 0).mean() - 0.3) < 0.02
    assert abs(ya.mean() - 1.0) < 0.03  # expectation preserved
    with pytest.raises(ValueError, match="ratio"):
        Dropout(1.0)


def test_batchnorm_training_gradients():
    r = rng(6)
    layer = BatchNormalization(r.uniform(0.5, 1.5, 4), r.standard_normal(4))
    x = r.standard_normal((6, 4)) * 2 + 1
    assert_ok(check_layer(layer, x))


def test_batchnorm_normalizes_in_training_and_uses_running_averages_in_inference():
    r = rng(7)
    layer = BatchNormalization(np.ones(3), np.zeros(3), momentum=0.0)
    x = r.standard_normal((50, 3)) * 3 + 5
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-5)
    # momentum 0: the running averages are exactly this batch's statistics
    np.testing.assert_allclose(layer.running_mean, x.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, x.var(axis=0))
    layer.training = False
    x2 = r.standard_normal((4, 3))
    expected = (x2 - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + layer.eps)
    np.testing.assert_allclose(layer.forward(x2), expected)


def test_batchnorm_running_average_momentum():
    layer = BatchNormalization(np.ones(2), momentum=0.9)
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.9 * 1 + 0.1 * x.var(axis=0))


def test_embedding_repeated_indices_accumulate():
    r = rng(8)
    W = r.standard_normal((5, 3))
    layer = Embedding(W)
    idx = np.array([[0, 2, 2], [4, 2, 0]])
    y = layer.forward(idx)
    assert y.shape == (2, 3, 3)
    np.testing.assert_array_equal(y, W[idx])
    dout = r.standard_normal(y.shape)
    assert layer.backward(dout) is None
    expected = np.zeros_like(W)
    for (i, j), k in np.ndenumerate(idx):
        expected[k] += dout[i, j]
    np.testing.assert_allclose(layer.grads[0], expected)
    np.testing.assert_array_equal(layer.grads[0][[1, 3]], 0)
    assert_ok(check_layer(layer, idx, input_grad=False))
    with pytest.raises(ValueError, match="ids must lie in 0..4"):
        layer.forward(np.array([5]))


# --------------------------------------------------------------------------- losses


def check_loss(layer, x, t):
    layer.forward(x, t)
    dx = layer.backward()
    num = numerical_gradient(lambda _: layer.forward(x, t), x, h=H)
    return relative_error(dx, num)


def test_softmax_with_loss_indices_and_one_hot():
    r = rng(9)
    x = r.standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    onehot = np.eye(3)[t]
    layer = SoftmaxWithLoss()
    assert layer.forward(x, t) == pytest.approx(F.softmax_cross_entropy(x, t), rel=1e-12)
    assert layer.forward(x, onehot) == pytest.approx(F.softmax_cross_entropy(x, t), rel=1e-12)
    assert check_loss(layer, x, t) < TOL
    assert check_loss(layer, x, onehot) < TOL
    layer.forward(x, t)
    np.testing.assert_allclose(layer.backward(), (F.softmax(x) - onehot) / 4)
    np.testing.assert_allclose(layer.backward(2.0), 2 * (F.softmax(x) - onehot) / 4)


def test_sigmoid_with_loss():
    r = rng(10)
    x = r.standard_normal((5, 1))
    t = np.array([0, 1, 1, 0, 1])
    layer = SigmoidWithLoss()
    assert layer.forward(x, t) == pytest.approx(
        F.sigmoid_binary_cross_entropy(x, t.reshape(5, 1)), rel=1e-12)
    assert check_loss(layer, x, t) < TOL
    assert check_loss(layer, x, t.reshape(5, 1)) < TOL
    layer.forward(x, t)
    np.testing.assert_allclose(layer.backward(), (F.sigmoid(x) - t[:, None]) / 5)


def test_mean_squared_loss():
    r = rng(11)
    x = r.standard_normal((4, 2))
    t = r.standard_normal((4, 2))
    layer = MeanSquaredLoss()
    assert layer.forward(x, t) == pytest.approx(0.5 * np.mean((x - t) ** 2), rel=1e-12)
    assert check_loss(layer, x, t) < TOL
    x1 = r.standard_normal((4, 1))
    t1 = r.standard_normal(4)
    assert check_loss(layer, x1, t1) < TOL


def test_sum_squared_loss_is_the_per_sample_error_summed_over_outputs():
    r = rng(13)
    x = r.standard_normal((4, 3))
    t = r.standard_normal((4, 3))
    layer = SumSquaredLoss()
    # E = mean over the 4 samples of ½·Σⱼ over the 3 outputs: 3 times MeanSquaredLoss
    assert layer.forward(x, t) == pytest.approx(0.5 * np.sum((x - t) ** 2) / 4, rel=1e-12)
    np.testing.assert_allclose(layer.backward(), (x - t) / 4)
    assert check_loss(layer, x, t) < TOL
    assert check_loss(SumSquaredLoss(), r.standard_normal((4, 1)), r.standard_normal(4)) < TOL
    assert SumSquaredLoss().task == "regression"
    with pytest.raises(ValueError, match=r"^SumSquaredLoss\(\): x has shape \(4, 2\) but t has "
                                         r"shape \(4,\); expected t of shape \(4, 2\)$"):
        SumSquaredLoss().forward(np.zeros((4, 2)), np.zeros(4))


def test_loss_layers_reject_bad_target_shapes():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"^SoftmaxWithLoss\(\): x has shape \(4, 3\) but t has "
                                         r"shape \(4, 2\); t must be one-hot \(shape \(4, 3\)\) "
                                         r"or class indices \(shape \(4,\)\)$"):
        SoftmaxWithLoss().forward(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"^SigmoidWithLoss\(\): x has shape \(4, 1\) but t has "
                                         r"shape \(3,\); expected t of shape \(4, 1\) or \(4,\)$"):
        SigmoidWithLoss().forward(np.zeros((4, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"^MeanSquaredLoss\(\): x has shape \(4, 2\) but t has "
                                         r"shape \(4,\); expected t of shape \(4, 2\)$"):
        MeanSquaredLoss().forward(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="out of range"):
        SoftmaxWithLoss().forward(x, np.array([0, 1, 2, 3]))


# --------------------------------------------------------------------------- the contract


def test_backward_writes_grads_in_place():
    r = rng(12)
    layer = Affine(r.standard_normal((3, 2)))
    ids = [id(g) for g in layer.grads]
    for _ in range(2):
        layer.forward(r.standard_normal((4, 3)))
        layer.backward(r.standard_normal((4, 2)))
    assert [id(g) for g in layer.grads] == ids
    x = r.standard_normal((4, 3))
    d = r.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(d)
    np.testing.assert_allclose(layer.grads[0], x.T @ d)
    np.testing.assert_allclose(layer.grads[1], d.sum(axis=0))


def test_need_input_grad_false_skips_dx():
    layer = Affine(np.ones((3, 2)))
    layer.need_input_grad = False
    layer.forward(np.ones((4, 3)))
    assert layer.backward(np.ones((4, 2))) is None
    np.testing.assert_array_equal(layer.grads[0], np.full((3, 2), 4.0))


def test_layers_do_not_change_the_callers_arrays_unless_inplace():
    x = np.array([[-1.0, 2.0]])
    d = np.array([[5.0, 5.0]])
    relu = ReLU()
    relu.forward(x)
    dx = relu.backward(d)
    np.testing.assert_array_equal(d, [[5.0, 5.0]])
    np.testing.assert_array_equal(dx, [[0.0, 5.0]])
    relu.inplace = True
    assert relu.backward(d) is d
    W = np.ones((2, 2))
    layer = Affine(W)
    layer.params[0] += 1
    np.testing.assert_array_equal(W, 1)  # a layer owns a copy of its parameters


@pytest.mark.parametrize("cls", [Affine, MatMul])
def test_wrong_width_names_the_layer(cls):
    layer = cls(np.zeros((784, 100), dtype=np.float32))
    layer.position = 1
    with pytest.raises(ValueError) as e:
        layer.forward(np.zeros((32, 785), dtype=np.float32))
    assert str(e.value) == (
        f"{cls.__name__}(784→100) layer 1: expected input of shape (N, 784), got (32, 785)")


def test_float32_stays_float32():
    r = rng(13)
    x = r.standard_normal((4, 3)).astype(np.float32)
    layers = [Affine(r.standard_normal((3, 3)), dtype=np.float32),
              BatchNormalization(np.ones(3), dtype=np.float32), ReLU(), Sigmoid(), Tanh(),
              LeakyReLU(), Dropout(0.5, seed=0)]
    h = x
    for layer in layers:
        h = layer.forward(h)
        assert h.dtype == np.float32, layer
    d = np.ones_like(h)
    for layer in reversed(layers):
        d = layer.backward(d)
        assert d.dtype == np.float32, layer
        assert all(g.dtype == np.float32 for g in layer.grads)
    for loss, t in [(SoftmaxWithLoss(), np.array([0, 1, 2, 0])),
                    (MeanSquaredLoss(), np.zeros((4, 3), np.float32))]:
        assert isinstance(loss.forward(h, t), float)
        assert loss.backward().dtype == np.float32
    s = SigmoidWithLoss()
    s.forward(h[:, :1], np.array([0, 1, 1, 0]))
    assert s.backward().dtype == np.float32
    # a float64 input to a float32 Affine is cast, not promoted
    assert layers[0].forward(x.astype(np.float64)).dtype == np.float32


def test_config_round_trip():
    layers = [Affine(np.zeros((3, 2))), MatMul(np.zeros((2, 4))), Embedding(np.zeros((7, 2))),
              LeakyReLU(0.2), Dropout(0.25, seed=3), BatchNormalization(np.ones(5), eps=1e-3),
              SoftmaxWithLoss(), ReLU()]
    for layer in layers:
        rebuilt = layer_from_config(describe(layer), np.float32)
        assert type(rebuilt) is type(layer)
        assert describe(rebuilt) == describe(layer)
        assert [p.shape for p in rebuilt.params] == [p.shape for p in layer.params]
    with pytest.raises(ValueError, match="unknown layer type"):
        layer_from_config({"type": "Conv"})


@pytest.mark.parametrize("cls", [Affine, MatMul])
def test_one_sample_weight_gradient_is_the_exact_outer_product(cls):
    r = rng(14)
    layer = cls(r.standard_normal((6, 4)).astype(np.float32))
    x = r.standard_normal((1, 6)).astype(np.float32)
    d = r.standard_normal((1, 4)).astype(np.float32)
    layer.forward(x)
    layer.backward(d)
    np.testing.assert_array_equal(layer.grads[0], np.outer(x, d))
    assert layer.grads[0].dtype == np.float32


# --------------------------------------------------------------------------- audit: bad calls


def test_layers_accept_plain_lists_like_arrays():
    W = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    x = [[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]
    expected = np.array(x) @ np.array(W)
    np.testing.assert_array_equal(Affine(W).forward(x), expected + 0.0)
    np.testing.assert_array_equal(MatMul(W).forward(x), expected)
    bn = BatchNormalization(np.ones(3, np.float32))
    y = bn.forward(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[-1, -1, -1], [1, 1, 1]], atol=1e-3)
    # Dropout with integer input (pixels): cast to float, so the 1/(1 − r) scaling is exact
    d = Dropout(0.5, seed=0).forward(np.full((4, 5), 3))
    assert d.dtype == np.float32 and set(np.unique(d)) <= {0.0, 6.0}


def _fresh_layers():
    return [Affine(np.ones((3, 2))), MatMul(np.ones((3, 2))), Embedding(np.ones((5, 2))),
            ReLU(), LeakyReLU(), Sigmoid(), Tanh(), BatchNormalization(np.ones(2)),
            SoftmaxWithLoss(), SigmoidWithLoss(), MeanSquaredLoss()]


@pytest.mark.parametrize("layer", _fresh_layers(), ids=lambda la: type(la).__name__)
def test_backward_before_forward_is_a_clear_error(layer):
    layer.position = 2
    with pytest.raises(ValueError, match=r"layer 2: backward called before forward"):
        layer.backward(np.ones((4, 2)))


@pytest.mark.parametrize("layer,x,dout,expected", [
    (Affine(np.ones((3, 2))), np.ones((4, 3)), np.ones((4, 5)), (4, 2)),
    (Affine(np.ones((3, 2))), np.ones((4, 3)), np.ones((5, 2)), (4, 2)),
    (MatMul(np.ones((3, 2))), np.ones((4, 3)), np.ones((2,)), (4, 2)),
    (Embedding(np.ones((5, 2))), np.array([1, 2, 3]), np.ones((3, 3)), (3, 2)),
    (ReLU(), np.ones((4, 3)), np.ones((1, 3)), (4, 3)),  # would broadcast silently
    (LeakyReLU(), np.ones((4, 3)), np.ones((3,)), (4, 3)),
    (Sigmoid(), np.ones((4, 3)), np.ones((4, 1)), (4, 3)),
    (Tanh(), np.ones((4, 3)), np.ones((1, 1)), (4, 3)),
    (Dropout(0.5, seed=0), np.ones((4, 3)), np.ones((3,)), (4, 3)),
    (BatchNormalization(np.ones(3)), np.arange(12.0).reshape(4, 3), np.ones((4, 2)), (4, 3)),
    (BatchNormalization(np.ones(12)), np.arange(48.0).reshape(4, 3, 2, 2), np.ones((4, 12)),
     (4, 3, 2, 2)),
], ids=lambda v: type(v).__name__ if not isinstance(v, (np.ndarray, tuple)) else "")
def test_backward_with_a_wrong_dout_shape_names_the_layer(layer, x, dout, expected):
    layer.position = 3
    layer.forward(x)
    with pytest.raises(ValueError) as e:
        layer.backward(dout)
    assert str(e.value) == (f"{layer!r} layer 3: dout must have the shape of the last output "
                            f"{expected}, got {dout.shape}")


def test_batchnorm_gradients_on_images():
    r = rng(15)
    layer = BatchNormalization(r.uniform(0.5, 1.5, 12), r.standard_normal(12))
    x = r.standard_normal((5, 3, 2, 2)) * 2 + 1
    y = layer.forward(x)
    assert y.shape == x.shape
    assert_ok(check_layer(layer, x))


def test_batchnorm_arguments_are_checked_and_running_averages_kept():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\], got 1.5"):
        BatchNormalization(np.ones(3), momentum=1.5)
    with pytest.raises(ValueError, match="eps must be > 0, got 0"):
        BatchNormalization(np.ones(3), eps=0)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\), got \(4,\)"):
        BatchNormalization(np.ones(3), running_mean=np.zeros(4))
    with pytest.raises(ValueError, match="running_var must be >= 0"):
        BatchNormalization(np.ones(3), running_var=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="BatchNormalization: momentum must be a number"):
        BatchNormalization(np.ones(3), momentum="fast")
    layer = BatchNormalization(np.ones(2), running_mean=[1.0, 2.0], running_var=[4.0, 9.0],
                               eps=1e-12)
    layer.training = False
    np.testing.assert_allclose(layer.forward(np.array([[3.0, 5.0]])), [[1.0, 1.0]])


def test_number_arguments_are_named():
    with pytest.raises(ValueError, match="Dropout: ratio must be a number, got 'half'"):
        Dropout("half")
    with pytest.raises(ValueError, match="LeakyReLU: alpha must be a number, got None"):
        LeakyReLU(None)
    assert Dropout(0.5, seed=np.int64(3)).config() == {"ratio": 0.5, "seed": 3}


def test_float_class_indices_must_be_whole_numbers():
    x = rng(16).standard_normal((3, 4))
    layer = SoftmaxWithLoss()
    assert layer.forward(x, np.array([0.0, 3.0, 1.0])) == layer.forward(x, np.array([0, 3, 1]))
    with pytest.raises(ValueError, match="holds non-integer values, such as 0.5"):
        layer.forward(x, np.array([0.0, 0.5, 1.0]))


def test_embedding_exposes_W():
    layer = Embedding(np.arange(6.0).reshape(3, 2))
    assert layer.W is layer.params[0]
    np.testing.assert_array_equal(layer.forward([2, 0]), [[4.0, 5.0], [0.0, 1.0]])


def test_batchnorm_inference_mode_gradients():
    """At inference the running averages are constants: dx = dout·γ/√(σ²_run + ε)."""
    r = rng(17)
    layer = BatchNormalization(r.uniform(0.5, 1.5, 4), r.standard_normal(4),
                               running_mean=r.standard_normal(4),
                               running_var=r.uniform(0.5, 2.0, 4))
    layer.training = False
    x = r.standard_normal((6, 4))
    assert_ok(check_layer(layer, x))
    dout = r.standard_normal((6, 4))
    layer.forward(x)
    dx = layer.backward(dout)
    gamma, beta = layer.params
    np.testing.assert_allclose(dx, dout * gamma / np.sqrt(layer.running_var + layer.eps))
    xhat = (x - layer.running_mean) / np.sqrt(layer.running_var + layer.eps)
    np.testing.assert_allclose(layer.grads[0], (dout * xhat).sum(axis=0))
    np.testing.assert_allclose(layer.grads[1], dout.sum(axis=0))
    # images in inference mode too
    img = BatchNormalization(r.uniform(0.5, 1.5, 12), running_var=r.uniform(0.5, 2.0, 12))
    img.training = False
    assert_ok(check_layer(img, r.standard_normal((3, 3, 2, 2))))


def test_batchnorm_takes_one_1d_sample_like_affine():
    r = rng(18)
    layer = BatchNormalization(r.uniform(0.5, 1.5, 3), r.standard_normal(3),
                               running_mean=r.standard_normal(3), running_var=[1.0, 2.0, 3.0])
    layer.training = False
    x = r.standard_normal(3)
    y = layer.forward(x)
    assert y.shape == (3,)
    np.testing.assert_array_equal(y, layer.forward(x[None, :])[0])
    layer.forward(x)
    assert layer.backward(np.ones(3)).shape == (3,)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\), got \(4,\)"):
        layer.forward(np.ones(4))


def test_batchnorm_warns_about_a_training_batch_of_one():
    layer = BatchNormalization(np.ones(3), beta=[1.0, 2.0, 3.0])
    layer.position = 2
    with pytest.warns(RuntimeWarning, match=r"BatchNormalization\(3\) layer 2: a training "
                                             r"batch of one sample has no variance"):
        y = layer.forward(np.array([[5.0, -1.0, 7.0]]))
    np.testing.assert_allclose(y, [[1.0, 2.0, 3.0]])  # what the warning says: beta
    layer.training = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer.forward(np.array([[5.0, -1.0, 7.0]]))  # inference: one sample is fine


def test_leaky_relu_gradient_uses_its_own_alpha():
    x = np.array([[-2.0, -0.5, 0.5, 2.0]])
    layer = LeakyReLU(0.3)
    assert_ok(check_layer(layer, x))
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 4))), [[0.3, 0.3, 1.0, 1.0]])


def test_softmax_with_loss_on_sequences():
    """Scores (N, T, C) with index targets (N, T) or one-hot (N, T, C), as for a language
    model: the loss is averaged over the N samples, as ippo.functions does."""
    r = rng(19)
    x = r.standard_normal((2, 3, 4))
    t = r.integers(0, 4, (2, 3))
    layer = SoftmaxWithLoss()
    assert layer.forward(x, t) == pytest.approx(F.softmax_cross_entropy(x, t), rel=1e-12)
    assert check_loss(layer, x, t) < TOL
    assert check_loss(layer, x, np.eye(4)[t]) < TOL
