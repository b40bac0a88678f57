"""How many threads the BLAS behind NumPy's matrix products may use.

A multi-threaded matrix product only pays off when the product is large. For the small ones
of online learning and small mini-batches, handing half of the work to a second thread costs
more than it saves, and on a busy machine it can cost a great deal: the main thread waits
until the helper thread gets a core. Measured on the 2-core development machine under load
(OpenBLAS 0.3, float32): one step of 784-1000-1000-10 at batch 1 ran at 224 samples/s with
one BLAS thread and 41 samples/s with two, and single products of ~10 µs stalled for 8-16 ms;
at batch 1000 two threads were 1.6x faster. With the policy below, that network trained
3.2-3.6x faster at batch 1 (medians of 7 interleaved rounds), while 784-100-100-100-10 at
batch 1 lost 4-8 % to the switching, hence the size limit.

Where the line lies depends on the machine and its load; what was measured clearly is the
single-sample case. So ``ippo.models`` runs the products of a one-sample batch (online
learning) on one thread when the largest weight matrix has at least ``SINGLE_THREAD_FROM``
entries (smaller products gain little either way, and switching costs a few
microseconds), and leaves the BLAS's own setting alone otherwise; batches of 32 and more
measured the same or faster with two threads. The switch goes through ``threadpoolctl``
(about a microsecond per call); without it installed every function here does nothing.
Set ``SINGLE_THREAD_FROM = None`` to switch the policy off.
"""

#: A one-sample batch runs its matrix products on one BLAS thread when the model's largest
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
    """The policy above: True for a one-sample batch through a weight matrix of at least
    ``SINGLE_THREAD_FROM`` entries."""
    return (n_samples == 1 and SINGLE_THREAD_FROM is not None
            and largest_matrix >= SINGLE_THREAD_FROM)


class single_thread_if:
    """Context manager: one BLAS thread inside when ``condition`` is true, then the previous
    setting back."""

    __slots__ = ("condition", "previous")

    def __init__(self, condition):
        self.condition = condition
        self.previous = None

    def __enter__(self):
        if self.condition:
            libs = _blas()
            if libs:
                n = libs[0].get_num_threads()
                if n is not None and n > 1:
                    self.previous = n
                    for lib in libs:
                        lib.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            for lib in _blas():
                lib.set_num_threads(self.previous)
            self.previous = None
        return False
