"""Speed and memory of the text pipeline on text that looks like real text:
``python -m analysis bench text [--sizes ...]``.

The corpus.  Real descriptions and websites have a long-tailed vocabulary (hundreds of
thousands of distinct terms at a million firms), which is what the document-term matrix and
keyness costs depend on; the simulator's phrase banks have a few hundred.  So the benchmark
draws its own corpus, deterministically from ``--seed``:

* English: a description of 15-45 words for every firm and, for 40% of firms, a long
  description of 40-120 words.  About 40% of running words are Snowball stopwords; the
  rest come from a vocabulary of 400,000 invented words (syllable combinations) drawn with
  Zipf-like probabilities (rank^-1.1), with a little city signal (each city over-uses its
  own slice of the vocabulary), numbers and punctuation.
* Chinese: website text for a third of firms, 40-160 Han characters made of words drawn
  Zipf-like from jieba's own dictionary (the 200,000 most frequent), with Chinese
  punctuation.
* Cities in the brief's proportions (110 : 53 : 34).

At 1,000,000 firms this gives well over 100,000 distinct terms (the run reports the count).

The pipelines, each in a fresh subprocess per size (so peak memory is that run's own):

* ours:    analysis.text.preprocess.document_term_matrix(language="auto") (quanteda's English rules,
           Chinese through jieba with the domain terms) + keyness of each city against the
           other two (analysis.text.keyness);
* sklearn: a plain scikit-learn CountVectorizer whose tokenizer gives Han runs to the same
           jieba tokenizer (analysis.text.preprocess's, domain terms included) and everything else to
           scikit-learn's default token pattern, lower-casing and the same stop lists; then
           the same keyness.

Both pipelines stream the texts from the corpus file (a generator), as a pipeline over a
million firms would.  Reported per run: seconds (read + tokenise + matrix + keyness), peak
resident memory of the process (the interpreter and libraries included) and its increase over
the peak before the texts are read (cities loaded, jieba ready), the matrix shape and
non-zeros, and the ratios ours / sklearn.
Targets (issue 9): no slower than scikit-learn, at most 2 GB at 1,000,000 firms.

Peak memory (:class:`PeakMemory`, the same on every platform): the largest resident set size
(psutil) seen by a thread that samples it every 10 ms from the start of the run, or the
high-water mark the operating system keeps where one can be read, if higher: VmHWM in
/proc/self/status on Linux, the peak working set on Windows.  Where there is none (macOS) a peak
that lasts less than 10 ms can be missed; the matrices and keyness tables that set the peak here
live far longer.  MiB throughout.  Earlier figures (in the README's history) came from
``ru_maxrss``, which in a process started by ``subprocess`` on Linux begins at the peak of the
process that started it (here the runner, which has drawn the corpus: about 0.2 GB at 20,000
firms): their peaks were at least that, and their increase over the start correspondingly
smaller (+0.04 GB where this measures +0.10 GB at 20,000 firms; both peaks 0.26 GB).  Where a
run's own peak is above the runner's, as at large sizes, the two measures give the same peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from analysis.paths import ROOT
from analysis.defaults import CITIES
from analysis.text.preprocess import stopwords
from analysis.text import keyness as kn, preprocess as tx

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
_CHUNK = 50_000
_SHARES = (110, 53, 34)
EN_VOCAB = 400_000
ZH_VOCAB = 200_000
ZIPF_S = 1.1
STOPWORD_SHARE = 0.4
LONG_SHARE = 0.4
ZH_SHARE = 1 / 3

_ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
           "z", "bl", "br", "ch", "cr", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
_CODAS = ["", "n", "r", "s", "t", "l", "x", "nd", "ck"]


def _os_high_water() -> int:
    """The process's peak resident size in bytes as the operating system keeps it, where it is a
    file read (Linux: VmHWM); 0 elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return 0


class PeakMemory:
    """Peak resident memory of this process in MiB, on every platform (see the module docstring):
    a daemon thread samples psutil's resident set size every ``interval`` seconds until
    :meth:`stop`; :meth:`mb` is the peak so far."""

    def __init__(self, interval: float = 0.01):
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._peak = 0
        self._stop = threading.Event()
        self._sample()
        self._thread = threading.Thread(target=self._watch, name="peak-memory", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        info = self._process.memory_info()
        self._peak = max(self._peak, info.rss, getattr(info, "peak_wset", 0))  # peak_wset: Windows

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def mb(self) -> float:
        self._sample()
        return max(self._peak, _os_high_water()) / 2**20

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _english_vocabulary(n: int, rng: np.random.Generator) -> list[str]:
    """n distinct invented words of two to four syllables, in a seeded random order (their
    Zipf rank)."""
    syll = [o + v + c for o in _ONSETS for v in _VOWELS for c in _CODAS]  # 2,511 syllables
    words, seen = [], set()
    while len(words) < n:
        k = rng.integers(2, 5, size=n)
        picks = rng.integers(0, len(syll), size=(n, 4))
        for row, kk in zip(picks, k):
            w = "".join(syll[j] for j in row[:kk])
            if w not in seen:
                seen.add(w)
                words.append(w)
                if len(words) == n:
                    break
    return words


def _chinese_vocabulary(n: int) -> list[str]:
    """The n most frequent multi-character words of jieba's dictionary (its frequency order
    is a natural Zipf rank)."""
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    entries = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) >= 2:
                entries.append((-int(parts[1]), parts[0]))
    entries.sort()
    return [w for _, w in entries[:n]]


def _zipf_cdf(n: int) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** ZIPF_S
    return np.cumsum(p / p.sum())


def _draw(cdf: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size)), len(cdf) - 1)


def _chinese_words(rng: np.random.Generator, m: int, vocab: np.ndarray, cdf: np.ndarray):
    """For a chunk of ``m`` firms: how many Chinese words each gets (0 for those without website
    text), and all their words in a row, about 15% of them followed by Chinese punctuation."""
    zh_punct = np.array(["，", "。", "、", "；"], dtype=object)
    has_zh = rng.random(m) < ZH_SHARE
    n_zh = np.where(has_zh, rng.integers(12, 50, size=m), 0)
    zh_idx = _draw(cdf, rng, int(n_zh.sum()))
    zh_words = vocab[zh_idx]
    breaks = rng.random(len(zh_words)) < 0.15
    zh_words[breaks] = zh_words[breaks] + zh_punct[rng.integers(0, 4, size=int(breaks.sum()))]
    return n_zh, zh_words


def realistic_texts(n: int, seed: int, cities: np.ndarray | None = None):
    """Yield, per firm, ``(city_index, description, long_description, chinese, words)`` drawn as
    the module docstring describes (``long_description`` and ``chinese`` may be ``""``; ``words``
    counts the English and Chinese words drawn).  ``cities``
    (indices into CITIES) fixes each firm's city, e.g. to add long-tailed text to a simulated
    corpus; by default cities are drawn in the brief's proportions.

    Parameters
    ----------
    n : int
        The number of firms.
    seed : int
        The seed of every draw.
    cities : numpy.ndarray, optional
        Each firm's city, as an index into CITIES (at least ``n`` of them); None draws them.

    Yields
    ------
    tuple of (int, str, str, str, int)
        One firm's ``(city_index, description, long_description, chinese, words)``.
    """
    rng = np.random.default_rng(seed)
    en_vocab = np.array(_english_vocabulary(EN_VOCAB, rng), dtype=object)
    zh_vocab = np.array(_chinese_vocabulary(ZH_VOCAB), dtype=object)
    stop = np.array(sorted(stopwords("en")), dtype=object)
    en_cdf, zh_cdf, stop_cdf = _zipf_cdf(len(en_vocab)), _zipf_cdf(len(zh_vocab)), _zipf_cdf(len(stop))
    city_cdf = np.cumsum(np.array(_SHARES) / sum(_SHARES))
    done = 0
    while done < n:
        m = min(_CHUNK, n - done)
        city = np.minimum(np.searchsorted(city_cdf, rng.random(m)), 2)
        if cities is not None:
            city = np.asarray(cities[done:done + m], dtype=int)
        n_desc = rng.integers(15, 46, size=m)
        n_long = np.where(rng.random(m) < LONG_SHARE, rng.integers(40, 121, size=m), 0)
        n_en = n_desc + n_long
        tot = int(n_en.sum())
        idx = _draw(en_cdf, rng, tot)
        # city signal: a tenth of a firm's content words shifted into its city's slice
        owner = np.repeat(city, n_en)
        shift = rng.random(tot) < 0.1
        idx[shift] = (idx[shift] % 50_000) + 50_000 * (1 + owner[shift])
        words = en_vocab[idx]
        is_stop = rng.random(tot) < STOPWORD_SHARE
        words[is_stop] = stop[_draw(stop_cdf, rng, int(is_stop.sum()))]
        numbers = rng.random(tot) < 0.01
        words[numbers] = [str(x) for x in rng.integers(1, 3000, size=int(numbers.sum()))]
        n_zh, zh_words = _chinese_words(rng, m, zh_vocab, zh_cdf)
        pos = zh_pos = 0
        for i in range(m):
            k = int(n_en[i])
            d = int(n_desc[i])
            desc = " ".join(words[pos:pos + d]).capitalize() + "."
            long = " ".join(words[pos + d:pos + k]).capitalize() + "." if k > d else ""
            pos += k
            z = int(n_zh[i])
            zh = "".join(zh_words[zh_pos:zh_pos + z]) + "。" if z else ""
            zh_pos += z
            yield int(city[i]), desc, long, zh, k + z
        done += m


def write_corpus(path: Path, n: int, seed: int) -> dict:
    """Write n firms as JSON lines [text, city]; return corpus facts (n, tokens drawn).

    Parameters
    ----------
    path : pathlib.Path
        The file to write.
    n : int
        The number of firms.
    seed : int
        The seed of :func:`realistic_texts`.

    Returns
    -------
    dict
        ``n`` and ``tokens_drawn`` (the words drawn, English and Chinese).
    """
    n_tokens = 0
    with open(path, "w", encoding="utf-8") as fh:
        for city, desc, long, zh, words in realistic_texts(n, seed):
            doc = desc + (" " + long if long else "") + (" " + zh if zh else "")
            n_tokens += words
            fh.write(json.dumps([doc, CITIES[city]], ensure_ascii=False) + "\n")
    return {"n": n, "tokens_drawn": n_tokens}


def _sklearn_tokenizer():
    """scikit-learn's default token pattern for non-Han text, the same jieba tokenizer (with
    the domain terms) as analysis.text.preprocess for Han runs."""
    import re

    word = re.compile(r"(?u)\b\w\w+\b")
    han = tx._HAN_SPLIT_RE
    jb = tx._jieba()

    def tokenize(doc: str) -> list[str]:
        if not tx._HAN_RE.search(doc):
            return word.findall(doc)
        out: list[str] = []
        for i, part in enumerate(han.split(doc)):
            if i % 2:
                out.extend(jb.lcut(part, HMM=False))
            elif part:
                out.extend(word.findall(part))
        return out

    return tokenize


def _texts(path: str):
    """The texts, streamed from the file (neither pipeline holds them all at once)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)[0]


def _worker(path: str, impl: str) -> dict:
    memory = PeakMemory()
    with open(path, encoding="utf-8") as fh:
        cities = np.array([json.loads(line)[1] for line in fh])
    texts = _texts(path)

    tx._jieba()  # both pipelines start with jieba loaded
    if impl == "sklearn":
        from sklearn.feature_extraction.text import CountVectorizer
    base = memory.mb()
    t0 = time.perf_counter()
    if impl == "ours":
        mat, feats = tx.document_term_matrix(texts, language="auto")
    elif impl == "sklearn":
        stop = sorted(tx.stopwords("en") | tx.stopwords("zh"))
        cv = CountVectorizer(lowercase=True, tokenizer=_sklearn_tokenizer(), token_pattern=None,
                             stop_words=stop)
        mat = cv.fit_transform(texts)
        feats = list(cv.get_feature_names_out())
    else:
        raise ValueError(impl)
    t_matrix = time.perf_counter() - t0
    for city in CITIES:
        kn.keyness(mat, cities == city, feats)
    seconds = time.perf_counter() - t0
    peak = memory.mb()
    memory.stop()
    n_zh = sum(1 for f in feats if tx._HAN_RE.search(f))
    return {"impl": impl, "n": int(mat.shape[0]), "features": len(feats), "zh_features": n_zh,
            "nnz": int(mat.nnz), "seconds": seconds, "matrix_seconds": t_matrix, "peak_mb": peak,
            "increase_mb": peak - base, "base_mb": base}


def run(sizes=DEFAULT_SIZES, seed: int = 1, impls=("ours", "sklearn"), echo=print) -> list[dict]:
    """Draw a corpus of each size and time each pipeline on it, each in a fresh subprocess.

    Parameters
    ----------
    sizes : iterable of int
        The numbers of firms.
    seed : int
        The corpus seed.
    impls : iterable of str
        The pipelines: ``"ours"``, ``"sklearn"``.
    echo : callable
        Called with each line of the report as it comes.

    Returns
    -------
    list of dict
        One per size and pipeline: ``impl``, ``n``, ``features``, ``zh_features``, ``nnz``,
        ``seconds``, ``matrix_seconds``, ``peak_mb``, ``increase_mb``, ``base_mb``.

    Raises
    ------
    RuntimeError
        If a pipeline's subprocess fails (an unknown pipeline name among the causes).
    """
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_text_") as tmp:
        for n in sizes:
            path = Path(tmp) / f"corpus_{n}.jsonl"
            t = time.perf_counter()
            facts = write_corpus(path, n, seed)
            echo(f"[{n:,} firms] corpus drawn in {time.perf_counter() - t:.1f} s "
                 f"({facts['tokens_drawn']:,} words, {path.stat().st_size / 2**20:,.0f} MB)")
            for impl in impls:
                proc = subprocess.run(
                    [sys.executable, "-m", "analysis.build.bench_text", "--worker", str(path), impl],
                    capture_output=True, text=True, cwd=ROOT,
                    env={**os.environ, "PYTHONHASHSEED": "0"},
                )
                if proc.returncode != 0:
                    raise RuntimeError(f"bench worker {impl} at n={n} failed:\n{proc.stderr}")
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                results.append(res)
                echo(f"  {impl:8s} {res['seconds']:7.2f} s  (matrix {res['matrix_seconds']:.2f} s)  "
                     f"peak {res['peak_mb'] / 1024:.2f} GB  (+{res['increase_mb'] / 1024:.2f} GB "
                     f"over the start)  {res['features']:,} features "
                     f"({res['zh_features']:,} Chinese), {res['nnz']:,} non-zeros")
            path.unlink()
            ours = [r for r in results if r["n"] == n and r["impl"] == "ours"]
            sk = [r for r in results if r["n"] == n and r["impl"] == "sklearn"]
            if ours and sk:
                echo(f"  ratio ours/sklearn: time {ours[0]['seconds'] / sk[0]['seconds']:.2f}, "
                     f"peak memory {ours[0]['peak_mb'] / sk[0]['peak_mb']:.2f}")
    return results


def main(argv=None) -> int:
    """``python -m analysis bench text``: run the benchmark and print its report.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (``--sizes``, ``--seed``, ``--only``, ``--json``); None for ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m analysis bench text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="numbers of firms (default: 10000 100000 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
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
