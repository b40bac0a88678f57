"""ippo.autograd.nn: modules, the MLP against ippo.models.MLP, the optimizer adapter."""

import numpy as np
import pytest

import ippo.autograd as ag
from ippo import models, optimizers
from ippo.autograd import Tensor, nn
from ippo.numerical import numerical_gradient

TASKS = ["multiclass", "binary", "regression"]


def data(task, n=8, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    if task == "multiclass":
        t = rng.integers(0, k, n)
    elif task == "binary":
        t = rng.integers(0, 2, n)
    else:
        t = rng.standard_normal((n, k))
    return x, t


def sizes_for(task, k=3):
    return [5, 4, 6, 1 if task == "binary" else k]


def pair(task, **kw):
    kw.setdefault("seed", 7)
    kw.setdefault("dtype", np.float64)
    return models.MLP(sizes_for(task), task=task, **kw), nn.MLP(sizes_for(task), task=task, **kw)


# --------------------------------------------------------------------------- MLP vs ippo.models


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_seed_same_initial_weights(task, dtype):
    a, b = pair(task, dtype=dtype, activation="tanh", dropout=0.3)
    sa, sb = a.state_dict(), b.state_dict()
    assert (
        list(sa)
        == list(sb)
        == ["Affine1.W", "Affine1.b", "Affine2.W", "Affine2.b", "Affine3.W", "Affine3.b"]
    )
    for k in sa:
        assert sb[k].dtype == dtype
        np.testing.assert_array_equal(sa[k], sb[k])


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "identity"])
def test_same_loss_and_gradients_as_models_mlp(task, activation):
    a, b = pair(task, activation=activation)
    x, t = data(task)
    la = a.loss(x, t)
    a.backward()
    lb = b.loss(x, t)
    lb.backward()
    assert lb.item() == pytest.approx(la, rel=1e-13, abs=1e-15)
    for name, g, p in zip(a.param_names, a.grads, b.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-11, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("batchnorm", [False, True])
def test_same_with_dropout_batchnorm_and_weight_decay(task, batchnorm):
    a, b = pair(task, dropout=0.4, weight_decay=0.05, batchnorm=batchnorm)
    x, t = data(task, n=16)
    for _ in range(2):  # two steps: the dropout masks follow the same random stream
        la = a.loss(x, t)
        a.backward()
        b.zero_grad()
        lb = b.loss(x, t)
        lb.backward()
        assert lb.item() == pytest.approx(la, rel=1e-13)
        for g, p in zip(a.grads, b.parameters(), strict=True):
            np.testing.assert_allclose(p.grad.data, g, rtol=1e-11, atol=1e-14)
    sa, sb = a.state_dict(), b.state_dict()  # running averages included
    assert sorted(sa) == sorted(sb)
    for k in sa:
        np.testing.assert_allclose(sb[k], sa[k], rtol=1e-12, err_msg=k)
    np.testing.assert_allclose(b.predict(x), a.predict(x), rtol=1e-12)
    np.testing.assert_array_equal(b.scores(x), a.scores(x))
    if task != "regression":
        np.testing.assert_array_equal(b.predict_classes(x), a.predict_classes(x))
        assert b.accuracy(x, t) == a.accuracy(x, t)


def test_float32_model_stays_float32_and_matches():
    a, b = pair("multiclass", dtype=np.float32)
    x, t = data("multiclass")
    la = a.loss(x, t)
    a.backward()
    lb = b.loss(x, t)
    assert lb.dtype == np.float32
    lb.backward()
    assert lb.item() == pytest.approx(la, rel=1e-6)
    for g, p in zip(a.grads, b.parameters(), strict=True):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-4, atol=1e-6)


def test_mlp_gradient_matches_numerical():
    b = nn.MLP([4, 5, 3], activation="tanh", dtype=np.float64, seed=1, weight_decay=0.1)
    x, t = data("multiclass", d=4)
    b.loss(x, t).backward()
    for p in b.parameters():
        num = numerical_gradient(lambda _: b.loss(x, t).item(), p.data)
        np.testing.assert_allclose(p.grad.data, num, rtol=1e-6, atol=1e-9)


def test_load_state_from_models_mlp():
    a = models.MLP([5, 4, 3], seed=1)
    b = nn.MLP([5, 4, 3], seed=2)
    b.load_state_dict(a.state_dict())
    x, _ = data("multiclass")
    np.testing.assert_allclose(b.predict(x), a.predict(x), rtol=1e-6)
    a.load_state_dict(b.state_dict())  # and back
    with pytest.raises(ValueError, match="missing keys"):
        b.load_state_dict({"Affine1.W": np.zeros((5, 4))})
    bad = b.state_dict()
    bad["Affine1.W"] = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"Affine1.W has shape \(4, 4\), expected \(5, 4\)"):
        b.load_state_dict(bad)
    # a wrong array anywhere leaves every parameter as it was (nothing half-loaded)
    before = b.state_dict()
    bad = {k: np.full_like(v, 7.0) for k, v in before.items()}
    bad["Affine2.b"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"Affine2.b has shape \(4,\), expected \(3,\)"):
        b.load_state_dict(bad)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_mlp_argument_errors():
    with pytest.raises(ValueError, match="sizes must be"):
        nn.MLP([5])
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP([5, 3], activation="swish")
    with pytest.raises(ValueError, match="binary classifier has one output"):
        nn.MLP([5, 3], task="binary")
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(N, 5\)"):
        nn.MLP([5, 3]).loss(np.ones((2, 4)), [0, 1])
    with pytest.raises(ValueError, match=r"cross_entropy: class index out of range: t holds "
                       r"values from 0 to 3 .* \(valid: 0\.\.2\)"):
        nn.MLP([5, 3]).loss(np.ones((2, 5)), [0, 3])


# ------------------------------------------------------------------ training with ippo.optimizers


@pytest.mark.parametrize("opt_name", ["SGD", "Momentum", "Adam"])
def test_training_steps_match_models_mlp(opt_name):
    a, b = pair("multiclass", weight_decay=0.01)
    oa = getattr(optimizers, opt_name)(lr=0.05)
    ob = nn.Optimizer(getattr(optimizers, opt_name)(lr=0.05), b.parameters())
    x, t = data("multiclass", n=32)
    for i in range(5):
        xb, tb = x[i * 6 : (i + 1) * 6], t[i * 6 : (i + 1) * 6]
        la = a.loss(xb, tb)
        a.backward()
        oa.update(a.params, a.grads)
        lb = b.loss(xb, tb)
        ob.zero_grad()
        lb.backward()
        ob.step()
        assert lb.item() == pytest.approx(la, rel=1e-12)
    for k, v in a.state_dict().items():
        np.testing.assert_allclose(b.state_dict()[k], v, rtol=1e-11, atol=1e-13)
    assert ob.state_dict()["t"] == 5


def test_optimizer_adapter_updates_in_place_and_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    t = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR-like: needs the hidden layer
    model = nn.MLP([2, 16, 2], seed=0)
    W = model.Affine1.W.data
    opt = nn.Optimizer(optimizers.Adam(lr=0.05), model.parameters())
    first = model.loss(x, t).item()
    for _ in range(150):
        loss = model.loss(x, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.Affine1.W.data is W  # updated in place
    assert loss.item() < 0.3 * first
    assert 0.9 < model.accuracy(x, t) <= 1.0
    opt.lr = 0.01
    assert opt.optimizer.lr == 0.01
    with pytest.raises(ValueError, match="expected an ippo.optimizers optimizer"):
        nn.Optimizer(object(), model.parameters())


def test_optimizer_gives_zero_gradient_to_unused_parameters():
    lin = nn.Linear(3, 2, rng=0)
    opt = nn.Optimizer(optimizers.SGD(lr=1.0), lin.parameters())
    before = lin.W.data.copy()
    opt.step()  # no backward yet: zero gradients, nothing moves
    np.testing.assert_array_equal(lin.W.data, before)


# --------------------------------------------------------------------------- Module machinery


class TwoTowers(nn.Module):
    def __init__(self):
        self.towers = [nn.Linear(3, 4, rng=0), nn.Linear(3, 4, rng=1)]
        self.head = nn.Sequential(nn.Tanh(), nn.Dropout(0.5, seed=0), nn.Linear(4, 1, rng=2))
        self.scale = nn.Parameter(np.array(2.0, dtype=np.float32))
        self._cache = nn.Linear(3, 3)  # private: not a parameter of the model

    def forward(self, x):
        return self.head(self.towers[0](x) + self.towers[1](x)) * self.scale


def test_parameters_are_discovered():
    m = TwoTowers()
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        "towers.0.W",
        "towers.0.b",
        "towers.1.W",
        "towers.1.b",
        "head.layers.2.W",
        "head.layers.2.b",
        "scale",
    ]
    assert len(m.parameters()) == 7
    y = m(np.ones((5, 3), dtype=np.float32))
    y.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_parameters_in_a_dict_are_discovered():
    class Heads(nn.Module):
        def __init__(self):
            self.heads = {"a": nn.Linear(3, 2, rng=0), "b": nn.Linear(3, 1, bias=False, rng=1)}
            self.bias = {"shared": nn.Parameter(np.zeros(1, dtype=np.float32))}

        def forward(self, x):
            return self.heads["a"](x).sum() + (self.heads["b"](x) + self.bias["shared"]).sum()

    m = Heads()
    assert [n for n, _ in m.named_parameters()] == [
        "heads.a.W", "heads.a.b", "heads.b.W", "bias.shared"
    ]
    m(np.ones((4, 3), dtype=np.float32)).backward()
    assert m.bias["shared"].grad.item() == 4.0
    m2 = Heads()
    m2.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m2.heads["b"].W.data, m.heads["b"].W.data)


def test_train_eval_switch_dropout():
    m = TwoTowers()
    x = np.ones((50, 3), dtype=np.float32)
    m.eval()
    assert not m.head[1].training
    np.testing.assert_array_equal(m(x).data, m(x).data)  # deterministic
    m.train()
    assert m.head[1].training
    assert not np.array_equal(m(x).data, m(x).data)


def test_state_dict_round_trip():
    m1, m2 = TwoTowers(), TwoTowers()
    m2.towers[0].W.data[...] = 0
    sd = m1.state_dict()
    m2.load_state_dict(sd)
    for (n, p), (_, q) in zip(m1.named_parameters(), m2.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)
    sd["towers.0.W"][...] = 5  # a copy: the model is not changed
    assert not np.any(m1.towers[0].W.data == 5)


def test_linear_flattens_images_and_accepts_one_sample():
    lin = nn.Linear(12, 2, rng=0)
    img = np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(lin(img).data, lin(img.reshape(4, 12)).data)
    assert lin(img[0].reshape(12)).shape == (2,)
    with pytest.raises(ValueError, match="Linear: in_features must be a positive integer"):
        nn.Linear(0, 2)


def test_sequential_rejects_non_modules():
    with pytest.raises(ValueError, match="item 1 must be a Module"):
        nn.Sequential(nn.ReLU(), "relu")


def test_sequential_slice_is_a_sequential_of_the_same_modules():
    seq = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    x = np.ones((5, 3), dtype=np.float32)
    np.testing.assert_array_equal(seq[2](head(x)).data, seq(x).data)
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]


def test_inference_records_no_graph():
    m = nn.MLP([3, 4, 2], seed=0)
    s = m.scores(np.ones((2, 3)))
    assert isinstance(s, np.ndarray)
    with ag.no_grad():
        y = m(np.ones((2, 3)))
    assert y.creator is None
    assert isinstance(m(Tensor(np.ones((2, 3), dtype=np.float32))), Tensor)


def test_trainer_fits_an_autograd_model_like_the_layers_model():
    from ippo.training import Trainer

    x, t = data("multiclass", n=60)
    a, b = pair("multiclass", dropout=0.2)
    ha = Trainer(a, optimizers.SGD(lr=0.1), verbose=0).fit(
        x, t, epochs=3, batch_size=16, seed=0, x_val=x[:20], t_val=t[:20]
    )
    wrapped = nn.Trainable(b)
    hb = Trainer(wrapped, optimizers.SGD(lr=0.1), verbose=0).fit(
        x, t, epochs=3, batch_size=16, seed=0, x_val=x[:20], t_val=t[:20]
    )
    np.testing.assert_allclose(hb.iteration_loss, ha.iteration_loss, rtol=1e-12)
    for k, v in a.state_dict().items():
        np.testing.assert_allclose(b.state_dict()[k], v, rtol=1e-11, atol=1e-13)
    assert wrapped.params[0] is b.Affine1.W.data
    with pytest.raises(ValueError, match="Trainable: expected"):
        nn.Trainable(object())


def test_shared_module_is_listed_once():
    lin = nn.Linear(2, 2, rng=0)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(seq.parameters()) == 2
    assert len(seq.modules()) == 3  # the Sequential, the Linear (once), the ReLU
    y = seq(np.ones((1, 2), dtype=np.float32)).sum()
    y.backward()  # the shared weight receives the gradients of both uses
    assert lin.W.grad is not None


def test_batch_normalization_gradients():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 3))
    g, b = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    w = rng.standard_normal((6, 3))

    def f(xa, ga, ba):
        return (ag.batch_norm(xa, ga, ba)[0] * Tensor(w)).sum()

    ts = [Tensor(a.copy(), requires_grad=True) for a in (x, g, b)]
    f(*ts).backward()
    for i, a in enumerate((x, g, b)):

        def loss(_):
            args = [x, g, b]  # numerical_gradient perturbs args[i] (= a) in place
            return f(*[Tensor(v) for v in args]).item()

        num = numerical_gradient(loss, a)
        np.testing.assert_allclose(ts[i].grad.data, num, rtol=1e-6, atol=1e-8)
    # create_graph=True: the backward pass recorded, differentiated again (vs numerical)
    for i, a in enumerate((x, g)):
        wa = np.random.default_rng(6 + i).standard_normal(a.shape)

        def gradient_sum(v, graph, i=i, wa=wa):
            args = [Tensor(u, requires_grad=j == i) for j, u in enumerate((x, g, b))]
            args[i] = Tensor(v, requires_grad=True)
            (ag.batch_norm(*args)[0] ** 3 * Tensor(w)).sum().backward(create_graph=graph)
            return args[i], (args[i].grad * Tensor(wa)).sum()

        t, s = gradient_sum(a, True)
        assert s.creator is not None
        t.zero_grad()
        s.backward()
        num = numerical_gradient(lambda v: gradient_sum(v, False)[1].item(), a)
        np.testing.assert_allclose(t.grad.data, num, rtol=1e-6, atol=1e-8)
    bn = nn.BatchNormalization(3, dtype=np.float64)
    bn(x)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0))
    bn.eval()
    xt = Tensor(x, requires_grad=True)
    (bn(xt) * Tensor(w)).sum().backward()  # inference: an affine map, recorded
    np.testing.assert_allclose(xt.grad.data, w * bn.gamma.data / np.sqrt(bn.running_var + 1e-5))
    with ag.no_grad():
        np.testing.assert_allclose(bn(x).data, bn(xt).data)


@pytest.mark.parametrize("task", ["multiclass", "binary"])
def test_classes_and_accuracy_match_models_mlp_for_every_target_form(task):
    # one shared implementation: the same classes, the same accuracy for indices, one-hot
    # (multiclass) or (N, 1) 0/1 columns (binary), the same clear errors
    a, b = pair(task)
    x, t = data(task, n=40)
    np.testing.assert_array_equal(a.predict_classes(x), b.predict_classes(x))
    forms = [t, np.eye(3)[t]] if task == "multiclass" else [t, t[:, None]]
    for form in forms:
        acc = float(np.mean(a.predict_classes(x) == t))
        assert a.accuracy(x, form) == b.accuracy(x, form) == acc
    with pytest.raises(ValueError, match=r"t has shape \(39,\), expected \(40,\)"):
        b.accuracy(x, t[:39])
    if task == "binary":  # a two-column target is not a binary target
        with pytest.raises(ValueError, match=r"t has shape \(40, 2\)"):
            b.accuracy(x, np.eye(2)[t])
    r = nn.MLP(sizes_for("regression"), task="regression")
    with pytest.raises(ValueError, match="a regression model has no classes"):
        r.accuracy(x, t)


def test_random_state_puts_the_dropout_masks_back_in_both_families():
    # what a checkpoint saves instead of reading layers' generators: the same keys (the
    # dropout layer's position among the layers) in both model families
    x, t = data("multiclass", n=6)
    for model in (models.MLP([5, 4, 3], dropout=0.5, batchnorm=True, seed=3),
                  nn.Trainable(nn.MLP([5, 4, 3], dropout=0.5, batchnorm=True, seed=3))):
        saved = model.random_state()
        assert list(saved) == ["3"] and model.uses_batch_statistics
        first = model.loss(x, t)
        assert model.loss(x, t) != first  # the generator moved on: another mask
        model.set_random_state(saved)
        assert model.loss(x, t) == first
    assert not nn.MLP([5, 3]).uses_batch_statistics and nn.MLP([5, 3]).random_state() == {}


def test_linear_takes_given_weights_of_its_shape():
    W = np.arange(6, dtype=np.float32).reshape(2, 3)
    lin = nn.Linear(2, 3, W=W)
    np.testing.assert_array_equal(lin(np.ones((1, 2), np.float32)).data, [[3.0, 5.0, 7.0]])
    with pytest.raises(ValueError, match=r"Linear: W must have shape \(3, 2\), got \(2, 3\)"):
        nn.Linear(3, 2, W=W)
