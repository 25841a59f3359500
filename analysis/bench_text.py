"""Speed and memory of the text pipeline: ``python -m analysis bench text [--sizes ...]``.

For each size, English descriptions of that many simulated firms (the brief's city
proportions) are written to a temporary file; then, in a fresh subprocess per size and
pipeline (so peak memory is that run's own), the file is read and timed:

* ours:    analysis.text.document_term_matrix (quanteda rules) + keyness of each of the
           three cities against the other two (analysis.keyness);
* sklearn: a plain scikit-learn CountVectorizer (lower-casing, its default token pattern,
           the same Snowball stop list) + the same keyness.

Reported per run: seconds (tokenise + matrix + keyness), peak resident memory of the
process (ru_maxrss) and its increase over the memory held after reading the texts, the
matrix shape, and the ratio ours / sklearn.  Reference (issue): quanteda about 10 s and
0.6 GB at 100,000 descriptions of 15-45 words; plain sklearn about 2.5 s / 0.26 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .palette import CITIES

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
_CHUNK = 100_000
_SHARES = (110, 53, 34)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _write_corpus(path: Path, n: int, seed: int) -> None:
    """Descriptions and cities of n simulated firms, one JSON line each (simulated in
    chunks of 100,000 with consecutive seeds)."""
    from .simulate import simulate

    done = 0
    with open(path, "w", encoding="utf-8") as fh:
        chunk_no = 0
        while done < n:
            m = min(_CHUNK, n - done)
            total = sum(_SHARES)
            per = [m * s // total for s in _SHARES]
            per[0] += m - sum(per)
            firms = simulate(n_per_city=tuple(per), seed=seed + chunk_no)
            for desc, city in zip(firms["description"].fillna(""), firms["city"]):
                fh.write(json.dumps([desc, city], ensure_ascii=False) + "\n")
            done += m
            chunk_no += 1


def _worker(path: str, impl: str) -> dict:
    import numpy as np

    texts, cities = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            d, c = json.loads(line)
            texts.append(d)
            cities.append(c)
    cities = np.array(cities)
    from . import keyness as kn
    from . import text as tx

    if impl == "sklearn":
        from sklearn.feature_extraction.text import CountVectorizer
    base = _rss_mb()
    t0 = time.perf_counter()
    if impl == "ours":
        mat, feats = tx.document_term_matrix(texts, language="en")
    elif impl == "sklearn":
        cv = CountVectorizer(lowercase=True, stop_words=sorted(tx.stopwords("en")))
        mat = cv.fit_transform(texts)
        feats = list(cv.get_feature_names_out())
    else:
        raise ValueError(impl)
    t_matrix = time.perf_counter() - t0
    for city in CITIES:
        kn.keyness(mat, cities == city, feats)
    seconds = time.perf_counter() - t0
    peak = _rss_mb()
    return {"impl": impl, "n": len(texts), "features": len(feats), "seconds": seconds,
            "matrix_seconds": t_matrix, "peak_mb": peak, "increase_mb": peak - base,
            "base_mb": base}


def run(sizes=DEFAULT_SIZES, seed: int = 1, impls=("ours", "sklearn"), echo=print) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_text_") as tmp:
        for n in sizes:
            path = Path(tmp) / f"corpus_{n}.jsonl"
            t = time.perf_counter()
            _write_corpus(path, n, seed)
            echo(f"[{n:,} firms] corpus simulated in {time.perf_counter() - t:.1f} s")
            for impl in impls:
                proc = subprocess.run(
                    [sys.executable, "-m", "analysis.bench_text", "--worker", str(path), impl],
                    capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
                    env={**os.environ, "PYTHONHASHSEED": "0"},
                )
                if proc.returncode != 0:
                    raise RuntimeError(f"bench worker {impl} at n={n} failed:\n{proc.stderr}")
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                results.append(res)
                echo(f"  {impl:8s} {res['seconds']:7.2f} s  (matrix {res['matrix_seconds']:.2f} s)  "
                     f"peak {res['peak_mb'] / 1024:.2f} GB  (+{res['increase_mb'] / 1024:.2f} GB "
                     f"over the loaded texts)  {res['features']:,} features")
            path.unlink()
            ours = [r for r in results if r["n"] == n and r["impl"] == "ours"]
            sk = [r for r in results if r["n"] == n and r["impl"] == "sklearn"]
            if ours and sk:
                echo(f"  ratio ours/sklearn: time {ours[0]['seconds'] / sk[0]['seconds']:.2f}, "
                     f"peak memory {ours[0]['peak_mb'] / sk[0]['peak_mb']:.2f}")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis bench text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="numbers of firms (default: 10000 100000 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    parser.add_argument("--only", choices=["ours", "sklearn"], default=None,
                        help="run one pipeline only")
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON here")
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "IMPL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(*args.worker)))
        return 0
    impls = (args.only,) if args.only else ("ours", "sklearn")
    results = run(args.sizes, seed=args.seed, impls=impls)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
