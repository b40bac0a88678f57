"""Optimizers: the rules that turn gradients into parameter updates.

Every optimizer has the same small interface (see ``docs/design.md``)::

    opt = Adam(lr=0.001)
    opt.update(model.params, model.grads)   # changes the parameter arrays in place

- ``update(params, grads)`` walks the two lists together and changes each parameter array
  **in place**. State (velocities, moments) is kept per position in the list, created lazily
  on the first call and then updated in place as well. Every step reuses the same arrays:
  the arithmetic is written with in-place ufuncs (``out=``) into one scratch buffer per
  parameter, allocated once, so a step allocates no parameter-sized array.
- Hyper-parameters stay Python floats, so a float32 model stays float32 (NumPy 2 would
  promote ``float32_array * np.float64(0.9)`` to float64).
- ``clip_norm=c`` clips by global norm: when ‖g‖ = sqrt(Σ over every gradient array of
  Σ g²) exceeds c, every gradient is scaled by c / ‖g‖ before the rule is applied. The
  scaling is folded into the update arithmetic: **the caller's ``grads`` arrays are never
  modified**, by clipping or otherwise. ``opt.last_grad_norm`` holds the norm measured on
  the last clipped step.
- ``state_dict()`` returns ``{"name", hyper-parameters, "t", "state": {"v.0": array, ...}}``
  (plain arrays and scalars only, so it can be stored in an ``.npz`` without pickle);
  ``load_state_dict(d)`` restores it, so a checkpointed run continues exactly.
- ``lr`` is a plain attribute; a learning-rate schedule may change it between steps.

The rules below use g for the gradient, η for the learning rate and ⊙ for element-wise
products; square roots and divisions are element-wise.
"""

import math

from ippo.backend import as_float, xp

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "AdaDelta",
    "Adam",
    "OPTIMIZERS",
    "get",
]


class Optimizer:
    """Base class: list handling, lazy state, clipping and ``state_dict``.

    A subclass lists its per-parameter state arrays in ``slots`` (saved in checkpoints),
    the number of scratch buffers it needs in ``n_scratch`` (never saved), its
    hyper-parameter names in ``hyper``, and implements ``_step(i, p, g, scale)`` which
    applies the rule to parameter ``p`` (position ``i``) with effective gradient
    ``scale * g``.
    """

    slots = ()
    n_scratch = 1
    hyper = ("lr",)

    def __init__(self, lr=0.01, clip_norm=None):
        self.lr = _positive_float(type(self).__name__, "lr", lr)
        if clip_norm is not None:
            clip_norm = _positive_float(type(self).__name__, "clip_norm", clip_norm)
        self.clip_norm = clip_norm
        #: number of ``update`` calls made so far
        self.t = 0
        #: global gradient norm seen on the last step (only measured when clipping)
        self.last_grad_norm = None
        self._state = {name: [] for name in self.slots}
        self._scratch = []
        self._shapes = None
        # the lists (params, grads) the last update validated: the same lists again skip
        # the per-array shape checks (only their lengths are compared)
        self._checked = (None, None, -1)

    # ------------------------------------------------------------------ public API

    def update(self, params, grads):
        """Apply one step of the rule to every ``params[i]`` using ``grads[i]``, in place.

        The shapes are checked on the first call and whenever other lists are passed; the
        same two lists again (as ``Trainer`` passes ``model.params`` / ``model.grads``) only
        have their lengths compared: online learning calls this once per sample.
        """
        n = len(params)
        if n != len(grads):
            raise ValueError(
                f"{type(self).__name__}.update: got {n} params but {len(grads)} grads"
            )
        checked_p, checked_g, checked_n = self._checked
        if params is not checked_p or grads is not checked_g or n != checked_n:
            self._ensure_state(params, grads)
            self._checked = (params, grads, n)
        scale = 1.0
        if self.clip_norm is not None:
            total = 0.0
            for g in grads:
                total += float(xp.vdot(g, g))
            norm = math.sqrt(total)
            self.last_grad_norm = norm
            if norm > self.clip_norm:
                scale = self.clip_norm / (norm + 1e-12)
        self.t += 1
        step = self._step
        for i in range(n):
            step(i, params[i], grads[i], scale)

    def state_dict(self):
        """Everything needed to continue exactly: name, hyper-parameters, step count, state.

        Returns ``{"name": str, <hyper-parameters>: float, "clip_norm": float or None,
        "t": int, "state": {"<slot>.<position>": array}}``. The arrays are copies.
        """
        d = {"name": type(self).__name__}
        for h in self.hyper:
            d[h] = getattr(self, h)
        d["clip_norm"] = self.clip_norm
        d["t"] = self.t
        d["state"] = {
            f"{name}.{i}": arr.copy()
            for name, arrays in self._state.items()
            for i, arr in enumerate(arrays)
        }
        return d

    def load_state_dict(self, d):
        """Restore what ``state_dict`` returned (state arrays are copied in place if present)."""
        name = type(self).__name__
        if not isinstance(d, dict):
            raise ValueError(f"{name}.load_state_dict: expected the dict state_dict() returns, "
                             f"got {type(d).__name__}")
        if d.get("name", name) != name:
            raise ValueError(f"{name}.load_state_dict: state was saved by {d['name']}")
        for h in self.hyper:
            if h in d:
                setattr(self, h, float(d[h]))
        if "clip_norm" in d:
            c = d["clip_norm"]
            self.clip_norm = None if c is None or (isinstance(c, float) and c != c) else float(c)
        self.t = int(d.get("t", 0))
        state = d.get("state", {})
        new = {slot: [] for slot in self.slots}
        for key, arr in state.items():
            slot, _, pos = key.rpartition(".")
            if slot not in new or not pos.isdigit():
                raise ValueError(f"{name}.load_state_dict: unknown state entry {key!r} "
                                 f"(expected '<slot>.<position>' with slots {self.slots})")
            new[slot].append((int(pos), arr))
        counts = {len(v) for v in new.values()}
        if len(counts) > 1:
            raise ValueError(f"{name}.load_state_dict: state slots have different lengths")
        for slot, items in new.items():
            items.sort(key=lambda kv: kv[0])
            if [k for k, _ in items] != list(range(len(items))):
                raise ValueError(f"{name}.load_state_dict: state positions of {slot!r} not 0..n-1")
            mine = self._state[slot]
            arrays = [a for _, a in items]
            if len(mine) == len(arrays) and all(
                m.shape == xp.shape(a) for m, a in zip(mine, arrays, strict=True)
            ):
                for m, a in zip(mine, arrays, strict=True):
                    m[...] = a  # keep the arrays (and their ids) the optimizer already has
            else:
                self._state[slot] = [xp.array(a, copy=True) for a in arrays]
        self._shapes = None  # re-validate against the parameters on the next update
        self._checked = (None, None, -1)

    def __repr__(self):
        args = ", ".join(f"{h}={getattr(self, h)!r}" for h in self.hyper)
        if self.clip_norm is not None:
            args += f", clip_norm={self.clip_norm!r}"
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ internals

    def _ensure_state(self, params, grads):
        shapes = self._shapes
        if shapes is not None and len(shapes) == len(params):
            # fast path: already checked once; only the grads' shapes are cheap to check
            try:
                for p, g, s in zip(params, grads, shapes, strict=True):
                    if p.shape != s or g.shape != s:
                        break
                else:
                    return
            except AttributeError:
                pass  # not arrays (None, a list): the full check below names the culprit
        name = type(self).__name__
        if isinstance(params, xp.ndarray) or isinstance(grads, xp.ndarray):
            raise ValueError(
                f"{name}.update: params and grads must be lists of arrays, got "
                f"{'an array' if isinstance(params, xp.ndarray) else type(params).__name__}; "
                f"for a single parameter write update([W], [dW])"
            )
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            for what, a in (("params", p), ("grads", g)):
                if not isinstance(a, xp.ndarray):
                    raise ValueError(
                        f"{name}.update: {what}[{i}] must be an array, got "
                        f"{type(a).__name__}" + (" (a parameter that received no gradient?)"
                                                  if a is None else "")
                    )
            if p.dtype.kind != "f":
                raise ValueError(
                    f"{name}.update: params[{i}] has dtype {p.dtype}; parameters must be "
                    f"float arrays (float32 or float64) to be updated in place"
                )
            if p.shape != g.shape:
                raise ValueError(
                    f"{name}.update: params[{i}] has shape {p.shape} but grads[{i}] has "
                    f"shape {g.shape}"
                )
        for slot in self.slots:
            arrays = self._state[slot]
            if not arrays:
                self._state[slot] = [xp.zeros_like(p) for p in params]
            elif len(arrays) != len(params) or any(
                a.shape != p.shape for a, p in zip(arrays, params, strict=True)
            ):
                raise ValueError(
                    f"{name}.update: the optimizer's state was made for parameters of shapes "
                    f"{[a.shape for a in arrays]}, got {[p.shape for p in params]}; use a new "
                    f"optimizer for a different model"
                )
            else:  # state loaded from a checkpoint: match the parameters' dtypes
                self._state[slot] = [
                    a if a.dtype == p.dtype else a.astype(p.dtype)
                    for a, p in zip(arrays, params, strict=True)
                ]
        self._scratch = [
            tuple(xp.empty_like(p) for _ in range(self.n_scratch)) for p in params
        ]
        self._shapes = [p.shape for p in params]

    def _step(self, i, p, g, scale):  # pragma: no cover - abstract
        raise NotImplementedError


def _positive_float(owner, name, value):
    if name == "lr" and not isinstance(value, (str, bytes)) and hasattr(value, "__iter__") \
            and not hasattr(value, "shape"):  # PyTorch's SGD(model.parameters(), lr=0.1)
        raise ValueError(
            f"{owner}: the first argument is the learning rate, got {type(value).__name__} "
            f"(parameters, as PyTorch's optimizers take them?); ippo's optimizers update "
            f"arrays given to update(params, grads): for an autograd model write "
            f"nn.Optimizer(optimizers.{owner}(lr=0.01), model.parameters())")
    value = as_float(value, f"{owner}: {name}", "a positive finite number")
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a positive finite number, got {value}")
    return value


def _fraction(owner, name, value):
    value = as_float(value, f"{owner}: {name}", "a number in [0, 1)")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must lie in [0, 1), got {value}")
    return value


class SGD(Optimizer):
    """Stochastic gradient descent: W ← W − η·g.

    A parameter larger than ``LARGE`` elements is updated in blocks of ``BLOCK`` elements
    through one small scratch buffer (η·g for a block, then W −= it) instead of a scratch
    array as large as W: the buffer stays in the CPU cache, so the matrix is streamed once
    (read g, read W, write W) rather than twice, and no parameter-sized scratch is kept.
    Smaller parameters use a scratch of their own (fewer NumPy calls). Same arithmetic, bit
    for bit, either way.
    """

    n_scratch = 0
    #: elements per block: 64 Ki (256 KiB in float32) fits a core's L2 cache with room to spare
    BLOCK = 1 << 16
    #: parameters above this many elements (1 MiB in float32) are updated in blocks
    LARGE = 1 << 18

    def __init__(self, lr=0.01, clip_norm=None):
        super().__init__(lr, clip_norm)
        self._block = {}  # dtype -> scratch of BLOCK elements
        self._plans = []  # per position: (parameter, its own scratch or None, small?)

    def _plan(self, i, p):
        if p.size <= self.LARGE or not p.flags.c_contiguous:
            plan = (p, xp.empty_like(p), True)
        else:
            if p.dtype not in self._block:
                self._block[p.dtype] = xp.empty(self.BLOCK, dtype=p.dtype)
            plan = (p, None, False)
        while len(self._plans) <= i:
            self._plans.append(None)
        self._plans[i] = plan
        return plan

    def _step(self, i, p, g, scale):
        a = self.lr * scale
        plans = self._plans
        plan = plans[i] if i < len(plans) else None
        if plan is None or plan[0] is not p:
            plan = self._plan(i, p)
        if plan[2]:
            tmp = plan[1]
            xp.multiply(g, a, out=tmp)
            p -= tmp
            return
        pf, gf = p.reshape(-1), g.reshape(-1)  # views (a copy of g is only read)
        buf, n, block = self._block[p.dtype], p.size, self.BLOCK
        for start in range(0, n, block):
            stop = min(start + block, n)
            tmp = buf[: stop - start]
            xp.multiply(gf[start:stop], a, out=tmp)
            pf[start:stop] -= tmp


class Momentum(Optimizer):
    """Momentum SGD: v ← α·v − η·g;  W ← W + v.

    v is a velocity: a ball rolling down the loss surface keeps its speed (α, default 0.9,
    plays the role of friction), which damps the zig-zag of plain SGD.
    """

    slots = ("v",)
    hyper = ("lr", "momentum")

    def __init__(self, lr=0.01, momentum=0.9, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.momentum = _fraction(type(self).__name__, "momentum", momentum)

    def _step(self, i, p, g, scale):
        v = self._state["v"][i]
        (tmp,) = self._scratch[i]
        v *= self.momentum
        xp.multiply(g, self.lr * scale, out=tmp)
        v -= tmp
        p += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient: v ← α·v − η·g;  W ← W + α·v − η·g.

    The update looks ahead along the new velocity. This is the usual reformulation
    (Bengio et al. 2012, also PyTorch's ``nesterov=True``) that needs the gradient at W
    only; written with the old velocity v₀ it is W ← W + α²·v₀ − (1 + α)·η·g. Same
    velocity and hyper-parameters as ``Momentum``; only the step differs.

    Note for readers of the course's ``common/optimizer.py``: its Nesterov updates v first
    and then adds α²·v with the *new* v, i.e. W + α³·v₀ − (1 + α + α²)·η·g, not the formula
    of the paper it cites (arXiv:1212.0901) given above. ippo follows the paper, so its
    steps differ from that listing's (from the first step on: −(1 + α)·η·g, not
    −(1 + α + α²)·η·g).
    """

    def _step(self, i, p, g, scale):
        v = self._state["v"][i]
        (tmp,) = self._scratch[i]
        xp.multiply(g, self.lr * scale, out=tmp)  # tmp = η·g
        v *= self.momentum
        v -= tmp  # v = α·v − η·g
        p -= tmp
        xp.multiply(v, self.momentum, out=tmp)
        p += tmp  # W += α·v − η·g


def _adaptive_descent(p, g, h, tmp, lr, eps):
    """W ← W − lr · g / (√h + ε), in place, through the scratch array ``tmp``.

    The step AdaGrad and RMSprop share: each weight's rate is divided by the root of its own
    accumulated squared gradients h (they differ only in how h is accumulated).
    """
    xp.sqrt(h, out=tmp)
    tmp += eps
    xp.divide(g, tmp, out=tmp)
    tmp *= lr
    p -= tmp


class AdaGrad(Optimizer):
    """AdaGrad: h ← h + g⊙g;  W ← W − η·g / (√h + ε).

    Each parameter gets its own learning rate, which shrinks as its squared gradients pile
    up in h (ε = 1e-7 avoids a division by zero). The steps only ever get smaller.
    """

    slots = ("h",)
    hyper = ("lr", "eps")

    def __init__(self, lr=0.01, eps=1e-7, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.eps = _positive_float("AdaGrad", "eps", eps)

    def _step(self, i, p, g, scale):
        h = self._state["h"][i]
        (tmp,) = self._scratch[i]
        xp.multiply(g, g, out=tmp)
        if scale != 1.0:
            tmp *= scale * scale
        h += tmp
        _adaptive_descent(p, g, h, tmp, self.lr * scale, self.eps)


class RMSprop(Optimizer):
    """RMSprop: h ← ρ·h + (1 − ρ)·g⊙g;  W ← W − η·g / (√h + ε).

    Like AdaGrad, but h is an exponential moving average (ρ = ``decay_rate``, default 0.99),
    so old gradients are forgotten and the steps do not shrink to nothing.
    """

    slots = ("h",)
    hyper = ("lr", "decay_rate", "eps")

    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-7, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.decay_rate = _fraction("RMSprop", "decay_rate", decay_rate)
        self.eps = _positive_float("RMSprop", "eps", eps)

    def _step(self, i, p, g, scale):
        h = self._state["h"][i]
        (tmp,) = self._scratch[i]
        rho = self.decay_rate
        h *= rho
        xp.multiply(g, g, out=tmp)
        tmp *= (1.0 - rho) * scale * scale
        h += tmp
        _adaptive_descent(p, g, h, tmp, self.lr * scale, self.eps)


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012), which needs no learning rate:

        h ← ρ·h + (1 − ρ)·g⊙g
        Δ ← √(s + ε) / √(h + ε) ⊙ g
        s ← ρ·s + (1 − ρ)·Δ⊙Δ
        W ← W − η·Δ

    h averages the squared gradients, s the squared updates; their ratio gives each
    parameter a step with the units of W. η (``lr``) defaults to 1.0, the pure rule.
    """

    slots = ("h", "s")
    hyper = ("lr", "rho", "eps")
    n_scratch = 2

    def __init__(self, rho=0.95, eps=1e-6, lr=1.0, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.rho = _fraction("AdaDelta", "rho", rho)
        self.eps = _positive_float("AdaDelta", "eps", eps)

    def _step(self, i, p, g, scale):
        h = self._state["h"][i]
        s = self._state["s"][i]
        tmp, tmp2 = self._scratch[i]
        rho = self.rho
        h *= rho
        xp.multiply(g, g, out=tmp)
        tmp *= (1.0 - rho) * scale * scale
        h += tmp
        xp.add(s, self.eps, out=tmp)
        xp.add(h, self.eps, out=tmp2)
        tmp /= tmp2
        xp.sqrt(tmp, out=tmp)
        tmp *= g
        if scale != 1.0:
            tmp *= scale  # tmp = Δ
        s *= rho
        xp.multiply(tmp, tmp, out=tmp2)
        tmp2 *= 1.0 - rho
        s += tmp2
        if self.lr != 1.0:
            tmp *= self.lr
        p -= tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum plus RMSprop, with bias correction.

        t ← t + 1
        m ← m + (1 − β₁)·(g − m)          (= β₁·m + (1 − β₁)·g)
        v ← v + (1 − β₂)·(g⊙g − v)        (= β₂·v + (1 − β₂)·g⊙g)
        η_t = η · √(1 − β₂ᵗ) / (1 − β₁ᵗ)
        W ← W − η_t · m / (√v + ε)

    As in the course, ε (default 1e-7) is added to √v, and the bias correction is folded
    into η_t.
    """

    slots = ("m", "v")
    hyper = ("lr", "beta1", "beta2", "eps")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7, clip_norm=None):
        super().__init__(lr, clip_norm)
        self.beta1 = _fraction("Adam", "beta1", beta1)
        self.beta2 = _fraction("Adam", "beta2", beta2)
        self.eps = _positive_float("Adam", "eps", eps)
        self._lr_t = None

    def update(self, params, grads):
        t = self.t + 1
        self._lr_t = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        super().update(params, grads)

    def _step(self, i, p, g, scale):
        m = self._state["m"][i]
        v = self._state["v"][i]
        (tmp,) = self._scratch[i]
        b1, b2 = self.beta1, self.beta2
        m *= b1
        xp.multiply(g, (1.0 - b1) * scale, out=tmp)
        m += tmp
        v *= b2
        xp.multiply(g, g, out=tmp)
        tmp *= (1.0 - b2) * scale * scale
        v += tmp
        xp.sqrt(v, out=tmp)
        tmp += self.eps
        xp.divide(m, tmp, out=tmp)
        tmp *= self._lr_t
        p -= tmp


#: name (lower case) -> class, for the command line and for rebuilding from a checkpoint
OPTIMIZERS = {
    cls.__name__.lower(): cls
    for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam)
}


def get(name, **kwargs):
    """Build an optimizer by name (case-insensitive): ``get("adam", lr=1e-3)``."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}"
        ) from None
    return cls(**kwargs)
