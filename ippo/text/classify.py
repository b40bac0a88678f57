"""The steps of the NLP 100 Knock chapter 8 as plain functions (``ippo news`` runs them all).

- 71: ``single_layer_model(d, 4)``: ŷ = softmax(x·W), one ``MatMul`` and ``SoftmaxWithLoss``.
- 72: ``check_gradients(model, x, t)``: the loss, ∂L/∂W by back-propagation and by
  numerical differentiation, and their largest difference.
- 73–76: ``train_classifier(model, optimizer, x, t, x_val, t_val, ...)``: ``Trainer.fit``
  with per-epoch checkpoints (parameters and optimizer state) and ``resume``.
- 77: ``time_batch_sizes(...)``: seconds per epoch for each batch size.
- 79: ``mlp_model(...)`` (hidden layers, dropout, batch normalisation) and
  ``fasttext_model(vocab_size, ...)``: the mean of an ``EmbeddingBag`` over the
  headline's ids (padding left out), then ``Affine`` and softmax.
- Every model: ``classification_report(y_pred, t, class_names)``: per-class precision,
  recall and F1, macro and micro averages and the confusion matrix, as one printable object.
"""

import os

import numpy as np

from ippo import metrics
from ippo.backend import xp
from ippo.initializers import get_rng, normal
from ippo.layers import Affine, EmbeddingBag, MatMul, SoftmaxWithLoss
from ippo.models import Sequential
from ippo.training import Callback

__all__ = ["single_layer_model", "check_gradients", "train_classifier", "EpochCheckpoints",
           "time_batch_sizes", "mlp_model", "fasttext_model", "classification_report",
           "ClassificationReport", "gpu_unavailable_reason"]


# --------------------------------------------------------------------------- models


def single_layer_model(n_features, n_classes=4, seed=0, std=0.01, dtype=np.float32):
    """Exercise 71: ŷ = softmax(x·W) with W (n_features, n_classes) drawn from N(0, std²):
    ``Sequential([MatMul(W)], SoftmaxWithLoss())``, no bias, as in the exercise."""
    W = normal((n_features, n_classes), std, get_rng(seed), dtype)
    return Sequential([MatMul(W)], SoftmaxWithLoss())


def mlp_model(n_features, hidden=(256,), n_classes=4, dropout=0.5, batchnorm=True, seed=0,
              dtype=np.float32):
    """Exercise 79: Affine → (BatchNormalization) → ReLU → (Dropout) per hidden layer, then
    Affine and softmax (``ippo.models.MLP`` with He initial weights)."""
    from ippo.models import MLP

    return MLP([n_features, *hidden, n_classes], dropout=dropout, batchnorm=batchnorm,
               seed=seed, dtype=dtype)


def fasttext_model(vocab_size, n_classes=4, dim=64, seed=0, dtype=np.float32):
    """Exercise 79, fastText-style: h = the mean of the embeddings of the headline's ids
    (``EmbeddingBag``, id 0 = padding left out), then ŷ = softmax(h·W + b).

    Embeddings start as N(0, 0.1²) (the padding row at 0), W with std √(1/dim). Input: the
    padded id matrix of ``Vocabulary.encode_batch``.
    """
    rng = get_rng(seed)
    E = normal((vocab_size, dim), 0.1, rng, dtype)
    E[0] = 0.0
    W = normal((dim, n_classes), (1.0 / dim) ** 0.5, rng, dtype)
    return Sequential([EmbeddingBag(E, padding_idx=0), Affine(W)], SoftmaxWithLoss())


def _layers_summary(model):
    """"EmbeddingBag(12996×64) → Affine(64→4)": the model's layers in one line."""
    parts = [repr(layer) for layer in model.layers]
    return " → ".join(parts)


# --------------------------------------------------------------------------- exercise 72


def check_gradients(model, x, t, h=1e-4):
    """Exercise 72: the loss of ``(x, t)`` and its gradient with respect to every parameter,
    by back-propagation and by numerical differentiation (central differences, step ``h``),
    computed on a float64 copy of ``model``.

    Returns ``{"loss": float, "grads": {name: array}, "numerical": {name: array},
    "max_abs_diff": float}``.
    """
    from ippo.numerical import numerical_gradient

    m = model.astype(np.float64).train()
    x = xp.asarray(x)
    if x.dtype.kind == "f":
        x = x.astype(np.float64)
    loss = m.loss(x, t)
    m.backward()
    grads = {name: g.copy() for name, g in zip(m.param_names, m.grads, strict=True)}
    numerical = {name: numerical_gradient(lambda _: m.loss(x, t), p, h=h)
                 for name, p in zip(m.param_names, m.params, strict=True)}
    diff = max(float(np.max(np.abs(grads[k] - numerical[k]))) for k in grads)
    return {"loss": float(loss), "grads": grads, "numerical": numerical, "max_abs_diff": diff}


# --------------------------------------------------------------------------- training


class EpochCheckpoints(Callback):
    """Exercise 76, a callback for ``Trainer.fit``: after every epoch, ``folder/epoch-NNN.npz``
    holds the epoch, the model's parameters (``state_dict``) and the optimizer's state
    (``state_dict``: its moments, step count and hyper-parameters), written atomically
    (``ippo.io.save_checkpoint``; read back with ``ippo.io.load_checkpoint``)."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)

    def on_epoch_end(self, epoch, logs):
        from ippo.io import save_checkpoint

        trainer = self.trainer
        save_checkpoint(os.path.join(self.folder, f"epoch-{epoch:03d}.npz"), {
            "epoch": epoch,
            "model": {k: np.asarray(v) for k, v in trainer.model.state_dict().items()},
            "optimizer": trainer.optimizer.state_dict(),
            "logs": {k: v for k, v in logs.items() if v is not None},
        })


def train_classifier(model, optimizer, x, t, x_val=None, t_val=None, epochs=10,
                     batch_size=64, seed=0, out_dir=None, resume=False, every_epoch=False,
                     early_stopping=None, verbose=0, file=None):
    """Exercises 73–76: train ``model`` with ``optimizer`` (``Trainer.fit``); returns the
    ``History`` (loss and accuracy per epoch, on the training and the validation data).

    With ``out_dir``: ``out_dir/checkpoint/checkpoint.npz`` is the trainer's checkpoint
    (``resume=True`` continues from it), and with ``every_epoch=True`` also
    ``out_dir/checkpoints/epoch-NNN.npz`` after every epoch (``EpochCheckpoints``).
    ``early_stopping``: a patience in epochs on the validation loss (the best epoch's
    weights are kept).
    """
    from ippo.training import Trainer

    callbacks = []
    ckpt_dir = None
    if out_dir is not None:
        ckpt_dir = os.path.join(out_dir, "checkpoint")
        if every_epoch:
            folder = os.path.join(out_dir, "checkpoints")
            os.makedirs(folder, exist_ok=True)
            callbacks.append(EpochCheckpoints(folder))
    trainer = Trainer(model, optimizer, verbose=verbose, file=file)
    history = trainer.fit(x, t, epochs=epochs, batch_size=batch_size, x_val=x_val,
                          t_val=t_val, seed=seed, callbacks=callbacks,
                          early_stopping=early_stopping, checkpoint_dir=ckpt_dir,
                          resume=resume)
    history.trainer = trainer
    return history


def time_batch_sizes(make_model, make_optimizer, x, t, batch_sizes, seed=0, repeats=3):
    """Exercise 77: the time of one training epoch for each batch size, each from a new model
    and optimizer (``make_model()``, ``make_optimizer(batch_size)``) trained for
    ``repeats`` epochs. Returns one dict per batch size: ``batch_size``, ``seconds`` (the
    median over those epochs of an epoch's training time, evaluation left out: a busy
    machine's stalls do not decide it), ``samples_per_s`` and ``loss`` (the mean training
    loss of the first epoch)."""
    from ippo.training import Trainer

    rows = []
    for bs in batch_sizes:
        model, optimizer = make_model(), make_optimizer(bs)
        history = Trainer(model, optimizer, verbose=0).fit(
            x, t, epochs=repeats, batch_size=min(bs, len(x)), seed=seed, eval_train=False)
        seconds = float(np.median([len(x) / r for r in history["samples_per_s"]]))
        rows.append({"batch_size": int(bs), "seconds": seconds,
                     "samples_per_s": len(x) / seconds, "loss": history["loss"][0]})
    return rows


# --------------------------------------------------------------------------- reports


class ClassificationReport:
    """Accuracy, per-class precision / recall / F1 / support, their macro and micro averages
    and the confusion matrix (rows: true class, columns: predicted). ``str(report)`` is the
    table ``ippo news`` prints; ``to_dict()`` the numbers."""

    def __init__(self, y_pred, t, class_names):
        self.class_names = list(class_names)
        k = len(self.class_names)
        self.accuracy = metrics.accuracy(y_pred, t)
        self.per_class = metrics.precision_recall_f1(y_pred, t, n_classes=k)
        self.macro = metrics.precision_recall_f1(y_pred, t, n_classes=k, average="macro")
        self.micro = metrics.precision_recall_f1(y_pred, t, n_classes=k, average="micro")
        self.confusion = metrics.confusion_matrix(y_pred, t, n_classes=k)
        self.n = int(self.confusion.sum())

    def to_dict(self):
        """The numbers as a JSON-able dict."""
        pc = self.per_class
        return {
            "accuracy": self.accuracy,
            "classes": {name: {"precision": float(pc["precision"][i]),
                               "recall": float(pc["recall"][i]), "f1": float(pc["f1"][i]),
                               "support": int(pc["support"][i])}
                        for i, name in enumerate(self.class_names)},
            "macro": self.macro,
            "micro": self.micro,
            "confusion_matrix": self.confusion.tolist(),
        }

    def __str__(self):
        names = self.class_names
        w = max(len("micro average"), *(len(n) for n in names))
        lines = [f"{'':<{w}}  precision  recall      f1  support"]
        pc = self.per_class
        for i, name in enumerate(names):
            lines.append(f"{name:<{w}}  {pc['precision'][i]:9.4f}  {pc['recall'][i]:6.4f}  "
                         f"{pc['f1'][i]:6.4f}  {int(pc['support'][i]):7,}")
        for label, avg in (("macro average", self.macro), ("micro average", self.micro)):
            lines.append(f"{label:<{w}}  {avg['precision']:9.4f}  {avg['recall']:6.4f}  "
                         f"{avg['f1']:6.4f}  {avg['support']:7,}")
        lines.append("")
        lines.append("confusion matrix (rows: true class, columns: predicted)")
        widths = [max(5, len(n)) for n in names]
        lines.append(f"{'':<{w}}  " + "  ".join(f"{n:>{cw}}" for n, cw in zip(names, widths,
                                                                            strict=True)))
        for i, name in enumerate(names):
            lines.append(f"{name:<{w}}  " + "  ".join(
                f"{int(c):>{cw},}" for c, cw in zip(self.confusion[i], widths, strict=True)))
        return "\n".join(lines)


def classification_report(y_pred, t, class_names):
    """The ``ClassificationReport`` of predictions ``y_pred`` (class ids or scores) against
    the true classes ``t``: print it for the table."""
    return ClassificationReport(y_pred, t, class_names)


# --------------------------------------------------------------------------- exercise 78


def gpu_unavailable_reason():
    """Why exercise 78 cannot run on a GPU here (one line), or None when it can.

    ippo's array code goes through ``ippo.backend``; the CuPy backend (issue 14) adds GPU
    devices to it (``backend.get_device("gpu")``, which says why when there is none). Until
    that backend has landed there is no GPU to run on, and nothing is measured.
    """
    from ippo import backend

    get_device = getattr(backend, "get_device", None)
    if get_device is None:
        return "ippo's CuPy (GPU) backend is not built yet (issue 14)"
    try:
        get_device("gpu")
    except ValueError as exc:  # no CuPy, no CUDA GPU: the backend's one-line reason
        return str(exc)
    return None
