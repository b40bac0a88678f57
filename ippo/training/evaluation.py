"""The numbers of an epoch: the loss and the metric of a model on data, in inference mode.

``evaluate`` measures them on any data (``Trainer.evaluate``); the ``Evaluation`` callback
fills each epoch's logs with them (the training metric, the validation loss and metric),
with the epoch's time, speed and learning rate.
"""

import time

import numpy as np

from ippo import metrics
from ippo.tasks import TASKS
from ippo.training.callbacks import Callback

__all__ = ["metric_name", "evaluate", "Evaluation"]


def metric_name(model):
    """The metric reported beside the loss, by the model's task: "r2" (R²) for regression,
    else "accuracy"."""
    task = TASKS.get(getattr(model, "task", None))
    return "accuracy" if task is None else task.metric


def evaluate(model, x, t, batch_size=4096, loss=True):
    """``{"loss": float, metric: float}`` of ``model`` on (x, t) in inference mode, computed
    in batches of ``batch_size`` (memory), the model's mode restored afterwards.

    The metric is accuracy for classifiers, R² for regression; ``loss=False`` leaves the loss
    out.
    """
    if len(x) != len(t):
        raise ValueError(f"evaluate: x has {len(x)} samples but t has {len(t)}")
    if len(x) == 0:
        raise ValueError("evaluate: x is empty (0 samples)")
    name = metric_name(model)
    was_training = getattr(model, "training", True)
    model.eval()
    n, bs, total_loss, correct, preds = len(x), max(1, batch_size), 0.0, 0.0, []
    try:
        for s in range(0, n, bs):
            xc, tc = x[s : s + bs], t[s : s + bs]
            if loss:
                total_loss += model.loss(xc, tc) * len(xc)
            if name == "r2":  # R² needs every prediction at once
                preds.append(np.asarray(model.predict(xc)))
            else:
                correct += model.accuracy(xc, tc) * len(xc)
    finally:
        if was_training:
            model.train()
    metric = metrics.r2_score(np.concatenate(preds), t) if name == "r2" else correct / n
    out = {name: float(metric)}
    if loss:
        out["loss"] = float(total_loss / n)
    return out


class Evaluation(Callback):
    """Adds the epoch's numbers to its logs, after its last update: the metric on the
    training data (``train=(x, t)``, None to skip that pass), the validation loss and metric
    (``val=(x_val, t_val)``), the epoch's ``time`` (seconds, evaluation included),
    ``samples_per_s`` (training only) and the optimizer's ``lr``."""

    def __init__(self, train=None, val=None):
        self.train, self.val = train, val

    def names(self, metric):
        """The names this callback adds to every epoch's logs, for the ``metric``."""
        return (([metric] if self.train is not None else [])
                + (["val_loss", "val_" + metric] if self.val is not None else [])
                + ["time", "samples_per_s", "lr"])

    def on_epoch_begin(self, epoch):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs):
        trainer = self.trainer
        train_time = time.perf_counter() - self.t0
        name = trainer.metric_name
        if self.train is not None:
            logs[name] = trainer.evaluate(*self.train, loss=False)[name]
        if self.val is not None:
            val = trainer.evaluate(*self.val)
            logs["val_loss"] = val["loss"]
            logs["val_" + name] = val[name]
        logs["time"] = time.perf_counter() - self.t0
        logs["samples_per_s"] = trainer.n_train / train_time if train_time > 0 else None
        logs["lr"] = getattr(trainer.optimizer, "lr", None)
