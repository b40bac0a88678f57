"""Callbacks: what ``Trainer.fit`` does around its loop, one object per concern.

The loop calls the hooks; each callback overrides the ones it needs:

- ``on_train_begin(trainer)``   once, before the first epoch (also when a run resumes)
- ``on_epoch_begin(epoch)``     before each epoch's first batch (epochs count from 1)
- ``on_before_backward(iteration, loss)``  with each batch's loss, before its backward pass
  and update (iterations count from 1 over the run)
- ``on_batch_end(iteration, loss)``  after each update
- ``on_epoch_end(epoch, logs)``     after each epoch's evaluation, with its numbers
- ``on_train_end(history)``     once, when training ends (normally or by a stop)
- ``on_exception(exception)``   instead, when ``fit`` ends by an exception (Ctrl-C, a
  divergence): release what ``on_train_begin`` took; the exception goes on

Setting ``trainer.stop_training = True`` ends training after the current epoch. Here:
``EarlyStopping``, ``LearningRateScheduler`` and ``StopOnDivergence`` (which the trainer
always runs first). ``History`` (``history.py``), ``Checkpoint`` (``checkpoint.py``) and
``Progress`` (``progress.py``) are callbacks too.
"""

import math

import numpy as np

__all__ = ["Callback", "EarlyStopping", "LearningRateScheduler", "StopOnDivergence",
           "TrainingDivergedError", "CallbackList", "HOOKS"]

#: The hooks a callback may override, in the order the loop calls them.
HOOKS = ("on_train_begin", "on_epoch_begin", "on_before_backward", "on_batch_end",
         "on_epoch_end", "on_train_end", "on_exception")


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

    def on_before_backward(self, iteration, loss):
        """Called with each batch's ``loss`` (a float) before its backward pass and update;
        ``iteration`` is the number of that update (from 1 over the whole run)."""

    def on_batch_end(self, iteration, loss):
        """Called after each update; ``iteration`` counts updates from 1 over the whole run
        and ``loss`` is the batch's loss (a float) before the update."""

    def on_epoch_end(self, epoch, logs):
        """Called after each epoch's evaluation with its ``logs`` ({"epoch", "loss", the
        metric, "val_loss", ... as in ``History.epochs``}), before the checkpoint is saved."""

    def on_train_end(self, history):
        """Called once when ``fit`` ends (normally or by early stopping) with the History."""

    def on_exception(self, exception):
        """Called instead of ``on_train_end`` when ``fit`` ends by an exception (Ctrl-C,
        ``TrainingDivergedError``, ...), which is raised again afterwards."""


def overrides(callback, hook):
    """Whether ``callback`` does something in ``hook`` (not the base class's no-op)."""
    method = getattr(type(callback), hook, None)
    if method is None:
        return callable(getattr(callback, hook, None))
    return method is not getattr(Callback, hook, None)


class CallbackList:
    """Calls each hook on every callback that overrides it, in the list's order: what the
    trainer's loop calls (a hook that nobody overrides costs one empty loop)."""

    def __init__(self, callbacks):
        self._hooks = {hook: [getattr(cb, hook) for cb in callbacks if overrides(cb, hook)]
                       for hook in HOOKS}
        self._before_backward = self._hooks["on_before_backward"]
        self._batch_end = self._hooks["on_batch_end"]

    def on_train_begin(self, trainer):
        """Every callback's ``on_train_begin(trainer)``."""
        for f in self._hooks["on_train_begin"]:
            f(trainer)

    def on_epoch_begin(self, epoch):
        """Every callback's ``on_epoch_begin(epoch)``."""
        for f in self._hooks["on_epoch_begin"]:
            f(epoch)

    def on_before_backward(self, iteration, loss):
        """Every callback's ``on_before_backward(iteration, loss)``."""
        for f in self._before_backward:
            f(iteration, loss)

    def on_batch_end(self, iteration, loss):
        """Every callback's ``on_batch_end(iteration, loss)``."""
        for f in self._batch_end:
            f(iteration, loss)

    def on_epoch_end(self, epoch, logs):
        """Every callback's ``on_epoch_end(epoch, logs)``."""
        for f in self._hooks["on_epoch_end"]:
            f(epoch, logs)

    def on_train_end(self, history):
        """Every callback's ``on_train_end(history)``."""
        for f in self._hooks["on_train_end"]:
            f(history)

    def on_exception(self, exception):
        """Every callback's ``on_exception(exception)``."""
        for f in self._hooks["on_exception"]:
            f(exception)


# --------------------------------------------------------------------------- divergence


class TrainingDivergedError(ValueError):
    """Training diverged: the loss became NaN or infinite, or grew by orders of magnitude
    above where it started (try a smaller learning rate).

    ``epoch`` (1-based) and ``iteration`` (of that epoch, 1-based) say where; ``loss`` is the
    offending loss, or None when the weights were found non-finite at the end of the epoch
    although every loss was finite (an update overflowed: ``iteration`` is then the epoch's
    last); ``reference`` is the loss the run started from (None when not measured). Raised
    before the bad weights are evaluated or checkpointed.
    """

    def __init__(self, message, epoch=None, iteration=None, loss=None, reference=None):
        super().__init__(message)
        self.epoch = epoch
        self.iteration = iteration
        self.loss = loss
        self.reference = reference


#: On how many training samples ``StopOnDivergence`` measures the loss the run starts from.
PROBE_SAMPLES = 256


class StopOnDivergence(Callback):
    """Stops training with ``TrainingDivergedError`` when it diverges:

    - a batch's loss that is NaN or infinite;
    - a batch's loss more than ``factor`` times (default 10⁴: four orders of magnitude)
      the loss the run started from. The start is the larger of the first batch's loss and
      the loss of the model as ``fit`` got it on up to 256 training samples spread evenly
      over the data (``data``, set by ``fit``; in inference mode: it changes nothing), so a
      lucky first sample of online learning is not taken for the start. Healthy training, noisy or
      not, stays within a few dozen times its start (tested on the README's runs and on
      online SGD at high rates); a run that explodes passes 10⁴ within a few updates and
      rarely recovers. ``factor=None`` checks only for NaN and infinity;
    - weights that are NaN or infinite at the end of an epoch although every loss was finite
      (checked once per epoch, before the epoch is evaluated, recorded or checkpointed).

    The losses are checked before their backward pass and update, before any other
    callback sees the batch. While training runs, NumPy's overflow and invalid-value
    warnings are silenced (restored afterwards): their consequences are what this callback
    reports, as one error naming the epoch, the iteration, the learning rate and the last
    good checkpoint. ``Trainer.fit`` runs one first; pass your own in ``callbacks=`` to
    change ``factor`` (``fit`` then runs yours first instead).
    """

    def __init__(self, factor=1e4):
        if factor is not None and (isinstance(factor, bool) or not isinstance(
                factor, (int, float)) or not 1 < factor < math.inf):
            raise ValueError(f"StopOnDivergence: factor must be a finite number > 1 or None, "
                             f"got {factor!r}")
        self.factor = factor
        self.data = None  # (x, t): the training data, set by Trainer.fit
        self.reference = None
        self._errstate = None

    def on_train_begin(self, trainer):
        self.reference, self._first = None, True
        if self.factor is not None and self.data is not None:
            x, t = self.data
            idx = np.linspace(0, len(x) - 1, min(len(x), PROBE_SAMPLES)).astype(np.intp)
            with np.errstate(over="ignore", invalid="ignore"):
                start = trainer.evaluate(x[idx], t[idx])["loss"]
            self.reference = start if math.isfinite(start) else None
        self._errstate = np.seterr(over="ignore", invalid="ignore")

    def on_epoch_begin(self, epoch):
        self.epoch, self.batch = epoch, 0

    def on_before_backward(self, iteration, loss):
        self.batch, self.iteration = self.batch + 1, iteration
        if not math.isfinite(loss):
            raise self.error(loss, iteration)
        if self._first:  # the first batch's loss is part of where the run started
            self._first = False
            self.reference = loss if self.reference is None else max(self.reference, loss)
        elif self.factor is not None and loss > self.factor * self.reference:
            if self.reference > 0:
                raise self.error(loss, iteration)
            self.reference = loss  # a run that started at a loss of 0 starts here

    def on_epoch_end(self, epoch, logs):
        # a finite loss can still come with an update that overflowed the weights (in batch
        # mode every update is the epoch's last): checked before the epoch is evaluated
        if not all(np.isfinite(p).all() for p in self.trainer.model.params):
            raise self.error(None, self.iteration)

    def on_train_end(self, history):
        self._restore_errstate()

    def on_exception(self, exception):
        self._restore_errstate()

    def _restore_errstate(self):
        if self._errstate is not None:
            np.seterr(**self._errstate)
            self._errstate = None

    def error(self, loss, iteration):
        """The error for a non-finite or exploded ``loss`` at update ``iteration``, or with
        ``loss=None`` for weights found non-finite after the epoch's last update
        (``iteration``) although every loss was finite."""
        epoch, batch, trainer = self.epoch, self.batch, self.trainer
        where = (f"at epoch {epoch}, iteration {batch} of the epoch (update {iteration} "
                 f"overall)")
        if loss is None:
            msg = (
                f"training diverged: the weights became NaN or infinite by the end of epoch "
                f"{epoch} (its last update was iteration {batch} of the epoch, update "
                f"{iteration} overall; every loss was finite, so an update overflowed)"
            )
        elif math.isfinite(loss):
            msg = (f"training diverged: the loss grew to {loss:.4g} {where}, more than "
                   f"{self.factor:,.0f} times the {self.reference:.4g} it started from")
        else:
            msg = f"training diverged: the loss became {loss} {where}"
        msg += "; try a smaller learning rate"
        lr = getattr(trainer.optimizer, "lr", None)
        if lr:
            msg += f" (lr is {lr:g} now)"
        msg += ", gradient clipping (clip_norm=) or normalised inputs"
        if trainer.checkpoint_epoch is not None:
            msg += (f". The last good checkpoint (epoch {trainer.checkpoint_epoch}) is intact: "
                    f"{trainer.checkpoint.path}")
        return TrainingDivergedError(msg, epoch=epoch, iteration=batch, loss=loss,
                                     reference=self.reference)


# --------------------------------------------------------------------------- early stopping


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


# --------------------------------------------------------------------------- learning rate


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
