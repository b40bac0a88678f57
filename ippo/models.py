"""Models: a stack of layers plus a loss layer, trained by back-propagation.

- ``Sequential(layers, loss)`` runs any list of layers from ``ippo.layers``.
- ``MLP(sizes, ...)`` builds the multi-layer perceptron of the course from a list of sizes,
  e.g. ``MLP([784, 100, 100, 10])``: Affine → (BatchNorm) → activation → (Dropout) per hidden
  layer, then Affine and the loss that ``task`` picks.
- ``model.save(path)`` writes one ``.npz`` file (arrays + a JSON description);
  ``ippo.models.load(path)`` rebuilds the model. Loading never unpickles anything.

A training step::

    loss = model.loss(x_batch, t_batch)      # forward, in training mode
    model.backward()                          # fills every array of model.grads in place
    for p, g in zip(model.params, model.grads):
        p -= lr * g                           # or: optimizer.update(model.params, model.grads)
"""

import os

import numpy as np

import ippo
from ippo import checks, layers, state
from ippo import functions as F
from ippo.backend import DEFAULT_DTYPE, xp
from ippo.io import read_npz, save_npz
from ippo.layers import (
    LAYERS,
    Affine,
    BatchNormalization,
    Dropout,
    Layer,
    LossLayer,
    describe,
    layer_from_config,
)
from ippo.tasks import ACTIVATIONS, TASKS, class_accuracy, mlp_arguments, mlp_plan

#: Written into every model file; ``load`` refuses anything else.
FILE_FORMAT = "ippo-model"
FILE_VERSION = 1

#: ``scores`` / ``predict`` run inputs larger than this in chunks, to bound memory.
PREDICT_CHUNK = 8192


class Sequential:
    """Layers applied in order, then a loss layer.

    ``Sequential([Affine(W1, b1), ReLU(), Affine(W2, b2)], SoftmaxWithLoss())``.
    ``weight_decay`` (λ) adds ½·λ·ΣW² over the weight matrices (not the biases) to the loss
    and λ·W to their gradients. Layers are named by class and count, "Affine1", "ReLU1",
    "Affine2", …; parameters by layer and role, "Affine1.W", "Affine1.b".
    """

    def __init__(self, layers, loss, weight_decay=0.0):
        if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
            raise ValueError(f"Sequential: layers must be a list of layers, such as "
                             f"[Affine(W1, b1), ReLU(), Affine(W2, b2)], got {layers!r}")
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer) or isinstance(layer, LossLayer):
                raise ValueError(
                    f"Sequential: layers[{i}] must be a layer from ippo.layers (not a loss), "
                    f"got {layer!r}"
                )
        if len({id(la) for la in layers}) != len(layers):
            raise ValueError("Sequential: the same layer object appears twice in layers")
        if not isinstance(loss, LossLayer):
            raise ValueError(
                "Sequential: loss must be a loss layer (SoftmaxWithLoss, SigmoidWithLoss, "
                f"MeanSquaredLoss), got {loss!r}"
            )
        weight_decay = checks.non_negative("Sequential", "weight_decay", weight_decay)
        self.layers = layers
        self.loss_layer = loss
        self.weight_decay = weight_decay
        self.task = loss.task

        counts = {}
        self.layer_names = []
        for layer in layers:
            kind = type(layer).__name__
            counts[kind] = counts.get(kind, 0) + 1
            self.layer_names.append(f"{kind}{counts[kind]}")

        self.params, self.grads, self.param_names = [], [], []
        self._decay = []  # (param, grad) pairs that weight decay applies to
        for name, layer in zip(self.layer_names, layers, strict=True):
            for j, (p, g) in enumerate(zip(layer.params, layer.grads, strict=True)):
                self.params.append(p)
                self.grads.append(g)
                self.param_names.append(f"{name}.{layer.param_names[j]}")
                if j in layer.decay_params:
                    self._decay.append((p, g))
        dtypes = {p.dtype for p in self.params}
        if len(dtypes) > 1:
            raise ValueError(
                f"Sequential: all parameters must share one dtype, got {sorted(map(str, dtypes))}"
            )
        self.dtype = dtypes.pop() if dtypes else np.dtype(DEFAULT_DTYPE)
        self._scratch = None

        # Back-propagation stops at the first layer with parameters: nobody needs the gradient
        # of the input, so that layer skips its dx (a whole matrix product saved).
        self._first = next((i for i, la in enumerate(layers) if la.params), len(layers))
        for i, layer in enumerate(layers):
            layer.position = i + 1
            layer.need_input_grad = i > self._first
            layer.inplace = True  # every dout inside the model is a fresh array
        loss.position = len(layers) + 1
        self._has_loss = False  # backward needs a loss(x, t) call first
        self.training = True
        self.train()

    # ------------------------------------------------------------------ modes

    def train(self):
        """Training mode (Dropout drops, BatchNorm uses batch statistics). Returns the model."""
        self._set_mode(True)
        return self

    def eval(self):
        """Inference mode (Dropout is the identity, BatchNorm uses running averages)."""
        self._set_mode(False)
        return self

    def _set_mode(self, training):
        self.training = training
        for layer in self.layers:
            layer.training = training
        self.loss_layer.training = training

    # ------------------------------------------------------------------ forward / backward

    def forward(self, x):
        """Raw scores of the last layer in the current mode (keeps what backward needs)."""
        self._has_loss = False  # the layers now hold this x: a backward needs loss() again
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Forward through every layer and the loss layer, in the model's current mode
        (training unless ``eval()`` was called); returns the loss as a float, with the L2
        weight-decay term ½·λ·ΣW² when ``weight_decay`` > 0."""
        x = xp.asarray(x)
        if x.ndim >= 2 and x.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}.loss: x holds no samples (shape "
                             f"{tuple(x.shape)}); the mean loss of an empty batch is undefined")
        loss = self.loss_layer.forward(self.forward(x), t)
        self._has_loss = True
        if self.weight_decay:
            loss += F.l2_penalty([p for p, _ in self._decay], self.weight_decay)
        return loss

    def backward(self, dout=1):
        """Back-propagate the last ``loss`` call: fills every array of ``grads`` in place."""
        if not self._has_loss:
            raise ValueError(f"{type(self).__name__}.backward: call loss(x, t) first "
                             f"(backward back-propagates the last loss)")
        dout = self.loss_layer.backward(dout)
        layers = self.layers
        for i in range(len(layers) - 1, self._first - 1, -1):
            dout = layers[i].backward(dout)
        if self.weight_decay and self._decay:
            if self._scratch is None:
                size = max(p.size for p, _ in self._decay)
                self._scratch = np.empty(size, dtype=self.dtype)
            for p, g in self._decay:
                buf = self._scratch[: p.size].reshape(p.shape)
                F.l2_penalty_backward(g, p, self.weight_decay, scratch=buf)
        return None

    # ------------------------------------------------------------------ inference

    def scores(self, x):
        """Raw outputs of the last layer (logits / values), in inference mode."""
        x = xp.asarray(x)
        was_training = self.training
        if was_training:
            self._set_mode(False)
        try:
            if x.ndim >= 2 and x.shape[0] > PREDICT_CHUNK:
                return xp.concatenate([self.scores(x[i:i + PREDICT_CHUNK])
                                       for i in range(0, x.shape[0], PREDICT_CHUNK)])
            return self.forward(x)
        finally:
            if was_training:
                self._set_mode(True)

    def predict(self, x):
        """Predictions in inference mode: class probabilities (softmax; sigmoid of shape (N, 1)
        for binary) for classifiers, values for regression."""
        return self.loss_layer.output(self.scores(x))

    def predict_classes(self, x):
        """Predicted class per sample: argmax for multiclass, score > 0 (p > ½) for binary."""
        return TASKS[self.task].classes(self.scores(x))

    def accuracy(self, x, t):
        """Fraction of samples whose predicted class equals t (indices, one-hot, or 0/1)."""
        return class_accuracy(self.task, self.predict_classes, x, t)

    # ------------------------------------------------------------------ state

    def state_dict(self):
        """{name: copy of array}: every parameter ("Affine1.W", …) and buffer
        ("BatchNormalization1.running_mean", …)."""
        return state.copy_arrays(self._state_arrays())

    def _state_arrays(self):
        out = {}
        for name, layer in zip(self.layer_names, self.layers, strict=True):
            for pname, p in zip(layer.param_names, layer.params, strict=True):
                out[f"{name}.{pname}"] = p
            for bname, b in layer.buffers.items():
                out[f"{name}.{bname}"] = b
        return out

    def load_state_dict(self, arrays):
        """Copy ``arrays`` ({name: array}, as ``state_dict()`` returns) into the model's own
        arrays, in place (names and shapes must match exactly; values are cast to the
        model's dtype). Everything is checked before anything is copied: on an error the
        model is unchanged."""
        state.load_arrays(self._state_arrays(), arrays, f"{type(self).__name__}.load_state_dict")
        return self

    def random_state(self):
        """{position: state} of the random generators of the layers that draw (Dropout's
        masks): what a checkpoint saves so that a resumed run draws the same masks."""
        return state.generator_states(self.layers)

    def set_random_state(self, states):
        """Put the layers' generators back into ``random_state()``'s ``states``."""
        state.set_generator_states(self.layers, states)

    @property
    def uses_batch_statistics(self):
        """True when training normalizes with the batch's own statistics (a batch
        normalization layer): a batch of one sample cannot train such a model."""
        return any(layer.uses_batch_statistics for layer in self.layers)

    @property
    def takes_ids(self):
        """True when the input is integer ids (the first layer is an Embedding or an
        EmbeddingBag): the trainer keeps them integers."""
        return bool(self.layers) and self.layers[0].takes_ids

    def config(self):
        """JSON-able description of the architecture (no arrays)."""
        return {
            "layers": [describe(layer) for layer in self.layers],
            "loss": describe(self.loss_layer),
            "weight_decay": self.weight_decay,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config):
        """A model of the architecture ``config()`` describes, with placeholder arrays."""
        dtype = checks.float_dtype("from_config", config.get("dtype", "float32"))
        layers = [layer_from_config(c, dtype) for c in config["layers"]]
        loss = layer_from_config(config["loss"], dtype)
        return cls(layers, loss, weight_decay=config.get("weight_decay", 0.0))

    def astype(self, dtype):
        """A copy of the model in ``dtype`` (e.g. float64 for a gradient check)."""
        config = dict(self.config())
        config["dtype"] = checks.float_dtype("astype", dtype).name
        model = type(self).from_config(config)
        model.load_state_dict(self._state_arrays())
        model._set_mode(self.training)
        return model

    def copy(self):
        """An independent copy with the same weights."""
        return self.astype(self.dtype)

    def save(self, path, extra=None):
        """Write the model to one ``.npz`` file at ``path`` (exactly that name), atomically.

        ``extra`` is an optional JSON-able dict stored with the description (for example the
        epoch), given back as ``model.extra`` by ``ippo.models.load``. Returns ``path``.
        A layer class of your own must be registered in ``ippo.layers.LAYERS`` (its
        ``config()`` giving its constructor's arguments), or ``load`` could not rebuild it.
        """
        for name, layer in zip(self.layer_names + ["loss"], self.layers + [self.loss_layer],
                               strict=True):
            if LAYERS.get(type(layer).__name__) is not type(layer):
                raise ValueError(
                    f"save: {name} is a {type(layer).__name__}, which ippo.models.load could "
                    f"not rebuild; register the class first: "
                    f"ippo.layers.LAYERS[{type(layer).__name__!r}] = {type(layer).__name__}")
        return save_npz(path, self._state_arrays(), self._meta(extra))

    def _meta(self, extra):
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "ippo_version": ippo.__version__,
            "class": type(self).__name__,
            "config": self.config(),
            "extra": extra,
        }

    # ------------------------------------------------------------------ description

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for name, layer in zip(self.layer_names, self.layers, strict=True):
            lines.append(f"  {name}: {layer!r}")
        lines.append(f"  loss: {self.loss_layer!r}")
        lines.append(f")  # {self.n_params:,} parameters, {self.dtype.name}, task={self.task}")
        return "\n".join(lines)

    @property
    def n_params(self):
        """Number of trainable numbers."""
        return sum(p.size for p in self.params)


class MLP(Sequential):
    """The multi-layer perceptron of the course, built from its layer sizes.

    ``MLP([784, 100, 100, 10])`` = Affine(784→100) → ReLU → Affine(100→100) → ReLU →
    Affine(100→10) → SoftmaxWithLoss. Per hidden layer: Affine, then BatchNormalization if
    ``batchnorm``, the activation, then Dropout if ``dropout`` > 0.

    - ``activation``: "relu", "sigmoid", "tanh", "leaky_relu" or "identity".
    - ``task``: "multiclass" (softmax + cross-entropy), "binary" (sigmoid + binary
      cross-entropy, one output), "regression" (identity + mean squared error).
    - ``loss``: None for the task's loss, or one of the losses ``ippo.tasks.TASKS`` lists
      for it: for regression "mean_squared_error" (½·mean over every element, the default;
      ``MeanSquaredLoss``) or "sum_squared_error" (the course's per-sample
      E = ½·Σⱼ(yⱼ − tⱼ)², averaged over the batch; ``SumSquaredLoss``). With C outputs the
      second is C times the first, and so are its gradients.
    - ``init``: "he" (std √(2/n)), "xavier" (std √(1/n)), a float std, or "auto" (He for
      relu/leaky_relu, Xavier otherwise). Biases start at 0.
    - ``weight_decay``: L2 λ (½·λ·ΣW² added to the loss, λ·W to the weights' gradients).
    - ``dtype``: float32 (default, fast) or float64. ``seed``: the same seed gives bit-identical
      weights (and dropout masks).
    """

    def __init__(self, sizes, activation="relu", task="multiclass", init="auto", dropout=0.0,
                 batchnorm=False, weight_decay=0.0, dtype=DEFAULT_DTYPE, seed=None, loss=None):
        sizes, dropout, weight_decay, dtype, loss = mlp_arguments(
            sizes, activation, task, dropout, weight_decay, dtype, loss=loss)

        def layer(kind, arg):
            if kind == "affine":  # arg: W, drawn by the plan
                return Affine(arg, xp.zeros(arg.shape[1], dtype=dtype), dtype=dtype)
            if kind == "batchnorm":  # arg: the number of features
                return BatchNormalization(xp.ones(arg, dtype=dtype), dtype=dtype)
            if kind == "activation":  # arg: its name
                return getattr(layers, ACTIVATIONS[arg].cls)()
            return Dropout(dropout, seed=arg)  # arg: the seed of its masks

        plan = mlp_plan(sizes, activation, init, dropout, batchnorm, dtype, seed)
        super().__init__([layer(kind, arg) for kind, arg in plan], getattr(layers, loss.layer)(),
                         weight_decay=weight_decay)
        self.sizes = sizes
        self.activation = activation
        self.init = init
        self.dropout = dropout
        self.batchnorm = bool(batchnorm)
        self.loss_name = loss.name
        self.seed = seed if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) \
            else None

    def config(self):
        # "loss" only when it is not the task's default: files of default models stay
        # readable by the versions of ippo before the option
        loss = {} if self.loss_name == TASKS[self.task].loss().name else {"loss": self.loss_name}
        return {
            "sizes": self.sizes,
            "activation": self.activation,
            "task": self.task,
            "init": self.init,
            "dropout": self.dropout,
            "batchnorm": self.batchnorm,
            "weight_decay": self.weight_decay,
            "dtype": self.dtype.name,
            "seed": None if self.seed is None else int(self.seed),
            **loss,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return ("MLP(" + ", ".join([str(self.sizes), f"activation={self.activation!r}",
                                    f"task={self.task!r}"]
                                   + ([f"loss={self.loss_name!r}"]
                                      if self.loss_name != TASKS[self.task].loss().name else [])
                                   + ([f"dropout={self.dropout}"] if self.dropout else [])
                                   + (["batchnorm=True"] if self.batchnorm else [])
                                   + ([f"weight_decay={self.weight_decay}"]
                                      if self.weight_decay else [])
                                   + [f"dtype={self.dtype.name}"])
                + f")  # {self.n_params:,} parameters")


#: Model classes ``load`` can rebuild, by the name stored in the file.
MODELS = {"Sequential": Sequential, "MLP": MLP}


# --------------------------------------------------------------------------- files


def load(path):
    """Rebuild the model saved by ``model.save(path)``; its ``extra`` dict is ``model.extra``.

    Uses ``np.load(..., allow_pickle=False)``: loading a file never runs code. A truncated,
    corrupt or foreign file raises ``ValueError`` naming the file and the reason.
    """
    meta, arrays = read_npz(path)
    path = os.fspath(path)
    if meta.get("format") != FILE_FORMAT:
        if isinstance(meta.get("format"), int) and isinstance(meta.get("state"), dict):
            raise ValueError(f"{path}: this is a training checkpoint, not a model file; load "
                             f"the run's model.npz (a checkpoint is for resuming a run)")
        raise ValueError(f"{path}: not an ippo model file (format {meta.get('format')!r})")
    if type(meta.get("version")) is not int or meta["version"] != FILE_VERSION:
        raise ValueError(f"{path}: model file version {meta.get('version')!r} is not supported "
                         f"(this ippo reads version {FILE_VERSION})")
    name = meta.get("class")
    cls = MODELS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{path}: unknown model class {name!r}")
    if not isinstance(meta.get("config"), dict):
        raise ValueError(f"{path}: not a valid ippo model file: its description has no "
                         f"architecture (config is {type(meta.get('config')).__name__})")
    try:
        model = cls.from_config(meta["config"])
        model.load_state_dict(arrays)
    except (KeyError, TypeError, ValueError, AttributeError, MemoryError) as exc:
        raise ValueError(f"{path}: the model description does not match its arrays: "
                         f"{type(exc).__name__}: {exc}") from None
    model.extra = meta.get("extra")
    return model


__all__ = ["Sequential", "MLP", "load", "MODELS"]
