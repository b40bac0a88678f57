"""Progress display for ``Trainer.fit``: a tqdm bar per epoch on a terminal, or one line.

- ``verbose=0``: nothing at all (no object is even created: the training loop pays nothing).
- ``verbose=1`` on a terminal (stderr is a TTY): a tqdm bar per epoch showing samples done,
  samples/s, the running loss, and at the end of the epoch the epoch's metrics; the bar
  stays on screen as that epoch's line.
- ``verbose=1`` when not on a terminal (a pipe, a log file, CI), or ``verbose=2``: one
  summary line per epoch on stdout, e.g.
  ``epoch 3/10  loss 0.4321  accuracy 0.8812  val_loss 0.4500  val_accuracy 0.8700
  12,345 samples/s  1.2s``.
"""

import sys
import time


def format_logs(logs, keys):
    """``"loss 0.4321  accuracy 0.8812 ..."`` for the keys present in ``logs``."""
    parts = []
    for k in keys:
        v = logs.get(k)
        if v is not None:
            parts.append(f"{k} {v:.4f}")
    return "  ".join(parts)


class EpochLine:
    """One summary line per epoch, written when the epoch ends."""

    def __init__(self, epochs, file=None):
        self.epochs = epochs
        self.file = file

    def start_epoch(self, epoch, n_samples):
        self._t0 = time.perf_counter()

    def step(self, n, running_loss):
        pass

    def end_epoch(self, epoch, logs, keys):
        dt = time.perf_counter() - self._t0
        rate = logs.get("samples_per_s")
        width = len(str(self.epochs))
        line = f"epoch {epoch:>{width}}/{self.epochs}  {format_logs(logs, keys)}"
        if rate is not None:
            line += f"  {rate:,.0f} samples/s"
        line += f"  {dt:.1f}s"
        print(line, file=self.file if self.file is not None else sys.stdout, flush=True)

    def close(self):
        pass


class EpochBar:
    """A tqdm bar per epoch (samples as the unit, so tqdm shows samples/s)."""

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
        width = len(str(self.epochs))
        self.bar = self._tqdm(
            total=n_samples,
            desc=f"epoch {epoch:>{width}}/{self.epochs}",
            unit="sample",
            unit_scale=True,
            leave=True,
            dynamic_ncols=True,
            mininterval=0.2,
            file=self.file,
        )

    def step(self, n, running_loss):
        if self.bar.update(n):  # True when tqdm redrew the bar: refresh the loss with it
            self.bar.set_postfix_str(f"loss {running_loss:.4f}", refresh=False)

    def end_epoch(self, epoch, logs, keys):
        self.bar.set_postfix_str(format_logs(logs, keys), refresh=False)
        self.bar.close()
        self.bar = None

    def close(self):
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
