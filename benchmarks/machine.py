"""What the benchmark runs on: the environment report and the machine's GEMM rate."""

import os
import platform
import sys
import time

import numpy as np


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (or platform.processor())."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    """The 1-, 5- and 15-minute load averages, or None where the OS has none."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def blas_info():
    """One line per BLAS / OpenMP library loaded in this process (via threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return [f"{blas.get('name', '?')} {blas.get('version', '?')} (numpy build; "
                "threadpoolctl not installed)"]
    lines = []
    for pool in threadpool_info():
        lines.append(
            f"{pool.get('internal_api')} {pool.get('version') or ''} "
            f"({pool.get('user_api')}, {pool.get('num_threads')} threads, "
            f"{pool.get('architecture') or 'n/a'}) from {os.path.basename(pool['filepath'])}"
        )
    return lines


def versions():
    """Versions of Python and every library a contender may use, without importing them."""
    from importlib import metadata

    import ippo

    out = {"python": platform.python_version(), "numpy": np.__version__,
           "ippo": ippo.__version__}
    for label, dist in (("torch", "torch"), ("scikit-learn", "scikit-learn"),
                        ("scipy", "scipy"), ("threadpoolctl", "threadpoolctl")):
        try:
            out[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[label] = "not installed"
    return out


def environment():
    """A dict describing the machine and software, for the report header."""
    env = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "versions": versions(),
        "blas": blas_info(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
        env["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "no MKL"
        env["torch_mkldnn"] = torch.backends.mkldnn.is_available()
    return env


def gemm_rate(dtype, n=1536, repeats=5, min_time=0.2):
    """FLOP/s of ``np.dot`` on (n, n) x (n, n) matrices of ``dtype`` (2·n³ FLOPs per call).

    Returns the median over ``repeats`` measurements, each at least ``min_time`` seconds.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    c = np.empty((n, n), dtype=dtype)
    np.dot(a, b, out=c)  # warm up: BLAS threads and buffers
    rates = []
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while True:
            np.dot(a, b, out=c)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        rates.append(2.0 * n ** 3 * calls / elapsed)
    return float(np.median(rates)), float(min(rates)), float(max(rates))


class GemmProbe:
    """Measures the GEMM rate again and again on the same (n, n) matrices of ``dtype``, so that
    it can be interleaved with the contenders and see the same machine load they see."""

    def __init__(self, dtype, n=1536):
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((n, n)).astype(dtype)
        self.b = rng.standard_normal((n, n)).astype(dtype)
        self.c = np.empty((n, n), dtype=dtype)
        self.flops = 2.0 * n ** 3
        np.dot(self.a, self.b, out=self.c)

    def measure(self, min_time=0.1):
        """FLOP/s over at least ``min_time`` seconds of back-to-back products."""
        calls = 0
        start = time.perf_counter()
        while True:
            np.dot(self.a, self.b, out=self.c)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                return self.flops * calls / elapsed


def n_weights(sizes):
    """Number of weights (not biases) of a fully connected net with layer ``sizes``."""
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def flop_limit(sizes, rate):
    """Samples/s the machine could reach at ``rate`` FLOP/s: rate / (6 · number of weights).

    6 FLOPs per weight per sample: 2 for the forward product, 2 for the weight gradient and 2
    for the input gradient.
    """
    return rate / (6.0 * n_weights(sizes))
