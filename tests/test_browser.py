"""Every page of the built book, read in a real browser (Debian's Chromium via Playwright) at a
desktop width (1280 px) and a phone's (390 px):

* no console error, no failed request to the site itself, and no request to any other host
  (the site needs nothing from the network);
* every image loaded;
* the page never scrolls sideways (``scrollWidth`` <= the viewport; wide tables scroll inside
  their own box);
* every internal link resolves (file and #fragment);
* no critical or serious axe-core violation, colour contrast included.

Screenshots of every page go to ``_build/screenshots/`` of this checkout. Without Chromium,
Playwright or axe-core the test skips with a message, except under ``CI=true``, where
``.ci/run`` installs them and their absence fails.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
SCREENSHOTS = ROOT / "_build" / "screenshots"
MAX_SHOT = 12000  # px: screenshots keep the top of very long pages

pytestmark = pytest.mark.book


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    if not AXE.exists():
        return f"axe-core not found at {AXE.relative_to(ROOT)} (npm install --no-save axe-core)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run under CI: {reason}; .ci/run should install it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """The shared built site, served over HTTP on a free local port."""
    repo, _ = built_book
    root = repo / "_build" / "html"
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield repo, root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _pages(repo: Path) -> list[str]:
    from analysis.build import runner as B

    book = B.read_toc(repo / "_toc.yml", repo)
    names = [c.name for c in book.chapters] + [p.stem for p in book.pages]
    return [f"book/{n}.html" for n in names]


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("id", "name") and v:
                self.ids.add(v)


@functools.lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset[str]:
    p = _Ids()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(p.ids)


def _broken_links(root: Path, base: str, page_url: str, hrefs: list[str]) -> list[str]:
    broken = []
    for href in sorted(set(hrefs)):
        url = urljoin(page_url, href)
        if not url.startswith(base):
            continue
        path, frag = urldefrag(url)
        rel = unquote(urlparse(path).path)[len(urlparse(base).path):]
        target = root / rel
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(f"{href} (no file {rel or '/'})")
        elif frag and target.suffix == ".html" and unquote(frag) not in _ids(target):
            broken.append(f"{href} (no #{frag} in {rel})")
    return broken


AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations'],
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
  return r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.length + ' element(s), e.g. '
              + v.nodes[0].target.join(' ') + ' - ' + v.help);
}"""


def test_every_page_reads_in_a_real_browser(browser, site):
    repo, root, base = site
    axe_source = AXE.read_text(encoding="utf-8")
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    problems: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
        for rel in _pages(repo):
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, e=errors: e.append(f"console {m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(f"page error: {exc}"))
            page.on("requestfailed", lambda r, e=errors: e.append(f"request failed: {r.url}")
                    if r.url.startswith(base) else None)
            page.on("response", lambda r, e=errors: e.append(f"HTTP {r.status}: {r.url}")
                    if r.url.startswith(base) and r.status >= 400 else None)

            def outside(route, e=errors):
                e.append(f"request to the network: {route.request.url}")
                route.abort()

            page.route(lambda url: not url.startswith(base) and not url.startswith("data:")
                       and not url.startswith("blob:") and not url.startswith("about:"), outside)
            page.goto(base + rel, wait_until="load")
            page.wait_for_timeout(150)
            where = f"{rel} at {width}px"
            problems += [f"{where}: {e}" for e in errors]
            bad_images = page.evaluate(
                "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                ".map(i => i.getAttribute('src'))")
            problems += [f"{where}: image not loaded: {src}" for src in bad_images]
            sw, vw = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if sw > vw:
                problems.append(f"{where}: page scrolls sideways (scrollWidth {sw} > viewport {vw})")
            if width == WIDTHS[0]:
                hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]'))"
                                      ".map(a => a.getAttribute('href'))")
                problems += [f"{rel}: broken link {b}" for b in _broken_links(root, base, base + rel, hrefs)]
            page.add_script_tag(content=axe_source)
            problems += [f"{where}: axe {v}" for v in page.evaluate(AXE_RUN)]
            name = rel.removeprefix("book/").removesuffix(".html")
            height = min(page.evaluate("() => document.documentElement.scrollHeight"), MAX_SHOT)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"),
                            clip={"x": 0, "y": 0, "width": width, "height": height}, full_page=True)
            page.close()
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_menu_and_contents_buttons_work(browser, site):
    """Issue 24: the visible menu button opens the chapter list on a phone (and hides the sidebar
    on a desktop), and the visible "Contents" button opens the page outline on a phone; both
    themes bind their handlers to a hidden button of the same class."""
    _, _, base = site
    context = browser.new_context(viewport={"width": 390, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.goto(base + "book/05_shanghai.html", wait_until="load")
    assert not page.evaluate("() => document.querySelector('#pst-primary-sidebar-modal').open")
    page.locator(".primary-toggle:visible").first.click()
    page.wait_for_timeout(200)
    assert page.evaluate("() => document.querySelector('#pst-primary-sidebar-modal').open")
    assert page.locator("#pst-primary-sidebar-modal a:visible", has_text="Convergence").count() >= 1
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)
    page.locator(".secondary-toggle:visible").first.click()
    page.wait_for_timeout(200)
    assert page.evaluate("() => document.querySelector('#pst-secondary-sidebar-modal').open")
    context.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.goto(base + "book/05_shanghai.html", wait_until="load")
    hidden = "() => document.querySelector('#pst-primary-sidebar').classList.contains('pst-sidebar-hidden')"
    assert not page.evaluate(hidden)
    page.locator(".primary-toggle:visible").first.click()
    page.wait_for_timeout(200)
    assert page.evaluate(hidden)
    context.close()


# Issue 24: every Latin-script word of a table cell (2 to 20 letters) on one line. Tokens that hold
# a hash (12 or more hex digits) or Chinese characters are set aside; rows hidden (or tables in a
# closed toggle) have no boxes and are skipped.
WORDS_CUT = """() => {
  const cut = [];
  const skip = (token) => /[0-9a-f]{12,}/i.test(token) || /[\\u3400-\\u9fff\\uf900-\\ufaff]/.test(token);
  document.querySelectorAll('.bd-article table').forEach((table) => {
    const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const cell = node.parentElement.closest('td, th');
      if (!cell || !cell.getClientRects().length) continue;
      for (const token of node.data.matchAll(/\\S+/g)) {
        if (skip(token[0])) continue;
        for (const word of token[0].matchAll(/[A-Za-z\\u00C0-\\u024F]+/g)) {
          if (word[0].length < 2 || word[0].length > 20) continue;
          const range = document.createRange();
          const start = token.index + word.index;
          range.setStart(node, start);
          range.setEnd(node, start + word[0].length);
          const tops = Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => r.top);
          if (tops.length && Math.max(...tops) - Math.min(...tops) > 4) {
            cut.push(word[0] + ' in ' + (table.id || 'a table without id') + ' ("' + cell.textContent.trim().slice(0, 40) + '")');
          }
        }
      }
    }
  });
  return cut;
}"""

# Issue 24: where a table has the columns that carry its conclusion, their headings lie inside
# the viewport and inside every box that clips them (the table's own scroll box included).
KEY_HEADINGS = ("decision", "primary", "rate", "p")
KEY_COLUMNS_OFF = """(wanted) => {
  const off = [];
  document.querySelectorAll('.bd-article table').forEach((table) => {
    table.querySelectorAll('thead th').forEach((th) => {
      const name = th.textContent.trim();
      if (!wanted.includes(name)) return;
      let left = 0, right = window.innerWidth;
      for (let el = th.parentElement; el && el !== document.documentElement; el = el.parentElement) {
        if (getComputedStyle(el).overflowX !== 'visible') {
          const box = el.getBoundingClientRect();
          left = Math.max(left, box.left);
          right = Math.min(right, box.right);
        }
      }
      const r = th.getBoundingClientRect();
      if (r.width === 0 || r.left < left - 1 || r.right > right + 1) {
        off.push(name + ' of ' + (table.id || 'a table') + ' at ' + Math.round(r.left) + '..' + Math.round(r.right)
                 + ' px, visible ' + Math.round(left) + '..' + Math.round(r.right > right ? right : r.right));
      }
    });
  });
  return off;
}"""

MAX_PAGE = int(1.5 * 1024 * 1024)   # bytes a page may load, everything included
MAX_DATA_HTML = 300_000             # bytes of 03_data.html itself


def _each_page(browser, site, width):
    """Every page of the book, opened at ``width`` px in a fresh context (nothing cached):
    yields (page name, Playwright page, the responses of the site it received)."""
    repo, _, base = site
    for rel in _pages(repo):
        context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
        page = context.new_page()
        responses = []
        page.on("requestfinished", lambda r, got=responses: got.append(r) if r.url.startswith(base) else None)
        page.goto(base + rel, wait_until="load")
        page.wait_for_load_state("networkidle")
        yield rel, page, responses
        context.close()


def test_no_word_in_a_table_cell_is_cut_across_two_lines(browser, site):
    """Issue 24: "Shangh|ai", "Blockcha|in": table cells break between words only, at a
    desktop's width and a phone's; a table too wide for the column scrolls in its box."""
    cut = []
    for width in WIDTHS:
        for rel, page, _ in _each_page(browser, site, width):
            words = page.evaluate(WORDS_CUT)
            cut += [f"{rel} at {width}px: {w}" for w in words[:5]] + (
                [f"{rel} at {width}px: ... {len(words) - 5} more"] if len(words) > 5 else [])
    assert cut == [], "words cut across two lines:\n" + "\n".join(cut)


def test_the_decision_columns_are_on_screen_at_a_desktop_width(browser, site):
    """Issue 24: the columns decision, primary, rate and p of every table that has them are
    visible at 1280 px without scrolling the table (nor the page sideways)."""
    off = []
    for rel, page, _ in _each_page(browser, site, 1280):
        off += [f"{rel}: {o}" for o in page.evaluate(KEY_COLUMNS_OFF, list(KEY_HEADINGS))]
    assert off == [], "\n".join(off)


def test_no_link_leads_to_a_placeholder_or_an_example_host(site):
    """Issue 24: a default build has no button or link to PLACEHOLDER-OWNER or example.org."""
    _, root, _ = site
    bad = []
    for path in sorted(root.rglob("*.html")):
        hrefs = re.findall(r'(?:href|src|action)\s*=\s*"([^"]*)"', path.read_text(encoding="utf-8", errors="replace"))
        bad += [f"{path.relative_to(root)}: {h}" for h in hrefs if "PLACEHOLDER" in h or "example.org" in h]
    assert bad == [], "\n".join(bad[:20])


def test_every_page_is_light(browser, site):
    """Issue 24: each page loads at most 1.5 MiB (the sum of the bodies of everything it
    fetches: HTML, styles, scripts, fonts, images), and the data chapter's HTML is at most
    300 KB."""
    heavy, sizes = [], {}
    for rel, page, responses in _each_page(browser, site, 1280):
        bodies = {r.url: len(r.response().body()) for r in responses if r.response() is not None}
        sizes[rel] = sum(bodies.values())
        if sizes[rel] > MAX_PAGE:
            biggest = sorted(bodies.items(), key=lambda kv: -kv[1])[:3]
            heavy.append(f"{rel}: {sizes[rel] / 1024:.0f} KiB, the largest "
                         + ", ".join(f"{u.rsplit('/', 1)[-1]} ({n / 1024:.0f} KiB)" for u, n in biggest))
        if rel == "book/03_data.html":
            own = next(n for u, n in bodies.items() if urlparse(u).path.endswith(rel))
            if own > MAX_DATA_HTML:
                heavy.append(f"{rel}: the page itself is {own / 1000:.0f} KB")
    assert "book/03_data.html" in sizes
    assert heavy == [], "\n".join(heavy)
