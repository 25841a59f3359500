"""Collect firms' website text, politely and reproducibly: ``python -m analysis collect``.

This is the brief's scraping step (it fetched each firm's website with R's rvest), made
repeatable.  For every firm of a corpus with a ``website``:

1. the home page is fetched, then at most ``max_pages - 1`` pages of the same site that
   describe the business, chosen from the home page's links by their text and path, in
   English and Chinese (:data:`BUSINESS_PAGES`: about, products, solutions, in that order);
2. each page's bytes are decoded as the site serves them (:func:`decode_html`) and its main
   text is extracted with trafilatura (:func:`_extract_text`);
3. everything is written to ``--out DIR``: ``website_text.csv`` (the snapshot the book
   reads, one row per fetched page, see :mod:`analysis.data.snapshot`), ``failures.csv`` (every
   failure, per firm and page, with its reason), ``manifest.csv`` (every URL asked for, what
   came back and when, from the network or the cache) and ``summary.json``.

Politeness: robots.txt is honoured (RFC 9309: a missing robots.txt allows everything, one
that answers 5xx disallows everything), requests go one at a time with ``delay`` seconds
between two requests to the same host, the user agent names the tool, every request has a
timeout, a page larger than ``max_bytes`` is abandoned, and 429/5xx answers are retried at
most ``retries`` times with exponential backoff (``Retry-After`` honoured up to
:data:`MAX_RETRY_AFTER`).  Timeouts and connection failures are not retried.

Reproducibility: every answer is cached under ``DIR/cache/`` (URL, final URL after
redirects, status, fetch time, SHA-256 of the body, and the body of HTML pages).  A rerun
reads the cache and fetches nothing unless ``refresh=True``; an interrupted run resumes
where it stopped, because each answer is stored (atomically) the moment it arrives.  The
output files are written only at the end of a complete run, so an interrupted run leaves the
previous snapshot in place.  Collection is a separate step: the book never fetches anything.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import datetime as _dt
import hashlib
import json
import os
import re
import socket
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pandas as pd

from analysis.data.corpus import CorpusError, load
from analysis.data.snapshot import SNAPSHOT_COLUMNS, SNAPSHOT_FILE

TOOL = "analysis-collect"
#: the token robots.txt rules are matched against
ROBOTS_AGENT = TOOL
USER_AGENT = (f"{TOOL}/1.0 (research crawler re-running a text-as-data study of firms' "
              f"self-descriptions; one request at a time; honours robots.txt)")
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is cut to this
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = ("text/html", "application/xhtml+xml")

#: The business pages looked for on a home page, in the order they are taken: per category
#: the words of a link's text (matched in its case-folded text; Latin words at a word start)
#: and the words of its path (matched against the path's alphanumeric tokens, including the
#: pinyin initials Chinese sites use, e.g. gywm = 关于我们).
BUSINESS_PAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "about": (("关于我们", "关于", "公司简介", "公司介绍", "企业简介", "公司概况", "走进", "about"),
              ("about", "aboutus", "company", "intro", "introduction", "profile", "gywm", "gsjj")),
    "products": (("产品", "product"),
                 ("product", "products", "chanpin", "cpzx")),
    "solutions": (("解决方案", "方案", "业务", "服务", "solution", "business", "service"),
                  ("solution", "solutions", "jiejuefangan", "jjfa", "business", "service",
                   "services")),
}
#: links to files that are not web pages are never followed
SKIP_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar",
                   ".7z", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".mp4", ".mp3",
                   ".apk", ".exe", ".dmg")

#: failure reasons, as they appear in failures.csv and the summary
NO_WEBSITE = "no website"
INVALID_URL = "invalid URL"
DNS_FAILURE = "DNS failure"
CONNECTION_FAILED = "connection failed"
TIMEOUT = "timeout"
ROBOTS = "robots disallow"
NOT_HTML = "not HTML"
TOO_LARGE = "too large"
TOO_MANY_REDIRECTS = "too many redirects"
EMPTY_TEXT = "empty text"
UNEXPECTED = "unexpected error"


@dataclass(frozen=True)
class Settings:
    """How politely and how far to collect.  The defaults suit real sites; tests shorten
    the waits."""

    delay: float = 2.0  # seconds between two requests to the same host
    timeout: float = 20.0  # seconds to connect, for each read, and for a whole body
    max_bytes: int = 5_000_000  # a larger page is abandoned
    max_pages: int = 4  # pages per firm: the home page and up to max_pages - 1 others
    retries: int = 2  # extra attempts after a 429 or 5xx answer
    backoff: float = 2.0  # first retry waits this long, then twice as long each time
    max_redirects: int = 5
    user_agent: str = USER_AGENT

    def __post_init__(self):
        for name in ("delay", "backoff"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("timeout",):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("max_bytes", "max_pages"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("retries", "max_redirects"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def _now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- bytes -> text
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
#: declared names read as the superset browsers use for them (WHATWG Encoding)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "cp936": "gb18030", "euc-cn": "gb18030", "iso-8859-1": "cp1252",
              "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}
_WEAK = {"cp1252"}  # what servers send by default; a page's own <meta> outranks it


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _header_charset(content_type: str | None) -> str | None:
    m = _HEADER_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def _meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:8192])
    return m.group(1).decode("ascii", "replace") if m else None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page as text, and the encoding used.

    Order: a byte-order mark; then UTF-8 when the bytes are valid UTF-8 (text in GBK or
    Latin-1 almost never is, so this also overrides a wrong declared charset); then a
    declared charset that decodes the bytes without error: the HTTP header's, then the
    page's ``<meta charset>``, GB2312 and GBK read as GB18030, their superset.  A Latin-1 or
    ASCII header is what servers send by default, so it yields to ``<meta>`` and, when
    charset-normalizer also takes the bytes for Chinese, to GB18030.  With nothing declared,
    bytes that are valid GB18030 are read as such (these are Chinese firms' sites), else as
    charset-normalizer guesses; as a last resort GB18030 with undecodable bytes replaced.

    Parameters
    ----------
    body : bytes
        The page as served.
    content_type : str or None
        The HTTP ``Content-Type`` header, whose ``charset`` is read when present.

    Returns
    -------
    str
        The page's text.
    str
        The encoding used: a Python codec name such as ``"utf-8"``, ``"gb18030"``, ``"cp1252"``.
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(enc, errors="replace"), enc.removesuffix("-sig")
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass

    def attempt(enc):
        try:
            return body.decode(enc)
        except (UnicodeDecodeError, LookupError, TypeError):
            return None

    header, meta = _codec(_header_charset(content_type)), _codec(_meta_charset(body))
    weak = header in _WEAK
    for enc in ([meta] if weak else [header, meta]):
        if enc and enc != "utf-8" and (text := attempt(enc)) is not None:
            return text, enc
    text = attempt("gb18030")
    if text is not None and (not weak or _guess(body) in _CHINESE):
        return text, "gb18030"
    for enc in ([header] if weak else []) + [_guess(body)]:
        if enc and (text := attempt(enc)) is not None:
            return text, enc
    return body.decode("gb18030", errors="replace"), "gb18030"


_CHINESE = {"gb18030", "big5", "big5hkscs", "hz", "euc_cn"}


def _guess(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    return _codec(best.encoding) if best is not None and best.encoding else None


def _extract_text(html: str, url: str | None = None) -> str:
    """The main text of a page (trafilatura, favouring precision: menus, footers and comments
    left out, tables kept), or "" when there is none, e.g. a page whose text only JavaScript
    adds."""
    import trafilatura

    text = trafilatura.extract(html, url=url, output_format="txt", include_comments=False,
                               include_tables=True, favor_precision=True, deduplicate=False)
    lines = [ln.strip() for ln in (text or "").splitlines()]
    return "\n".join(ln for ln in lines if ln)


# --------------------------------------------------------------------------- links
def _site(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port
    return f"{host}:{port}" if port else host


def _words_match(text: str, words: Sequence[str]) -> bool:
    for word in words:
        if re.search(r"[\u4e00-\u9fff]", word):
            if word in text:
                return True
        elif re.search(rf"(?<![a-z]){re.escape(word)}", text):
            return True
    return False


def business_links(html: str, base_url: str, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` (category, url) pairs: same-site links of the page that describe the
    business.  Per category (about, products, solutions) links are ranked by whether their
    text names it (best), else their path does, then by order on the page; the categories
    take turns, best link first, so the first three pages are one of each where a site has
    them.

    Parameters
    ----------
    html : str
        The page.
    base_url : str
        The page's URL: relative links are resolved against it, and only its site is followed.
    limit : int
        Most links returned.

    Returns
    -------
    list of (str, str)
        (category, absolute URL) pairs in the order to fetch; empty when ``limit`` < 1 or the
        page cannot be parsed.
    """
    import lxml.html

    if limit <= 0 or not html.strip():
        return []
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    try:
        doc.make_links_absolute(base_url, resolve_base_href=True)
    except ValueError:
        return []
    home = urldefrag(base_url)[0].rstrip("/")
    site = _site(base_url)
    ranked: dict[str, list[tuple[int, int, str]]] = {c: [] for c in BUSINESS_PAGES}
    seen = set()
    for order, anchor in enumerate(doc.iter("a")):
        href = anchor.get("href")
        if not href:
            continue
        url = urldefrag(href.strip())[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or _site(url) != site:
            continue
        if url.rstrip("/") == home or url in seen or parts.path.lower().endswith(SKIP_EXTENSIONS):
            continue
        seen.add(url)
        text = " ".join(anchor.text_content().split()).casefold()
        text += " " + (anchor.get("title") or "").casefold()
        tokens = set(re.split(r"[^a-z0-9]+", parts.path.lower()))
        for category, (text_words, path_words) in BUSINESS_PAGES.items():
            score = 2 if _words_match(text, text_words) else 1 if tokens & set(path_words) else 0
            if score:
                ranked[category].append((-score, order, url))
    for links in ranked.values():
        links.sort()
    return _take_turns(ranked, limit)


def _take_turns(ranked: dict[str, list[tuple[int, int, str]]], limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` (category, url) pairs from each category's sorted (-score, order, url)
    links, in rounds: in round d each category in turn gives the first of its links from
    position d on that is not taken yet."""
    chosen: list[tuple[str, str]] = []
    taken: set[str] = set()
    depth = 0
    while len(chosen) < limit and any(len(v) > depth for v in ranked.values()):
        for category, links in ranked.items():
            if len(chosen) >= limit:
                break
            for _, _, url in links[depth:]:
                if url not in taken:
                    chosen.append((category, url))
                    taken.add(url)
                    break
        depth += 1
    return chosen


def _normalise_website(value) -> str | None:
    """A corpus ``website`` cell as a URL to fetch (``http://`` added when the scheme is
    missing; the first of several addresses), or None when empty."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if not text or text.lower() in ("nan", "none", "null", "-"):
        return None
    text = re.split(r"[\s;,|]+", text)[0]
    if not re.match(r"^[a-z][a-z0-9+.\-]*://", text, re.I):
        text = "http://" + text.lstrip("/")
    return text


# --------------------------------------------------------------------------- fetching
@dataclass
class Fetch:
    """One answer (or failure) for one requested URL, as cached and listed in the manifest."""

    url: str
    final_url: str | None = None
    status: int | None = None
    fetched_at: str | None = None
    sha256: str | None = None
    content_type: str | None = None
    n_bytes: int | None = None
    reason: str | None = None  # a failure reason (see the constants above), or None
    detail: str = ""
    redirects: list[str] = field(default_factory=list)
    body: bytes | None = field(default=None, repr=False)
    origin: str = "network"  # network | cache | not fetched (refused before any request)

    def meta(self) -> dict:
        out = asdict(self)
        out.pop("body")
        out.pop("origin")
        return out


class Cache:
    """Answers on disk: ``KEY.json`` (the :class:`Fetch` record) and ``KEY.body``, KEY being
    the SHA-256 of the requested URL.  Writes are atomic; a record exists only complete."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        folder = self.root / key[:2]
        return folder / f"{key}.json", folder / f"{key}.body"

    def get(self, url: str) -> Fetch | None:
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes() if body_path.exists() else None
        except (OSError, ValueError):
            return None
        if meta.get("sha256") and body is not None and hashlib.sha256(body).hexdigest() != meta["sha256"]:
            return None  # a damaged body: fetch again
        return Fetch(**meta, body=body, origin="cache")

    def put(self, fetch: Fetch) -> None:
        meta_path, body_path = self._paths(fetch.url)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        if fetch.body is not None:
            _atomic_write(body_path, fetch.body)
        elif body_path.exists():
            body_path.unlink()
        _atomic_write(meta_path, json.dumps(fetch.meta(), ensure_ascii=False, indent=1).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _failure_reason(exc: BaseException) -> str:
    """DNS failure, timeout or connection failed, from a requests exception's chain."""
    import requests
    from urllib3.exceptions import NameResolutionError, ReadTimeoutError

    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (socket.gaierror, NameResolutionError)):
            return DNS_FAILURE
        if isinstance(e, (requests.exceptions.Timeout, ReadTimeoutError, socket.timeout, TimeoutError)):
            return TIMEOUT
        stack.extend([e.__cause__, e.__context__, *[a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]])
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return CONNECTION_FAILED


class Fetcher:
    """One request at a time, ``delay`` between two to the same host, robots.txt checked on
    every hop, answers cached.  ``requests_made`` counts requests sent over the network."""

    def __init__(self, cache: Cache, settings: Settings = Settings(), refresh: bool = False):
        import requests

        self.cache = cache
        self.settings = settings
        self.refresh = refresh
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": settings.user_agent,
                                     "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                                     "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
        self._last: dict[str, float] = {}
        self._robots: dict[str, tuple[RobotFileParser | None, Fetch]] = {}
        self._fresh: set[str] = set()  # URLs fetched in this run (not re-fetched under refresh)
        self.requests_made = 0
        self.log: list[tuple[str, Fetch]] = []  # (kind, fetch) of every URL asked for

    def close(self) -> None:
        self.session.close()

    # -- politeness
    def _wait(self, url: str) -> None:
        host = urlsplit(url).netloc.lower()
        last = self._last.get(host)
        if last is not None:
            pause = self.settings.delay - (time.monotonic() - last)
            if pause > 0:
                time.sleep(pause)

    def _done(self, url: str) -> None:
        self._last[urlsplit(url).netloc.lower()] = time.monotonic()

    def robots_verdict(self, url: str) -> Fetch | None:
        """None when robots.txt lets us fetch ``url``; else a Fetch that says why not
        (robots disallow, or the robots.txt request's own DNS/connection/timeout failure)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            fetch = self.get(origin + "/robots.txt", kind="robots", robots=False)
            parser: RobotFileParser | None = RobotFileParser()
            if fetch.status == 200 and fetch.body is not None:
                parser.parse(fetch.body.decode("utf-8", errors="replace").splitlines())
            elif fetch.status is not None and fetch.status >= 500:
                parser.disallow_all = True  # RFC 9309: an unreachable robots.txt disallows all
            elif fetch.status is not None or fetch.reason in (TOO_MANY_REDIRECTS, INVALID_URL):
                parser.allow_all = True  # 4xx, or an unusable file: as if there were none
            else:
                parser = None  # the host cannot be reached (DNS, connection, timeout)
            self._robots[origin] = (parser, fetch)
        parser, fetch = self._robots[origin]
        if parser is None:
            return Fetch(url=url, reason=fetch.reason, detail=f"robots.txt: {fetch.detail}",
                         origin="not fetched")
        if not parser.can_fetch(ROBOTS_AGENT, url):
            why = (f"robots.txt answered HTTP {fetch.status}" if parser.disallow_all
                   else f"disallowed by {origin}/robots.txt")
            return Fetch(url=url, reason=ROBOTS, detail=why, origin="not fetched")
        return None

    def get(self, url: str, kind: str = "page", robots: bool = True) -> Fetch:
        """The answer for ``url``: from the cache when there is one (unless refreshing),
        else from the network, following redirects (robots.txt checked on each hop)."""
        fetch = None
        if not self.refresh or url in self._fresh:
            fetch = self.cache.get(url)
        if fetch is None:
            refused = self.robots_verdict(url) if robots else None
            if refused is not None:
                self.log.append((kind, refused))
                return refused
            fetch = self._network(url, robots)
            self._fresh.add(url)
            self.cache.put(fetch)
        self.log.append((kind, fetch))
        return fetch

    def _request(self, url: str):
        """One GET with bounded retries on 429/5xx; returns (response or None, Fetch on failure)."""
        import requests

        s = self.settings
        for attempt in range(s.retries + 1):
            self._wait(url)
            self.requests_made += 1
            try:
                response = self.session.get(url, stream=True, allow_redirects=False,
                                            timeout=(s.timeout, s.timeout))
            except requests.exceptions.InvalidURL as exc:
                return None, Fetch(url=url, reason=INVALID_URL, detail=str(exc)[:300])
            except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema) as exc:
                return None, Fetch(url=url, reason=INVALID_URL, detail=str(exc)[:300])
            except requests.exceptions.RequestException as exc:
                return None, Fetch(url=url, reason=_failure_reason(exc), detail=str(exc)[:300])
            finally:
                self._done(url)
            if response.status_code in RETRY_STATUSES and attempt < s.retries:
                wait = s.backoff * 2 ** attempt
                after = response.headers.get("Retry-After", "")
                if after.strip().isdigit():
                    wait = max(wait, float(after))
                response.close()
                time.sleep(min(wait, MAX_RETRY_AFTER))
                continue
            return response, None
        raise AssertionError("unreachable")  # pragma: no cover

    def _network(self, url: str, robots: bool) -> Fetch:
        s = self.settings
        redirects: list[str] = []
        current = url
        for hop in range(s.max_redirects + 1):
            if hop and robots:
                refused = self.robots_verdict(current)
                if refused is not None:
                    refused.url, refused.redirects = url, redirects
                    refused.final_url, refused.origin = current, "network"  # earlier hops were fetched
                    return refused
            response, failed = self._request(current)
            if failed is not None:
                failed.url, failed.final_url, failed.redirects = url, current, redirects
                failed.fetched_at = _now_utc()
                return failed
            location = response.headers.get("Location")
            if response.status_code in REDIRECT_STATUSES and location:
                response.close()
                redirects.append(current)
                current = urljoin(current, location.strip())
                if urlsplit(current).scheme not in ("http", "https"):
                    return Fetch(url=url, final_url=current, redirects=redirects, fetched_at=_now_utc(),
                                 reason=INVALID_URL, detail=f"redirected to {current}")
                continue
            return self._read(url, current, redirects, response)
        return Fetch(url=url, final_url=current, redirects=redirects, fetched_at=_now_utc(),
                     reason=TOO_MANY_REDIRECTS, detail=f"more than {s.max_redirects} redirects")

    def _read(self, url: str, final: str, redirects: list[str], response) -> Fetch:
        """The body of a final answer, within the size cap and the time limit."""
        import requests

        s = self.settings
        fetch = Fetch(url=url, final_url=final, status=response.status_code, fetched_at=_now_utc(),
                      content_type=response.headers.get("Content-Type"), redirects=redirects)
        try:
            if response.status_code >= 400:
                fetch.reason, fetch.detail = f"HTTP {response.status_code}", response.reason or ""
                return fetch
            if response.status_code != 200:
                fetch.reason, fetch.detail = f"HTTP {response.status_code}", "not a page"
                return fetch
            kind = (fetch.content_type or "").split(";")[0].strip().lower()
            is_robots = urlsplit(final).path == "/robots.txt"
            if kind and kind not in HTML_TYPES and not (is_robots and kind.startswith("text/")):
                fetch.reason, fetch.detail = NOT_HTML, f"Content-Type {kind}"
                return fetch
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > s.max_bytes:
                fetch.reason = TOO_LARGE
                fetch.detail = f"Content-Length {int(length):,} bytes > cap {s.max_bytes:,}"
                return fetch
            chunks, size, start = [], 0, time.monotonic()
            for chunk in response.iter_content(65536):
                chunks.append(chunk)
                size += len(chunk)
                if size > s.max_bytes:
                    fetch.reason, fetch.detail = TOO_LARGE, f"more than the cap of {s.max_bytes:,} bytes"
                    return fetch
                if time.monotonic() - start > s.timeout:
                    fetch.reason, fetch.detail = TIMEOUT, f"body not complete after {s.timeout} s"
                    return fetch
            body = b"".join(chunks)
            if not kind and not is_robots and not body.lstrip()[:1] == b"<":
                fetch.reason, fetch.detail = NOT_HTML, "no Content-Type and not markup"
                return fetch
            fetch.body, fetch.n_bytes = body, len(body)
            fetch.sha256 = hashlib.sha256(body).hexdigest()
            return fetch
        except requests.exceptions.RequestException as exc:
            fetch.reason, fetch.detail = _failure_reason(exc), str(exc)[:300]
            return fetch
        finally:
            response.close()


# --------------------------------------------------------------------------- one firm, a corpus
@dataclass
class Page:
    company_id: str
    kind: str  # home | about | products | solutions
    fetch: Fetch
    text: str = ""
    encoding: str | None = None


def _collect_firm(fetcher: Fetcher, company_id: str, website) -> tuple[list[Page], list[dict]]:
    """The pages of one firm and its failures (dicts with company_id, kind, url, reason,
    detail).  Never raises for a bad site."""
    failures: list[dict] = []
    url = _normalise_website(website)
    if url is None:
        return [], [dict(company_id=company_id, kind="home", url="", reason=NO_WEBSITE, detail="")]
    if not urlsplit(url).hostname:
        return [], [dict(company_id=company_id, kind="home", url=url, reason=INVALID_URL,
                         detail="no host name")]
    pages: list[Page] = []
    queue: list[tuple[str, str]] = [("home", url)]
    done: set[str] = set()
    while queue:
        kind, target = queue.pop(0)
        fetch = fetcher.get(target, kind=kind)
        page = Page(company_id, kind, fetch)
        final = fetch.final_url or target
        if fetch.reason is None and fetch.body is not None:
            html, page.encoding = decode_html(fetch.body, fetch.content_type)
            page.text = _extract_text(html, final)
            if not page.text:
                failures.append(dict(company_id=company_id, kind=kind, url=final, reason=EMPTY_TEXT,
                                     detail="no main text after extraction (text added by JavaScript?)"))
            if kind == "home":
                limit = fetcher.settings.max_pages - 1
                done.add(final.rstrip("/"))
                queue.extend((k, u) for k, u in business_links(html, final, limit)
                             if u.rstrip("/") not in done)
        else:
            failures.append(dict(company_id=company_id, kind=kind, url=target, reason=fetch.reason,
                                 detail=fetch.detail))
        if fetch.status is not None:
            pages.append(page)
    return pages, failures


@dataclass
class Summary:
    out_dir: Path
    n_firms: int
    n_with_website: int
    n_firms_with_text: int
    n_pages: int  # pages with an answer (rows of website_text.csv)
    n_pages_with_text: int
    pages_fetched: int  # page requests sent over the network in this run (any outcome)
    pages_cached: int  # page requests answered by the cache (any outcome)
    requests_made: int  # requests sent over the network (robots.txt, retries, redirects included)
    failures: dict[str, int]  # reason -> number of failures (pages, or firms for "no website")
    firms_without_text: int
    started: str
    finished: str

    def text(self) -> str:
        lines = [f"firms: {self.n_firms} ({self.n_with_website} with a website); "
                 f"{self.n_firms_with_text} with website text, {self.firms_without_text} without",
                 f"pages: {self.n_pages} answered ({self.n_pages_with_text} with text); "
                 f"fetched {self.pages_fetched}, from cache {self.pages_cached}; "
                 f"network requests {self.requests_made}"]
        if self.failures:
            lines.append("failed, by reason:")
            lines += [f"  {reason:<20} {n:>6}" for reason, n in
                      sorted(self.failures.items(), key=lambda kv: (-kv[1], kv[0]))]
        else:
            lines.append("failed: none")
        lines.append(f"snapshot: {self.out_dir / SNAPSHOT_FILE}")
        return "\n".join(lines)


MANIFEST_COLUMNS = ["company_id", "kind", "url", "final_url", "status", "fetched_at", "sha256",
                    "bytes", "content_type", "encoding", "reason", "detail", "source"]
FAILURE_COLUMNS = ["company_id", "kind", "url", "reason", "detail"]


def _collect_one(fetcher: Fetcher, company_id, website) -> tuple[list[Page], list[dict]]:
    """One firm's pages and failures; an unexpected exception becomes the firm's failure."""
    try:
        return _collect_firm(fetcher, str(company_id), website)
    except Exception as exc:  # one bad site never stops the run
        return [], [dict(company_id=company_id, kind="home", url=str(website),
                         reason=UNEXPECTED, detail=f"{type(exc).__name__}: {exc}"[:300])]


def _manifest_rows(company_id, pages: list[Page], log: list) -> list[dict]:
    """One manifest row per URL one firm asked for (``log``: its part of the fetcher's log)."""
    encodings = {id(p.fetch): p.encoding for p in pages}
    return [dict(company_id=company_id, kind=kind, url=f.url, final_url=f.final_url,
                 status=f.status, fetched_at=f.fetched_at, sha256=f.sha256,
                 bytes=f.n_bytes, content_type=f.content_type,
                 encoding=encodings.get(id(f)), reason=f.reason, detail=f.detail,
                 source=f.origin) for kind, f in log]


def _collect_firms(fetcher: Fetcher, firms: pd.DataFrame,
                   progress: bool) -> tuple[list[Page], list[dict], list[dict]]:
    """Every firm's pages, failures and manifest rows, firm by firm in corpus order."""
    from tqdm import tqdm

    all_pages: list[Page] = []
    failures: list[dict] = []
    manifest: list[dict] = []
    bar = tqdm(list(zip(firms["company_id"], firms["website"])), desc="firms", unit="firm",
               disable=not progress, file=sys.stderr)
    for company_id, website in bar:
        first_log = len(fetcher.log)
        pages, failed = _collect_one(fetcher, company_id, website)
        all_pages += pages
        failures += failed
        manifest += _manifest_rows(company_id, pages, fetcher.log[first_log:])
    return all_pages, failures, manifest


def _snapshot_table(pages: list[Page]) -> pd.DataFrame:
    """The snapshot: one row per page with an answer, its final URL and text."""
    rows = [dict(company_id=p.company_id, url=p.fetch.final_url or p.fetch.url,
                 fetched_at=p.fetch.fetched_at, status=p.fetch.status, sha256=p.fetch.sha256 or "",
                 text=p.text) for p in pages]
    return pd.DataFrame(rows, columns=SNAPSHOT_COLUMNS)


def _summarise(out: Path, firms: pd.DataFrame, snapshot: pd.DataFrame, failures: list[dict],
               manifest: list[dict], fetcher: Fetcher, started: str) -> Summary:
    """The run's counts (finished now)."""
    with_text = set(snapshot.loc[snapshot["text"].str.len() > 0, "company_id"]) if len(snapshot) else set()
    page_kinds = [m for m in manifest if m["kind"] != "robots"]
    counts = Counter(f["reason"] for f in failures)
    n_site = int(firms["website"].map(_normalise_website).notna().sum())
    return Summary(
        out_dir=out, n_firms=len(firms), n_with_website=n_site, n_firms_with_text=len(with_text),
        n_pages=len(snapshot), n_pages_with_text=int((snapshot["text"].str.len() > 0).sum()),
        pages_fetched=sum(1 for m in page_kinds if m["source"] == "network"),
        pages_cached=sum(1 for m in page_kinds if m["source"] == "cache"),
        requests_made=fetcher.requests_made, failures=dict(counts),
        firms_without_text=len(firms) - len(with_text), started=started, finished=_now_utc())


def _write_outputs(out: Path, snapshot: pd.DataFrame, failures: list[dict], manifest: list[dict],
                   summary: Summary, corpus_file: Path, refresh: bool, settings: Settings) -> None:
    """The snapshot, ``failures.csv``, ``manifest.csv`` and ``summary.json`` (with the corpus's and
    the snapshot's SHA-256) into ``out``."""
    _write_csv(out / SNAPSHOT_FILE, snapshot)
    _write_csv(out / "failures.csv", pd.DataFrame(failures, columns=FAILURE_COLUMNS))
    _write_csv(out / "manifest.csv", pd.DataFrame(manifest, columns=MANIFEST_COLUMNS))
    info = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(summary).items()}
    info.update(corpus=str(corpus_file), corpus_sha256=hashlib.sha256(corpus_file.read_bytes()).hexdigest(),
                snapshot_sha256=hashlib.sha256((out / SNAPSHOT_FILE).read_bytes()).hexdigest(),
                refresh=refresh, settings=asdict(settings))
    _atomic_write(out / "summary.json", json.dumps(info, ensure_ascii=False, indent=1).encode())


def collect(corpus_path, out_dir, settings: Settings = Settings(), refresh: bool = False,
            progress: bool = True) -> Summary:
    """Collect the website text of every firm of the corpus at ``corpus_path`` into
    ``out_dir`` (see the module's docstring).  KeyboardInterrupt stops the run; what was
    fetched stays cached and the next run resumes from it.

    Parameters
    ----------
    corpus_path : str or Path
        The corpus (canonical columns or a Crunchbase export) with a ``website`` column.
    out_dir : str or Path
        Output folder; its ``cache/`` makes reruns free.
    settings : Settings
        Politeness, time-outs and limits of the fetcher.
    refresh : bool
        Fetch again even what is cached.
    progress : bool
        Show a progress bar (on standard error).

    Returns
    -------
    Summary
        Firms, pages and requests counted, failures by reason.

    Raises
    ------
    CorpusError
        The corpus cannot be loaded.
    KeyboardInterrupt
        The run was interrupted (nothing written but the cache).
    """
    corpus = load(corpus_path)
    firms = corpus.firms
    out = Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    fetcher = Fetcher(Cache(out / "cache"), settings, refresh=refresh)
    started = _now_utc()
    try:
        all_pages, failures, manifest = _collect_firms(fetcher, firms, progress)
    finally:
        fetcher.close()

    snapshot = _snapshot_table(all_pages)
    summary = _summarise(out, firms, snapshot, failures, manifest, fetcher, started)
    _write_outputs(out, snapshot, failures, manifest, summary, corpus.path, refresh, settings)
    return summary


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- CLI
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis collect CORPUS --out DIR``: run :func:`collect` and print its summary.

    Parameters
    ----------
    argv : sequence of str or None
        The command-line arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 collected, 1 the corpus cannot be loaded, 130 interrupted.

    Raises
    ------
    SystemExit
        Bad arguments or settings (argparse's message, status 2), or ``--help``.
    """
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m analysis collect",
        description="Fetch each firm's home page and a few business pages (about, products, "
                    "solutions), politely, and write the website-text snapshot the book reads "
                    "(DIR/website_text.csv; pass it to the build with -p website_snapshot=DIR).")
    p.add_argument("corpus", help="corpus CSV (canonical columns or a Crunchbase export) with a website column")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (its cache/ makes reruns free)")
    p.add_argument("--refresh", action="store_true", help="fetch again even what is cached")
    p.add_argument("--delay", type=float, default=d.delay, help=f"seconds between requests to one host ({d.delay})")
    p.add_argument("--timeout", type=float, default=d.timeout, help=f"seconds per request ({d.timeout})")
    p.add_argument("--max-pages", type=int, default=d.max_pages, help=f"pages per firm, home included ({d.max_pages})")
    p.add_argument("--max-bytes", type=int, default=d.max_bytes, help=f"largest page read ({d.max_bytes})")
    p.add_argument("--retries", type=int, default=d.retries, help=f"retries after 429/5xx ({d.retries})")
    p.add_argument("--backoff", type=float, default=d.backoff, help=f"first retry wait in seconds, doubling ({d.backoff})")
    p.add_argument("--contact", default="", help="an e-mail or URL added to the user agent, so site owners can reach you")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    try:
        settings = Settings(delay=args.delay, timeout=args.timeout, max_pages=args.max_pages,
                            max_bytes=args.max_bytes, retries=args.retries, backoff=args.backoff,
                            user_agent=USER_AGENT[:-1] + f"; contact {args.contact})" if args.contact
                            else USER_AGENT)
    except ValueError as exc:
        p.error(str(exc))
    try:
        summary = collect(args.corpus, args.out, settings, refresh=args.refresh, progress=not args.quiet)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: what was fetched is cached; run the same command again to resume "
              "(the previous snapshot, if any, is unchanged)", file=sys.stderr)
        return 130
    print(summary.text())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
