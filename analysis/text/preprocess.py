"""Text as data: tokens, the document-term matrix, grouping and tf-idf.

English follows what the brief's R pipeline does with quanteda (4.x)::

    tokens(x, remove_punct = TRUE, remove_numbers = TRUE, remove_symbols = TRUE,
           remove_url = TRUE) |> tokens_tolower() |> tokens_remove(stopwords("en")) |> dfm()

in a form that is fast in Python: one compiled regular expression finds the word tokens
that ICU's word-boundary rules (with quanteda's rule that keeps infix hyphens) would
produce for English text, and everything the removals would delete is either never
matched (punctuation, symbols, separators) or removed by type afterwards (numbers,
stopwords, URLs, e-mail addresses).  In detail:

* a word is a run of letters, digits and underscores, joined across ``'`` ``.`` ``·``
  between two letters, across ``.`` ``,`` ``;`` ``'`` between two digits, and across a
  hyphen between two letters or digits: ``peer-to-peer``, ``web3.0``, ``1,000``,
  ``firm's`` and ``e.g`` are single tokens, as in quanteda;
* curly quotes become straight ones and dashes are normalised first, as quanteda's
  ``normalize_characters`` does (an en or em dash between words separates them);
* URLs (``scheme://…``, ``www.…``) and e-mail addresses are recognised as whole tokens
  (quanteda's patterns) and removed; ``#hashtags`` and ``@usernames`` stay whole;
* a token is a number, and removed, when it is digits with optional ``.``/``,``
  separators (``2022``, ``1,000``, ``3.5``), quanteda's ``remove_numbers`` pattern;
  ``5g``, ``b2b``, ``web3`` stay;
* stopwords: the Snowball English list (175 words, ``resources/stopwords_en.txt``),
  removed as whole tokens after lower-casing.

Chinese (``language="zh"``): runs of Han characters are segmented with jieba (its own
dictionary, shipped inside the package, plus the field's terms in
``resources/zh_terms.txt`` so that 区块链, 供应链金融, 数字人民币 … stay whole), and
the Chinese stop list ``resources/zh_stopwords.txt`` is removed; any Latin-script part of
the same document goes through the English rules.  ``language="auto"`` does this for a
document that contains Han characters and the plain English path for one that does not.
With ``language="en"`` a run of Han characters is left as one token (use "auto" for text
that may be Chinese).

Feature order is first occurrence in the corpus, as in a quanteda dfm.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from array import array
from collections import defaultdict
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis.defaults import TEXT_FIELDS
from analysis.params import as_list
from analysis.paths import DATA_DIR, RESOURCES_DIR

__all__ = [
    "tokenize",
    "document_term_matrix",
    "group_rows",
    "tfidf",
    "firm_texts",
    "text_language",
    "stopwords",
    "DEFAULT_TEXT_FIELDS",
    "zh_glosses",
    "gloss",
    "with_gloss",
    "LANGUAGES",
]

LANGUAGES = ("en", "zh", "auto")
DEFAULT_TEXT_FIELDS = TEXT_FIELDS  # the brief's sources (analysis.defaults)
NULLABLE_TEXT_FIELDS = ("full_description", "website_text")  # may be absent from a firm table

# --------------------------------------------------------------------------- resources


def _read_list(name: str) -> list[str]:
    path = RESOURCES_DIR / name
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            word = line.strip()
            if word and not word.startswith("#"):
                out.append(word)
    return out


@lru_cache(maxsize=None)
def stopwords(language: str = "en") -> frozenset[str]:
    """The stop list of one language: "en" (Snowball, 175 words) or "zh".

    Parameters
    ----------
    language : {"en", "zh"}
        The language.

    Returns
    -------
    frozenset of str
        The stopwords (``resources/stopwords_en.txt`` or ``resources/zh_stopwords.txt``).

    Raises
    ------
    ValueError
        Another language.
    """
    if language == "en":
        return frozenset(_read_list("stopwords_en.txt"))
    if language == "zh":
        return frozenset(_read_list("zh_stopwords.txt"))
    raise ValueError(f"stopwords: language must be 'en' or 'zh', got {language!r}")


@lru_cache(maxsize=1)
def _domain_stopwords() -> frozenset[str]:
    """Words nearly every firm in this field uses (``resources/domain_stoplist.txt``)."""
    return frozenset(w.lower() for w in _read_list("domain_stoplist.txt"))


@lru_cache(maxsize=1)
def zh_terms() -> tuple[str, ...]:
    """The field's Chinese terms that jieba keeps whole (``resources/zh_terms.txt``).

    Returns
    -------
    tuple of str
        The terms, in file order.
    """
    return tuple(_read_list("zh_terms.txt"))


ZH_GLOSSES = DATA_DIR / "zh_glosses.csv"


@lru_cache(maxsize=4)
def zh_glosses(path=ZH_GLOSSES) -> dict[str, str]:
    """English glosses of Chinese terms (``data/zh_glosses.csv``: term, gloss), for readers
    of key-term tables and clouds; distinct from the book's reader glossary.  A bad file
    fails naming the file, row and column.

    Parameters
    ----------
    path : str or Path
        The glosses file (default ``data/zh_glosses.csv``).

    Returns
    -------
    dict of str to str
        Term -> gloss, both stripped, in file order.

    Raises
    ------
    ValueError
        A header other than term,gloss, a term without a Chinese character, an empty gloss, or a
        term glossed twice.
    """
    import csv
    from pathlib import Path

    path = Path(path)
    out: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or [c.strip() for c in reader.fieldnames[:2]] != ["term", "gloss"]:
            raise ValueError(f"{path}: the header must be 'term,gloss', found {reader.fieldnames}")
        for i, row in enumerate(reader, start=1):
            term, text = (row.get("term") or "").strip(), (row.get("gloss") or "").strip()
            if not _HAN_RE.search(term):
                raise ValueError(f"{path}: data row {i}, column term: {term!r} has no Chinese character")
            if not text:
                raise ValueError(f"{path}: data row {i} ({term}), column gloss: empty gloss")
            if term in out:
                raise ValueError(f"{path}: data row {i}, column term: {term!r} glossed twice")
            out[term] = text
    return out


def gloss(term: str) -> str | None:
    """The English gloss of a Chinese term, or None (no Chinese character, or not glossed).

    Parameters
    ----------
    term : str
        A term, as a key-term table shows it.

    Returns
    -------
    str or None
        Its gloss in ``data/zh_glosses.csv``, or None.
    """
    if not _HAN_RE.search(str(term)):
        return None
    return zh_glosses().get(str(term))


def with_gloss(term: str) -> str:
    """``term`` followed by its gloss in brackets where it has one: "钱包 (wallet)".

    Parameters
    ----------
    term : str
        A term, as a key-term table shows it.

    Returns
    -------
    str
        The term with its gloss, or the term alone (as text).
    """
    g = gloss(term)
    return f"{term} ({g})" if g else str(term)


# --------------------------------------------------------------------------- patterns

# quanteda 4 (tokenize_word4): e-mail and URL patterns protected as whole tokens, then
# removed by remove_url.  Applied to lower-cased text, so [a-z] stands for [a-zA-Z].
_EMAIL = r"[-+a-z0-9_.]+@[-a-z0-9]+(?:\.[-a-z0-9]+)*\.[a-z]+"
_URL = (
    r"(?:[-a-z0-9+.]{2,20}://|www\.)[-+a-z0-9@#:.%~=_&/]+(?:\.[-a-z0-9]+)+"
    r"(?:[/?#][-+a-z0-9@#:.%~=_&]+)*[/?#]?"
)
# quanteda_options("pattern_hashtag"), ("pattern_username")
_HASHTAG = r"#\w+#?"
_USERNAME = r"@[a-z0-9_]+"
_LETTER = r"[^\W\d_]"
_ALNUM = r"[^\W_]"
_WORD = (
    r"\w+(?:(?:"
    rf"(?<={_LETTER})['.\u00b7](?={_LETTER})"  # MidLetter / MidNumLet between letters
    r"|(?<=\d)[.,;'](?=\d)"  # MidNum / MidNumLet between digits
    rf"|(?<={_ALNUM})-(?={_ALNUM})"  # quanteda's keep_hyphens rule
    r")\w+)*"
)
WORD_RE = re.compile(_WORD)
_SPECIAL_RE = re.compile(rf"(?P<drop>{_EMAIL}|{_URL})|(?P<tok>{_HASHTAG}|{_USERNAME}|{_WORD})")
_NUMBER_RE = re.compile(r"\d+(?:[.,]*\d)*")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Chinese (Han) character.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    bool
        True when it holds one.
    """
    return bool(_HAN_RE.search(str(text)))
_HAN_SPLIT_RE = re.compile(f"([{_HAN}]+)")

# quanteda normalize_characters: curly quotes to straight, dashes to "-" ("--" between
# words, which then separates them)
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201f": '"',
                         "\u2018": "'", "\u201b": "'", "\u2019": "'"})
_LONG_DASH_RE = re.compile("[\u2012\u2013\u2014\u2015\u2053]")
_PD = ("\u002d\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a"
       "\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d")
_PD_RE = re.compile(f"[{_PD}]")
_PD_RUN_RE = re.compile("-{2,}")


_NEEDS_CHARS_RE = re.compile("[" + _PD.replace("\u002d", "") + "\u201c\u201d\u201f\u2018\u201b\u2019]|--")


def _normalise(text: str) -> str:
    """Lower-case; for non-ASCII text also NFC, straight quotes and quanteda's dashes (each
    step only where the text has something it would change: most Chinese text has none)."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if _NEEDS_CHARS_RE.search(text):
            text = text.translate(_QUOTES)
            text = _LONG_DASH_RE.sub("--", text)
            text = _PD_RE.sub("-", text)
            text = _PD_RUN_RE.sub(" - ", text)
    return text.lower()


def _english_raw(text: str) -> list[str]:
    """Word tokens of (normalised, lower-cased) text before type-level removals."""
    if "@" in text or "#" in text or "://" in text or "www." in text:
        return [m.group("tok") for m in _SPECIAL_RE.finditer(text) if m.group("tok")]
    return WORD_RE.findall(text)


# --------------------------------------------------------------------------- jieba

_JIEBA = None
_JIEBA_LOCK = threading.Lock()


def _jieba():
    """One jieba tokenizer for the process, built on first use, quiet and deterministic."""
    global _JIEBA
    if _JIEBA is None:
        with _JIEBA_LOCK:
            if _JIEBA is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tok = jieba.Tokenizer()  # its own dictionary: jieba/dict.txt, no download
                tok.initialize()
                for term in zh_terms():
                    tok.add_word(term, freq=max(tok.suggest_freq(term, tune=False), 10**6))
                _JIEBA = tok
    return _JIEBA


_ADDED_TERMS: list[str] = []  # what add_zh_terms gave this process's tokenizer, in that order


def add_zh_terms(terms: Iterable[str]) -> None:
    """Add further Chinese terms (e.g. dictionary entries) so jieba keeps them whole.

    Parameters
    ----------
    terms : iterable of str
        The terms; those without a Chinese character, and those jieba already knows, are
        passed over.
    """
    terms = [t for t in terms if _HAN_RE.search(t)]
    if not terms:
        return  # jieba is not loaded for nothing (a worker process replaying no terms)
    tok = _jieba()
    for term in terms:
        if term not in tok.FREQ:
            tok.add_word(term, freq=max(tok.suggest_freq(term, tune=False), 10**6))
            _ADDED_TERMS.append(term)
            _SEGMENTS.clear()  # a new word can change how a run splits


def added_zh_terms() -> tuple[str, ...]:
    """The terms :func:`add_zh_terms` has added to this process's tokenizer, in the order added.
    A worker process started afresh (the spawn start method) has jieba without them; given to
    :func:`add_zh_terms` there in this order, they make its tokenizer this one's (the same words
    and frequencies), so the worker segments Chinese text exactly as this process does.

    Returns
    -------
    tuple of str
        The added terms, oldest first (empty when none was added).
    """
    return tuple(_ADDED_TERMS)


_SEGMENTS: dict[str, list[str]] = {}  # Han run -> its jieba words (simulated and boilerplate text repeats runs)
_SEGMENTS_MAX = 200_000


def _segment(run: str) -> list[str]:
    words = _SEGMENTS.get(run)
    if words is None:
        if len(_SEGMENTS) >= _SEGMENTS_MAX:
            _SEGMENTS.clear()
        words = _SEGMENTS[run] = _jieba().lcut(run, HMM=False)
    return words


def _zh_raw(text: str) -> list[str]:
    """Han runs through jieba (no HMM: dictionary words, else single characters),
    everything else through the English rules."""
    out: list[str] = []
    for i, part in enumerate(_HAN_SPLIT_RE.split(text)):
        if not part:
            continue
        if i % 2:  # a Han run (captured group)
            out.extend(_segment(part))
        else:
            out.extend(_english_raw(part))
    return out


def _raw_tokens(text: str, language: str) -> list[str]:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    text = _normalise(str(text))
    if language == "en":
        return _english_raw(text)
    if language == "zh" or _HAN_RE.search(text):
        return _zh_raw(text)
    return _english_raw(text)


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")


def _removal_set(language: str, domain_stoplist: bool) -> frozenset[str]:
    words = set(stopwords("en"))
    if language in ("zh", "auto"):
        words |= stopwords("zh")
    if domain_stoplist:
        words |= _domain_stopwords()
    return frozenset(words)


def _removed(tokens: Sequence[str], removal: frozenset[str]) -> np.ndarray:
    """Boolean mask over token types: stopword, number, URL-like or punctuation-only."""
    mask = np.zeros(len(tokens), dtype=bool)
    for i, t in enumerate(tokens):
        mask[i] = (
            t in removal
            or _NUMBER_RE.fullmatch(t) is not None
            or t.startswith("www.")
            or not t.strip("_")
        )
    return mask


# --------------------------------------------------------------------------- public API


def tokenize(text: str, language: str = "en", *, domain_stoplist: bool = False) -> list[str]:
    """Tokens of one text after all removals, lower case, in text order.

    Parameters
    ----------
    text : str or None
        The text (None or NaN: no tokens).
    language : {"en", "zh", "auto"}
        The tokeniser (see the module's docstring).
    domain_stoplist : bool
        Also remove the words of ``resources/domain_stoplist.txt``.

    Returns
    -------
    list of str
        The tokens.

    Raises
    ------
    ValueError
        ``language`` is not one of :data:`LANGUAGES`.
    """
    _check_language(language)
    raw = _raw_tokens(text, language)
    if not raw:
        return []
    removal = _removal_set(language, domain_stoplist)
    types = list(dict.fromkeys(raw))
    drop = {t for t, r in zip(types, _removed(types, removal)) if r}
    return [t for t in raw if t not in drop]


_DTM_CHUNK = 50_000  # documents per block: memory of the token buffers stays bounded


def _count_block(cols: array, lengths: array, n_types: int):
    """One block of documents: (non-zeros per row, column ids, counts), rows in order and
    columns sorted within each row."""
    col = np.frombuffer(cols, dtype=np.int32) if len(cols) else np.zeros(0, np.int32)
    lens = np.frombuffer(lengths, dtype=np.int64) if len(lengths) else np.zeros(0, np.int64)
    row = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    key, counts = np.unique(row * max(n_types, 1) + col, return_counts=True)
    del row
    rows = key // max(n_types, 1)
    per_row = np.bincount(rows, minlength=len(lens)).astype(np.int64)
    return per_row, (key - rows * max(n_types, 1)).astype(np.int32), counts.astype(np.int64)


class _Blocks:
    """What :func:`document_term_matrix` holds while it streams: the type map (type -> column id
    in first-seen order), which types are kept and their ids among the kept, the token buffer
    of the current block and the blocks counted so far."""

    def __init__(self, removal: frozenset[str]):
        self.removal = removal
        self.vocab: defaultdict = defaultdict()
        self.vocab.default_factory = self.vocab.__len__
        self.types: list[str] = []
        self.keep = np.zeros(0, dtype=bool)
        self.new_id = np.zeros(0, dtype=np.int32)
        self.per_row, self.col_blocks, self.count_blocks = [], [], []
        self.cols, self.lengths = array("i"), array("q")

    def flush(self) -> None:
        """Count the buffered documents as one block, keeping the kept types' columns only."""
        if len(self.vocab) > len(self.types):  # types first seen in this block: removed or kept, for good
            fresh = list(self.vocab)[len(self.types):]
            self.types.extend(fresh)
            self.keep = np.concatenate([self.keep, ~_removed(fresh, self.removal)])
            self.new_id = (np.cumsum(self.keep, dtype=np.int64) - 1).astype(np.int32)  # stable for old types
        nnz, col, counts = _count_block(self.cols, self.lengths, len(self.types))
        ok = self.keep[col]
        row = np.repeat(np.arange(len(nnz), dtype=np.int32), nnz)
        self.per_row.append(np.bincount(row[ok], minlength=len(nnz)).astype(np.int64))
        self.col_blocks.append(self.new_id[col[ok]])
        self.count_blocks.append(counts[ok])
        self.cols, self.lengths = array("i"), array("q")

    def matrix(self) -> tuple[sp.csr_matrix, list[str]]:
        """The blocks as one CSR matrix (rows in order, columns sorted) and the kept features."""
        nnz_row = np.concatenate(self.per_row)
        n_docs = len(nnz_row)
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(nnz_row, out=indptr[1:])
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        data = np.empty(int(indptr[-1]), dtype=np.int64)
        pos = 0
        while self.col_blocks:  # move block by block into the final arrays, freeing as we go
            c, d = self.col_blocks.pop(0), self.count_blocks.pop(0)
            indices[pos:pos + len(c)] = c
            data[pos:pos + len(d)] = d
            pos += len(c)
            del c, d
        n_feat = int(self.keep.sum())
        features = [t for t, k in zip(self.types, self.keep) if k]
        mat = sp.csr_matrix((data, indices, indptr), shape=(n_docs, n_feat))
        mat.has_sorted_indices = True
        return mat, features


def _count_documents(texts: Iterable[str], language: str, removal: frozenset[str]) -> _Blocks:
    """Every document's raw tokens counted, in blocks of ``_DTM_CHUNK`` documents."""
    blocks = _Blocks(removal)
    lookup = blocks.vocab.__getitem__
    for text in texts:
        raw = _raw_tokens(text, language)
        blocks.cols.extend(map(lookup, raw))
        blocks.lengths.append(len(raw))
        if len(blocks.lengths) == _DTM_CHUNK:
            blocks.flush()
    if len(blocks.lengths) or not blocks.per_row:
        blocks.flush()
    blocks.vocab.clear()  # the type map is no longer needed (types holds the kept order)
    return blocks


def _trim_rare(mat: sp.csr_matrix, features: list[str], min_df: int) -> tuple[sp.csr_matrix, list[str]]:
    """The features in at least ``min_df`` documents (dfm_trim's min_docfreq)."""
    if min_df > 1:
        df = np.bincount(mat.indices, minlength=len(features))
        cols_kept = np.flatnonzero(df >= min_df)
        mat = mat[:, cols_kept].tocsr()
        features = [features[i] for i in cols_kept]
    return mat, features


def document_term_matrix(
    texts: Iterable[str],
    language: str = "en",
    min_df: int = 1,
    domain_stoplist: bool = False,
) -> tuple[sp.csr_matrix, list[str]]:
    """Counts (documents x features, int64 CSR) and feature names in order of first
    occurrence; features in fewer than ``min_df`` documents are trimmed (dfm_trim's
    min_docfreq).  ``texts`` may be any iterable (a generator reading a file streams).
    Documents are counted in blocks of 50,000 and removed types (stopwords, numbers, URLs)
    dropped block by block, so memory grows with the kept non-zeros, not the running words.

    Parameters
    ----------
    texts : iterable of str
        The documents, one string each (None counts as an empty document).
    language : {"en", "zh", "auto"}
        The tokeniser (see the module's docstring).
    min_df : int
        Fewest documents a feature must occur in to be kept.
    domain_stoplist : bool
        Also remove the words of ``resources/domain_stoplist.txt``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Counts, one row per document, int64, column indices sorted within each row.
    list of str
        The features (the matrix's columns), in order of first occurrence.

    Raises
    ------
    ValueError
        ``language`` is not one of :data:`LANGUAGES`.
    """
    _check_language(language)
    blocks = _count_documents(texts, language, _removal_set(language, domain_stoplist))
    mat, features = blocks.matrix()
    return _trim_rare(mat, features, min_df)


def group_rows(matrix, groups, order=None) -> tuple[sp.csr_matrix, list]:
    """Sum rows by group label (quanteda's dfm_group).  Rows whose group is missing are
    left out.  ``order`` fixes the group order (groups not in it are left out); by
    default the sorted distinct labels.

    Parameters
    ----------
    matrix : array_like or scipy.sparse matrix
        The rows to sum (e.g. documents x features).
    groups : sequence or pandas.Series
        A group label per row (missing: the row is left out).
    order : sequence or None
        The groups, in order (None: the distinct labels, sorted as text).

    Returns
    -------
    scipy.sparse.csr_matrix
        One summed row per group, in the order of the groups.
    list
        The groups.

    Raises
    ------
    ValueError
        ``groups`` does not have one label per row.
    """
    mat = sp.csr_matrix(matrix)
    g = pd.Series(list(groups) if not isinstance(groups, pd.Series) else groups.to_numpy())
    if len(g) != mat.shape[0]:
        raise ValueError(f"group_rows: {len(g)} group labels for {mat.shape[0]} rows")
    present = g.notna().to_numpy()
    if order is None:
        levels = sorted(pd.unique(g[present]), key=str)
    else:
        levels = list(order)
    pos = {lev: i for i, lev in enumerate(levels)}
    codes = np.array([pos.get(v, -1) if p else -1 for v, p in zip(g, present)], dtype=np.int64)
    use = np.flatnonzero(codes >= 0)
    ind = sp.csr_matrix(
        (np.ones(len(use), dtype=mat.dtype), (codes[use], use)), shape=(len(levels), mat.shape[0])
    )
    return (ind @ mat).tocsr(), levels


def tfidf(matrix) -> sp.csr_matrix:
    """quanteda's dfm_tfidf default: count x log10(N / document frequency).

    Parameters
    ----------
    matrix : array_like or scipy.sparse matrix
        Counts, documents x features.

    Returns
    -------
    scipy.sparse.csr_matrix
        The weights (float64), same shape; a feature in every document weighs 0.
    """
    mat = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    n = mat.shape[0]
    df = np.bincount(mat.indices[mat.data != 0], minlength=mat.shape[1]).astype(np.float64)
    with np.errstate(divide="ignore"):
        idf = np.log10(n / df)
    mat.data = mat.data * idf[mat.indices]
    return mat


def _fields(text_fields) -> list[str]:
    fields = as_list(text_fields, name="text_fields") if text_fields is not None else []
    if not fields:
        fields = list(DEFAULT_TEXT_FIELDS)
    return [str(f) for f in fields]


def firm_texts(firms: pd.DataFrame, text_fields=DEFAULT_TEXT_FIELDS, sep: str = " ") -> list[str]:
    """One text per firm: the non-empty values of ``text_fields`` joined with ``sep``.

    The canonical corpus's nullable text columns (``full_description``, ``website_text``)
    count as empty where a table lacks them; any other field must be a column.

    Parameters
    ----------
    firms : pandas.DataFrame
        The firms, one per row.
    text_fields : str or sequence of str
        Column names: a list, or a comma-separated or YAML-list string (empty or None:
        :data:`DEFAULT_TEXT_FIELDS`).
    sep : str
        What joins a firm's fields.

    Returns
    -------
    list of str
        One text per row of ``firms``, in order; "" for a firm without text.

    Raises
    ------
    ValueError
        A field that is not a column of ``firms`` (other than the nullable ones).
    TypeError
        ``text_fields`` is neither a string nor a list or tuple.
    """
    fields = _fields(text_fields)
    fields = [f for f in fields if f in firms.columns or f not in NULLABLE_TEXT_FIELDS]
    missing = [f for f in fields if f not in firms.columns]
    if missing:
        raise ValueError(
            f"text_fields {missing} not among the corpus columns "
            f"({', '.join(map(str, firms.columns))})"
        )
    parts = []
    for f in fields:
        col = firms[f].astype("string").fillna("").str.strip()
        parts.append(col.to_numpy(dtype=object))
    if not parts:
        return [""] * len(firms)
    out = []
    for values in zip(*parts):
        out.append(sep.join(v for v in values if v))
    return out


def text_language(text_fields) -> str:
    """"auto" when website text (often Chinese) is among the fields, else "en".

    Parameters
    ----------
    text_fields : str or sequence of str
        Column names: a list, or a comma-separated or YAML-list string (empty or None:
        :data:`DEFAULT_TEXT_FIELDS`).

    Returns
    -------
    str
        The ``language`` to tokenise the fields' text with.

    Raises
    ------
    TypeError
        ``text_fields`` is neither a string nor a list or tuple.
    """
    return "auto" if "website_text" in _fields(text_fields) else "en"
