"""The realistic benchmark corpus (analysis/build/bench_text.py): long-tailed vocabulary, a third of
firms with Chinese website text.  Speed and memory are measured by the command, not here."""

import json
import re

from analysis.build import bench_text


def test_corpus_is_long_tailed_and_a_third_chinese(tmp_path):
    path = tmp_path / "c.jsonl"
    bench_text.write_corpus(path, 3000, seed=5)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3000
    zh = sum(bool(re.search("[\u4e00-\u9fff]", t)) for t, _ in rows) / len(rows)
    assert 0.28 < zh < 0.39
    words = [w for t, _ in rows for w in re.findall(r"[a-z]+", t.lower())]
    distinct = len(set(words))
    assert distinct > 15_000  # far beyond a phrase bank's few hundred terms
    # Zipf-like: the most frequent invented word is much more common than the median one
    from collections import Counter
    counts = sorted(Counter(words).values(), reverse=True)
    assert counts[0] > 20 * counts[len(counts) // 2]
    # deterministic
    again = tmp_path / "d.jsonl"
    bench_text.write_corpus(again, 3000, seed=5)
    assert again.read_bytes() == path.read_bytes()


def test_peak_memory_sees_an_allocation(monkeypatch):
    """The portable peak-memory meter: the operating system's high-water mark where there is one
    (Linux), and the sampling thread alone (as on macOS) both see 200 MB held for 0.1 s."""
    import time

    import numpy as np
    import psutil

    for os_mark in (True, False):
        if not os_mark:
            monkeypatch.setattr(bench_text, "_os_high_water", lambda: 0)
        meter = bench_text.PeakMemory(interval=0.005)
        resident = psutil.Process().memory_info().rss / 2**20  # now, not the peak (earlier tests' may be higher)
        block = np.ones(200 * 2**20 // 8)  # written, so resident
        time.sleep(0.1)
        del block
        peak = meter.mb()
        meter.stop()
        assert peak - resident > 150, (os_mark, resident, peak)
