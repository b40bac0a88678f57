"""What an MLP of the course is made of: the tasks and the activations, one table each.

- ``TASKS``: for each problem (regression, binary, multiclass) its output function, the
  losses it may train with (``Loss``: the loss layer of ``ippo.layers`` and the op of
  ``ippo.autograd.ops``, by name; the first is the default), its label rule
  (``ippo.checks``), the class of each prediction, the metric reported beside the loss,
  and how many outputs it needs.
- ``ACTIVATIONS``: each hidden activation's name, its class (the same class name in
  ``ippo.layers`` and ``ippo.autograd.nn``) and its formula.
- ``mlp_arguments`` checks an MLP's arguments and ``mlp_plan`` lays its layers out, drawing
  the random numbers in one fixed order, so that ``ippo.models.MLP`` and
  ``ippo.autograd.nn.MLP`` built with one seed are the very same network.

``ippo.models``, ``ippo.autograd.nn``, ``ippo.training`` and the CLI read these tables (the
CLI's help texts too): a new task or activation is a row here plus its classes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ippo import checks
from ippo import functions as F
from ippo.backend import xp
from ippo.initializers import get_rng, init_std, normal

__all__ = ["Loss", "Task", "TASKS", "Activation", "ACTIVATIONS", "class_accuracy", "mlp_arguments",
           "mlp_plan"]


def _class_labels(where, y_shape, t, y_name="y", t_name="t"):
    return checks.class_targets(where, y_shape, t, y_name, t_name)[0]


def _argmax(scores):
    return scores.argmax(axis=-1)


def _positive(scores):
    return (scores[..., 0] > 0).astype(xp.int64)


def _no_classes(scores):
    raise ValueError("predict_classes: a regression model has no classes; use predict(x)")


@dataclass(frozen=True)
class Loss:
    """A loss a task may train with: ``MLP(task=..., loss=name)``."""

    #: the name ``MLP(loss=...)`` takes: the loss's function name in ``ippo.functions``
    name: str
    #: the loss in words, for help texts and error messages
    formula: str
    #: the loss layer's class name in ``ippo.layers``
    layer: str
    #: the loss's function name in ``ippo.autograd.ops``
    op: str


@dataclass(frozen=True)
class Task:
    """One row of ``TASKS``: everything that depends on the problem a model solves."""

    #: "regression", "binary" or "multiclass"
    name: str
    #: the task in words, for help texts
    description: str
    #: the losses it may train with (``Loss`` rows); the first is the default
    losses: tuple
    #: raw scores → the prediction (probabilities, or the values themselves)
    output: Callable
    #: the label rule, ``targets(where, y_shape, t, y_name, t_name) -> t``: the shapes and
    #: values ``t`` may take for predictions of ``y_shape`` (``ippo.checks``)
    targets: Callable
    #: raw scores → the predicted class of each sample (raises for regression)
    classes: Callable
    #: the metric reported beside the loss: "accuracy", or "r2" (R²) for regression
    metric: str
    #: the fewest and the most outputs a network of this task may have (None: no limit)
    outputs: tuple
    #: why other output counts are wrong ({n}: the count given)
    outputs_error: str = ""

    def loss(self, name=None, where="MLP"):
        """The ``Loss`` row called ``name`` (None: the task's default, its first), or
        ValueError naming ``where`` and the losses this task takes."""
        if name is None:
            return self.losses[0]
        for loss in self.losses:
            if loss.name == name:
                return loss
        choices = "; ".join(f"{x.name!r} ({x.formula})" for x in self.losses)
        raise ValueError(f"{where}: loss for task={self.name!r} must be one of {choices}, "
                         f"got {name!r}")


TASKS = {
    "regression": Task(
        "regression", "real values (identity output, ½·mean squared error)",
        (Loss("mean_squared_error", "½·mean((y − t)²) over every element",
              "MeanSquaredLoss", "mse"),
         Loss("sum_squared_error", "the course's per-sample E = ½·Σⱼ(yⱼ − tⱼ)², averaged over "
              "the batch", "SumSquaredLoss", "sum_squared_error")),
        F.identity, checks.targets_like, _no_classes, "r2", (1, None)),
    "binary": Task(
        "binary", "two classes, one logit per sample (sigmoid, binary cross-entropy)",
        (Loss("sigmoid_binary_cross_entropy", "binary cross-entropy of σ(x)",
              "SigmoidWithLoss", "sigmoid_binary_cross_entropy"),),
        F.sigmoid, checks.binary_targets, _positive, "accuracy", (1, 1),
        "a binary classifier has one output (a logit), so sizes must end with 1, got {n}"),
    "multiclass": Task(
        "multiclass", "C ≥ 2 classes (softmax, cross-entropy)",
        (Loss("softmax_cross_entropy", "cross-entropy of softmax(x)",
              "SoftmaxWithLoss", "cross_entropy"),),
        F.softmax, _class_labels, _argmax, "accuracy", (2, None),
        "a multiclass classifier needs at least 2 outputs, got {n} (use task='binary' for "
        "one)"),
}


@dataclass(frozen=True)
class Activation:
    """One row of ``ACTIVATIONS``."""

    #: the name ``MLP(activation=...)`` and ``ippo train --activation`` take
    name: str
    #: the class in ``ippo.layers`` and in ``ippo.autograd.nn`` (the same name in both)
    cls: str
    #: h(x), for help texts
    formula: str
    #: whether it is a sensible hidden activation (the identity makes the network linear)
    hidden: bool = True


ACTIVATIONS = {a.name: a for a in (
    Activation("relu", "ReLU", "max(0, x)"),
    Activation("sigmoid", "Sigmoid", "1 / (1 + exp(−x))"),
    Activation("tanh", "Tanh", "tanh(x)"),
    Activation("leaky_relu", "LeakyReLU", "x if x > 0 else 0.01·x"),
    Activation("identity", "Identity", "x", hidden=False),
)}


def class_accuracy(task, predict_classes, x, t):
    """Fraction of the samples of ``x`` whose ``predict_classes(x)`` equals ``t``:
    accuracy = (1/N) Σₙ [classₙ = tₙ], for class indices, one-hot rows (multiclass) or 0/1
    of shape (N,) or (N, 1) (binary). Both model families' ``accuracy``."""
    if task == "regression":
        raise ValueError("accuracy: a regression model has no classes; compare predict(x) "
                         "with t instead (e.g. mean squared error)")
    pred = predict_classes(x)
    t = xp.asarray(t)
    if task == "multiclass" and t.ndim == pred.ndim + 1:
        t = t.argmax(axis=-1)
    elif task == "binary" and t.ndim == pred.ndim + 1 and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != pred.shape:
        raise ValueError(f"accuracy: t has shape {tuple(t.shape)}, expected "
                         f"{tuple(pred.shape)} (class indices) for x of {len(pred)} samples")
    return float(xp.mean(pred == t)) if pred.size else 0.0


def mlp_arguments(sizes, activation, task, dropout, weight_decay, dtype, where="MLP",
                  loss=None):
    """An MLP's arguments checked against the tables: ``(sizes, dropout, weight_decay,
    dtype, loss)`` as a list of ints, floats, a NumPy dtype and the task's ``Loss`` row
    (``loss`` None: the task's default); ValueError naming ``where``."""
    sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else None
    if (sizes is None or len(sizes) < 2 or any(
            isinstance(s, bool) or not isinstance(s, (int, xp.integer)) or s < 1
            for s in sizes)):
        raise ValueError(f"{where}: sizes must be a list of at least two positive integers "
                         f"(input, hidden..., output), got {sizes!r}")
    sizes = [int(s) for s in sizes]
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of {', '.join(ACTIVATIONS)}, "
                         f"got {activation!r}")
    if task not in TASKS:
        raise ValueError(f"{where}: task must be one of {', '.join(TASKS)}, got {task!r}")
    lo, hi = TASKS[task].outputs
    if sizes[-1] < lo or hi is not None and sizes[-1] > hi:
        raise ValueError(f"{where}: " + TASKS[task].outputs_error.format(n=sizes[-1]))
    dropout = float(dropout)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{where}: dropout must be in [0, 1), got {dropout}")
    weight_decay = checks.non_negative(where, "weight_decay", weight_decay)
    return (sizes, dropout, weight_decay, checks.float_dtype(where, dtype),
            TASKS[task].loss(loss, where))


def mlp_plan(sizes, activation, init, dropout, batchnorm, dtype, seed):
    """The course's MLP layer by layer, its random numbers drawn in one fixed order.

    Per hidden layer: ``("affine", W)``, ``("batchnorm", size)`` if ``batchnorm``,
    ``("activation", name)``, ``("dropout", seed)`` if ``dropout`` > 0; then the output
    ``("affine", W)``. W (n_in, n_out) is drawn from N(0, std²) with std from ``init``
    (``ippo.initializers.init_std``; biases start at 0); each dropout layer gets its own
    seed, drawn between the weights. The same ``seed`` always gives the same plan.
    """
    rng = get_rng(seed)
    plan = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        plan.append(("affine", normal((n_in, n_out), init_std(init, n_in, activation), rng,
                                      dtype)))
        if i < len(sizes) - 2:
            if batchnorm:
                plan.append(("batchnorm", n_out))
            plan.append(("activation", activation))
            if dropout > 0.0:
                plan.append(("dropout", int(rng.integers(2**62))))
    return plan
