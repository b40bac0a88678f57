"""Augmentation: shapes kept, input untouched, seeds reproduce, geometry is right."""

import numpy as np
import pytest

from ippo import augment as A

RNG = np.random.default_rng(0)
IMGS = RNG.random((6, 1, 7, 7)).astype(np.float32)


def _all_augmenters(image_shape=None):
    return [A.GaussianNoise(0.1), A.RandomShift(2, image_shape=image_shape),
            A.RandomCrop(padding=2, image_shape=image_shape),
            A.HorizontalFlip(0.5, image_shape=image_shape),
            A.RandomRotation(15, image_shape=image_shape),
            A.RandomRotation(15, order=0, image_shape=image_shape)]


@pytest.mark.parametrize("layout", ["nhw", "nchw", "flat"])
def test_shapes_dtype_and_input_untouched(layout):
    x = {"nhw": IMGS[:, 0], "nchw": np.repeat(IMGS, 3, axis=1),
         "flat": IMGS.reshape(6, 49)}[layout]
    before = x.copy()
    for a in _all_augmenters((7, 7) if layout == "flat" else None):
        y = a(x, np.random.default_rng(1))
        assert y.shape == x.shape and y.dtype == x.dtype, a
        assert np.array_equal(x, before), a
        assert not np.shares_memory(x, y)


def test_fixed_seed_gives_identical_output_and_rng_argument():
    for make in (lambda: A.Compose([A.RandomShift(2), A.RandomRotation(10),
                                    A.GaussianNoise(0.05)], seed=3),):
        y1 = make()(IMGS)
        y2 = make()(IMGS)
        assert np.array_equal(y1, y2)
        a = make()
        assert not np.array_equal(a(IMGS), a(IMGS))  # fresh randomness every call
        y3 = make()(IMGS, np.random.default_rng(9))
        y4 = make()(IMGS, np.random.default_rng(9))
        assert np.array_equal(y3, y4)


@pytest.mark.parametrize("spec", ["shift:2", "rotate:10,noise:0.1"])
def test_from_spec_seed_reproduces_without_rng(spec):
    y1 = A.from_spec(spec, image_shape=(7, 7), seed=5)(IMGS)
    y2 = A.from_spec(spec, image_shape=(7, 7), seed=5)(IMGS)
    y3 = A.from_spec(spec, image_shape=(7, 7), seed=6)(IMGS)
    assert np.array_equal(y1, y2) and not np.array_equal(y1, y3)


def test_trainer_signature_with_labels_untouched():
    """The Trainer calls augment(x_batch, rng) and never passes labels: they stay paired."""
    t = np.arange(6)
    x = np.repeat(t[:, None] * 0.1, 49, axis=1).astype(np.float32)  # image i: all pixels i/10
    aug = A.from_spec("shift:1,rotate:5,noise:0.01", image_shape=(7, 7))
    xb = aug(x, np.random.default_rng(0))
    assert xb.shape == x.shape and not np.allclose(xb, x, atol=0.005)
    # row order kept: the centre pixel of output row i still belongs to image i
    np.testing.assert_allclose(xb.reshape(6, 7, 7)[:, 3, 3], t * 0.1, atol=0.05)


def test_trainer_option_fresh_variants_each_epoch_labels_paired():
    """Trainer.fit(augment=...): every training batch is augmented, afresh each epoch, and
    each augmented sample still meets its own label in the loss."""
    from ippo.models import MLP
    from ippo.optimizers import SGD
    from ippo.training import Trainer

    seen = []

    class Recording(MLP):
        def loss(self, x, t):
            if self.training:  # the training batches (not fit's inference-mode passes)
                seen.append((x.copy(), np.array(t, copy=True)))
            return super().loss(x, t)

    t = np.arange(40) % 10
    x = np.repeat((t[:, None] * 0.1 + 0.05), 49, axis=1).astype(np.float32)  # pixels t/10
    model = Recording([49, 8, 10], seed=0)
    aug = A.Compose([A.RandomShift(1), A.GaussianNoise(0.01)], image_shape=(7, 7))
    Trainer(model, SGD(lr=0.01), verbose=0).fit(x, t, epochs=2, batch_size=8, seed=0,
                                                augment=aug, eval_train=False)
    assert len(seen) == 10  # 5 batches x 2 epochs
    xs = np.concatenate([b for b, _ in seen])
    ts = np.concatenate([b for _, b in seen])
    np.testing.assert_allclose(xs.reshape(-1, 7, 7)[:, 3, 3], ts * 0.1 + 0.05, atol=0.04)
    assert not np.any(np.all(np.isclose(xs, x[ts], atol=1e-6), axis=1))  # all augmented
    # epoch 2 saw other variants (compared as multisets of pixels: the order is shuffled)
    assert not np.allclose(np.sort(xs[:40], axis=None), np.sort(xs[40:], axis=None))
    assert np.array_equal(x, np.repeat((t[:, None] * 0.1 + 0.05), 49, axis=1)
                          .astype(np.float32))  # the training data itself is untouched


def test_shift_moves_pixels_by_whole_offsets():
    x = np.zeros((50, 9, 9), np.float32)
    x[:, 4, 4] = 1.0
    y = A.RandomShift(2)(x, np.random.default_rng(0))
    assert np.all(y.sum(axis=(1, 2)) == 1.0)  # one pixel moved, none lost (max shift 2)
    pos = np.argwhere(y == 1.0)[:, 1:]
    assert np.all(np.abs(pos - 4) <= 2)
    assert len({tuple(p) for p in pos}) > 5


def test_crop_to_smaller_size():
    y = A.RandomCrop(size=5)(IMGS, np.random.default_rng(0))
    assert y.shape == (6, 1, 5, 5)
    # every crop is a window of its own image
    for i in range(6):
        win = np.lib.stride_tricks.sliding_window_view(IMGS[i, 0], (5, 5))
        assert np.any(np.all(win == y[i, 0], axis=(-1, -2)))
    with pytest.raises(ValueError, match="larger than the padded image"):
        A.RandomCrop(size=12)(IMGS)


def test_flip_probability_extremes():
    assert np.array_equal(A.HorizontalFlip(1.0)(IMGS), IMGS[..., ::-1])
    assert np.array_equal(A.HorizontalFlip(0.0)(IMGS), IMGS)


def test_rotation_by_90_degrees_matches_rot90():
    theta = np.array([np.pi / 2, -np.pi / 2])
    for order in (0, 1):
        y = A.rotate(IMGS[:2], theta, order=order)
        np.testing.assert_allclose(y[0, 0], np.rot90(IMGS[0, 0]), atol=1e-5)
        np.testing.assert_allclose(y[1, 0], np.rot90(IMGS[1, 0], -1), atol=1e-5)
    y0 = A.rotate(IMGS, np.zeros(6), order=1)
    np.testing.assert_allclose(y0, IMGS, atol=1e-6)
    # raw uint8 pixels and several channels too (interpolated in float32, returned as uint8)
    raw = (np.random.default_rng(2).random((2, 3, 5, 5)) * 255).astype(np.uint8)
    for order in (0, 1):
        y = A.rotate(raw, np.array([0.0, np.pi / 2]), order=order)
        assert y.dtype == np.uint8
        np.testing.assert_array_equal(y[0], raw[0])
        np.testing.assert_array_equal(y[1], np.rot90(raw[1], axes=(1, 2)))


def test_noise_statistics():
    x = np.zeros((200, 100), np.float32)
    y = A.GaussianNoise(0.5)(x, np.random.default_rng(0))
    assert abs(y.std() - 0.5) < 0.01 and abs(y.mean()) < 0.01
    assert A.GaussianNoise(0.5, clip=(0, 1))(x).min() == 0.0
    for dtype in (np.float16, np.float32, np.float64):  # x + noise, in x's own dtype
        x = np.full((100, 100), 2.0, dtype)
        y = A.GaussianNoise(0.1)(x, np.random.default_rng(1))
        assert y.dtype == dtype and np.all(x == 2.0)
        assert abs(float((y - x).std()) - 0.1) < 0.005 and abs(float(y.mean()) - 2.0) < 0.005


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"needs image_shape"):
        A.RandomShift(1)(np.zeros((2, 49), np.float32))
    with pytest.raises(ValueError, match="image_shape \\(8, 8\\) has 64 pixels but the batch "
                                         "has 49"):
        A.RandomShift(1, image_shape=(8, 8))(np.zeros((2, 49), np.float32))
    with pytest.raises(ValueError, match="float image batch"):
        A.RandomShift(1)(np.zeros((2, 5, 5), np.uint8))
    with pytest.raises(ValueError, match="order must be 0"):
        A.RandomRotation(order=3)
    with pytest.raises(ValueError, match="unknown augmentation 'zoom'"):
        A.from_spec("zoom:2", (8, 8))
    with pytest.raises(ValueError, match="needs image data"):
        A.from_spec("shift", None)
    with pytest.raises(ValueError, match="'x' is not a finite number"):
        A.from_spec("rotate:x", (8, 8))
    assert isinstance(A.from_spec("noise:0.1", None), A.GaussianNoise)
    for spec in ("rotate:nan", "rotate:inf", "shift:inf", "noise:nan", "crop:-inf"):
        with pytest.raises(ValueError, match=rf"augment: {spec.split(':')[0]}: "
                                             rf"'{spec.split(':')[1]}' is not a finite number"):
            A.from_spec(spec, (8, 8))
    for make in (lambda: A.GaussianNoise(float("nan")), lambda: A.RandomShift(float("inf")),
                 lambda: A.RandomRotation(float("nan")), lambda: A.RandomCrop(padding=-1),
                 lambda: A.RandomCrop(padding=float("inf"))):
        with pytest.raises(ValueError, match="must be a (finite|whole) number >= 0"):
            make()
    with pytest.raises(ValueError, match=r"crop:28 moves the image by its whole size \(28, 28\)"
                                         r" or more; use fewer pixels, e.g. crop:3"):
        A.from_spec("crop:28", (1, 28, 28))
    assert A.from_spec("shift:27", (28, 28)).max_shift == 27


def test_rotation_matches_scipy_map_coordinates():
    """Any angle, both orders, points near and beyond the border: the same as SciPy's
    ``map_coordinates`` with mode="grid-constant" (fill outside, blended at the edge)."""
    ndimage = pytest.importorskip("scipy.ndimage")
    x = np.random.default_rng(1).random((12, 2, 9, 11))
    theta = np.random.default_rng(0).uniform(-1.5, 1.5, 12)
    h, w = 9, 11
    yy, xx = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2,
                         indexing="ij")
    for order in (0, 1):
        ref = np.empty_like(x)
        for i, t in enumerate(theta):
            sy = np.cos(t) * yy + np.sin(t) * xx + (h - 1) / 2
            sx = np.cos(t) * xx - np.sin(t) * yy + (w - 1) / 2
            for c in range(2):
                ref[i, c] = ndimage.map_coordinates(x[i, c], [sy, sx], order=order,
                                                    mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(A.rotate(x, theta, order=order), ref, atol=1e-12)


def test_shift_reaches_every_offset_from_minus_s_to_plus_s():
    s = 2
    x = np.zeros((400, 9, 9), np.float32)
    x[:, 4, 4] = 1.0
    y = A.RandomShift(s)(x, np.random.default_rng(1))
    offsets = {(int(r) - 4, int(c) - 4) for r, c in np.argwhere(y == 1.0)[:, 1:]}
    assert offsets == {(dr, dc) for dr in range(-s, s + 1) for dc in range(-s, s + 1)}
