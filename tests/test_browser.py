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
