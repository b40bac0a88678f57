"""Progress display for ``Trainer.fit``: a tqdm bar per epoch on a terminal, or one line.

``Progress`` is the callback ``fit`` adds unless ``verbose=0``; the displays below draw.

- ``verbose=0``: nothing at all (no object is even created: the training loop pays nothing).
- ``verbose=1`` on a terminal (stderr is a TTY): a tqdm bar while each epoch runs, showing
  samples done, samples/s and the running loss; when the epoch ends the bar gives way to the
  same summary line as below, so the finished epochs read as a clean log.
- ``verbose=1`` when not on a terminal (a pipe, a log file, CI), or ``verbose=2``: one
  summary line per epoch on stdout, every figure named by the data it is on, e.g.
  ``epoch 3/10  train_loss 0.4321  train_accuracy 0.8812  val_loss 0.4500  val_accuracy
  0.8700  12,345 samples/s  1.2s`` (``train_loss`` is the mean of the epoch's batch losses,
  ``train_accuracy`` the accuracy on the training data after the epoch).
"""

import sys
import time

from ippo.training.callbacks import Callback


def label(key):
    """A log's name on screen, saying which data it is on: the training figures ("loss",
    "accuracy", "r2") as "train_loss", "train_accuracy", ...; "val_..." as they are."""
    if key.startswith(("val_", "train_")) or key in ("epoch", "time", "samples_per_s", "lr"):
        return key
    return "train_" + key


def format_logs(logs, keys):
    """``"train_loss 0.4321  train_accuracy 0.8812 ..."`` for the keys present in ``logs``
    (each named by ``label``)."""
    return "  ".join(f"{label(k)} {logs[k]:.4f}" for k in keys if logs.get(k) is not None)


def summary_line(epoch, epochs, logs, keys, seconds):
    """``epoch 3/10  train_loss 0.4321  train_accuracy 0.8812  val_loss ...  12,345
    samples/s  1.2s``."""
    width = len(str(epochs))
    line = f"epoch {epoch:>{width}}/{epochs}  {format_logs(logs, keys)}"
    rate = logs.get("samples_per_s")
    if rate is not None:
        line += f"  {rate:,.0f} samples/s"
    return line + f"  {seconds:.1f}s"


class EpochLine:
    """One summary line per epoch, written when the epoch ends."""

    def __init__(self, epochs, file=None):
        self.epochs = epochs
        self.file = file

    def start_epoch(self, epoch, n_samples):
        """Note the epoch's start time (``n_samples``: how many samples the epoch will see)."""
        self._t0 = time.perf_counter()

    def step(self, n, running_loss):
        """Called after each batch of ``n`` samples; a line shows nothing until the epoch ends."""
        pass

    def end_epoch(self, epoch, logs, keys):
        """Print the epoch's summary line: the metrics in ``keys`` from ``logs``, the time."""
        line = summary_line(epoch, self.epochs, logs, keys, time.perf_counter() - self._t0)
        print(line, file=self.file if self.file is not None else sys.stdout, flush=True)

    def close(self):
        """Nothing to release."""
        pass


class EpochBar:
    """A tqdm bar while an epoch runs (samples as the unit, so tqdm shows samples/s, and the
    running loss); when the epoch ends the bar is replaced by the epoch's summary line."""

    def __init__(self, epochs, file=None):
        try:
            from tqdm.auto import tqdm
        except ImportError as e:  # pragma: no cover - tqdm is a dependency
            raise ImportError(
                "the progress bar needs tqdm: pip install tqdm (or use verbose=2 for plain "
                "lines, verbose=0 for silence)"
            ) from e
        self._tqdm = tqdm
        self.epochs = epochs
        self.file = file
        self.bar = None

    def start_epoch(self, epoch, n_samples):
        """Open this epoch's bar, counting ``n_samples`` samples."""
        self._t0 = time.perf_counter()
        width = len(str(self.epochs))
        self.bar = self._tqdm(
            total=n_samples,
            desc=f"epoch {epoch:>{width}}/{self.epochs}",
            unit="sample",
            unit_scale=True,
            leave=False,
            dynamic_ncols=True,
            bar_format="{desc} {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} "
            "[{elapsed}<{remaining}, {rate_fmt}{postfix}]",
            mininterval=0.2,
            file=self.file,
        )

    def step(self, n, running_loss):
        """Advance the bar by ``n`` samples, showing the running loss when it redraws."""
        if self.bar.update(n):  # True when tqdm redrew the bar: refresh the loss with it
            self.bar.set_postfix_str(f"loss {running_loss:.4f}", refresh=False)

    def end_epoch(self, epoch, logs, keys):
        """Replace the bar by the epoch's summary line."""
        self.bar.close()
        self.bar = None
        line = summary_line(epoch, self.epochs, logs, keys, time.perf_counter() - self._t0)
        self._tqdm.write(line, file=self.file)

    def close(self):
        """Close a bar left open (training stopped mid-epoch)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make_progress(verbose, epochs, file=None):
    """The display for a verbosity level, or None for ``verbose=0``."""
    if not verbose:
        return None
    stream = file if file is not None else sys.stderr
    is_tty = bool(getattr(stream, "isatty", lambda: False)())
    if verbose == 1 and is_tty:
        return EpochBar(epochs, file=file)
    return EpochLine(epochs, file=file)


class Progress(Callback):
    """The progress display as a callback (``Trainer.fit`` adds it unless ``verbose=0``).

    Each epoch: a bar or a summary line (``make_progress``) with the running mean of the
    batches' losses; "resuming from ..." when a run continues from its checkpoint, and on
    Ctrl-C where the checkpoint stands.
    """

    def __init__(self, verbose=1, file=None):
        self.verbose, self.file = verbose, file
        self.display = None

    def on_train_begin(self, trainer):
        self.display = make_progress(self.verbose, trainer.epochs, self.file)
        metric = trainer.metric_name
        self.keys = ["loss", metric, "val_loss", "val_" + metric]
        if trainer.epoch and trainer.checkpoint is not None:
            print(f"resuming from {trainer.checkpoint.path} after epoch {trainer.epoch}",
                  file=self.file)

    def on_epoch_begin(self, epoch):
        self.seen, self.loss_sum = 0, 0.0
        self.display.start_epoch(epoch, self.trainer.n_train)

    def on_batch_end(self, iteration, loss):
        k = min(self.trainer.batch_size, self.trainer.n_train - self.seen)  # this batch's size
        self.seen += k
        self.loss_sum += loss * k
        self.display.step(k, self.loss_sum / self.seen)

    def on_epoch_end(self, epoch, logs):
        self.display.end_epoch(epoch, logs, self.keys)

    def on_train_end(self, history):
        self.display.close()

    def on_exception(self, exception):
        if self.display is None:  # stopped before the display opened
            return
        self.display.close()
        epoch = self.trainer.checkpoint_epoch
        if isinstance(exception, KeyboardInterrupt) and epoch is not None:
            print(f"interrupted; the checkpoint {self.trainer.checkpoint.path} holds epoch "
                  f"{epoch}: fit(..., resume=True) continues from it",
                  file=self.file if self.file is not None else sys.stderr)
