"""The brief's categories coded from text: a reviewable dictionary, a supervised
cross-check, and the investor portrait.

Dictionary coder (``code_firms``): ``dictionaries/business_model.yml`` (written from the
brief's definitions; see the file's header) is applied to each firm's tokens like
quanteda's ``tokens_lookup(nested_scope = "dictionary")``: glob patterns, phrases of
consecutive tokens, a longer match taking precedence over matches nested in it within
a dimension, and each matched span counted once per category.  Label rule: the category
with the most hits; equal highest counts -> "tie"; no hits -> "none".

Supervised cross-check (``supervised_check``): tf-idf (quanteda weighting, count x
log10(N/df), idf fitted on the training folds only) and a linear classifier (logistic
regression), scored by stratified k-fold cross-validation with a fixed seed, against the
simulated truth (``truth_<dimension>``) or a hand-coded sample (``data/coding_sample.csv``:
company_id, dimension, label, coder).  Without either it returns ``available=False``
with the reason instead of running.

Investor portrait (``investor_portrait``): the most frequent code in ``investor_types``
(ties by the order of data/labels.yml), or, when types are missing, the types of the
investor names through ``dictionaries/investors.yml``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import labels as _labels
from . import text as _text
from .investors import investor_type_of_name
from .paths import DATA_DIR, PACKAGE_DIR

__all__ = [
    "CODED_DIMENSIONS",
    "load_dictionary",
    "code_tokens",
    "code_firms",
    "dictionary_check",
    "supervised_check",
    "CheckResult",
    "investor_portrait",
    "load_coding_sample",
]

DICTIONARY_FILE = PACKAGE_DIR / "dictionaries" / "business_model.yml"
CODING_SAMPLE = DATA_DIR / "coding_sample.csv"
CODED_DIMENSIONS = ("application", "customer", "geography")
TIE, NONE = "tie", "none"
DEFAULT_SEED = 20220501


# --------------------------------------------------------------------------- dictionary


def _glob_regex(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern.lower()), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class _Entry:
    category: str
    text: str  # as written in the file
    parts: tuple  # compiled patterns, one per token


@dataclass(frozen=True)
class Dictionary:
    path: Path
    categories: dict  # dimension -> tuple of categories (file order)
    entries: dict  # dimension -> tuple of _Entry

    def n_entries(self, dimension: str) -> int:
        return len(self.entries[dimension])


@lru_cache(maxsize=4)
def load_dictionary(path: str | Path = DICTIONARY_FILE) -> Dictionary:
    """Read and check the dictionary file: its dimensions and categories must be those of
    data/labels.yml, and no phrase may contain a stopword (stopwords are removed before
    matching, so such an entry could never match)."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    stop = _text.stopwords("en") | _text.stopwords("zh")
    categories, entries, zh_words = {}, {}, []
    for dim in CODED_DIMENSIONS:
        if dim not in raw:
            raise ValueError(f"{path}: dimension {dim!r} missing")
        expected = _labels.categories(dim)
        if list(raw[dim]) != expected:
            raise ValueError(f"{path}: {dim} must have categories {expected} in that order, "
                             f"found {list(raw[dim])}")
        categories[dim] = tuple(expected)
        dim_entries = []
        for cat in expected:
            spec = raw[dim][cat] or {}
            words = [str(w) for w in (spec.get("en") or [])] + [str(w) for w in (spec.get("zh") or [])]
            if not words:
                raise ValueError(f"{path}: {dim}/{cat} has no entries")
            for w in words:
                parts = w.lower().split()
                bad = [p for p in parts if p in stop]
                if bad:
                    raise ValueError(f"{path}: entry {w!r} in {dim}/{cat} contains stopword(s) {bad}")
                if _text._HAN_RE.search(w) and not any(ch in w for ch in "*?"):
                    zh_words.extend(parts)
                dim_entries.append(_Entry(cat, w, tuple(_glob_regex(p) for p in parts)))
        entries[dim] = tuple(dim_entries)
    _text.add_zh_terms(zh_words)
    return Dictionary(path, categories, entries)


class _Matcher:
    """Matches one dimension's entries on token lists, caching per token type."""

    def __init__(self, entries):
        self.entries = entries
        self._cache: dict[str, frozenset] = {}
        self._by_first: dict = {}

    def _elements(self, token: str) -> frozenset:
        hit = self._cache.get(token)
        if hit is None:
            hit = frozenset(
                (ei, k)
                for ei, e in enumerate(self.entries)
                for k, part in enumerate(e.parts)
                if part.fullmatch(token)
            )
            self._cache[token] = hit
        return hit

    def count(self, tokens: list[str], categories) -> dict:
        elems = [self._elements(t) for t in tokens]
        spans: dict[tuple, set] = {}
        for i, el in enumerate(elems):
            for ei, k in el:
                if k:
                    continue
                e = self.entries[ei]
                n = len(e.parts)
                if i + n > len(tokens):
                    continue
                if all((ei, j) in elems[i + j] for j in range(1, n)):
                    spans.setdefault((i, n), set()).add(e.category)
        counts = dict.fromkeys(categories, 0)
        covered = np.zeros(len(tokens), dtype=bool)
        for (i, n) in sorted(spans, key=lambda s: (-s[1], s[0])):
            if covered[i:i + n].any():
                continue
            covered[i:i + n] = True
            for cat in spans[(i, n)]:
                counts[cat] += 1
        return counts


def _label(counts: dict) -> str:
    top = max(counts.values()) if counts else 0
    if top == 0:
        return NONE
    winners = [c for c, v in counts.items() if v == top]
    return winners[0] if len(winners) == 1 else TIE


def code_tokens(tokens: list[str], dictionary: Dictionary | None = None) -> dict:
    """Counts and label per dimension for one token list:
    {dim: {"counts": {category: n}, "label": code|"tie"|"none"}}."""
    d = dictionary or load_dictionary()
    out = {}
    for dim in CODED_DIMENSIONS:
        counts = _Matcher(d.entries[dim]).count(tokens, d.categories[dim])
        out[dim] = {"counts": counts, "label": _label(counts)}
    return out


def code_firms(firms: pd.DataFrame, text_fields=_text.DEFAULT_TEXT_FIELDS,
               dictionary: Dictionary | str | Path | None = None) -> pd.DataFrame:
    """Dictionary coding of every firm: company_id, "<dim>_label" and "<dim>:<category>"
    counts for application, customer and geography; indexed like ``firms``."""
    d = dictionary if isinstance(dictionary, Dictionary) else load_dictionary(
        dictionary or DICTIONARY_FILE)
    language = _text.text_language(text_fields)
    texts = _text.firm_texts(firms, text_fields)
    matchers = {dim: _Matcher(d.entries[dim]) for dim in CODED_DIMENSIONS}
    rows = []
    for t in texts:
        toks = _text.tokenize(t, language)
        row = {}
        for dim in CODED_DIMENSIONS:
            counts = matchers[dim].count(toks, d.categories[dim])
            row[f"{dim}_label"] = _label(counts)
            for cat, v in counts.items():
                row[f"{dim}:{cat}"] = v
        rows.append(row)
    cols = []
    for dim in CODED_DIMENSIONS:
        cols.append(f"{dim}_label")
        cols.extend(f"{dim}:{c}" for c in d.categories[dim])
    out = pd.DataFrame(rows, columns=cols, index=firms.index)
    ids = firms["company_id"] if "company_id" in firms.columns else pd.Series(
        [None] * len(firms), index=firms.index)
    out.insert(0, "company_id", ids.to_numpy())
    return out


# --------------------------------------------------------------------------- scoring


@dataclass
class CheckResult:
    """Outcome of a coder check on one dimension."""

    dimension: str
    coder: str
    available: bool
    reason: str = ""
    source: str = ""  # "simulated truth" | "coding sample"
    n: int = 0
    folds: int = 0
    macro_f1: float = float("nan")
    accuracy: float = float("nan")
    per_class: pd.DataFrame = field(default_factory=pd.DataFrame)
    confusion: pd.DataFrame = field(default_factory=pd.DataFrame)
    predictions: pd.Series = field(default_factory=pd.Series)

    def __repr__(self) -> str:  # short, for notebooks
        if not self.available:
            return f"CheckResult({self.coder}, {self.dimension}: unavailable - {self.reason})"
        return (f"CheckResult({self.coder}, {self.dimension}: macro-F1 {self.macro_f1:.3f}, "
                f"n={self.n}, source={self.source})")


def _score(dimension: str, coder: str, truth: pd.Series, pred: pd.Series, source: str,
           folds: int = 0) -> CheckResult:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    cats = _labels.categories(dimension)
    extra = [x for x in (TIE, NONE) if (pred == x).any()]
    other = sorted(set(pred.dropna()) - set(cats) - set(extra))
    cols = cats + extra + other
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=cats, zero_division=0)
    per_class = pd.DataFrame({"category": cats, "precision": p, "recall": r, "f1": f,
                              "support": s})
    cm = confusion_matrix(truth, pred, labels=cols)[: len(cats)]
    confusion = pd.DataFrame(cm, index=pd.Index(cats, name="true"),
                             columns=pd.Index(cols, name="predicted"))
    return CheckResult(dimension, coder, True, source=source, n=int(len(truth)), folds=folds,
                       macro_f1=float(np.mean(f)), accuracy=float((truth == pred).mean()),
                       per_class=per_class, confusion=confusion, predictions=pred)


def load_coding_sample(path: str | Path = CODING_SAMPLE) -> pd.DataFrame | None:
    """The hand-coded sample, or None when the file does not exist.  Several coders per
    firm and dimension: the majority label is used; firms whose coders split evenly are
    left out."""
    path = Path(path)
    if not path.exists():
        return None
    df = pd.read_csv(path, dtype=str)
    need = ["company_id", "dimension", "label", "coder"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {need}")
    for i, row in df.iterrows():
        dim = row["dimension"]
        if dim not in _labels.dimensions():
            raise ValueError(f"{path}: data row {i + 1} (file line {i + 2}), column dimension: "
                             f"unknown dimension {dim!r}")
        if row["label"] not in _labels.categories(dim):
            raise ValueError(f"{path}: data row {i + 1} (file line {i + 2}), column label: "
                             f"{row['label']!r} is not a {dim} category "
                             f"({', '.join(_labels.categories(dim))})")
    return df


def _reference_labels(firms: pd.DataFrame, dimension: str, labels, sample_path):
    """(Series of true labels indexed like firms (subset), source) or (None, reason)."""
    if labels is not None:
        lab = pd.Series(labels, index=firms.index) if not isinstance(labels, pd.Series) else labels
        lab = lab.reindex(firms.index).dropna()
        return lab.astype(str), "given labels"
    col = f"truth_{dimension}"
    if col in firms.columns and firms[col].notna().any():
        return firms[col].dropna().astype(str), "simulated truth"
    sample = load_coding_sample(sample_path)
    if sample is None:
        return None, (f"no truth_{dimension} column (the corpus is not simulated) and no "
                      f"hand-coded sample at {Path(sample_path).name}")
    sub = sample[sample["dimension"] == dimension]
    if sub.empty:
        return None, f"the hand-coded sample has no rows for dimension {dimension!r}"
    votes = sub.groupby(["company_id", "label"]).size().reset_index(name="n")
    best = votes.sort_values(["company_id", "n"], ascending=[True, False])
    top = best.groupby("company_id")["n"].transform("max")
    best = best[best["n"] == top]
    agreed = best.groupby("company_id").filter(lambda g: len(g) == 1)
    lab_by_id = dict(zip(agreed["company_id"], agreed["label"]))
    ids = firms["company_id"].astype(str)
    lab = ids.map(lab_by_id).dropna()
    if lab.empty:
        return None, "no firm of the corpus appears in the hand-coded sample"
    return lab, "coding sample"


def dictionary_check(firms: pd.DataFrame, dimension: str, text_fields=_text.DEFAULT_TEXT_FIELDS,
                     labels=None, coded: pd.DataFrame | None = None,
                     sample_path: str | Path = CODING_SAMPLE) -> CheckResult:
    """Score the dictionary coder against the truth / hand-coded sample ("tie" and "none"
    count as errors)."""
    if dimension not in CODED_DIMENSIONS:
        raise ValueError(f"dimension must be one of {CODED_DIMENSIONS}, got {dimension!r}")
    truth, source = _reference_labels(firms, dimension, labels, sample_path)
    if truth is None:
        return CheckResult(dimension, "dictionary", False, reason=source)
    coded = coded if coded is not None else code_firms(firms.loc[truth.index], text_fields)
    pred = coded.loc[truth.index, f"{dimension}_label"].astype(str)
    return _score(dimension, "dictionary", truth, pred, source)


def supervised_check(firms: pd.DataFrame, dimension: str, text_fields=_text.DEFAULT_TEXT_FIELDS,
                     seed: int = DEFAULT_SEED, folds: int = 5, labels=None,
                     classifier: str = "logistic",
                     sample_path: str | Path = CODING_SAMPLE) -> CheckResult:
    """Cross-validated tf-idf + linear classifier against the truth / hand-coded sample."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    if dimension not in _labels.dimensions():
        raise ValueError(f"dimension must be one of {_labels.dimensions()}, got {dimension!r}")
    truth, source = _reference_labels(firms, dimension, labels, sample_path)
    if truth is None:
        return CheckResult(dimension, "supervised", False, reason=source)
    counts = truth.value_counts()
    if len(counts) < 2:
        return CheckResult(dimension, "supervised", False, source=source,
                           reason=f"only one class ({counts.index[0]}) among the labelled firms")
    k = min(folds, int(counts.min()))
    if k < 2:
        return CheckResult(dimension, "supervised", False, source=source,
                           reason=f"class {counts.idxmin()!r} has a single labelled firm; "
                                  "cross-validation needs at least two per class")
    language = _text.text_language(text_fields)
    texts = _text.firm_texts(firms.loc[truth.index], text_fields)
    docs = [_text.tokenize(t, language) for t in texts]

    if classifier == "logistic":
        clf = LogisticRegression(max_iter=2000, C=10.0, random_state=seed)
    elif classifier == "svm":
        clf = LinearSVC(random_state=seed)
    else:
        raise ValueError("classifier must be 'logistic' or 'svm'")
    pipe = make_pipeline(CountVectorizer(analyzer=_identity, lowercase=False), QuantedaTfidf(), clf)
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    pred = cross_val_predict(pipe, np.array(docs, dtype=object), truth.to_numpy(), cv=cv)
    return _score(dimension, "supervised", truth, pd.Series(pred, index=truth.index), source,
                  folds=k)


def _identity(doc):
    return doc


@lru_cache(maxsize=1)
def _tfidf_class():
    """The transformer class, built on first use so that importing this module does not
    import scikit-learn (about a second, paid by every chapter otherwise)."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class QuantedaTfidf(TransformerMixin, BaseEstimator):
        """count x log10(N/df), N and df learnt on the data passed to fit (the training
        fold), as quanteda's dfm_tfidf; features unseen in training get weight 0."""

        def fit(self, x, y=None):
            import scipy.sparse as sp

            x = sp.csr_matrix(x)
            n = x.shape[0]
            df = np.bincount(x.indices, minlength=x.shape[1]).astype(float)
            self.idf_ = np.where(df > 0, np.log10(n / np.maximum(df, 1)), 0.0)
            return self

        def transform(self, x):
            import scipy.sparse as sp

            x = sp.csr_matrix(x, dtype=float, copy=True)
            x.data = x.data * self.idf_[x.indices]
            return x

    QuantedaTfidf.__module__ = __name__
    return QuantedaTfidf


def QuantedaTfidf():  # noqa: N802 - reads like the class it builds
    return _tfidf_class()()


# --------------------------------------------------------------------------- investors


def _split(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return []
    return [p.strip() for p in str(value).split(";") if p.strip()]


def _dominant(codes: list[str], order: list[str]) -> str:
    counts = {c: codes.count(c) for c in order}
    top = max(counts.values())
    return next(c for c in order if counts[c] == top)


def investor_portrait(firms: pd.DataFrame) -> pd.Series:
    """Dominant investor type per firm (index like ``firms``).

    From ``investor_types`` (';'-joined codes; the most frequent, ties by the order of
    data/labels.yml); when a firm has no usable types, from its ``investors`` names via
    dictionaries/investors.yml.  "none": no investors listed; "unknown": investors listed
    but none of their types known or recognisable."""
    order = _labels.categories("investor")
    types = firms["investor_types"] if "investor_types" in firms.columns else pd.Series(
        [None] * len(firms), index=firms.index)
    names = firms["investors"] if "investors" in firms.columns else pd.Series(
        [None] * len(firms), index=firms.index)
    out = []
    for t, n in zip(types, names):
        codes = [c for c in _split(t) if c in order]
        if codes:
            out.append(_dominant(codes, order))
            continue
        listed = _split(n)
        if not listed and not _split(t):
            out.append("none")
            continue
        coded = [c for c in (investor_type_of_name(x) for x in listed) if c]
        out.append(_dominant(coded, order) if coded else "unknown")
    return pd.Series(out, index=firms.index, name="investor")
