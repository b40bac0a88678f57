"""How many threads the BLAS behind NumPy's matrix products may use: ippo's speed rules, in
one place.

A multi-threaded matrix product pays off only when the product is large. For the small ones
of online learning, handing half of the work to a second thread costs more than it saves,
and on a busy machine much more (the main thread waits until the helper thread gets a
core). So:

- ``for_batches(batch_size, params)``: one-sample batches through a weight matrix of at
  least ``SINGLE_THREAD_FROM`` entries run on one BLAS thread; mini-batches and smaller
  networks leave the BLAS's own setting alone (their products gain little either way).
  ``Trainer.fit`` applies it to its training steps (online learning) and to the one-sample
  forward pass that checks the data's shape; its evaluation passes are not affected. For
  single-sample inference of your own on a large model, ``with blas.threads(1): ...``.
- ``threads(n)``: ``n`` threads inside a ``with`` block (``ippo train --threads``).
- ``BLAS_OUTER_PRODUCT_BELOW``: one sample's weight gradient (an outer product) is computed
  by the BLAS below this size, element-wise above (``functions.matmul_weight_grad``).

The measurements behind the limits are in ``benchmarks/RESULTS.md`` ("BLAS threads"). The
switch goes through ``threadpoolctl`` (about a microsecond a call); without it installed
every function here does nothing. Set ``SINGLE_THREAD_FROM = None`` to switch the
online-learning rule off.
"""

#: Online learning (one-sample batches) runs on one BLAS thread when the model's largest
#: weight matrix has at least this many entries (None: never).
SINGLE_THREAD_FROM = 1 << 18

#: One sample's weight gradient (an outer product) of fewer entries than this is computed by
#: the BLAS (``np.dot``), larger ones element-wise: see ``functions.matmul_weight_grad``.
BLAS_OUTER_PRODUCT_BELOW = 1 << 18

_controllers = None


def _blas():
    """threadpoolctl's controllers of the loaded BLAS libraries ([] when unavailable)."""
    global _controllers
    if _controllers is None:
        try:
            from threadpoolctl import ThreadpoolController

            _controllers = [c for c in ThreadpoolController().lib_controllers
                            if c.user_api == "blas"]
        except Exception:  # not installed, or an unknown BLAS: leave the threads alone
            _controllers = []
    return _controllers


def get_threads():
    """The BLAS's current number of threads, or None when it cannot be controlled."""
    libs = _blas()
    return libs[0].get_num_threads() if libs else None


def set_threads(n):
    """Let the BLAS use ``n`` threads (no effect when it cannot be controlled)."""
    for lib in _blas():
        lib.set_num_threads(int(n))


def prefers_single_thread(n_samples, largest_matrix):
    """The online-learning rule: True for a one-sample batch through a weight matrix of at
    least ``SINGLE_THREAD_FROM`` entries."""
    return (n_samples == 1 and SINGLE_THREAD_FROM is not None
            and largest_matrix >= SINGLE_THREAD_FROM)


class threads:
    """Context manager: the BLAS runs on ``n`` threads inside (``None``: as it is), and on
    its previous number again afterwards."""

    __slots__ = ("n", "previous")

    def __init__(self, n):
        self.n = n
        self.previous = None

    def __enter__(self):
        if self.n:
            libs = _blas()
            previous = [lib.get_num_threads() for lib in libs]
            if any(p is not None and p != self.n for p in previous):
                self.previous = previous
                for lib in libs:
                    lib.set_num_threads(int(self.n))
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            for lib, n in zip(_blas(), self.previous, strict=True):
                if n is not None:
                    lib.set_num_threads(n)
            self.previous = None
        return False


def for_batches(batch_size, params):
    """The threads for running batches of ``batch_size`` through the parameters ``params``:
    ``threads(1)`` when ``prefers_single_thread`` (one sample, a weight matrix of
    ``SINGLE_THREAD_FROM`` entries or more), else ``threads(None)``."""
    largest = max((p.size for p in params if p.ndim == 2), default=0)
    return threads(1 if prefers_single_thread(batch_size, largest) else None)
