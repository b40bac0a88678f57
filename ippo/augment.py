"""Data augmentation for image batches: new, slightly changed images every epoch.

Each augmenter is a callable ``augment(x, rng) -> x`` — the signature the Trainer's
``augment=`` option expects: it gets a batch and a ``numpy.random.Generator`` and returns
a new batch of the same shape and dtype (the input is never modified, labels are never
seen). Called without ``rng`` it uses its own generator seeded by ``seed``, so the same
seed gives the same output.

Batches may be (N, H, W), (N, C, H, W), or flattened (N, H*W) / (N, C*H*W) together with
``image_shape=(H, W)`` or ``(C, H, W)``.

Everything is vectorised over the batch with NumPy gathers (one fancy-indexing operation
per batch, no per-image Python loop), which is why ``scipy.ndimage`` is not used: its
``shift`` / ``rotate`` work one image at a time.
"""

import math

import numpy as np


def _as_nchw(x, image_shape, who):
    """View ``x`` as (N, C, H, W); returns the view and a function restoring the shape."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(f"{who}: expected a float image batch, got dtype {x.dtype}")
    shape = x.shape
    if x.ndim == 2:
        if image_shape is None:
            raise ValueError(f"{who}: a flattened batch of shape {shape} needs "
                             f"image_shape=(H, W) or (C, H, W)")
        ishape = tuple(image_shape)
        if len(ishape) == 2:
            ishape = (1,) + ishape
        if int(np.prod(ishape)) != shape[1]:
            raise ValueError(f"{who}: image_shape {tuple(image_shape)} has "
                             f"{int(np.prod(ishape))} pixels but the batch has {shape[1]} "
                             f"features per sample")
        v = x.reshape((shape[0],) + ishape)
    elif x.ndim == 3:
        v = x[:, None]
    elif x.ndim == 4:
        v = x
    else:
        raise ValueError(f"{who}: expected a batch (N, H, W), (N, C, H, W) or a flattened "
                         f"(N, D) with image_shape, got shape {shape}")
    return v, lambda y: y.reshape(shape)


def _rng(rng, own):
    if rng is None:
        return own
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


class Augmenter:
    """Base class: ``__call__(x, rng=None)`` handles shapes; subclasses write ``_apply``."""

    name = "augment"

    def __init__(self, image_shape=None, seed=None):
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.seed = seed
        self._own_rng = np.random.default_rng(seed)

    def __call__(self, x, rng=None):
        v, restore = _as_nchw(x, self.image_shape, type(self).__name__)
        if len(v) == 0:
            return np.array(x, copy=True)
        return restore(self._apply(v, _rng(rng, self._own_rng)))

    def _apply(self, x, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()
                         if not k.startswith("_") and v is not None)
        return f"{type(self).__name__}({args})"


class GaussianNoise(Augmenter):
    """x' = x + ε, ε ~ N(0, std²) per pixel; with ``clip=(lo, hi)`` the result is clipped.

    Works on any array shape (also plain feature vectors), not only images.
    """

    def __init__(self, std=0.05, clip=None, seed=None):
        super().__init__(None, seed)
        if not 0 <= std < math.inf:
            raise ValueError(f"GaussianNoise: std must be a finite number >= 0, got {std}")
        self.std = float(std)
        self.clip = clip

    def __call__(self, x, rng=None):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise ValueError(f"GaussianNoise: expected a float batch, got dtype {x.dtype}")
        rng = _rng(rng, self._own_rng)
        if x.dtype in (np.float32, np.float64):  # drawn in x's dtype: no float64 copy
            out = rng.standard_normal(x.shape, dtype=x.dtype)
        else:
            out = rng.standard_normal(x.shape).astype(x.dtype)
        out *= self.std  # a Python float: float32 stays float32
        out += x
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        return out


class RandomShift(Augmenter):
    """Shift each image by a random whole number of pixels in [-max_shift, max_shift] along
    each axis; pixels shifted in are ``fill`` (0 = background for MNIST-like images).

    This is the classic "random crop with padding": pad by ``max_shift``, then crop the
    original size at a random offset.
    """

    def __init__(self, max_shift=2, fill=0.0, image_shape=None, seed=None):
        super().__init__(image_shape, seed)
        if not 0 <= max_shift < math.inf:
            raise ValueError(f"RandomShift: max_shift must be a whole number >= 0, got {max_shift}")
        self.max_shift = int(max_shift)
        self.fill = float(fill)

    def _apply(self, x, rng):
        n, c, h, w = x.shape
        s = self.max_shift
        padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)), constant_values=self.fill)
        off = rng.integers(0, 2 * s + 1, size=(n, 2))
        return _crop(padded, off, h, w)


class RandomCrop(Augmenter):
    """Pad each image by ``padding`` pixels (value ``fill``), then crop ``size`` = (h, w) at a
    random position. With ``size`` = the image size this equals :class:`RandomShift`; a
    smaller size gives smaller output images."""

    def __init__(self, size=None, padding=0, fill=0.0, image_shape=None, seed=None):
        super().__init__(image_shape, seed)
        self.size = None if size is None else (tuple(size) if np.ndim(size) else (size, size))
        if not 0 <= padding < math.inf:
            raise ValueError(f"RandomCrop: padding must be a whole number >= 0, got {padding}")
        self.padding = int(padding)
        self.fill = float(fill)

    def __call__(self, x, rng=None):
        v, restore = _as_nchw(x, self.image_shape, "RandomCrop")
        h, w = self.size or v.shape[2:]
        p = self.padding
        if h > v.shape[2] + 2 * p or w > v.shape[3] + 2 * p:
            raise ValueError(f"RandomCrop: crop size {(h, w)} is larger than the padded image "
                             f"{(v.shape[2] + 2 * p, v.shape[3] + 2 * p)}")
        rng = _rng(rng, self._own_rng)
        padded = np.pad(v, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        off = np.stack([rng.integers(0, padded.shape[2] - h + 1, len(v)),
                        rng.integers(0, padded.shape[3] - w + 1, len(v))], axis=1)
        out = _crop(padded, off, h, w)
        if (h, w) == v.shape[2:]:
            return restore(out)
        return out.reshape((len(v), -1)) if np.asarray(x).ndim == 2 else (
            out[:, 0] if np.asarray(x).ndim == 3 else out)


def _crop(padded, off, h, w):
    """out[i] = padded[i, :, off[i,0]:off[i,0]+h, off[i,1]:off[i,1]+w] in one gather."""
    n = len(padded)
    rows = off[:, 0, None] + np.arange(h)  # (n, h)
    cols = off[:, 1, None] + np.arange(w)  # (n, w)
    idx_n = np.arange(n)[:, None, None]
    # advanced indices on axes 0, 2, 3 separated by a slice: result is (n, h, w, c)
    out = padded.transpose(0, 2, 3, 1)[idx_n, rows[:, :, None], cols[:, None, :]]
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


class HorizontalFlip(Augmenter):
    """Mirror each image left-right with probability ``p``. (Not for digits: a flipped
    digit is another symbol. Fine for clothing, animals, ...)"""

    def __init__(self, p=0.5, image_shape=None, seed=None):
        super().__init__(image_shape, seed)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"HorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def _apply(self, x, rng):
        flip = rng.random(len(x)) < self.p
        out = x.copy()
        out[flip] = x[flip, :, :, ::-1]
        return out


class RandomRotation(Augmenter):
    """Rotate each image about its centre by a random angle in [-max_degrees, max_degrees].

    Inverse mapping: output pixel p takes the input at c + R(-θ)(p - c) (positive θ turns
    the picture counter-clockwise on screen, like ``np.rot90``), with
    ``order=0`` nearest neighbour or ``order=1`` bilinear interpolation; points outside
    the image take ``fill``.
    """

    def __init__(self, max_degrees=10.0, order=1, fill=0.0, image_shape=None, seed=None):
        super().__init__(image_shape, seed)
        if order not in (0, 1):
            raise ValueError(f"RandomRotation: order must be 0 (nearest) or 1 (bilinear), "
                             f"got {order}")
        if not 0 <= max_degrees < math.inf:
            raise ValueError(f"RandomRotation: max_degrees must be a finite number >= 0, got "
                             f"{max_degrees}")
        self.max_degrees = float(max_degrees)
        self.order = order
        self.fill = float(fill)

    def _apply(self, x, rng):
        theta = np.deg2rad(rng.uniform(-self.max_degrees, self.max_degrees, len(x)))
        return rotate(x, theta, order=self.order, fill=self.fill)


def rotate(x, theta, order=1, fill=0.0):
    """Rotate images x (N, C, H, W) by angles ``theta`` (N,) in radians (counter-clockwise
    as displayed with row 0 at the top).

    The image is padded with ``fill`` (one pixel before, two after, so every neighbour of a
    clipped coordinate exists), source coordinates are clipped into the padded frame, and
    the pixels are gathered from the flattened batch with one index array per corner.
    """
    n, c, h, w = x.shape
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy = (np.arange(h, dtype=dt) - dt.type(cy))[:, None]  # (h, 1), broadcast below
    xx = (np.arange(w, dtype=dt) - dt.type(cx))[None, :]  # (1, w)
    cos = np.cos(theta).astype(dt)[:, None, None]
    sin = np.sin(theta).astype(dt)[:, None, None]
    # source coordinates of every output pixel, (n, h, w), in the padded frame (+1)
    sy = cos * yy + sin * xx
    sy += dt.type(cy + 1)
    sx = cos * xx - sin * yy
    sx += dt.type(cx + 1)
    np.clip(sy, 0, h + 1, out=sy)
    np.clip(sx, 0, w + 1, out=sx)
    h2, w2 = h + 3, w + 3
    # channels last, so that one index picks a pixel's every channel; one channel (the
    # common case) is gathered from a 1-D array, about twice as fast as from (pixels, 1)
    padded = np.full((n, h2, w2, c), fill, dtype=dt)
    padded[:, 1:h + 1, 1:w + 1, :] = x.transpose(0, 2, 3, 1)
    flat = padded.reshape(-1, c) if c > 1 else padded.reshape(-1)
    offset = (np.arange(n) * (h2 * w2))[:, None, None]
    if order == 0:
        out = flat[offset + np.rint(sy).astype(np.intp) * w2 + np.rint(sx).astype(np.intp)]
    else:
        y0, x0 = sy.astype(np.intp), sx.astype(np.intp)  # floor: coordinates are >= 0
        wy, wx = sy - y0, sx - x0
        if c > 1:
            wy, wx = wy[..., None], wx[..., None]
        i00 = y0 * w2
        i00 += x0
        i00 += offset
        a, b = flat[i00], flat[i00 + 1]  # the four neighbours, fresh arrays: updated in place
        d, e = flat[i00 + w2], flat[i00 + (w2 + 1)]
        b -= a  # top = a + (b - a)·wx, bottom = d + (e - d)·wx, out = top + (bottom - top)·wy
        b *= wx
        a += b
        e -= d
        e *= wx
        d += e
        d -= a
        d *= wy
        a += d
        out = a
    return np.ascontiguousarray(out.reshape(n, h, w, c).transpose(0, 3, 1, 2)).astype(
        x.dtype, copy=False)


class Compose:
    """Apply augmenters in order: ``Compose([RandomShift(2), GaussianNoise(0.05)])``.

    Passing ``image_shape`` sets it on every member that has none; ``seed`` seeds the
    generator used when called without ``rng``.
    """

    def __init__(self, augmenters, image_shape=None, seed=None):
        self.augmenters = list(augmenters)
        for a in self.augmenters:
            if not callable(a):
                raise ValueError(f"Compose: {a!r} is not callable")
            if image_shape is not None and getattr(a, "image_shape", "x") is None:
                a.image_shape = tuple(image_shape)
        self.seed = seed
        self._own_rng = np.random.default_rng(seed)

    def __call__(self, x, rng=None):
        rng = _rng(rng, self._own_rng)
        for a in self.augmenters:
            x = a(x, rng)
        return x

    def __repr__(self):
        return f"Compose({self.augmenters!r})"


#: Names accepted by :func:`from_spec` (the CLI's ``--augment``): the augmenter, its
#: parameter, the value when none is given, and what the value means (the help text).
SPEC_NAMES = {
    "shift": (RandomShift, "max_shift", 2, "pixels"),
    "crop": (RandomCrop, "padding", 2, "padding in pixels"),
    "flip": (HorizontalFlip, "p", 0.5, "probability of a mirror image"),
    "rotate": (RandomRotation, "max_degrees", 10.0, "degrees"),
    "noise": (GaussianNoise, "std", 0.05, "standard deviation"),
}


def spec_help():
    """The augmentations ``from_spec`` knows, as help text (from ``SPEC_NAMES``):
    "shift:2 (pixels), crop:2 (padding in pixels), ..."."""
    return ", ".join(f"{name}:{default:g} ({unit})"
                     for name, (_, _, default, unit) in SPEC_NAMES.items())


def from_spec(spec, image_shape=None, seed=None):
    """Build an augmenter from text like ``"shift:2,rotate:10,noise:0.05"``.

    Names: shift (pixels), crop (padding), flip (probability), rotate (degrees), noise
    (standard deviation); the number after ``:`` is optional. Image augmenters need
    ``image_shape``; "noise" works on any data.
    """
    parts = [p.strip() for p in str(spec).split(",") if p.strip()]
    if not parts:
        raise ValueError("augment: empty specification")
    augs = []
    for p in parts:
        name, _, val = p.partition(":")
        name = name.strip().lower()
        if name not in SPEC_NAMES:
            raise ValueError(f"augment: unknown augmentation {name!r}; choose from "
                             + ", ".join(SPEC_NAMES) + " (e.g. shift:2,rotate:10)")
        cls, param, default, _ = SPEC_NAMES[name]
        try:
            number = float(val) if val.strip() else default
            if not math.isfinite(number):
                raise ValueError
            value = type(default)(number)
        except ValueError:
            raise ValueError(f"augment: {name}: {val!r} is not a finite number") from None
        if cls is not GaussianNoise and image_shape is None:
            raise ValueError(f"augment: {name!r} needs image data; this data set has no "
                             f"image shape (only 'noise' works here)")
        if name in ("shift", "crop") and value >= min(image_shape[-2:]):
            raise ValueError(f"augment: {name}:{value:g} moves the image by its whole size "
                             f"{tuple(image_shape[-2:])} or more; use fewer pixels, e.g. "
                             f"{name}:{max(1, min(image_shape[-2:]) // 8)}")
        kwargs = {param: value, "seed": seed}  # used when called without rng
        if cls is not GaussianNoise:
            kwargs["image_shape"] = image_shape
        try:
            augs.append(cls(**kwargs))
        except ValueError as exc:
            raise ValueError(f"augment: {exc}") from None
    return augs[0] if len(augs) == 1 else Compose(augs, seed=seed)
