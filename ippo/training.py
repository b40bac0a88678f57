"""Training in one call: ``Trainer(model, optimizer).fit(x, t, ...)`` returns a ``History``.

The loop is the course's, written once::

    for each epoch:
        shuffle the sample order (when shuffle=True)
        for each batch:
            loss = model.loss(x_batch, t_batch)      # forward
            model.backward()                         # gradients into model.grads
            optimizer.update(model.params, model.grads)

What ``fit`` adds around it:

- **Modes.** ``batch_size=None`` is batch gradient descent (all N samples each step, one
  update per epoch), ``batch_size=1`` online SGD (N updates per epoch), anything else
  mini-batch (⌈N / batch_size⌉ updates per epoch; the last batch may be smaller). A model
  with batch normalization needs batches of 2 or more: online learning is refused, and a
  last batch of one sample is left out of that epoch (a different one each shuffled epoch).
- **History.** Per-iteration loss; per epoch the running training loss (mean over the
  epoch's batches), the training accuracy (evaluated after the epoch in inference mode;
  R² for a regression model), and with ``x_val``/``t_val`` the validation loss and
  accuracy. ``History.plot(path)`` draws them.
- **Progress.** See ``ippo.progress``: a bar per epoch on a terminal, one line per epoch
  otherwise, nothing with ``verbose=0``.
- **Callbacks.** Objects with any of ``on_train_begin(trainer)``,
  ``on_epoch_begin(epoch)``, ``on_batch_end(iteration, loss)``,
  ``on_epoch_end(epoch, logs)``, ``on_train_end(history)``; setting
  ``trainer.stop_training = True`` ends training after the current epoch.
  ``EarlyStopping`` is one.
- **Checkpoints.** With ``checkpoint_dir=``, after every epoch one file
  ``checkpoint.npz`` holds the model's ``state_dict``, the optimizer's ``state_dict``, the
  epoch, the random generator's state, the history and the callbacks' state. It is written
  to a temporary file in the same directory, flushed to disk and then renamed over the old
  one (``os.replace`` is atomic), so a kill at any moment leaves a loadable checkpoint. No
  pickle: arrays plus one JSON string, loaded with ``allow_pickle=False``.
  ``fit(..., resume=True)`` restores all of it and continues with the next epoch; with the
  same data and arguments the final weights are bit-identical to an uninterrupted run
  (the random generators of the model's layers, such as Dropout's, are saved too).
- **Safety.** Bad input raises ``ValueError`` before any update; a NaN or infinite loss
  raises ``TrainingDivergedError`` naming the epoch and iteration (the last checkpoint is
  left as it was), and so do weights that became NaN or infinite during an epoch although
  its losses were finite (checked once per epoch, before the evaluation and the checkpoint).
- **Augmentation.** ``augment(x_batch, rng) -> x_batch`` is called on every training batch
  (never on validation data) with the trainer's ``numpy.random.Generator``. The batch it
  receives is the trainer's own buffer, so it may modify it in place and return it, or
  return a new array of the same length.
"""

import math
import os
import sys
import time
import warnings

import numpy as np

from ippo import metrics as _metrics
from ippo.io import load_checkpoint, save_checkpoint, write_atomically
from ippo.progress import make_progress

__all__ = [
    "Trainer",
    "History",
    "Callback",
    "EarlyStopping",
    "LearningRateScheduler",
    "TrainingDivergedError",
    "save_checkpoint",
    "load_checkpoint",
    "CHECKPOINT_NAME",
]

#: file name of the checkpoint inside ``checkpoint_dir``
CHECKPOINT_NAME = "checkpoint.npz"


class TrainingDivergedError(ValueError):
    """The loss became NaN or infinite: training stopped (try a smaller learning rate).

    ``epoch`` (1-based) and ``iteration`` (of that epoch, 1-based) say where; ``loss`` is the
    non-finite loss, or None when the weights were found non-finite at the end of the epoch
    although every loss was finite (an update overflowed: ``iteration`` is then the epoch's
    last). Raised before the bad weights are evaluated or checkpointed.
    """

    def __init__(self, message, epoch=None, iteration=None, loss=None):
        super().__init__(message)
        self.epoch = epoch
        self.iteration = iteration
        self.loss = loss


# =========================================================================== History


class History:
    """What happened during ``fit``.

    - ``iteration_loss``: the loss of every parameter update, in order (list of floats).
    - ``epochs``: dict of per-epoch lists, all of the same length: ``"epoch"`` (1-based),
      ``"loss"`` (mean training loss over the epoch's batches), ``metric`` (training
      ``"accuracy"``, or ``"r2"`` for regression), ``"val_loss"`` and ``"val_" + metric``
      (when validation data was given), ``"time"`` (seconds) and ``"lr"``.
    - ``history["val_loss"]`` is ``history.epochs["val_loss"]``; ``history.metric`` is the
      metric's name; ``history.iterations_per_epoch``; ``history.best_epoch`` is set by
      ``EarlyStopping``.
    """

    def __init__(self, metric="accuracy", iterations_per_epoch=None):
        self.metric = metric
        self.iterations_per_epoch = iterations_per_epoch
        self.iteration_loss = []
        self.epochs = {}
        self.best_epoch = None
        self.stopped_epoch = None

    def __getitem__(self, key):
        return self.epochs[key]

    def __contains__(self, key):
        return key in self.epochs

    def __len__(self):
        return len(self.epochs.get("epoch", ()))

    def __repr__(self):
        last = {k: v[-1] for k, v in self.epochs.items() if v and k != "epoch"}
        return f"History({len(self)} epochs, {len(self.iteration_loss)} iterations, last={last})"

    def append_epoch(self, logs):
        """Add one epoch's ``logs`` ({name: value}) as a new row of ``epochs``.

        A name seen for the first time gets a column padded with None for the earlier
        epochs; a column missing from ``logs`` gets None for this epoch, so every column
        always has one entry per epoch.
        """
        n = len(self)
        for k in logs:
            if k not in self.epochs:
                self.epochs[k] = [None] * n
        for k, col in self.epochs.items():
            col.append(logs.get(k))

    def to_dict(self):
        """A JSON-able dict: ``metric``, ``iterations_per_epoch``, ``iteration_loss``,
        ``epochs``, ``best_epoch``, ``stopped_epoch``."""
        return {
            "metric": self.metric,
            "iterations_per_epoch": self.iterations_per_epoch,
            "iteration_loss": [float(v) for v in self.iteration_loss],
            "epochs": {k: list(v) for k, v in self.epochs.items()},
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }

    @classmethod
    def from_dict(cls, d):
        """The History that ``to_dict()`` described (missing keys take their defaults)."""
        h = cls(d.get("metric", "accuracy"), d.get("iterations_per_epoch"))
        h.iteration_loss = [float(v) for v in d.get("iteration_loss", [])]
        h.epochs = {k: list(v) for k, v in d.get("epochs", {}).items()}
        h.best_epoch = d.get("best_epoch")
        h.stopped_epoch = d.get("stopped_epoch")
        return h

    def plot(self, path=None, title=None):
        """Draw the loss and metric curves; write a PNG to ``path`` (if given).

        Left: the loss of every iteration (light), its per-epoch training mean and the
        validation loss, against epochs. Right: training and validation accuracy (or R²).
        Needs matplotlib (``pip install "ippo[plot]"``). Returns the matplotlib Figure.
        The file's format follows its extension (``.png``, ``.pdf``, ``.svg``, ...; a name
        without one gets ``.png``) and it is written atomically (temporary file, then a
        rename): an existing plot is replaced only by a complete one.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        except ImportError as e:
            raise ImportError(
                'History.plot needs matplotlib: pip install matplotlib (or pip install '
                '"ippo[plot]"); History.to_dict() gives the numbers without it'
            ) from e
        fig = Figure(figsize=(11, 4.2), dpi=110, layout="constrained")
        style = "o-" if len(self) <= 40 else "-"
        FigureCanvasAgg(fig)
        ax_loss, ax_metric = fig.subplots(1, 2)
        epochs = np.asarray(self.epochs.get("epoch", []), dtype=float)
        first_epoch = epochs[0] if len(epochs) else 1.0
        it = np.asarray(self.iteration_loss, dtype=float)
        if len(it) and self.iterations_per_epoch:
            x_it = first_epoch - 1 + (np.arange(len(it)) + 1) / self.iterations_per_epoch
            ax_loss.plot(x_it, it, color="tab:blue", alpha=0.25, lw=0.8, label="loss per iteration")
        for key, color, label in (
            ("loss", "tab:blue", "train (epoch mean)"),
            ("val_loss", "tab:orange", "validation"),
        ):
            y = self._column(key)
            if y is not None:
                ax_loss.plot(epochs, y, style, color=color, ms=3.5, lw=1.8, label=label)
        ax_loss.set_title("loss")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss")
        if len(it) and np.all(it[np.isfinite(it)] > 0) and it.max() / max(it.min(), 1e-300) > 30:
            ax_loss.set_yscale("log")
        m = self.metric
        for key, color, label in (
            (m, "tab:blue", "train"),
            ("val_" + m, "tab:orange", "validation"),
        ):
            y = self._column(key)
            if y is not None:
                ax_metric.plot(epochs, y, style, color=color, ms=3.5, lw=1.8, label=label)
        label = {"r2": "R²"}.get(m, m)
        ax_metric.set_title(label)
        ax_metric.set_xlabel("epoch")
        ax_metric.set_ylabel(label)
        if self.best_epoch is not None:
            for ax in (ax_loss, ax_metric):
                ax.axvline(self.best_epoch, color="gray", ls="--", lw=1, label="best epoch")
        for ax in (ax_loss, ax_metric):
            ax.grid(True, alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="best", fontsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if title:
            fig.suptitle(title)
        if path is not None:
            # the format comes from the extension, as in savefig (none: png, added to the
            # name); written atomically, so a run killed mid-save never leaves half an image
            path = os.fspath(path)
            fmt = os.path.splitext(path)[1][1:].lower()
            if not fmt:
                fmt = "png"
                path = path.rstrip(".") + ".png"
            write_atomically(path, lambda f: fig.savefig(f, format=fmt), suffix="." + fmt)
        return fig

    def _column(self, key):
        col = self.epochs.get(key)
        if not col or all(v is None for v in col):
            return None
        return np.array([np.nan if v is None else v for v in col], dtype=float)


# =========================================================================== callbacks


class Callback:
    """Base class for callbacks: override the hooks you need.

    ``self.trainer`` is set before ``on_train_begin``. Set ``self.trainer.stop_training =
    True`` to stop after the current epoch. A callback with ``state_dict()`` /
    ``load_state_dict(d)`` (arrays and JSON-able scalars) is saved in checkpoints.
    """

    trainer = None

    def on_train_begin(self, trainer):
        """Called once when ``fit`` starts (also when it resumes: ``trainer.epoch`` is then
        the checkpoint's epoch, 0 for a new run), after ``self.trainer`` is set."""

    def on_epoch_begin(self, epoch):
        """Called before each epoch's first batch; ``epoch`` counts from 1."""

    def on_batch_end(self, iteration, loss):
        """Called after each update; ``iteration`` counts updates from 1 over the whole run
        and ``loss`` is the batch's loss (a float) before the update."""

    def on_epoch_end(self, epoch, logs):
        """Called after each epoch's evaluation with its ``logs`` ({"epoch", "loss", the
        metric, "val_loss", ... as in ``History.epochs``}), before the checkpoint is saved."""

    def on_train_end(self, history):
        """Called once when ``fit`` ends (normally or by early stopping) with the History."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    ``monitor`` defaults to ``"val_loss"`` (``"loss"`` without validation data); ``mode``
    "min" / "max" / "auto" (min for names containing "loss", else max). An improvement must
    beat the best value by more than ``min_delta``; a NaN value is never one. Training stops
    after the ``patience``-th epoch in a row without improvement (as in Keras): with the best
    value at epoch 5 and ``patience=3``, after epoch 8 (``patience=0`` acts like 1). With
    ``restore_best=True`` the model's weights are set back to the best epoch's when training
    ends (by stopping or not).
    """

    def __init__(self, monitor=None, patience=5, min_delta=0.0, mode="auto", restore_best=True):
        if int(patience) < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = mode
        self.restore_best = restore_best
        self.best = None
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None
        self._best_weights = None

    def _minimise(self):
        if self.mode == "auto":
            return "loss" in self.monitor or "error" in self.monitor
        return self.mode == "min"

    def on_train_begin(self, trainer):
        if trainer.epoch == 0:  # a new run (not a resumed one): forget any earlier fit
            self.best = self.best_epoch = self.stopped_epoch = self._best_weights = None
            self.wait = 0
        if self.monitor is None:
            self.monitor = "val_loss" if trainer.has_validation else "loss"
        elif self.monitor.startswith("val_") and not trainer.has_validation:
            raise ValueError(
                f"EarlyStopping: monitor={self.monitor!r} needs validation data "
                f"(pass x_val and t_val to fit)"
            )
        names = getattr(trainer, "log_names", None)
        if names is not None and self.monitor not in names:  # a typo fails before training
            raise ValueError(
                f"EarlyStopping: monitor={self.monitor!r} is not among the epoch's metrics "
                f"{names}"
            )

    def on_epoch_end(self, epoch, logs):
        value = logs.get(self.monitor)
        if value is None:
            raise ValueError(
                f"EarlyStopping: {self.monitor!r} is not among the epoch's metrics "
                f"{sorted(k for k in logs if logs[k] is not None)}"
            )
        if value != value:  # NaN: never an improvement (and never the best)
            better = False
        elif self.best is None:
            better = True
        elif self._minimise():
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            if self.restore_best:
                self._best_weights = {
                    k: np.array(v, copy=True) for k, v in self.trainer.model.state_dict().items()
                }
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.trainer.stop_training = True
        self.trainer.history.best_epoch = self.best_epoch

    def on_train_end(self, history):
        if self.restore_best and self._best_weights is not None:
            self.trainer.model.load_state_dict(self._best_weights)
        history.best_epoch = self.best_epoch
        history.stopped_epoch = self.stopped_epoch

    def state_dict(self):
        """What resuming needs (best value and epoch, patience count, best weights), saved
        in checkpoints."""
        d = {
            "monitor": self.monitor,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
        }
        if self._best_weights is not None:
            d["best_weights"] = self._best_weights
        return d

    def load_state_dict(self, d):
        """Continue from a ``state_dict()``: a resumed run stops where the original would."""
        self.monitor = d.get("monitor", self.monitor)
        self.best = d.get("best")
        self.best_epoch = d.get("best_epoch")
        self.wait = int(d.get("wait", 0))
        self.stopped_epoch = d.get("stopped_epoch")
        bw = d.get("best_weights")
        self._best_weights = None if bw is None else {k: np.array(v) for k, v in bw.items()}


class LearningRateScheduler(Callback):
    """Sets ``optimizer.lr = schedule(epoch, lr)`` at the start of every epoch (1-based).

    ``schedule`` gets the epoch about to run and the current rate and returns the new one,
    e.g. step decay ``lambda epoch, lr: lr * 0.5 if epoch % 10 == 1 and epoch > 1 else lr``.
    The rate is part of the optimizer's state, so a resumed run continues the schedule.
    """

    def __init__(self, schedule):
        if not callable(schedule):
            raise ValueError(f"LearningRateScheduler: schedule must be callable, got {schedule!r}")
        self.schedule = schedule

    def on_epoch_begin(self, epoch):
        opt = self.trainer.optimizer
        lr = float(self.schedule(epoch, opt.lr))
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: schedule gave lr={lr} for epoch {epoch}")
        opt.lr = lr


# =========================================================================== checkpoints


# =========================================================================== Trainer


class Trainer:
    """Trains a model with an optimizer: ``Trainer(model, optimizer).fit(x, t, ...)``.

    ``model`` follows the contract of ``ippo.models`` (``loss``, ``backward``, ``params``,
    ``grads``, ``accuracy``, ``train``/``eval``, ``task``, ``state_dict``); ``optimizer``
    one of ``ippo.optimizers``. ``verbose``: 0 silent, 1 a progress bar on a terminal (one
    line per epoch elsewhere), 2 one line per epoch always. ``eval_batch_size`` bounds the
    memory of the end-of-epoch evaluation passes.
    """

    def __init__(self, model, optimizer, verbose=1, eval_batch_size=4096, file=None):
        self.model = model
        self.optimizer = optimizer
        self.verbose = verbose
        self.eval_batch_size = int(eval_batch_size)
        self.file = file
        self.stop_training = False
        self.history = None
        self.has_validation = False
        self.epoch = 0
        self.checkpoint_epoch = None

    # ------------------------------------------------------------------ evaluation

    @property
    def metric_name(self):
        """The metric reported beside the loss: "r2" for regression, else "accuracy"."""
        return "r2" if getattr(self.model, "task", None) == "regression" else "accuracy"

    def evaluate(self, x, t, loss=True):
        """``{"loss": float, metric: float}`` on (x, t) in inference mode, in batches.

        The metric is accuracy for classifiers, R² for regression.
        """
        if len(x) != len(t):
            raise ValueError(f"evaluate: x has {len(x)} samples but t has {len(t)}")
        if len(x) == 0:
            raise ValueError("evaluate: x is empty (0 samples)")
        model = self.model
        was_training = getattr(model, "training", True)
        model.eval()
        try:
            n = len(x)
            bs = max(1, self.eval_batch_size)
            total_loss = 0.0
            if self.metric_name == "r2":
                preds = []
                for s in range(0, n, bs):
                    xc, tc = x[s : s + bs], t[s : s + bs]
                    if loss:
                        total_loss += model.loss(xc, tc) * len(xc)
                    preds.append(np.asarray(model.predict(xc)))
                metric = _metrics.r2_score(np.concatenate(preds), t)
            else:
                correct = 0.0
                for s in range(0, n, bs):
                    xc, tc = x[s : s + bs], t[s : s + bs]
                    if loss:
                        total_loss += model.loss(xc, tc) * len(xc)
                    correct += model.accuracy(xc, tc) * len(xc)
                metric = correct / n
        finally:
            if was_training:
                model.train()
        out = {self.metric_name: float(metric)}
        if loss:
            out["loss"] = float(total_loss / n)
        return out

    # ------------------------------------------------------------------ validation

    def _check_data(self, x, t, name_x="x", name_t="t"):
        x = np.asarray(x)
        t = np.asarray(t)
        if x.ndim == 0 or t.ndim == 0:
            raise ValueError(f"fit: {name_x} and {name_t} must be arrays of samples, got scalars")
        if len(x) != len(t):
            raise ValueError(
                f"fit: {name_x} has {len(x)} samples but {name_t} has {len(t)}; they must match"
            )
        if len(x) == 0:
            raise ValueError(f"fit: {name_x} is empty (0 samples); nothing to train on")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"fit: {name_x} must be numeric, got dtype {x.dtype}")
        dtype = self._dtype()
        if x.dtype != dtype:
            x = x.astype(dtype)
        chunk = max(1, (1 << 22) // max(1, x[0].size))  # ~4 M elements per check
        for s in range(0, len(x), chunk):
            block = x[s : s + chunk]
            if not np.isfinite(block).all():
                rows_ok = np.isfinite(block).reshape(len(block), -1).all(axis=1)
                bad = s + int(np.argmin(rows_ok))
                raise ValueError(
                    f"fit: {name_x} contains NaN or infinite values (first at sample {bad})"
                )
        if t.dtype.kind not in "biuf":
            raise ValueError(f"fit: {name_t} must be numeric, got dtype {t.dtype}")
        if t.dtype.kind == "f" and not np.isfinite(t).all():
            bad = int(np.argmin(np.isfinite(t).reshape(len(t), -1).all(axis=1)))
            raise ValueError(
                f"fit: {name_t} contains NaN or infinite values (first at sample {bad})"
            )
        # one inference forward of a single sample: checks x's shape and gives the output size
        model = self.model
        was_training = getattr(model, "training", True)
        try:
            out = np.asarray(model.scores(x[:1]))
        except ValueError as exc:  # the layer's message says what shape it expected
            raise ValueError(f"fit: {name_x} does not fit the model: {exc}") from None
        finally:
            if was_training:
                model.train()
        self._check_targets(t, out.shape[1:], name_t)
        # float targets (one-hot rows, binary labels, regression values) in the model's
        # dtype once here, not per batch in the loss layer; integer class labels stay
        if t.dtype != dtype and (
            t.dtype.kind == "f" or getattr(model, "task", None) == "regression"
        ):
            t = t.astype(dtype)
        return x, t

    def _check_targets(self, t, out_shape, name_t):
        task = getattr(self.model, "task", None)
        n_out = out_shape[-1] if out_shape else 1
        if task == "multiclass":
            if t.ndim == 1:
                if t.dtype.kind == "f" and not np.all(t == np.floor(t)):
                    raise ValueError(f"fit: {name_t} holds non-integer class labels")
                lo, hi = t.min(), t.max()
                if lo < 0 or hi >= n_out:
                    raise ValueError(
                        f"fit: {name_t} holds class labels from {int(lo)} to {int(hi)}, but the "
                        f"model has {n_out} outputs (valid labels: 0..{n_out - 1})"
                    )
            elif t.shape[1:] != tuple(out_shape):
                raise ValueError(
                    f"fit: {name_t} has shape {t.shape}; expected class labels ({len(t)},) or "
                    f"one-hot ({len(t)}, {n_out}) for a model with {n_out} outputs"
                )
        elif task == "binary":
            if t.shape[1:] not in ((), (1,)):
                raise ValueError(
                    f"fit: {name_t} has shape {t.shape}; a binary classifier needs 0/1 labels "
                    f"of shape ({len(t)},) or ({len(t)}, 1)"
                )
            if t.min() < 0 or t.max() > 1:
                raise ValueError(
                    f"fit: {name_t} holds values from {t.min()} to {t.max()}; binary labels "
                    f"must lie in [0, 1]"
                )
        elif task == "regression":
            if t.shape[1:] != tuple(out_shape) and not (t.ndim == 1 and n_out == 1):
                raise ValueError(
                    f"fit: {name_t} has shape {t.shape} but the model outputs {tuple(out_shape)} "
                    f"per sample"
                )

    def _dtype(self):
        params = self.model.params
        return params[0].dtype if params else np.dtype(np.float32)

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        x,
        t,
        epochs=10,
        batch_size=100,
        x_val=None,
        t_val=None,
        shuffle=True,
        seed=None,
        callbacks=None,
        early_stopping=None,
        checkpoint_dir=None,
        resume=False,
        augment=None,
        eval_train=True,
        checkpoint_every=1,
    ):
        """Train for ``epochs`` epochs; return the ``History``.

        ``batch_size=None`` batch GD, ``1`` online SGD, else mini-batch. ``seed`` seeds the
        shuffling (and the generator passed to ``augment``). ``early_stopping``: an
        ``EarlyStopping`` or an int patience (monitoring ``val_loss`` when validation data is
        given). ``checkpoint_dir``: save ``checkpoint.npz`` there after every epoch;
        ``resume=True`` continues from it (starting fresh if there is none) with all it
        holds, the optimizer's hyper-parameters included: a warning names any that differ
        from those of the optimizer passed in.
        ``checkpoint_every=k`` saves only every k-th epoch (and always the last one, or the
        one where training stops): each save is fsynced, ~10 ms. ``eval_train=False`` skips
        the end-of-epoch accuracy pass over the training data (the running loss is still
        recorded).
        """
        model, optimizer = self.model, self.optimizer
        # ---------------------------------------------------------- validate
        epochs = _int_arg("epochs", epochs, minimum=1)
        checkpoint_every = _int_arg("checkpoint_every", checkpoint_every, minimum=1)
        x, t = self._check_data(x, t)
        n = len(x)
        if batch_size is None:
            bs = n
        else:
            bs = _int_arg("batch_size", batch_size, minimum=1)
            if bs > n:
                raise ValueError(
                    f"fit: batch_size={bs} is larger than the data ({n} samples); use "
                    f"batch_size=None for batch gradient descent over all samples"
                )
        # batch normalization learns from the batch's variance: a batch of one sample has
        # none (its output is β and no gradient reaches the layers below it)
        n_train = n  # the samples trained on per epoch
        if getattr(model, "uses_batch_statistics", False):
            if bs == 1:
                raise ValueError(
                    f"fit: batch_size={bs} cannot train a model with batch normalization: a "
                    f"batch of one sample has no variance; use batch_size=2 or more"
                )
            if n % bs == 1:  # leave out the lone last sample (another one each shuffled epoch)
                n_train = n - 1
        if (x_val is None) != (t_val is None):
            raise ValueError("fit: give both x_val and t_val, or neither")
        self.has_validation = x_val is not None
        if self.has_validation:
            x_val, t_val = self._check_data(x_val, t_val, "x_val", "t_val")
        if augment is not None and not callable(augment):
            raise ValueError(f"fit: augment must be callable(x_batch, rng), got {augment!r}")
        if resume and checkpoint_dir is None:
            raise ValueError("fit: resume=True needs checkpoint_dir")
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise ValueError(f"fit: callbacks must be a list of callbacks, got {callbacks!r} "
                             f"(write callbacks=[...])")
        callbacks = list(callbacks or [])
        if early_stopping is not None:
            if isinstance(early_stopping, bool):
                raise ValueError("fit: early_stopping must be an EarlyStopping or an int "
                                 f"patience, got {early_stopping!r}")
            if not isinstance(early_stopping, EarlyStopping):
                early_stopping = EarlyStopping(patience=early_stopping)
            callbacks.append(early_stopping)
        hooks = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end",
                 "on_train_end")
        for i, cb in enumerate(callbacks):
            if isinstance(cb, type) or not any(callable(getattr(cb, h, None)) for h in hooks):
                what = (f"the class {cb.__name__} (pass an instance: {cb.__name__}(...))"
                        if isinstance(cb, type) else repr(cb))
                raise ValueError(
                    f"fit: callbacks[{i}] must be an object with any of the hooks "
                    f"{', '.join(hooks)} (e.g. a Callback subclass), got {what}"
                )
        for cb in callbacks:
            cb.trainer = self
        iters_per_epoch = -(-n_train // bs)
        metric = self.metric_name
        params, grads = model.params, model.grads
        #: the names every epoch's logs will hold (callbacks may check theirs against it)
        self.log_names = ["epoch", "loss"] + ([metric] if eval_train else [])
        if self.has_validation:
            self.log_names += ["val_loss", "val_" + metric]
        self.log_names += ["time", "samples_per_s", "lr"]
        try:
            rng = np.random.default_rng(seed)
        except (TypeError, ValueError):
            raise ValueError(f"fit: seed must be None or a non-negative integer, got "
                             f"{seed!r}") from None
        if checkpoint_dir is not None:
            if os.path.exists(checkpoint_dir) and not os.path.isdir(checkpoint_dir):
                raise ValueError(f"fit: checkpoint_dir {os.fspath(checkpoint_dir)!r} is a file, "
                                 f"not a folder")
            os.makedirs(checkpoint_dir, exist_ok=True)  # a folder we cannot make fails now

        # ---------------------------------------------------------- state
        self.rng = rng
        self.history = History(metric, iters_per_epoch)
        start_epoch = 0
        ckpt_path = None
        self.stop_training = False
        if checkpoint_dir is not None:
            ckpt_path = os.path.join(os.fspath(checkpoint_dir), CHECKPOINT_NAME)
            if resume and os.path.exists(ckpt_path):
                # also restores stop_training: a run that early-stopped stays stopped
                start_epoch = self._restore(ckpt_path, n, bs, callbacks)
                rng = self.rng
        self.epoch = start_epoch
        #: the epoch held by the checkpoint file (None when nothing has been saved)
        self.checkpoint_epoch = start_epoch if start_epoch else None

        # ---------------------------------------------------------- loop setup
        copy_batches = shuffle or augment is not None
        if copy_batches and bs < n or augment is not None:
            xbuf = np.empty((bs,) + x.shape[1:], dtype=x.dtype)
            tbuf = np.empty((bs,) + t.shape[1:], dtype=t.dtype)
        else:
            xbuf = tbuf = None
        batch_cbs = [cb for cb in callbacks if _overrides(cb, "on_batch_end")]
        progress = make_progress(self.verbose, epochs, self.file)
        keys = ["loss", metric, "val_loss", "val_" + metric]
        history = self.history
        it_loss = history.iteration_loss
        iteration = len(it_loss)
        isfinite = math.isfinite
        model.train()
        for cb in callbacks:
            if _overrides(cb, "on_train_begin"):
                cb.on_train_begin(self)
        if progress is not None and start_epoch and self.verbose:
            print(
                f"resuming from {ckpt_path} after epoch {start_epoch}",
                file=self.file if self.file is not None else None,
            )
        try:
            for epoch in range(start_epoch + 1, epochs + 1):
                if self.stop_training:
                    break
                t0 = time.perf_counter()
                for cb in callbacks:
                    if _overrides(cb, "on_epoch_begin"):
                        cb.on_epoch_begin(epoch)
                order = rng.permutation(n) if shuffle else None
                if progress is not None:
                    progress.start_epoch(epoch, n_train)
                loss_sum = 0.0
                for start in range(0, n_train, bs):
                    stop = min(start + bs, n_train)
                    k = stop - start
                    if xbuf is not None:
                        xb, tb = xbuf[:k], tbuf[:k]
                        if order is not None:
                            idx = order[start:stop]
                            # mode="clip": the indices are valid, and "raise" with out=
                            # would copy through a temporary buffer (measured 1.7x slower)
                            # (the methods: np.take's Python wrapper costs ~1 µs a call)
                            x.take(idx, 0, xb, "clip")
                            t.take(idx, 0, tb, "clip")
                        else:
                            xb[...] = x[start:stop]
                            tb[...] = t[start:stop]
                    elif order is not None:  # batch GD with shuffling: order is irrelevant
                        xb, tb = x, t
                    else:
                        xb, tb = x[start:stop], t[start:stop]
                    if augment is not None:
                        xb = augment(xb, rng)
                    loss = model.loss(xb, tb)
                    if not isfinite(loss):
                        raise self._diverged(loss, epoch, iteration, start // bs + 1, ckpt_path)
                    model.backward()
                    optimizer.update(params, grads)
                    it_loss.append(loss)
                    iteration += 1
                    loss_sum += loss * k
                    for cb in batch_cbs:
                        cb.on_batch_end(iteration, loss)
                    if progress is not None:
                        progress.step(k, loss_sum / stop)
                # a finite loss can still come with an update that overflowed the weights
                # (in batch mode every update is the epoch's last): never evaluate, record
                # or checkpoint non-finite weights
                if not all(np.isfinite(p).all() for p in params):
                    raise self._diverged(None, epoch, iteration - 1, iters_per_epoch, ckpt_path)
                train_time = time.perf_counter() - t0
                logs = {"epoch": epoch, "loss": loss_sum / n_train}
                if eval_train:
                    logs[metric] = self.evaluate(x, t, loss=False)[metric]
                if self.has_validation:
                    val = self.evaluate(x_val, t_val)
                    logs["val_loss"] = val["loss"]
                    logs["val_" + metric] = val[metric]
                logs["time"] = time.perf_counter() - t0
                logs["samples_per_s"] = n_train / train_time if train_time > 0 else None
                logs["lr"] = getattr(optimizer, "lr", None)
                history.append_epoch(logs)
                self.epoch = epoch
                for cb in callbacks:
                    if _overrides(cb, "on_epoch_end"):
                        cb.on_epoch_end(epoch, logs)
                if progress is not None:
                    progress.end_epoch(epoch, logs, keys)
                if ckpt_path is not None and (
                    epoch % checkpoint_every == 0 or epoch == epochs or self.stop_training
                ):
                    self._save(ckpt_path, epoch, n, bs, callbacks)
        except KeyboardInterrupt:
            if progress is not None:
                progress.close()
                if ckpt_path is not None and self.checkpoint_epoch is not None:
                    print(
                        f"interrupted; the checkpoint {ckpt_path} holds epoch "
                        f"{self.checkpoint_epoch}: fit(..., resume=True) continues from it",
                        file=self.file if self.file is not None else sys.stderr,
                    )
            raise
        finally:
            if progress is not None:
                progress.close()
        for cb in callbacks:
            if _overrides(cb, "on_train_end"):
                cb.on_train_end(history)
        return history

    # ------------------------------------------------------------------ helpers

    def _diverged(self, loss, epoch, iteration, batch, ckpt_path):
        """The error for a non-finite ``loss`` at the epoch's ``batch``-th iteration (update
        ``iteration + 1`` overall), or with ``loss=None`` for weights found non-finite after
        the epoch's last update (``batch``) although every loss was finite."""
        lr = getattr(self.optimizer, "lr", None)
        if loss is None:
            msg = (
                f"training diverged: the weights became NaN or infinite by the end of epoch "
                f"{epoch} (its last update was iteration {batch} of the epoch, update "
                f"{iteration + 1} overall; every loss was finite, so an update overflowed)"
            )
        else:
            msg = (
                f"training diverged: the loss became {loss} at epoch {epoch}, iteration "
                f"{batch} of the epoch (update {iteration + 1} overall)"
            )
        msg += "; try a smaller learning rate"
        if lr:
            msg += f" (lr is {lr:g} now)"
        msg += ", gradient clipping (clip_norm=) or normalised inputs"
        if ckpt_path is not None and self.checkpoint_epoch is not None:
            msg += (
                f". The last good checkpoint (epoch {self.checkpoint_epoch}) is intact: "
                f"{ckpt_path}"
            )
        return TrainingDivergedError(msg, epoch=epoch, iteration=batch, loss=loss)

    def _save(self, path, epoch, n, bs, callbacks):
        cb_states = {
            _callback_key(i, cb): cb.state_dict()
            for i, cb in enumerate(callbacks)
            if hasattr(cb, "state_dict")
        }
        history = self.history.to_dict()
        iteration_loss = np.asarray(history.pop("iteration_loss"), dtype=np.float64)
        state = {
            "epoch": epoch,
            "fit": {"n_samples": n, "batch_size": bs},
            "model": {k: np.asarray(v) for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "layer_rngs": self.model.random_state(),
            "history": history,
            "iteration_loss": iteration_loss,
            "callbacks": cb_states,
            "stopped": bool(self.stop_training),
        }
        save_checkpoint(path, state)
        self.checkpoint_epoch = epoch

    def _restore(self, path, n, bs, callbacks):
        try:
            state = load_checkpoint(path)
        except ValueError as exc:  # truncated (a full disk), corrupt, or not a checkpoint
            raise ValueError(f"cannot resume: the checkpoint is damaged, remove it to start "
                             f"the run over: {exc}") from None
        fit = state.get("fit", {})
        if fit.get("n_samples") != n:
            raise ValueError(
                f"fit(resume=True): the checkpoint {path} was made on {fit.get('n_samples')} "
                f"samples but x has {n}; pass the same data, or resume=False to start over"
            )
        if fit.get("batch_size") != bs:
            raise ValueError(
                f"fit(resume=True): the checkpoint {path} was made with batch size "
                f"{fit.get('batch_size')} but this call uses {bs}; the continuation would "
                f"not be the same run"
            )
        # a checkpoint that does not fit leaves the model and the optimizer as they were:
        # the optimizer is restored if the model refuses its state (a model's
        # load_state_dict checks everything before it copies anything)
        opt_before = self.optimizer.state_dict()
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.model.load_state_dict(state["model"])
        except ValueError as exc:
            self.optimizer.load_state_dict(opt_before)
            raise ValueError(
                f"fit(resume=True): the checkpoint {path} does not fit this model and "
                f"optimizer ({exc}); resume with the architecture and optimizer of the "
                f"interrupted run, or resume=False to start over"
            ) from None
        # the checkpoint's hyper-parameters win (an exact continuation); say so when the
        # optimizer passed in asked for others, e.g. a smaller lr after a divergence (a
        # LearningRateScheduler owns lr: its changes are the run's, not the caller's)
        scheduled = any(isinstance(cb, LearningRateScheduler) for cb in callbacks)
        changed = [
            f"{k} {state['optimizer'][k]!r} (this optimizer was made with {v!r})"
            for k, v in opt_before.items()
            if k not in ("name", "t", "state") and k in state["optimizer"]
            and state["optimizer"][k] != v and not (k == "lr" and scheduled)
        ]
        if changed:
            warnings.warn(
                f"fit(resume=True) continues with the checkpoint's optimizer settings: "
                f"{', '.join(changed)}. For other settings start over (resume=False), or "
                f"set them on trainer.optimizer in a callback's on_train_begin.",
                stacklevel=3,
            )
        self.rng = _generator_from_state(state["rng"])
        self.model.set_random_state(state.get("layer_rngs", {}))
        hist = state["history"]
        hist["iteration_loss"] = state["iteration_loss"].tolist()
        self.history = History.from_dict(hist)
        for i, cb in enumerate(callbacks):
            d = state.get("callbacks", {}).get(_callback_key(i, cb))
            if d is not None and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(d)
        self.stop_training = bool(state.get("stopped", False))
        return int(state["epoch"])


def _callback_key(i, cb):
    return f"{i}.{type(cb).__name__}"


def _generator_from_state(state):
    name = state["bit_generator"]
    bit_gen = getattr(np.random, name, None)
    if bit_gen is None or not isinstance(bit_gen, type):
        raise ValueError(f"checkpoint: unknown random bit generator {name!r}")
    rng = np.random.Generator(bit_gen())
    rng.bit_generator.state = state
    return rng


def _overrides(cb, name):
    method = getattr(type(cb), name, None)
    if method is None:
        return callable(getattr(cb, name, None))
    return method is not getattr(Callback, name, None)


def _int_arg(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"fit: {name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"fit: {name} must be at least {minimum}, got {value}")
    return int(value)
