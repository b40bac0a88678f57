"""``plot_history``: a History's loss and metric curves as a matplotlib figure (``History.plot``).

Kept apart from the recorder: only drawing needs matplotlib (``pip install "ippo[plot]"``).
"""

import os

import numpy as np

from ippo.io import write_atomically

__all__ = ["plot_history"]

#: An epoch of more iterations than ``SMOOTH_ABOVE`` is drawn as the means of blocks of
#: iterations, ``POINTS_PER_EPOCH`` points per epoch.
SMOOTH_ABOVE = 200
POINTS_PER_EPOCH = 20


def plot_history(history, path=None, title=None):
    """Draw ``history``'s loss and metric curves; write an image to ``path`` (if given).

    Left: the training loss of every iteration (light; with more than 200 iterations an
    epoch, the means of blocks of them, 20 an epoch), its per-epoch mean and the validation
    loss, against epochs. Right: training and validation accuracy (or R²). Every curve's
    legend says whether it is on the training or the validation data.
    Needs matplotlib. Returns the matplotlib Figure. The file's format follows its
    extension (``.png``, ``.pdf``, ``.svg``, ...; a name without one gets ``.png``) and it is
    written atomically (temporary file, then a rename): an existing plot is replaced only by
    a complete one.
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
    style = "o-" if len(history) <= 40 else "-"
    FigureCanvasAgg(fig)
    ax_loss, ax_metric = fig.subplots(1, 2)
    epochs = np.asarray(history.epochs.get("epoch", []), dtype=float)
    first_epoch = epochs[0] if len(epochs) else 1.0
    it = np.asarray(history.iteration_loss, dtype=float)
    per_epoch = history.iterations_per_epoch
    if len(it) and per_epoch:
        # online learning draws thousands of one-sample losses per epoch, whose spikes hide
        # the curves: then the means of blocks of k iterations (20 points per epoch)
        k = per_epoch // POINTS_PER_EPOCH if per_epoch > SMOOTH_ABOVE else 1
        starts = np.arange(0, len(it), k)
        it = np.add.reduceat(it, starts) / np.diff(np.append(starts, len(it)))
        x_it = first_epoch - 1 + np.minimum(starts + k, len(history.iteration_loss)) / per_epoch
        ax_loss.plot(x_it, it, color="tab:blue", alpha=0.25, lw=0.8,
                     label="train, per iteration" if k == 1
                     else f"train, mean of {k} iterations")
    for key, color, label in (
        ("loss", "tab:blue", "train (epoch mean)"),
        ("val_loss", "tab:orange", "validation"),
    ):
        y = _column(history, key)
        if y is not None:
            ax_loss.plot(epochs, y, style, color=color, ms=3.5, lw=1.8, label=label)
    ax_loss.set_title("loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    if len(it) and np.all(it[np.isfinite(it)] > 0) and it.max() / max(it.min(), 1e-300) > 30:
        ax_loss.set_yscale("log")
    m = history.metric
    for key, color, label in (
        (m, "tab:blue", "train"),
        ("val_" + m, "tab:orange", "validation"),
    ):
        y = _column(history, key)
        if y is not None:
            ax_metric.plot(epochs, y, style, color=color, ms=3.5, lw=1.8, label=label)
    label = {"r2": "R²"}.get(m, m)
    ax_metric.set_title(label)
    ax_metric.set_xlabel("epoch")
    ax_metric.set_ylabel(label)
    if history.best_epoch is not None:
        for ax in (ax_loss, ax_metric):
            ax.axvline(history.best_epoch, color="gray", ls="--", lw=1, label="best epoch")
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



def _column(history, key):
    """The epoch column ``key`` as floats (None → NaN), or None when it holds no value."""
    col = history.epochs.get(key)
    if not col or all(v is None for v in col):
        return None
    return np.array([np.nan if v is None else v for v in col], dtype=float)
