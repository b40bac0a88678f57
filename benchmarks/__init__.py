"""Benchmarks for ippo (outside the package; extra dependencies: ``pip install -e ".[bench]"``).

``python -m benchmarks.train_mlp`` times MLP training for ippo, PyTorch CPU, scikit-learn's
MLPClassifier and a book-style NumPy reference in one interleaved run; see
``benchmarks/RESULTS.md`` for the last full table. Nothing here is imported by ippo or by its
tests, and torch / scikit-learn are imported only when their contender runs.
"""
