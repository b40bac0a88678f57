"""``History``: what happened during ``fit``, recorded batch by batch and epoch by epoch."""

from ippo.training.callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """What happened during ``fit``.

    - ``iteration_loss``: the loss of every parameter update, in order (list of floats).
    - ``epochs``: dict of per-epoch lists, all of the same length: ``"epoch"`` (1-based),
      ``"loss"`` (mean training loss over the epoch's batches), ``metric`` (training
      ``"accuracy"``, or ``"r2"`` for regression), ``"val_loss"`` and ``"val_" + metric``
      (when validation data was given), ``"time"`` (seconds) and ``"lr"``.
    - ``history["val_loss"]`` is ``history.epochs["val_loss"]``; ``history.metric`` is the
      metric's name; ``history.iterations_per_epoch``; ``history.best_epoch`` is set by
      ``EarlyStopping``.

    It is the recorder callback of ``Trainer.fit`` (as Keras's History): each batch's loss
    in ``on_batch_end``, each epoch's logs in ``on_epoch_end``. ``plot(path)`` draws it.
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

    def on_batch_end(self, iteration, loss):
        """Record the batch's loss."""
        self.iteration_loss.append(loss)

    def on_epoch_end(self, epoch, logs):
        """Record the epoch's logs (a new row of ``epochs``)."""
        self.append_epoch(logs)

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
        return cls().load_dict(d)

    def load_dict(self, d):
        """Take the contents ``to_dict()`` described, in place (a resumed run continues this
        very recorder); returns the History."""
        self.metric = d.get("metric", "accuracy")
        self.iterations_per_epoch = d.get("iterations_per_epoch")
        self.iteration_loss = [float(v) for v in d.get("iteration_loss", [])]
        self.epochs = {k: list(v) for k, v in d.get("epochs", {}).items()}
        self.best_epoch = d.get("best_epoch")
        self.stopped_epoch = d.get("stopped_epoch")
        return self

    def plot(self, path=None, title=None):
        """Draw the loss and metric curves (``ippo.training.plot.plot_history``); write an
        image to ``path`` if given (atomically; PNG unless the extension says otherwise).
        Needs matplotlib. Returns the matplotlib Figure."""
        from ippo.training.plot import plot_history

        return plot_history(self, path, title)
