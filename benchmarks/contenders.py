"""The contenders: one class per library, each doing the same training work.

Every contender trains the same fully connected classifier (``NetSpec``) with plain SGD
(learning rate ``lr``, no momentum, no weight decay) and softmax cross-entropy, on shuffled
mini-batches gathered from the training data. ``Contender.build(...)`` returns a runner whose
``run(n_steps)`` trains on the next ``n_steps * batch_size`` samples of the data (cycling
through it) and returns the last mini-batch's loss; the benchmark times ``run``.

Each library is imported only inside its own contender, so a missing library skips that
contender (``unavailable()`` gives the reason) instead of failing the benchmark.
"""

import importlib.util
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NetSpec:
    """A network of the benchmark: ``sizes`` = [784, hidden..., 10] and the hidden activation."""

    key: str
    sizes: tuple
    activation: str  # "sigmoid" or "relu"

    @property
    def title(self):
        return f"({self.key}) {'-'.join(map(str, self.sizes))} {self.activation}"


NETS = {
    "a": NetSpec("a", (784, 50, 10), "sigmoid"),
    "b": NetSpec("b", (784, 100, 100, 100, 10), "relu"),
    "c": NetSpec("c", (784, 1000, 1000, 10), "relu"),
}


class Cursor:
    """Hands out consecutive chunks of ``n`` samples of a data set of ``total``, wrapping round."""

    def __init__(self, total):
        self.total = total
        self.start = 0

    def take(self, n):
        if n > self.total:
            raise ValueError(f"Cursor.take: asked for {n} samples, the data has {self.total}")
        if self.start + n > self.total:
            self.start = 0
        s = slice(self.start, self.start + n)
        self.start += n
        return s


class GatheredBatches:
    """Shuffled mini-batches gathered into two reused buffers, the way ``Trainer.fit`` does.

    ``batches(n_steps)`` takes the next ``n_steps × batch_size`` samples (a ``Cursor`` chunk),
    shuffles them and yields ``(xb, tb)`` views of the same two buffers each step.
    """

    def __init__(self, x, t, batch_size, seed):
        self.x, self.t, self.batch_size = x, t, batch_size
        self.cursor = Cursor(len(x))
        self.rng = np.random.default_rng(seed)
        self.xbuf = np.empty((batch_size, x.shape[1]), dtype=x.dtype)
        self.tbuf = np.empty(batch_size, dtype=t.dtype)

    def batches(self, n_steps):
        b = self.batch_size
        s = self.cursor.take(n_steps * b)
        xc, tc = self.x[s], self.t[s]
        order = self.rng.permutation(len(xc))
        for i in range(n_steps):
            idx = order[i * b:(i + 1) * b]
            xc.take(idx, axis=0, out=self.xbuf)
            tc.take(idx, axis=0, out=self.tbuf)
            yield self.xbuf, self.tbuf


class Contender:
    """Base class. ``name`` is the column label; ``dtype`` the precision it trains in."""

    name = "?"
    dtype = "float32"
    modules = ()  # import names that must be present

    def unavailable(self):
        """None when this contender can run here, else a one-line reason."""
        for module in self.modules:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed"
        return None

    def build(self, net, batch_size, x, t, lr=0.01, seed=0):  # pragma: no cover - abstract
        raise NotImplementedError


# ---------------------------------------------------------------------------- PyTorch


class TorchContender(Contender):
    """PyTorch CPU: ``nn.Sequential`` of ``Linear`` + activation, ``CrossEntropyLoss``,
    ``optim.SGD``, default thread count; batches gathered with ``index_select``."""

    name = "torch"
    modules = ("torch",)

    def build(self, net, batch_size, x, t, lr=0.01, seed=0):
        import torch

        torch.manual_seed(seed)
        act = torch.nn.ReLU if net.activation == "relu" else torch.nn.Sigmoid
        layers = []
        for i, (a, b) in enumerate(zip(net.sizes[:-1], net.sizes[1:], strict=False)):
            layers.append(torch.nn.Linear(a, b))
            if i < len(net.sizes) - 2:
                layers.append(act())
        model = torch.nn.Sequential(*layers)
        loss_fn = torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        xs = torch.from_numpy(x)
        ts = torch.from_numpy(t)
        cursor = Cursor(len(x))
        gen = torch.Generator().manual_seed(seed)

        def run(n_steps):
            s = cursor.take(n_steps * batch_size)
            xc, tc = xs[s], ts[s]
            order = torch.randperm(xc.shape[0], generator=gen)
            loss = None
            for i in range(n_steps):
                idx = order[i * batch_size:(i + 1) * batch_size]
                xb = xc.index_select(0, idx)
                tb = tc.index_select(0, idx)
                opt.zero_grad()
                loss = loss_fn(model(xb), tb)
                loss.backward()
                opt.step()
            return float(loss.detach())

        run.model = model
        return run


# ---------------------------------------------------------------------------- scikit-learn


class SklearnContender(Contender):
    """scikit-learn ``MLPClassifier(solver="sgd", momentum=0, alpha=0)`` fed float32, trained
    with ``partial_fit`` on each chunk (one shuffled pass in mini-batches of ``batch_size``)."""

    name = "sklearn"
    modules = ("sklearn",)

    def build(self, net, batch_size, x, t, lr=0.01, seed=0):
        import warnings

        from sklearn.neural_network import MLPClassifier

        clf = MLPClassifier(
            hidden_layer_sizes=net.sizes[1:-1],
            activation="relu" if net.activation == "relu" else "logistic",
            solver="sgd",
            alpha=0.0,
            batch_size=batch_size,
            learning_rate="constant",
            learning_rate_init=lr,
            momentum=0.0,
            nesterovs_momentum=False,
            shuffle=True,
            random_state=seed,
        )
        classes = np.arange(net.sizes[-1])
        cursor = Cursor(len(x))

        def run(n_steps):
            s = cursor.take(n_steps * batch_size)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.partial_fit(x[s], t[s], classes=classes)
            return float(clf.loss_)

        run.model = clf
        return run


# ---------------------------------------------------------------------------- NumPy, book style


class NumpyBookContender(Contender):
    """The book-style NumPy network of ``benchmarks.numpy_reference`` (float64 weights, as
    ``np.random.randn`` gives; the float32 input is promoted at the first product)."""

    name = "numpy-book"
    dtype = "float64"

    def __init__(self, dtype="float64"):
        self.dtype = dtype
        if dtype != "float64":
            self.name = f"numpy-book-{dtype}"

    def build(self, net, batch_size, x, t, lr=0.01, seed=0):
        from benchmarks import numpy_reference as ref

        network = ref.MultiLayerNet(net.sizes, net.activation, dtype=np.dtype(self.dtype),
                                    seed=seed)
        rng = np.random.default_rng(seed)
        cursor = Cursor(len(x))

        def run(n_steps):
            s = cursor.take(n_steps * batch_size)
            ref.train_steps(network, x[s], t[s], batch_size, lr, rng)
            return float(network.last_loss)

        run.model = network
        return run


# ---------------------------------------------------------------------------- ippo


class IppoContender(Contender):
    """ippo: ``ippo.models.MLP`` + ``ippo.optimizers.SGD`` trained by ``Trainer.fit`` (one
    epoch over each chunk, ``verbose=0``, ``eval_train=False`` so that no accuracy pass over
    the training data is timed), the code path of a user's training call.

    ``through_trainer=False`` ("ippo-step") times the bare step instead —
    ``model.loss``, ``model.backward``, ``optimizer.update`` on gathered batches, under the
    trainer's BLAS thread rule (``ippo.blas.for_batches``) — which shows what the
    Trainer's own bookkeeping costs.
    """

    modules = ("ippo.models", "ippo.optimizers", "ippo.training")

    def __init__(self, dtype="float32", through_trainer=True):
        self.dtype = dtype
        self.through_trainer = through_trainer
        self.name = "ippo" if dtype == "float32" else f"ippo-{dtype}"
        if not through_trainer:
            self.name = "ippo-step"

    def build(self, net, batch_size, x, t, lr=0.01, seed=0):
        from ippo.models import MLP
        from ippo.optimizers import SGD
        from ippo.training import Trainer

        model = MLP(list(net.sizes), activation=net.activation, dtype=np.dtype(self.dtype),
                    seed=seed)
        opt = SGD(lr=lr)
        cursor = Cursor(len(x))
        if self.through_trainer:
            trainer = Trainer(model, opt, verbose=0)
            epoch = [0]

            def run(n_steps):
                s = cursor.take(n_steps * batch_size)
                epoch[0] += 1
                history = trainer.fit(x[s], t[s], epochs=1, batch_size=batch_size,
                                      shuffle=True, seed=seed + epoch[0], eval_train=False)
                return float(history.iteration_loss[-1])
        else:
            from ippo import blas

            params, grads = model.params, model.grads
            model.train()
            data = GatheredBatches(x, t, batch_size, seed)

            def run(n_steps):
                loss = None
                with blas.for_batches(batch_size, params):  # the trainer's thread rule
                    for xb, tb in data.batches(n_steps):
                        loss = model.loss(xb, tb)
                        model.backward()
                        opt.update(params, grads)
                return float(loss)

        run.model = model
        return run


class AutogradContender(Contender):
    """ippo.autograd: ``nn.MLP`` (same layers, same initial weights as ``ippo.models.MLP``)
    trained the autograd's way, like the PyTorch loop: ``loss = model.loss(xb, tb)``,
    ``opt.zero_grad()``, ``loss.backward()``, ``opt.step()`` with
    ``nn.Optimizer(SGD(lr))``, on the same shuffled, gathered mini-batches."""

    modules = ("ippo.autograd",)

    def __init__(self, dtype="float32"):
        self.dtype = dtype
        self.name = "ippo.autograd" if dtype == "float32" else f"ippo.autograd-{dtype}"

    def build(self, net, batch_size, x, t, lr=0.01, seed=0):
        from ippo.autograd import nn
        from ippo.optimizers import SGD

        model = nn.MLP(list(net.sizes), activation=net.activation, dtype=np.dtype(self.dtype),
                       seed=seed)
        opt = nn.Optimizer(SGD(lr=lr), model.parameters())
        data = GatheredBatches(x, t, batch_size, seed)

        def run(n_steps):
            loss = None
            for xb, tb in data.batches(n_steps):
                loss = model.loss(xb, tb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            return float(loss.item())

        run.model = model
        return run
