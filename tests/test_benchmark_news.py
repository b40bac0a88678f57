"""benchmarks/news.py without PyTorch: the interleaving, the ratio and the table, on fake
contenders with known times; ippo's own contenders run one real epoch each."""

import types

import numpy as np
import pytest

from benchmarks import news


def test_time_case_interleaves_and_report_gives_the_median_ratio(monkeypatch):
    calls = []
    clock = [0.0]
    cost = {"ippo": 1.0, "torch": 3.0}

    def runner(name):
        def run():
            calls.append(name)
            clock[0] += cost[name]
        return run

    monkeypatch.setattr(news.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(news.time, "sleep", lambda s: None)
    times = news.time_case({"ippo": runner("ippo"), "torch": runner("torch")}, rounds=3,
                           pause=0)
    # one warm-up each, then rounds that alternate which contender goes first
    assert calls == ["ippo", "torch", "ippo", "torch", "torch", "ippo", "ippo", "torch"]
    assert times == {"ippo": [1.0, 1.0, 1.0], "torch": [3.0, 3.0, 3.0]}
    env = {"versions": {"python": "3", "numpy": "2", "torch": "x"}, "cpu": "cpu", "cores": 2}
    from datetime import datetime, timezone

    now = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
    text = news.report(env, {news.CASES[0]: times}, types.SimpleNamespace(rounds=3,
                                                                          threads=1),
                       now, now, None, None, 10671, 12996)
    assert "| single layer, batch 1 | 1.000 (1.000–1.000) | 3.000 (3.000–3.000) | 3.00 |" \
        in text
    assert "--rounds 3 --threads 1" in text and "2026-11-29 12:00" in text


def test_ippo_contenders_train_one_epoch():
    pytest.importorskip("ippo.text")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((130, 6)).astype(np.float32)
    t = rng.integers(0, 4, size=130)
    ids = rng.integers(0, 9, size=(130, 5))
    for run in (news.ippo_single(x, t, 1), news.ippo_single(x, t, 8),
                news.ippo_fasttext(ids, t, 9, dim=4)):
        first = run()
        assert np.isfinite(first) and run() < first + 1.0
