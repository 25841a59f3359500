"""The brief's categories coded from text: the dictionary coder, the supervised coder, and
the investor portrait.

Dictionary coder (``code_firms``, ``code_text``): applies the decision rules of
``data/codebook.md`` with the cue words of ``dictionaries/business_model.yml``.  Cues are
matched on each clause's tokens like quanteda's ``tokens_lookup(nested_scope =
"dictionary")`` (glob patterns, phrases of consecutive tokens, a longer match taking
precedence over matches nested in it, ``ignore`` entries absorbing phrases that are not
cues).  Each cue carries what the rules read: negated, contrasted away or a former business
(rule 3); introduced by "outside", "except" … (rule 3); in a side remark (rule 2); in a
clause about investors, regulators, location or partners rather than buyers (C3, G5); in
the headline sentence (rule 2).  Then, per dimension: application A1 (silence ->
infrastructure), A2 (a bank as one client among many does not make it finance), headline,
else most space, A5 (first named); customer C2 (the state among the buyers -> public), C1
(else private); geography G1-G3 (none named -> domestic; home and abroad -> mixed; abroad
only, or China only minor or excluded -> global).  ``none``: the firm has no text at all;
``tie``: the headline is generic and the rest gives two categories the same space.

Supervised coder (``SupervisedCoder``, ``code_with(coder="supervised")``): tf-idf (quanteda
weighting, count x log10(N/df), idf learnt on the training texts only) and a logistic
regression, trained on the hand-coded check sets (``analysis.text.checkset``) and on
``data/coding_sample.csv`` (company_id, dimension, label, coder) where a user supplies one.
``supervised_check`` scores it by stratified k-fold cross-validation against known labels.
``code_with`` picks the coder (``DEFAULT_CODER``: the one place the default is set).

Investor portrait (``investor_portrait``): the most frequent code in ``investor_types``
(ties by the order of data/labels.yml), or, when types are missing, the types of the
investor names through ``dictionaries/investors.yml``.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.defaults import CODER, DEFAULT_SEED
from analysis import labels as _labels
from analysis.text import checkset, preprocess as _text
from analysis.data.investors import investor_type_of_name
from analysis.paths import DATA_DIR, PACKAGE_DIR

__all__ = [
    "CODED_DIMENSIONS",
    "load_dictionary",
    "code_tokens",
    "code_text",
    "code_firms",
    "code_with",
    "CODERS",
    "DEFAULT_CODER",
    "SupervisedCoder",
    "cross_validated_codes",
    "supervised_training",
    "business_type",
    "BUSINESS_TYPES",
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


# --------------------------------------------------------------------------- dictionary


def _glob_regex(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern.lower()), re.IGNORECASE | re.DOTALL)


def _quick_test(patterns):
    """A function telling whether a token fully matches one of ``patterns`` (from
    :func:`_glob_regex`), answered by one regex call instead of one per pattern, so that the
    many tokens no pattern matches (most of a long-tailed vocabulary) cost little.  Patterns
    with a Chinese character can match only a token with one, so a token without is tested
    against the others alone."""
    sources = list(dict.fromkeys(p.pattern for p in patterns))
    han = [s for s in sources if _text._HAN_RE.search(s)]
    other = [s for s in sources if not _text._HAN_RE.search(s)]

    def alternation(group):
        return re.compile("|".join(f"(?:{s})" for s in group), re.IGNORECASE | re.DOTALL) if group else None

    han_re, other_re, has_han = alternation(han), alternation(other), _text._HAN_RE.search

    def test(token: str) -> bool:
        if other_re is not None and other_re.fullmatch(token):
            return True
        return han_re is not None and has_han(token) is not None and han_re.fullmatch(token) is not None

    return test


IGNORE = "_ignore"  # the pseudo-category of a dimension's `ignore` entries
_RULE_KEYS = ("not_only", "negation", "contrast", "pivot", "pivot_from", "pivot_to",
              "zh_pivot_from", "zh_pivot", "scope_end", "outside", "exclude", "zh_except_open",
              "zh_outside_close", "side", "main", "minor", "sovereign_currency")


@dataclass(frozen=True)
class _Entry:
    category: str  # a category code, or IGNORE
    text: str  # as written in the file
    parts: tuple  # compiled patterns, one per token
    weak: bool = False
    literal: tuple = ()  # the tokens as written (for "an exact match wins", see spans)


class _Phrases:
    """Glob phrases matched on raw (stopword-keeping) tokens; the longest match wins."""

    def __init__(self, phrases):
        self.phrases = tuple(tuple(_glob_regex(p) for p in str(ph).lower().split())
                             for ph in phrases)
        self._hit: dict = {}
        self._may_start = _quick_test(ph[0] for ph in self.phrases)

    def __bool__(self) -> bool:
        return bool(self.phrases)

    # Pickled (to a worker process) without the quick test, a closure, and the cache.
    def __getstate__(self) -> dict:
        return {"phrases": self.phrases}

    def __setstate__(self, state: dict) -> None:
        self.phrases = state["phrases"]
        self._hit = {}
        self._may_start = _quick_test(ph[0] for ph in self.phrases)

    def _first(self, token: str) -> tuple:
        hit = self._hit.get(token)
        if hit is None:
            if not self._may_start(token):
                hit = ()
            else:
                hit = tuple(k for k, ph in enumerate(self.phrases) if ph[0].fullmatch(token))
            self._hit[token] = hit
        return hit

    def match(self, tokens, i: int) -> int:
        """Length of the longest phrase starting at ``tokens[i]`` (0: none)."""
        best = 0
        for k in self._first(tokens[i]):
            ph = self.phrases[k]
            n = len(ph)
            if n > best and i + n <= len(tokens) and all(
                    ph[j].fullmatch(tokens[i + j]) for j in range(1, n)):
                best = n
        return best

    def any(self, tokens) -> bool:
        first = self._first
        return any(first(t) and self.match(tokens, i) for i, t in enumerate(tokens))


@dataclass(frozen=True)
class Rules:
    """The words the codebook's decision rules look for (``rules`` in the dictionary)."""

    words: dict  # key -> _Phrases
    near: dict  # dimension -> _Phrases: role words that block the cue beside them
    clause: dict  # dimension -> _Phrases: role words that block a clause without `unless`
    unless: _Phrases
    _starters: dict = field(default_factory=dict, compare=False, repr=False)  # token -> frozenset
    _may_start: object = field(init=False, compare=False, repr=False)  # one quick test for every list

    def __post_init__(self):
        object.__setattr__(self, "_may_start", _quick_test(ph[0] for lst in self._lists() for ph in lst.phrases))

    # Pickled (to a worker process) without the quick test, a closure, and the cache.
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_may_start", "_starters")}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_starters", {})
        self.__post_init__()

    def _lists(self) -> tuple:
        return (*self.words.values(), *self.near.values(), *self.clause.values(), self.unless)

    def __getitem__(self, key: str) -> _Phrases:
        return self.words[key]

    def starters(self, token: str) -> frozenset:
        """The phrase lists (of ``words``, ``near``, ``clause``, ``unless``) with a phrase that
        can start at ``token``; most tokens start none, and a list absent here cannot match
        anywhere in a run of tokens that never names it."""
        hit = self._starters.get(token)
        if hit is None:
            hit = frozenset(ph for ph in self._lists() if ph._first(token)) if self._may_start(token) else frozenset()
            self._starters[token] = hit
        return hit

    def present(self, tokens) -> frozenset:
        """Union of :meth:`starters` over ``tokens``."""
        sets = [s for s in map(self.starters, tokens) if s]
        return frozenset().union(*sets) if sets else frozenset()


@dataclass(frozen=True)
class Dictionary:
    path: Path
    categories: dict  # dimension -> tuple of categories (file order)
    entries: dict  # dimension -> tuple of _Entry
    rules: Rules = None


def _words(spec) -> list[str]:
    if spec is None:
        return []
    if isinstance(spec, dict):
        return [str(w) for key in ("en", "zh") for w in (spec.get(key) or [])]
    return [str(w) for w in spec]


def _load_rules(path: Path, raw: dict | None) -> Rules:
    raw = raw or {}
    unknown = sorted(set(raw) - set(_RULE_KEYS) - {"roles"})
    if unknown:
        raise ValueError(f"{path}: unknown key(s) under rules: {unknown}; valid: "
                         f"{list(_RULE_KEYS) + ['roles']}")
    words = {k: _Phrases(raw.get(k) or []) for k in _RULE_KEYS}
    roles_raw = raw.get("roles") or {}

    def per_dim(kind):
        spec = roles_raw.get(kind) or {}
        common = list(spec.get("all") or [])
        return {dim: _Phrases(common + list(spec.get(dim) or [])) for dim in CODED_DIMENSIONS}

    return Rules(words, per_dim("near"), per_dim("clause"), _Phrases(roles_raw.get("unless") or []))


def _zh_compound(part: str) -> str:
    """A Chinese cue of two or more characters also matches the jieba tokens that contain it
    (jieba keeps compounds such as 政府部门 or 证券公司 whole); single characters and glob
    patterns match as written."""
    if len(part) >= 2 and _text._HAN_RE.fullmatch(part[0]) and not any(c in part for c in "*?["):
        if all(_text._HAN_RE.fullmatch(c) for c in part):
            return f"*{part}*"
    return part


@lru_cache(maxsize=4)
def load_dictionary(path: str | Path = DICTIONARY_FILE) -> Dictionary:
    """Read and check the dictionary file: its dimensions and categories must be those of
    data/labels.yml (plus an optional ``ignore`` list per dimension), and no phrase may
    contain a stopword (stopwords are removed before matching, so such an entry could never
    match).  The optional ``rules`` section holds the words of the codebook's decision rules.

    Parameters
    ----------
    path : str or Path
        The dictionary file (default ``dictionaries/business_model.yml``).

    Returns
    -------
    Dictionary
        Its categories and compiled entries per dimension, and its rules.

    Raises
    ------
    ValueError
        A dimension missing, other categories or another order, a category without entries, an
        entry with a stopword, or an unknown key under ``rules``.
    """
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    stop = _text.stopwords("en") | _text.stopwords("zh")
    categories, entries, zh_words = {}, {}, []
    for dim in CODED_DIMENSIONS:
        if dim not in raw:
            raise ValueError(f"{path}: dimension {dim!r} missing")
        expected = _labels.categories(dim)
        found = [k for k in raw[dim] if k != "ignore"]
        if found != expected:
            raise ValueError(f"{path}: {dim} must have categories {expected} in that order, "
                             f"found {found}")
        categories[dim] = tuple(expected)
        dim_entries = []
        specs = [(cat, raw[dim][cat] or {}, False) for cat in expected]
        specs += [(cat, {"weak": (raw[dim][cat] or {}).get("weak")}, True) for cat in expected]
        specs.append((IGNORE, raw[dim].get("ignore") or [], False))
        for cat, spec, weak in specs:
            words = _words(spec.get("weak") if weak else spec) if isinstance(spec, dict) else _words(spec)
            if not words and cat != IGNORE and not weak:
                raise ValueError(f"{path}: {dim}/{cat} has no entries")
            for w in words:
                parts = w.lower().split()
                bad = [p for p in parts if p in stop]
                if bad:
                    raise ValueError(f"{path}: entry {w!r} in {dim}/{cat} contains stopword(s) {bad}")
                if _text._HAN_RE.search(w) and not any(ch in w for ch in "*?"):
                    zh_words.extend(parts)
                pats = [_zh_compound(p) for p in parts]
                dim_entries.append(_Entry(cat, w, tuple(_glob_regex(p) for p in pats), weak,
                                          tuple(parts)))
        entries[dim] = tuple(dim_entries)
    _text.add_zh_terms(zh_words)  # a no-op for the packaged file: its terms are in zh_terms.txt
    return Dictionary(path, categories, entries, _load_rules(path, raw.get("rules")))


class _Matcher:
    """Matches one dimension's entries on token lists, caching per token type."""

    def __init__(self, entries):
        self.entries = entries
        self._cache: dict[str, frozenset] = {}
        self._may_match = _quick_test(part for e in entries for part in e.parts)

    def _elements(self, token: str) -> frozenset:
        hit = self._cache.get(token)
        if hit is None and not self._may_match(token):
            hit = self._cache[token] = frozenset()
        if hit is None:
            hit = frozenset(
                (ei, k)
                for ei, e in enumerate(self.entries)
                for k, part in enumerate(e.parts)
                if part.fullmatch(token)
            )
            self._cache[token] = hit
        return hit

    def spans(self, tokens: list[str]) -> list[tuple[int, int, str, bool]]:
        """Matched spans as (start, length, category, weak), a longer match taking
        precedence over those nested in it (quanteda's nested_scope = "dictionary").  On one
        span, entries written exactly as the tokens win over patterns (数字钱包 as written
        over *钱包*), an ``ignore`` entry leaves the span uncounted, and a category matched
        by ordinary and weak entries counts as ordinary."""
        elems = [self._elements(t) for t in tokens]
        found: dict[tuple, dict] = {}
        for i, el in enumerate(elems):
            for ei, k in el:
                if k:
                    continue
                e = self.entries[ei]
                n = len(e.parts)
                if i + n > len(tokens):
                    continue
                if all((ei, j) in elems[i + j] for j in range(1, n)):
                    exact = tuple(tokens[i:i + n]) == e.literal
                    found.setdefault((i, n), []).append((exact, e.category, e.weak))
        out = []
        covered = np.zeros(len(tokens), dtype=bool)
        for (i, n) in sorted(found, key=lambda s: (-s[1], s[0])):
            if covered[i:i + n].any():
                continue
            covered[i:i + n] = True
            matches = found[(i, n)]
            if any(exact for exact, _c, _w in matches):  # an entry written as the token wins
                matches = [m for m in matches if m[0]]
            if any(cat == IGNORE for _e, cat, _w in matches):  # "not a cue" wins on its span
                continue
            cats: dict[str, bool] = {}
            for _exact, cat, weak in matches:
                cats[cat] = cats.get(cat, True) and weak
            out.extend((i, n, cat, weak) for cat, weak in cats.items())
        return sorted(out)

    def count(self, tokens: list[str], categories) -> dict:
        counts = dict.fromkeys(categories, 0)
        for _i, _n, cat, _weak in self.spans(tokens):
            counts[cat] += 1
        return counts


# ----------------------------------------------------------- the codebook's decision rules

# sentences end at . ! ? followed by space, at Chinese full stops, semicolons and line
# breaks; clauses at commas, colons and brackets.  A Chinese comma (and a colon or bracket)
# also ends a negation or "outside" scope; an English comma does not, since English lists
# ("we do not issue tokens, NFTs or coins") run across commas.
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|[。！？!?;；\n\r]+")
_CLAUSE_RE = re.compile(r"([,，、:：()（）\[\]【】])")
_HARD = set("，:：()（）[]【】")


@dataclass
class _Hit:
    category: str
    weak: bool
    sentence: int
    position: int  # order of appearance in the text
    neg: bool  # negated, contrasted away or a former business (rule 3)
    excluded: bool  # introduced by "except", "other than" … (rule 3)
    outside: bool  # introduced by "outside", "beyond", 除…以外 … (rule 3, G3)
    side: bool  # in a side remark (rule 2)
    main: bool  # in a clause that calls its market the main one (G3)
    minor: bool  # in a clause that calls its market a minor one (G3)
    role: bool  # in a clause about a role that is not buying (C3, G5)
    sovereign: bool = False  # in a sentence about the state's digital currency (A3)


class _Scope:
    """The scopes open while :func:`_scope_flags` walks one sentence, and the three flags per raw
    token it sets (negated, excluded, outside)."""

    __slots__ = ("neg", "excl", "out", "neg_on", "excl_on", "out_on", "pivot_seen", "pivot_on",
                 "zh_open", "zh_from", "clause_start")

    def __init__(self, n: int):
        self.neg, self.excl, self.out = [False] * n, [False] * n, [False] * n
        self.clause_break(0)

    def clause_break(self, i: int) -> None:
        """A hard break before token ``i`` (a Chinese comma, a colon, a bracket) ends every scope."""
        self.neg_on = self.excl_on = self.out_on = self.pivot_seen = self.pivot_on = False
        self.zh_open = self.zh_from = None
        self.clause_start = i

    def carry(self, i: int) -> None:
        """Token ``i`` takes the flags of the scopes open over it."""
        self.neg[i] = self.neg[i] or self.neg_on or self.pivot_on
        self.excl[i] = self.excl[i] or self.excl_on
        self.out[i] = self.out[i] or self.out_on

    def consume(self, tokens: list[str], i: int, r: Rules) -> int:
        """The rules whose phrase at token ``i`` opens or closes a scope and is passed over
        ("not only", negation and contrast, scope end, pivot from … to, except, outside): the
        number of tokens to move on, 0 when none applies."""
        step = r["not_only"].match(tokens, i)
        if step:
            return step
        step = max(r["negation"].match(tokens, i), r["contrast"].match(tokens, i))
        if step:
            self.neg_on = True
            for j in range(i, min(len(tokens), i + step)):
                self.neg[j] = True
            return step
        step = r["scope_end"].match(tokens, i)
        if step:
            self.neg_on = self.excl_on = self.out_on = self.pivot_on = False
            return step
        if self.pivot_on and r["pivot_to"].match(tokens, i):
            self.pivot_on = self.pivot_seen = False
            return 1
        if r["pivot"].match(tokens, i):
            self.pivot_seen = True
        elif self.pivot_seen and r["pivot_from"].match(tokens, i):
            self.pivot_on = True
            return 1
        step = r["exclude"].match(tokens, i)
        if step:
            self.excl_on = self.out_on = True
            return step
        step = r["outside"].match(tokens, i)
        if step:  # the word itself may be a cue ("abroad"): flag what follows only
            self.neg[i], self.excl[i], self.out[i] = self.neg_on or self.pivot_on, self.excl_on, self.out_on
            self.out_on = True
            return step
        return 0

    def bracket(self, tokens: list[str], i: int, r: Rules) -> None:
        """The Chinese scopes that close at token ``i`` and flag the tokens back to where they
        opened: 除 … 以外 (excluded and outside; from the clause's start without 除) and 从 … 转型
        (negated: the former business)."""
        if r["zh_except_open"].match(tokens, i):
            self.zh_open = i
        elif r["zh_outside_close"].match(tokens, i):
            start = (self.zh_open + 1) if self.zh_open is not None else self.clause_start
            for j in range(start, i):
                self.out[j] = self.excl[j] = True
            self.zh_open = None
        if r["zh_pivot_from"].match(tokens, i):
            self.zh_from = i
        elif self.zh_from is not None and r["zh_pivot"].match(tokens, i):
            for j in range(self.zh_from + 1, i):
                self.neg[j] = True
            self.zh_from = None


def _scope_flags(tokens: list[str], hard: set[int], r: Rules):
    """Per raw token of one sentence: negated, excluded, outside (rule 3)."""
    n = len(tokens)
    scope = _Scope(n)
    starters = r.starters
    i = 0
    while i < n:
        if i in hard:
            scope.clause_break(i)
        if not starters(tokens[i]):  # no rule's phrase starts here: every test below fails
            scope.carry(i)
            i += 1
            continue
        step = scope.consume(tokens, i, r)
        if step:
            i += step
            continue
        scope.bracket(tokens, i, r)
        scope.carry(i)
        i += 1
    return scope.neg, scope.excl, scope.out


def _has(phrases: _Phrases, tokens: list[str], present: frozenset) -> bool:
    """``phrases.any(tokens)``, skipped when no token of the run can start one of them
    (``present``: :meth:`Rules.present` of the run)."""
    return phrases in present and phrases.any(tokens)


def _removal() -> frozenset:
    return _text._removal_set("auto", False)


def _text_hits(text: str, d: Dictionary, matchers: dict) -> dict[str, list[_Hit]]:
    """Every cue of every dimension in ``text``, with the flags the decision rules read. A
    sentence's cues depend on that sentence alone (and on where it stands), so each distinct
    sentence is coded once per dictionary: simulated corpora and boilerplate repeat them."""
    r = d.rules or _load_rules(d.path, {})
    seen = matchers.sentences if isinstance(matchers, _DictionaryMatchers) else {}
    hits = {dim: [] for dim in CODED_DIMENSIONS}
    position = 0
    sentences = [s for s in _SENTENCE_RE.split(_text._normalise(text)) if s and s.strip()]
    for si, sentence in enumerate(sentences):
        found = seen.get(sentence)
        if found is None:
            if len(seen) >= _SENTENCES_KEPT:
                seen.clear()
            found = seen[sentence] = _sentence_hits(sentence, r, matchers)
        cues, length = found
        for dim, hit in cues:
            hits[dim].append(replace(hit, sentence=si, position=position + hit.position))
        position += length
    return hits


_SENTENCES_KEPT = 100_000  # distinct sentences whose cues a dictionary's matchers keep


def _sentence_hits(sentence: str, r: Rules, matchers: dict) -> tuple[tuple, int]:
    """The cues of one sentence as (dimension, hit) pairs, each hit with sentence 0 and its
    position counted from the sentence's first content token; and the sentence's number of
    content tokens."""
    removal = _removal()
    found = []
    pieces = _CLAUSE_RE.split(sentence)
    tokens, hard, clauses = [], set(), []
    for k in range(0, len(pieces), 2):
        delim = pieces[k - 1] if k else ""
        toks = _text._raw_tokens(pieces[k], "auto")
        if not toks:
            continue
        if delim in _HARD and tokens:
            hard.add(len(tokens))
        clauses.append((len(tokens), len(tokens) + len(toks)))
        tokens.extend(toks)
    if not tokens:
        return (), 0
    neg, excl, out = _scope_flags(tokens, hard, r)
    sovereign = _has(r["sovereign_currency"], tokens, r.present(tokens))
    types = list(dict.fromkeys(tokens))
    dropped = {t for t, x in zip(types, _text._removed(types, removal)) if x}
    position = 0
    for (a, b) in clauses:
        raw = tokens[a:b]
        keep = [j for j in range(a, b) if tokens[j] not in dropped]
        content = [tokens[j] for j in keep]
        here = r.present(raw)
        side, main, minor = (_has(r[k], raw, here) for k in ("side", "main", "minor"))
        market_words = _has(r.unless, raw, here)
        for dim in CODED_DIMENSIONS:
            near_roles = r.near[dim]
            clause_role = (not market_words) and _has(r.clause[dim], raw, here)
            for (i, n, cat, weak) in matchers[dim].spans(content):
                j = keep[i]
                # the cue names the role itself: "global partners", "partners in Europe"
                near = content[i + n:i + n + 2] + content[max(0, i - 1):i]
                role = clause_role or any(near_roles.match(near, k) for k in range(len(near)))
                found.append((dim, _Hit(cat, weak, 0, position + i, neg[j], excl[j], out[j],
                                        side, main, minor, role, sovereign)))
        position += len(content)
    return tuple(found), position


def _decide_application(hits: list[_Hit]) -> str:
    """A1 (silence: infrastructure), A3 (wallets and payments of the state's digital
    currency are finance, not crypto), A2 (weak cues, such as a bank as client or a generic
    "platform"/"infrastructure", only where no ordinary cue), rule 2 (the headline, else the
    most space; side remarks count half), A5 (a headline naming two: the first named), "tie"
    where space cannot separate."""
    live = [h for h in hits if not (h.neg or h.excluded or h.role)
            and not (h.sovereign and h.category == "crypto")]  # A3
    if not live:
        return "infrastructure"

    def usable(hs):
        strong = [h for h in hs if not h.weak]
        return strong or hs

    head = usable([h for h in live if h.sentence == 0])
    if head:
        return min((h.position, h.category) for h in head)[1]
    body = usable(live)
    weight: dict[str, float] = {}
    for h in body:
        weight[h.category] = weight.get(h.category, 0.0) + (0.5 if h.side else 1.0)
    top = max(weight.values())
    winners = [c for c, v in weight.items() if v == top]
    return winners[0] if len(winners) == 1 else TIE


def _decide_customer(hits: list[_Hit]) -> str:
    """C2 (the state named among the buyers: public), C3 (the state in another role does
    not count), C1 (otherwise, silence included: private)."""
    public = [h for h in hits if h.category == "public" and not (h.neg or h.excluded or h.role)]
    return "public" if public else "private"


def _decide_geography(hits: list[_Hit]) -> str:
    """G1 (no market named: domestic), G2 (home and abroad: mixed), G3 (abroad only, or
    China only as a minor or excluded market: global), rule 3 ("outside China" is abroad),
    G5 (location, team, partners and investors are not markets)."""
    live = [h for h in hits if not (h.neg or h.role)]
    home = [h for h in live if h.category == "domestic" and not h.outside]
    foreign = [h for h in live if h.category == "global"
               or (h.category == "domestic" and h.outside)]
    both = [h for h in live if h.category == "mixed"]
    if both or (home and foreign):
        if (not both and any(h.main for h in foreign)
                and all(h.minor and not h.main for h in home)):
            return "global"
        return "mixed"
    if foreign:
        return "global"
    return "domestic"


_DECIDE = {"application": _decide_application, "customer": _decide_customer,
           "geography": _decide_geography}


def _counts(dim: str, hits: list[_Hit], categories) -> dict:
    """Cues that survive rule 3 and the role rules, per category (for review)."""
    counts = dict.fromkeys(categories, 0)
    for h in hits:
        if h.neg or h.role or (h.excluded and dim != "geography"):
            continue
        cat = "global" if (dim == "geography" and h.category == "domestic" and h.outside) else h.category
        counts[cat] += 1
    return counts


def _code_text(text: str, d: Dictionary, matchers: dict) -> dict:
    if not text or not text.strip():
        return {dim: {"counts": dict.fromkeys(d.categories[dim], 0), "label": NONE}
                for dim in CODED_DIMENSIONS}
    hits = _text_hits(text, d, matchers)
    return {dim: {"counts": _counts(dim, hits[dim], d.categories[dim]),
                  "label": _DECIDE[dim](hits[dim])} for dim in CODED_DIMENSIONS}


class _DictionaryMatchers(dict):
    """One dictionary's matchers, {dimension: _Matcher}, and the cues of the sentences coded with
    them (see :func:`_text_hits`)."""

    def __init__(self, d: Dictionary):
        super().__init__({dim: _Matcher(d.entries[dim]) for dim in CODED_DIMENSIONS})
        self.sentences: dict[str, tuple] = {}


_MATCHERS: dict[int, tuple] = {}  # id(dictionary) -> (dictionary, _DictionaryMatchers)
_MATCHERS_KEPT = 8


def _matchers(d: Dictionary) -> _DictionaryMatchers:
    """The dictionary's matchers, kept while the dictionary is in use, so that their per-token
    and per-sentence caches serve every call (a study codes dozens of corpora with one dictionary)."""
    hit = _MATCHERS.get(id(d))
    if hit is None or hit[0] is not d:
        while len(_MATCHERS) >= _MATCHERS_KEPT:
            _MATCHERS.pop(next(iter(_MATCHERS)))
        hit = _MATCHERS[id(d)] = (d, _DictionaryMatchers(d))
    return hit[1]


def code_text(text: str, dictionary: Dictionary | None = None) -> dict:
    """Counts and label per dimension for one text (any language):
    {dim: {"counts": {category: n}, "label": code|"tie"|"none"}}; "none" only for an
    empty text.

    Parameters
    ----------
    text : str
        The text.
    dictionary : Dictionary or None
        The dictionary (None: the packaged one, :func:`load_dictionary`).

    Returns
    -------
    dict
        Dimension (application, customer, geography) -> its cue counts and label, as above.
    """
    d = dictionary or load_dictionary()
    return _code_text(text, d, _matchers(d))


def code_tokens(tokens: list[str], dictionary: Dictionary | None = None) -> dict:
    """Cue counts per dimension and category in a token list (no decision rules: those need
    sentences; see :func:`code_text`).

    Parameters
    ----------
    tokens : list of str
        The tokens, in text order.
    dictionary : Dictionary or None
        The dictionary (None: the packaged one, :func:`load_dictionary`).

    Returns
    -------
    dict
        Dimension -> {"counts": {category: matched spans}}.
    """
    d = dictionary or load_dictionary()
    matchers = _matchers(d)
    return {dim: {"counts": matchers[dim].count(tokens, d.categories[dim])} for dim in CODED_DIMENSIONS}


# From this many firms code_firms codes in one process per core.  A spawned worker spends about
# 1.5 s of CPU before its first text (a new interpreter, importing this module, loading jieba's
# dictionary) and then learns its own token and sentence caches; on 2 cores that pays for itself
# from about 10,000 firms of long-tailed text, and never below 60,000 of the simulator's
# repetitive text, which the caches make cheap (figures in the commit that set this).
PARALLEL_MIN_FIRMS = 10_000
_WORKER_DICTIONARY: Dictionary | None = None  # in a coding worker process: the dictionary it codes with


def _code_rows(texts, d: Dictionary) -> list[dict]:
    matchers = _matchers(d)
    rows = []
    for t in texts:
        coded = _code_text(t, d, matchers)
        row = {}
        for dim in CODED_DIMENSIONS:
            row[f"{dim}_label"] = coded[dim]["label"]
            for cat, v in coded[dim]["counts"].items():
                row[f"{dim}:{cat}"] = v
        rows.append(row)
    return rows


def _start_coding_worker(d: Dictionary, zh_terms: tuple[str, ...]) -> None:
    """Set up a coding worker, a fresh interpreter (spawn start method): the caller's
    dictionary, and the Chinese terms the caller's tokenizer was given beyond the packaged list
    (:func:`analysis.text.preprocess.added_zh_terms`), so that the worker tokenizes as the caller does."""
    global _WORKER_DICTIONARY
    _text.add_zh_terms(zh_terms)
    _WORKER_DICTIONARY = d


def _code_chunk(texts: list[str]) -> list[dict]:
    return _code_rows(texts, _WORKER_DICTIONARY)


def code_firms(firms: pd.DataFrame, text_fields=_text.DEFAULT_TEXT_FIELDS,
               dictionary: Dictionary | str | Path | None = None, workers: int | None = None) -> pd.DataFrame:
    """Dictionary coding of every firm by the codebook's rules: company_id, "<dim>_label"
    and "<dim>:<category>" cue counts for application, customer and geography; indexed like
    ``firms``.  The fields are joined in the order given, so the first field's first
    sentence is the headline (rule 2).  From ``PARALLEL_MIN_FIRMS`` firms the texts are coded
    in ``workers`` processes (default: every core) started with the spawn start method, the
    one every platform has: each is a fresh interpreter that imports this module and receives
    the dictionary and its share of the texts by pickle (so a script calling this needs the
    usual ``if __name__ == "__main__":`` guard).  Each text's codes depend on that text alone,
    and a worker tokenizes as this process does, so the result does not depend on the number
    of workers.

    Parameters
    ----------
    firms : pandas.DataFrame
        The firms: their text fields, and ``company_id`` where there is one.
    text_fields : str or sequence of str
        The text columns (see :func:`analysis.text.preprocess.firm_texts`).
    dictionary : Dictionary, str, Path or None
        The dictionary or its file (None: the packaged one).
    workers : int or None
        Processes from ``PARALLEL_MIN_FIRMS`` firms on (None: one per core; 1: this one alone).

    Returns
    -------
    pandas.DataFrame
        company_id (None without that column), then per dimension "<dim>_label" and its
        "<dim>:<category>" counts.

    Raises
    ------
    ValueError
        A text field that is not a column, or a dictionary file that is not valid.
    """
    d = dictionary if isinstance(dictionary, Dictionary) else load_dictionary(
        dictionary or DICTIONARY_FILE)
    texts = _text.firm_texts(firms, text_fields, sep="\n")
    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    if workers > 1 and len(texts) >= PARALLEL_MIN_FIRMS:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        edges = np.linspace(0, len(texts), 4 * workers + 1).astype(int)
        chunks = [texts[a:b] for a, b in zip(edges[:-1], edges[1:])]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_coding_worker, initargs=(d, _text.added_zh_terms())) as pool:
            rows = [r for part in pool.map(_code_chunk, chunks) for r in part]
    else:
        rows = _code_rows(texts, d)
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
    firm and dimension: the checks use the majority label and leave out firms whose coders
    split evenly; this returns every row.

    Parameters
    ----------
    path : str or Path
        The sample file (default ``data/coding_sample.csv``).

    Returns
    -------
    pandas.DataFrame or None
        The file's rows, as text: company_id, dimension, label, coder (and any other column).

    Raises
    ------
    ValueError
        A column missing, an unknown dimension, or a label that is not a category of its
        dimension; the message names the data row and column.
    """
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
    count as errors).

    Parameters
    ----------
    firms : pandas.DataFrame
        The firms: company_id, their text fields, ``truth_<dimension>`` in a simulated corpus.
    dimension : str
        application, customer or geography.
    text_fields : str or sequence of str
        The text columns (see :func:`analysis.text.preprocess.firm_texts`).
    labels : array_like, pandas.Series or None
        Reference labels, one per firm or a Series on ``firms``' index (missing ones left out);
        None: the ``truth_<dimension>`` column, else the coding sample.
    coded : pandas.DataFrame or None
        The firms' codes already computed (:func:`code_firms`, indexed like ``firms``).
    sample_path : str or Path
        The hand-coded sample (:func:`load_coding_sample`).

    Returns
    -------
    CheckResult
        Macro-F1, accuracy, per-class scores and confusion; unavailable, with the reason, when
        no reference labels are found.

    Raises
    ------
    ValueError
        ``dimension`` is not a coded dimension.
    """
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
    """Cross-validated tf-idf + linear classifier against the truth / hand-coded sample.

    Parameters
    ----------
    firms : pandas.DataFrame
        As in :func:`dictionary_check`.
    dimension : str
        A dimension of data/labels.yml.
    text_fields : str or sequence of str
        The text columns (see :func:`analysis.text.preprocess.firm_texts`).
    seed : int
        Seed of the fold split and of the classifier.
    folds : int
        Most folds (at most the smallest class's number of firms).
    labels : array_like, pandas.Series or None
        Reference labels, as in :func:`dictionary_check`.
    classifier : {"logistic", "svm"}
        Logistic regression or a linear support-vector machine.
    sample_path : str or Path
        The hand-coded sample (:func:`load_coding_sample`).

    Returns
    -------
    CheckResult
        As in :func:`dictionary_check`; also unavailable with one class, or a class of one firm.

    Raises
    ------
    ValueError
        ``dimension`` unknown, or another ``classifier``.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

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
    docs = SupervisedCoder._docs(_text.firm_texts(firms.loc[truth.index], text_fields))

    pipe = _pipeline(seed, classifier)
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    pred = cross_val_predict(pipe, docs, truth.to_numpy(), cv=cv)
    return _score(dimension, "supervised", truth, pd.Series(pred, index=truth.index), source,
                  folds=k)


# --------------------------------------------------------------------------- supervised coder

CODERS = ("dictionary", "supervised")
DEFAULT_CODER = CODER  # chosen in analysis.defaults


@lru_cache(maxsize=100_000)
def _auto_tokens(text: str) -> tuple:
    """The supervised coder's tokens of one text, kept: cross-validation fits a model per fold
    and dimension on the same texts, and Chinese segmentation is the costly step."""
    return tuple(_text.tokenize(text, "auto"))


class SupervisedCoder:
    """tf-idf (quanteda weighting, idf learnt on the training texts) and a logistic
    regression, on the same tokens as the dictionary coder (English rules, Chinese through
    jieba with the domain terms)."""

    def __init__(self, pipeline=None, constant: str | None = None):
        self.pipeline, self.constant = pipeline, constant

    @staticmethod
    def _docs(texts) -> np.ndarray:
        docs = np.empty(len(texts), dtype=object)  # one token list per text, never a 2-D array
        docs[:] = [list(_auto_tokens(t if isinstance(t, str) else "")) for t in texts]
        return docs

    @classmethod
    def fit(cls, texts, labels, seed: int = DEFAULT_SEED) -> "SupervisedCoder":
        labels = [str(x) for x in labels]
        if len(set(labels)) < 2:
            if not labels:
                raise ValueError("the supervised coder needs at least one hand-coded text")
            return cls(constant=labels[0])
        return cls(pipeline=_pipeline(seed).fit(cls._docs(texts), labels))

    def predict(self, texts) -> list[str]:
        texts = list(texts)
        if self.constant is not None:
            return [self.constant] * len(texts)
        return [str(x) for x in self.pipeline.predict(self._docs(texts))]


def _pipeline(seed: int, classifier: str = "logistic"):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    if classifier == "logistic":
        clf = LogisticRegression(max_iter=2000, C=10.0, random_state=seed)
    elif classifier == "svm":
        clf = LinearSVC(random_state=seed)
    else:
        raise ValueError("classifier must be 'logistic' or 'svm'")
    return make_pipeline(CountVectorizer(analyzer=_identity, lowercase=False), _QuantedaTfidf(), clf)


def cross_validated_codes(texts, labels, seed: int = DEFAULT_SEED, folds: int = 5) -> list[str]:
    """Stratified k-fold predictions (fixed seed): each text coded by a model that did not
    see it.  k is at most the number of texts.

    Parameters
    ----------
    texts : sequence of str
        The hand-coded texts.
    labels : sequence
        Their codes, one per text.
    seed : int
        Seed of the fold split and of the classifier.
    folds : int
        Number of folds k.

    Returns
    -------
    list of str
        The predicted code of each text, in order.

    Raises
    ------
    ValueError
        Fewer than two texts.
    """
    import warnings

    from sklearn.model_selection import StratifiedKFold

    texts, labels = list(texts), np.array([str(x) for x in labels], dtype=object)
    k = min(folds, len(texts))
    if k < 2:
        raise ValueError("cross-validation needs at least two hand-coded texts")
    out = np.empty(len(texts), dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class with fewer members than folds
        splits = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
                      .split(np.zeros(len(texts)), labels))
    for train, test in splits:
        model = SupervisedCoder.fit([texts[i] for i in train], labels[train], seed=seed)
        out[test] = model.predict([texts[i] for i in test])
    return [str(x) for x in out]


def supervised_training(firms: pd.DataFrame | None = None, text_fields=_text.DEFAULT_TEXT_FIELDS,
                        check_paths: dict | None = None,
                        sample_path: str | Path = CODING_SAMPLE) -> pd.DataFrame:
    """The hand-coded texts the supervised coder learns from: every shipped check set, plus
    the firms of ``firms`` that ``coding_sample.csv`` codes (majority of its coders; their
    text from ``text_fields``).  Columns text, application, customer, geography (a firm
    coded on some dimensions only has NaN on the others), source.

    Parameters
    ----------
    firms : pandas.DataFrame or None
        The corpus whose firms the coding sample may code (None: the check sets alone).
    text_fields : str or sequence of str
        The text columns (see :func:`analysis.text.preprocess.firm_texts`).
    check_paths : dict or None
        Check-set name -> path (None: the shipped ones; see :func:`analysis.text.checkset.available`).
    sample_path : str or Path
        The coding sample.

    Returns
    -------
    pandas.DataFrame
        Those columns, source being the check set's name or "coding sample"; no rows when there
        is nothing to learn from.

    Raises
    ------
    ValueError
        A check set or the coding sample is not valid (:class:`CheckSetError` for a check set),
        or a text field is not a column of ``firms``.
    """
    parts = []
    sets = checkset.training_data(check_paths)
    if len(sets):
        parts.append(sets[["text", *CODED_DIMENSIONS]].assign(source=sets["set"]))
    sample = load_coding_sample(sample_path)
    if sample is not None and firms is not None and "company_id" in firms.columns:
        texts = pd.Series(_text.firm_texts(firms, text_fields),
                          index=firms["company_id"].astype(str).to_numpy())
        rows = {}
        for dim in CODED_DIMENSIONS:
            lab, _ = _reference_labels(firms.assign(company_id=firms["company_id"].astype(str))
                                       .drop(columns=[f"truth_{dim}"], errors="ignore"),
                                       dim, None, sample_path)
            if lab is None:
                continue
            for idx, code in lab.items():
                cid = str(firms.loc[idx, "company_id"])
                rows.setdefault(cid, {})[dim] = code
        if rows:
            df = pd.DataFrame.from_dict(rows, orient="index")
            df = df.reindex(columns=list(CODED_DIMENSIONS))
            df.insert(0, "text", texts.reindex(df.index).to_numpy())
            parts.append(df.reset_index(drop=True).assign(source="coding sample"))
    if not parts:
        return pd.DataFrame(columns=["text", *CODED_DIMENSIONS, "source"])
    return pd.concat(parts, ignore_index=True)


def code_with(firms: pd.DataFrame, text_fields=_text.DEFAULT_TEXT_FIELDS,
              coder: str | None = None, seed: int = DEFAULT_SEED,
              check_paths: dict | None = None,
              sample_path: str | Path = CODING_SAMPLE) -> pd.DataFrame:
    """Codes for every firm by the chosen coder: ``"dictionary"`` (:func:`code_firms`) or
    ``"supervised"`` (trained on the hand-coded texts of :func:`supervised_training`).
    An empty ``coder`` means ``DEFAULT_CODER``.
    Always company_id and one ``<dimension>_label`` column per dimension, indexed like
    ``firms``; the dictionary adds its cue counts.

    Parameters
    ----------
    firms : pandas.DataFrame
        The firms: their text fields, and ``company_id`` where there is one.
    text_fields : str or sequence of str
        The text columns (see :func:`analysis.text.preprocess.firm_texts`).
    coder : str or None
        "dictionary", "supervised", or empty for ``DEFAULT_CODER``.
    seed : int
        Seed of the supervised coder's classifier.
    check_paths : dict or None
        Check-set name -> path, for the supervised coder (see :func:`supervised_training`).
    sample_path : str or Path
        The coding sample, for the supervised coder.

    Returns
    -------
    pandas.DataFrame
        The codes, as above.

    Raises
    ------
    ValueError
        An unknown coder, a text field the corpus lacks, or the supervised coder without
        hand-coded texts.
    """
    coder = coder or DEFAULT_CODER
    if coder not in CODERS:
        raise ValueError(f"coder must be one of {', '.join(CODERS)}, got {coder!r}")
    # only the ids and the text decide the codes (the supervised coder matches a coding
    # sample by id)
    fields = tuple(_text._fields(text_fields))
    _text.firm_texts(firms.iloc[:0], fields)  # a field the corpus lacks: the error names its columns
    used = firms.loc[:, [c for c in dict.fromkeys(("company_id", *fields)) if c in firms.columns]]
    used = used.reset_index(drop=True)
    if coder == "dictionary":
        codes = code_firms(used, fields)
    else:
        codes = _supervised_codes(used, fields, seed, check_paths, sample_path)
    codes.index = firms.index
    return codes



def _supervised_codes(firms: pd.DataFrame, text_fields: tuple, seed: int, check_paths: dict | None,
                      sample_path: str | Path) -> pd.DataFrame:
    train = supervised_training(firms, text_fields, check_paths, sample_path)
    if train.empty:
        raise ValueError("coder 'supervised' needs hand-coded texts to learn from: none of "
                         "data/check_set.csv, data/check_set_fresh.csv or a coding sample "
                         f"({Path(sample_path).name}) matching this corpus was found; use "
                         "coder: dictionary")
    texts = _text.firm_texts(firms, text_fields)
    empty = np.array([not t.strip() for t in texts])
    out = pd.DataFrame(index=firms.index)
    ids = firms["company_id"] if "company_id" in firms.columns else pd.Series(
        [None] * len(firms), index=firms.index)
    out["company_id"] = ids.to_numpy()
    for dim in CODED_DIMENSIONS:
        sub = train.dropna(subset=[dim])
        model = SupervisedCoder.fit(sub["text"].tolist(), sub[dim].tolist(), seed=seed)
        pred = np.array(model.predict(texts), dtype=object)
        pred[empty] = NONE
        out[f"{dim}_label"] = pred
    return out


def _identity(doc):
    return doc


@lru_cache(maxsize=1)
def _tfidf_class():
    """The transformer class, built on first use so that importing this module does not
    import scikit-learn (about a second, paid by every chapter otherwise)."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class _QuantedaTfidf(TransformerMixin, BaseEstimator):
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

    _QuantedaTfidf.__module__ = __name__
    return _QuantedaTfidf


def _QuantedaTfidf():  # noqa: N802 - reads like the class it builds
    return _tfidf_class()()


# --------------------------------------------------------------------------- business type

# data/codebook.md, "Derived: business type": read off the customer and geography codes
BUSINESS_TYPES = ("public_procurement", "domestic_commercial", "international_commercial")


def business_type(customer, geography) -> str | None:
    """The derived business type of one firm, or None when either code is not a category
    (none/tie): public -> public_procurement; private + domestic -> domestic_commercial;
    private + mixed/global -> international_commercial.

    Parameters
    ----------
    customer, geography : str
        The firm's customer and geography codes (``none``/``tie`` where the coder gave none).

    Returns
    -------
    str or None
        One of :data:`BUSINESS_TYPES`, or None.
    """
    if customer == "public" and geography in _labels.categories("geography"):
        return "public_procurement"
    if customer == "private":
        if geography == "domestic":
            return "domestic_commercial"
        if geography in ("mixed", "global"):
            return "international_commercial"
    return None


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
    but none of their types known or recognisable.

    Parameters
    ----------
    firms : pandas.DataFrame
        The firms, with ``investor_types`` and ``investors`` (';'-joined; a column absent
        counts as empty).

    Returns
    -------
    pandas.Series
        Named ``investor``: an investor code, "none" or "unknown" per firm.
    """
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
