"""Optimizers: the course's comparison function, hand-computed first steps, state round trip,
clipping, and no allocation per step."""

import tracemalloc

import numpy as np
import pytest

from ippo import optimizers as O


def f(x, y):
    return x * x / 20.0 + y * y


def grad_f(p):
    return np.array([p[0] / 10.0, 2.0 * p[1]])


# settings with which each optimizer reaches the minimum from (-7, 2) in 300 steps
SETTINGS = {
    "SGD": dict(lr=0.95),
    "Momentum": dict(lr=0.1),
    "Nesterov": dict(lr=0.1),
    "AdaGrad": dict(lr=1.5),
    "RMSprop": dict(lr=0.1),
    "AdaDelta": dict(),
    "Adam": dict(lr=0.3),
}


def run(opt, steps, start=(-7.0, 2.0), dtype=np.float64):
    p = np.array(start, dtype=dtype)
    g = np.zeros_like(p)
    path = [p.copy()]
    for _ in range(steps):
        g[...] = grad_f(p)
        opt.update([p], [g])
        path.append(p.copy())
    return p, np.array(path)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_minimises_course_function(name):
    opt = getattr(O, name)(**SETTINGS[name])
    steps = 3000 if name == "AdaDelta" else 300
    p, path = run(opt, steps)
    assert f(*path[0]) == pytest.approx(49 / 20 + 4)
    assert f(*p) < 1e-2 * f(*path[0]), (name, p)
    assert opt.t == steps


def hand_steps(name, hp, n=3, start=(-7.0, 2.0)):
    """The rules written out directly, one scalar pair at a time, in float64.

    Hyper-parameters missing from ``hp`` take the values the issue names as defaults, so the
    test also pins the defaults down.
    """
    p = np.array(start)
    lr = hp.get("lr")
    a = hp.get("momentum", 0.9)
    out = []
    st = {}
    for t in range(1, n + 1):
        g = grad_f(p)
        if name == "SGD":
            p = p - lr * g
        elif name == "Momentum":
            v = st.get("v", 0.0)
            v = a * v - lr * g
            st["v"] = v
            p = p + v
        elif name == "Nesterov":
            v0 = st.get("v", 0.0)
            v = a * v0 - lr * g
            st["v"] = v
            p = p + a * a * v0 - (1 + a) * lr * g
        elif name == "AdaGrad":
            h = st.get("h", 0.0) + g * g
            st["h"] = h
            p = p - lr * g / (np.sqrt(h) + hp.get("eps", 1e-7))
        elif name == "RMSprop":
            rho = hp.get("decay_rate", 0.99)
            h = rho * st.get("h", 0.0) + (1 - rho) * g * g
            st["h"] = h
            p = p - lr * g / (np.sqrt(h) + hp.get("eps", 1e-7))
        elif name == "AdaDelta":
            rho, eps = hp.get("rho", 0.95), hp.get("eps", 1e-6)
            h = rho * st.get("h", 0.0) + (1 - rho) * g * g
            s = st.get("s", 0.0)
            d = np.sqrt(s + eps) / np.sqrt(h + eps) * g
            st["h"], st["s"] = h, rho * s + (1 - rho) * d * d
            p = p - hp.get("lr", 1.0) * d
        elif name == "Adam":
            b1, b2 = hp.get("beta1", 0.9), hp.get("beta2", 0.999)
            m = b1 * st.get("m", 0.0) + (1 - b1) * g
            v = b2 * st.get("v", 0.0) + (1 - b2) * g * g
            st["m"], st["v"] = m, v
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)  # the paper's bias correction
            # ε added to √v as in the course: with v̂ = v/(1 − β₂ᵗ) that is ε/√(1 − β₂ᵗ) on √v̂
            p = p - (lr or 0.001) * m_hat / (np.sqrt(v_hat) + hp.get("eps", 1e-7)
                                             / np.sqrt(1 - b2**t))
        out.append(p.copy())
    return np.array(out)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_first_steps_match_rule(name):
    opt = getattr(O, name)(**SETTINGS[name])
    _, path = run(opt, 3)
    np.testing.assert_allclose(path[1:], hand_steps(name, SETTINGS[name]), rtol=1e-12, atol=1e-12)


# every hyper-parameter away from its default (and ε large enough to matter)
NON_DEFAULT = {
    "SGD": dict(lr=0.3),
    "Momentum": dict(lr=0.05, momentum=0.5),
    "Nesterov": dict(lr=0.05, momentum=0.6),
    "AdaGrad": dict(lr=0.7, eps=0.5),
    "RMSprop": dict(lr=0.2, decay_rate=0.8, eps=0.3),
    "AdaDelta": dict(rho=0.7, eps=1e-2, lr=0.5),
    "Adam": dict(lr=0.2, beta1=0.6, beta2=0.8, eps=0.25),
}


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_first_steps_match_rule_with_other_hyper_parameters(name):
    hp = NON_DEFAULT[name]
    opt = getattr(O, name)(**hp)
    for key, value in hp.items():
        assert opt.state_dict()[key] == value
    _, path = run(opt, 4, start=(3.0, -1.5))
    np.testing.assert_allclose(path[1:], hand_steps(name, hp, 4, start=(3.0, -1.5)),
                               rtol=1e-12, atol=1e-12)


def test_first_steps_by_hand_with_numbers():
    """Step one of each rule from (−7, 2), where g = (−0.7, 4), worked out on paper."""
    def first(opt):
        return run(opt, 1)[0]

    # Momentum: v = −η·g = (0.07, −0.4); W + v
    np.testing.assert_allclose(first(O.Momentum(lr=0.1)), [-6.93, 1.6])
    # Nesterov: v₀ = 0, so W − (1 + α)·η·g = W − 1.9·0.1·g = (−7 + 0.133, 2 − 0.76)
    np.testing.assert_allclose(first(O.Nesterov(lr=0.1)), [-6.867, 1.24])
    # AdaGrad: h = g², so W − η·g/(|g| + ε) = W − 1.5·sign(g) (ε = 1e-7 is negligible)
    np.testing.assert_allclose(first(O.AdaGrad(lr=1.5)), [-5.5, 0.5], rtol=1e-6)
    # RMSprop: h = 0.01·g², √h = 0.1·|g|: W − η·sign(g)/0.1 = W − 1.0·sign(g) for η = 0.1
    np.testing.assert_allclose(first(O.RMSprop(lr=0.1)), [-6.0, 1.0], rtol=1e-6)
    # AdaDelta: h = 0.05·g², s = 0: Δ = √1e-6/√(0.05·g² + 1e-6)·g ≈ 1e-3/√0.05·sign(g)
    d = 1e-3 / np.sqrt(0.05 * np.array([0.49, 16.0]) + 1e-6) * np.array([-0.7, 4.0])
    np.testing.assert_allclose(first(O.AdaDelta()), [-7.0 - d[0], 2.0 - d[1]], rtol=1e-12)
    assert abs(d[0]) == pytest.approx(0.004472, rel=1e-3)


def test_sgd_large_parameters_are_updated_in_blocks_bit_for_bit():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((7, 9)).astype(np.float32)  # 63 elements: 4 blocks of 16 or less
    g = rng.standard_normal(w.shape).astype(np.float32)
    small, blocked = O.SGD(lr=0.3), O.SGD(lr=0.3)
    blocked.LARGE, blocked.BLOCK = 10, 16
    ws, wb, expected = w.copy(), w.copy(), w.copy()
    for _ in range(2):
        small.update([ws], [g])
        blocked.update([wb], [g])
        expected -= np.float32(0.3) * g  # W ← W − η·g in float32
    assert blocked._plans[0][2] is False and small._plans[0][2] is True  # the two paths
    np.testing.assert_array_equal(wb, ws)
    np.testing.assert_array_equal(ws, expected)


def test_sgd_first_step_by_hand():
    # g(-7, 2) = (-0.7, 4); W - 0.95 g = (-7 + 0.665, 2 - 3.8)
    _, path = run(O.SGD(lr=0.95), 1)
    np.testing.assert_allclose(path[1], [-6.335, -1.8])


def test_adam_first_step_is_lr_times_sign():
    # with bias correction, Adam's first step is lr · g/|g| (up to eps)
    _, path = run(O.Adam(lr=0.3), 1)
    np.testing.assert_allclose(path[1], [-7 + 0.3, 2 - 0.3], rtol=1e-6)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_state_dict_round_trip_continues_identically(name, tmp_path):
    a = getattr(O, name)(**SETTINGS[name])
    p, _ = run(a, 5)
    d = a.state_dict()
    # through an .npz without pickle, as the checkpoint does
    arrays = {f"state/{k}": v for k, v in d["state"].items()}
    np.savez(tmp_path / "s.npz", **arrays)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as z:
        state = {k[len("state/"):]: z[k] for k in z.files}
    scalars = {k: v for k, v in d.items() if k != "state"}
    b = getattr(O, name)(lr=0.5) if name != "AdaDelta" else O.AdaDelta(rho=0.5)
    b.load_state_dict({**scalars, "state": state})
    assert b.t == 5
    pa, pb = p.copy(), p.copy()
    for _ in range(5):
        ga, gb = grad_f(pa), grad_f(pb)
        a.update([pa], [ga])
        b.update([pb], [gb])
    np.testing.assert_array_equal(pa, pb)


def test_load_state_dict_rejects_other_optimizer():
    with pytest.raises(ValueError, match="saved by Adam"):
        O.SGD(0.1).load_state_dict(O.Adam().state_dict())


@pytest.mark.parametrize("name", list(SETTINGS))
def test_float32_stays_float32(name):
    opt = getattr(O, name)(**SETTINGS[name])
    p, _ = run(opt, 3, dtype=np.float32)
    assert p.dtype == np.float32
    for arr in opt.state_dict()["state"].values():
        assert arr.dtype == np.float32


@pytest.mark.parametrize("name", list(SETTINGS))
def test_update_in_place_and_no_new_arrays(name):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((1000, 500)).astype(np.float32)  # 2 MB
    b = np.zeros(500, np.float32)
    gw = rng.standard_normal(w.shape).astype(np.float32)
    gb = np.ones_like(b)
    opt = getattr(O, name)(**SETTINGS[name], clip_norm=10.0)
    opt.update([w, b], [gw, gb])  # first call creates the state lazily
    ids = [id(a) for arrays in opt._state.values() for a in arrays]
    w_id, w_ptr = id(w), w.__array_interface__["data"][0]
    gw_before = gw.copy()
    tracemalloc.start()
    for _ in range(3):
        opt.update([w, b], [gw, gb])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100_000, f"{name}.update allocated {peak} bytes (param is {w.nbytes})"
    assert [id(a) for arrays in opt._state.values() for a in arrays] == ids
    assert id(w) == w_id and w.__array_interface__["data"][0] == w_ptr
    np.testing.assert_array_equal(gw, gw_before)  # clipping did not touch the caller's grads


def test_clip_norm_scales_the_step():
    # global norm of (3, 4) is 5; clip to 1 → effective gradient (0.6, 0.8)
    p = np.zeros(2)
    g = np.array([3.0, 4.0])
    opt = O.SGD(lr=1.0, clip_norm=1.0)
    opt.update([p], [g])
    np.testing.assert_allclose(p, [-0.6, -0.8])
    assert opt.last_grad_norm == pytest.approx(5.0)
    np.testing.assert_array_equal(g, [3.0, 4.0])
    # under the threshold nothing changes
    p2 = np.zeros(2)
    O.SGD(lr=1.0, clip_norm=10.0).update([p2], [g])
    np.testing.assert_allclose(p2, [-3.0, -4.0])


def test_clip_norm_is_global_over_all_arrays():
    p1, p2 = np.zeros(1), np.zeros(1)
    opt = O.Momentum(lr=1.0, clip_norm=2.5, momentum=0.5)
    opt.update([p1, p2], [np.array([3.0]), np.array([4.0])])
    np.testing.assert_allclose([p1[0], p2[0]], [-1.5, -2.0])


def test_errors_are_clear():
    with pytest.raises(ValueError, match="2 params but 1 grads"):
        O.SGD().update([np.zeros(2), np.zeros(1)], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"params\[0\] has shape \(2,\)"):
        O.SGD().update([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="lr must be a positive"):
        O.Adam(lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        O.Momentum(momentum=1.5)
    opt = O.Adam()
    opt.update([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="new optimizer"):
        opt.update([np.zeros(3)], [np.ones(3)])
    with pytest.raises(ValueError, match="unknown optimizer"):
        O.get("adamw")
    assert isinstance(O.get("Adam", lr=0.1), O.Adam)


def test_wrong_arguments_get_a_message_not_a_numpy_traceback():
    w = np.zeros(3, np.float32)
    cases = [
        (lambda: O.SGD().update(w, np.ones(3, np.float32)),  # arrays instead of lists
         r"^SGD.update: params and grads must be lists of arrays, got an array; for a single "
         r"parameter write update\(\[W\], \[dW\]\)"),
        (lambda: O.Adam().update([w], [None]),
         r"^Adam.update: grads\[0\] must be an array, got NoneType \(a parameter that "
         r"received no gradient\?\)"),
        (lambda: O.Momentum().update([[0.0, 0.0]], [np.zeros(2)]),
         r"^Momentum.update: params\[0\] must be an array, got list"),
        (lambda: O.SGD().update([np.zeros(3, int)], [np.ones(3)]),
         r"^SGD.update: params\[0\] has dtype int64; parameters must be float arrays"),
        (lambda: O.SGD(lr=None), r"^SGD: lr must be a positive finite number, got None"),
        (lambda: O.RMSprop(decay_rate="fast"), r"^RMSprop: decay_rate must be a number in "
                                               r"\[0, 1\), got 'fast'"),
        (lambda: O.Adam().load_state_dict([1, 2]), r"expected the dict state_dict\(\) returns"),
        (lambda: O.Adam().load_state_dict({"state": {"m.x": w, "v.x": w}}),
         r"unknown state entry 'm.x' \(expected '<slot>.<position>' with slots \('m', 'v'\)"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    # the fast path (known shapes, new lists each step, as nn.Optimizer passes them) too
    opt = O.SGD(0.1)
    opt.update([w], [np.ones(3, np.float32)])
    with pytest.raises(ValueError, match=r"grads\[0\] must be an array, got NoneType"):
        opt.update([w], [None])
    np.testing.assert_allclose(w, -0.1)  # only the good step was applied


def test_lr_is_a_plain_attribute():
    p = np.array([1.0])
    opt = O.SGD(lr=0.1)
    opt.lr = 0.5
    opt.update([p], [np.array([1.0])])
    assert p[0] == pytest.approx(0.5)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_clipping_equals_the_rule_on_scaled_gradients(name):
    rng = np.random.default_rng(1)
    a_params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    b_params = [p.copy() for p in a_params]
    a = getattr(O, name)(**SETTINGS[name], clip_norm=0.5)
    b = getattr(O, name)(**SETTINGS[name])
    for _ in range(4):
        grads = [rng.standard_normal(p.shape) * 3 for p in a_params]
        norm = np.sqrt(sum((g * g).sum() for g in grads))
        assert norm > 0.5
        a.update(a_params, grads)
        b.update(b_params, [g * (0.5 / norm) for g in grads])
    for p, q in zip(a_params, b_params, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


def test_same_lists_skip_the_shape_checks_but_length_changes_are_caught():
    # the fast path (the same two lists as last time) compares only the lengths
    params, grads = [np.zeros(2), np.zeros(3)], [np.ones(2), np.ones(3)]
    opt = O.Momentum(lr=1.0, momentum=0.5)
    opt.update(params, grads)
    opt.update(params, grads)
    np.testing.assert_array_equal(params[0], [-2.5, -2.5])  # v = -1, then -1.5; W = -2.5
    params.append(np.zeros(4))
    with pytest.raises(ValueError, match="3 params but 2 grads"):
        opt.update(params, grads)
    grads.append(np.ones(4))
    with pytest.raises(ValueError, match="new optimizer"):  # re-validated: state is for 2
        opt.update(params, grads)
    opt2 = O.SGD(lr=1.0)
    opt2.update(params[:1], grads[:1])
    opt2.load_state_dict(opt2.state_dict())  # loading state re-validates on the next call
    with pytest.raises(ValueError, match=r"params\[0\] has shape \(2,\)"):
        opt2.update([params[0]], [grads[2]])


def test_nesterov_is_momentum_with_its_own_step():
    assert issubclass(O.Nesterov, O.Momentum) and O.Nesterov._step is not O.Momentum._step
    with pytest.raises(ValueError, match=r"^Nesterov: momentum must lie in \[0, 1\)"):
        O.Nesterov(momentum=1.0)
    m, n = O.Momentum(lr=0.1, momentum=0.5), O.Nesterov(lr=0.1, momentum=0.5)
    pm, pn, g = np.zeros(1), np.zeros(1), np.ones(1)
    m.update([pm], [g])
    n.update([pn], [g])
    # v = −0.1 for both; Momentum W = v, Nesterov W = α·v − η·g = −0.05 − 0.1
    assert pm[0] == -0.1 and pn[0] == -0.15000000000000002 and np.isclose(pn[0], -0.15)
    with pytest.raises(ValueError, match="state was saved by Momentum"):
        n.load_state_dict(m.state_dict())


def test_state_dict_is_a_copy_not_a_view_of_the_optimizer():
    w = np.array([1.0, -2.0, 3.0])
    opt = O.Adam(0.1)
    opt.update([w], [np.array([0.5, 0.5, 0.5])])
    d = opt.state_dict()
    kept = {k: v.copy() for k, v in d["state"].items()}
    for v in d["state"].values():  # changing the copy leaves the optimizer alone
        v[...] = 99.0
    np.testing.assert_array_equal(opt.state_dict()["state"]["m.0"], kept["m.0"])
    opt.update([w], [np.array([1.0, 1.0, 1.0])])  # and the optimizer's steps leave the copy
    fresh = O.Adam(0.1).state_dict()
    assert fresh["state"] == {} and fresh["t"] == 0
    assert all(np.all(v == 99.0) for v in d["state"].values())
    assert opt.state_dict()["t"] == 2 and d["t"] == 1
