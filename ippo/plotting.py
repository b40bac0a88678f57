"""Pictures of what a model has learned: the decision regions of any model with two inputs.

Every point (x0, x1) of a fine grid over the data is classified by the model, and the plane
is coloured by the predicted class; the samples are drawn on top, coloured by their true
class. Where the colours meet are the decision boundaries::

    from ippo.plotting import plot_decision_regions
    ax = plot_decision_regions(model, x, t, title="2-10-3 network on the spiral")
    ax.figure.savefig("regions.png")

``model`` is anything that classifies a batch of 2-D points: an ``ippo.models`` model (its
``predict_classes``), an ``ippo.autograd.nn`` model, or a plain function returning class
indices (N,) or class scores (N, C). ``decision_grid`` gives the numbers behind the picture
without matplotlib.
"""

import numpy as np

__all__ = ["decision_grid", "plot_decision_regions"]


def _check_points(x, who):
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0 or x.dtype.kind not in "biuf":
        raise ValueError(f"{who}: x must be numeric points of shape (N, 2), one row per "
                         f"sample (the two inputs), got {x.dtype} of shape {x.shape}")
    return x


def _classify(model, points, who):
    """The class of every row of ``points`` according to ``model``."""
    if hasattr(model, "predict_classes"):
        out = np.asarray(model.predict_classes(points))
    elif callable(model):
        out = np.asarray(model(points))
        if out.ndim == 2 and out.shape[1] > 1:  # scores or probabilities: the largest wins
            out = out.argmax(axis=1)
        elif out.ndim == 2:
            out = out[:, 0]
    else:
        raise ValueError(f"{who}: model must have predict_classes(x) or be a function of the "
                         f"points, got {type(model).__name__}")
    if out.shape != (len(points),) or out.dtype.kind not in "biuf" or (
            out.dtype.kind == "f" and not np.all(out == np.round(out))):
        raise ValueError(f"{who}: the model must give one class index per point, (N,), or "
                         f"scores (N, C); got {out.dtype} of shape {out.shape} for "
                         f"{len(points)} points")
    return out.astype(np.int64)


def decision_grid(model, x, resolution=200, margin=0.1):
    """The predicted class on a ``resolution`` × ``resolution`` grid covering the points x.

    The grid spans each input's range in ``x`` (N, 2), widened by ``margin`` times that
    range on both sides. Returns ``(xx, yy, classes)``, three arrays of shape
    (resolution, resolution): ``classes[i, j]`` is the class of the point
    (``xx[i, j]``, ``yy[i, j]``). The grid goes through the model in one batch, in the
    model's dtype when it has one.
    """
    x = _check_points(x, "decision_grid")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or resolution < 2:
        raise ValueError(f"decision_grid: resolution must be an integer >= 2, got "
                         f"{resolution!r}")
    lo, hi = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    points = np.column_stack([xx.ravel(), yy.ravel()])
    dtype = getattr(model, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind == "f":
        points = points.astype(dtype)
    classes = _classify(model, points, "decision_grid").reshape(xx.shape)
    return xx, yy, classes


def plot_decision_regions(model, x, t=None, ax=None, resolution=200, margin=0.1,
                          class_names=None, feature_names=("x0", "x1"), title=None):
    """Colour the plane by the class ``model`` predicts and draw the samples ``x`` on top.

    ``t`` (optional): the true class of each sample (indices, or one-hot rows), which
    colours and marks the points; a legend names each class (``class_names``, else
    "class k"). ``ax``: the matplotlib Axes to draw into; a new figure is made when None
    (save it with ``ax.figure.savefig(path)``). Returns the Axes. Needs matplotlib
    (``pip install "ippo[plot]"``).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import ListedColormap
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError('plot_decision_regions needs matplotlib: pip install matplotlib '
                          '(or pip install "ippo[plot]"); decision_grid gives the numbers '
                          'without it') from e
    x = _check_points(x, "plot_decision_regions")
    if t is not None:
        t = np.asarray(t)
        if t.ndim == 2 and t.shape[1] > 1:
            t = t.argmax(axis=1)
        t = t.reshape(-1)
        if len(t) != len(x):
            raise ValueError(f"plot_decision_regions: x has {len(x)} samples but t has "
                             f"{len(t)}")
        t = t.astype(np.int64)
    xx, yy, classes = decision_grid(model, x, resolution, margin)
    n_classes = int(max(classes.max(), -1 if t is None else t.max())) + 1
    if class_names is not None and len(class_names) > n_classes:
        n_classes = len(class_names)
    palette = [f"C{k % 10}" for k in range(n_classes)]
    markers = "os^vDP*Xph"
    if ax is None:
        fig = Figure(figsize=(5.5, 5), dpi=110, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
    ax.contourf(xx, yy, classes, levels=np.arange(n_classes + 1) - 0.5,
                cmap=ListedColormap(palette), alpha=0.3)
    ax.contour(xx, yy, classes, levels=np.arange(n_classes) + 0.5, colors="k",
               linewidths=0.6, alpha=0.5)
    names = list(class_names) if class_names is not None else \
        [f"class {k}" for k in range(n_classes)]
    if t is None:
        ax.scatter(x[:, 0], x[:, 1], s=14, c="k", label="samples")
    else:
        for k in range(n_classes):
            sel = t == k
            if sel.any():
                ax.scatter(x[sel, 0], x[sel, 1], s=16, color=palette[k],
                           marker=markers[k % len(markers)], edgecolors="k", linewidths=0.4,
                           label=str(names[k]))
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_title(title if title is not None else "decision regions")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    return ax
