"""``python -m analysis collect`` against fixture sites served on 127.0.0.1 by the tests.

One server on a random free port; ``localhost`` on the same port is "another host" (robots.txt,
politeness and same-site checks key on host and port).  Every request is counted, so a rerun
can be shown to send none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import collect as C
from analysis.data import corpus, snapshot

ROOT = Path(__file__).resolve().parent.parent

ZH_ABOUT = ("北京链信科技有限公司成立于二零一八年，专注于区块链底层平台的研发。"
            "公司为政府部门和金融机构提供可信数据共享服务，客户遍布全国二十多个省份。")
ZH_HOME = "我们用区块链技术帮助政务部门安全地共享数据。平台已经服务于多地法院和公安系统。"
ZH_PRODUCTS = "产品中心：联盟链平台、电子存证系统和供应链金融平台，支持国产密码算法。"
ZH_SOLUTIONS = "解决方案：为智慧城市、司法存证和跨境贸易提供整体的区块链解决方案。"
UTF8_TEXT = "上海数链网络专注于跨境支付与数字资产托管，服务新加坡和欧洲的金融客户。"
EN_HOME = "Nebula Ledger builds enterprise blockchain infrastructure for banks in Shenzhen."
EN_ABOUT = "About Nebula Ledger: founded in 2017 by engineers from the payments industry."
EN_PRODUCTS = "Our products include a permissioned ledger and a settlement gateway for banks."
OTHER_TEXT = "Redwood Chain moved its site to a new host and sells supply chain tracing."
SMALL_TEXT = "Quickstep Labs retried after a busy answer and then served its page."


def page(body_html: str, head: str = "", lang: str = "en") -> str:
    return (f"<!DOCTYPE html><html lang=\"{lang}\"><head>{head}<title>t</title></head>"
            f"<body><nav><a href=\"/\">Home</a></nav><main>{body_html}</main></body></html>")


def zh_home() -> str:
    links = ('<a href="/gbk/login.html">登录</a> <a href="/gbk/news.html">新闻动态</a> '
             '<a href="/gbk/about.html">关于我们</a> <a href="/gbk/cpzx.html">产品中心</a> '
             '<a href="/gbk/fangan.html">解决方案</a> <a href="/gbk/jobs.html">加入我们</a> '
             '<a href="http://example.invalid/about">关于合作伙伴</a>')
    return page(f"<div>{links}</div><article><p>{ZH_HOME}</p><p>{ZH_HOME}</p></article>",
                head='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', lang="zh")


def zh_page(text: str) -> str:
    return page(f"<article><h1>标题</h1><p>{text}</p><p>{text}</p></article>",
                head='<meta charset="gbk">', lang="zh")


EN_SITE_HOME = page(
    '<ul><li><a href="/en/about-us/">Who we are</a></li><li><a href="/en/products/">Products</a></li>'
    '<li><a href="/en/solutions.html">Solutions</a></li><li><a href="/en/brochure.pdf">About (PDF)</a></li>'
    f'<li><a href="/en/contact">Contact</a></li></ul><article><p>{EN_HOME}</p><p>{EN_HOME}</p></article>')

JS_PAGE = ("<!DOCTYPE html><html><head><title>app</title><script>"
           "document.addEventListener('DOMContentLoaded',function(){document.getElementById('app')"
           ".innerHTML='<p>Text that only JavaScript adds</p>'});</script></head>"
           "<body><div id=\"app\"></div><noscript></noscript></body></html>")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: list[tuple[str, str]] = []  # (host:port, path)
        self.lock = threading.Lock()
        self.flaky = Counter()

    @property
    def port(self) -> int:
        return self.server_address[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # keep test output clean
        pass

    def send(self, status: int, body: bytes = b"", ctype: str | None = "text/html", headers=None,
             length: bool = True):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):  # noqa: C901 - a table of fixture sites
        server: Server = self.server
        host = self.headers.get("Host", "")
        path = self.path
        with server.lock:
            server.hits.append((host, path))
        other = host.startswith("localhost")
        if path == "/robots.txt":
            if other:
                return self.send(404, b"not found", "text/plain")
            return self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if other and path == "/new/":
            return self.send(200, page(f"<p>{OTHER_TEXT}</p><p>{OTHER_TEXT}</p>").encode(),
                             "text/html; charset=utf-8")
        if path == "/gbk/":
            return self.send(200, zh_home().encode("gbk"), "text/html")  # charset only in <meta>
        gbk_pages = {"/gbk/about.html": ZH_ABOUT, "/gbk/cpzx.html": ZH_PRODUCTS,
                     "/gbk/fangan.html": ZH_SOLUTIONS}
        if path in gbk_pages:
            return self.send(200, zh_page(gbk_pages[path]).encode("gbk"), "text/html")
        if path == "/utf8/":  # UTF-8 bytes, header claims GB2312
            return self.send(200, page(f"<p>{UTF8_TEXT}</p><p>{UTF8_TEXT}</p>", lang="zh").encode("utf-8"),
                             "text/html; charset=gb2312")
        if path == "/moved":
            return self.send(301, b"", headers={"Location": "/en/"})
        if path == "/en/":
            return self.send(200, EN_SITE_HOME.encode(), "text/html; charset=utf-8")
        if path == "/en/about-us/":
            return self.send(200, page(f"<p>{EN_ABOUT}</p><p>{EN_ABOUT}</p>").encode(), "text/html")
        if path == "/en/products/":
            return self.send(200, page(f"<p>{EN_PRODUCTS}</p><p>{EN_PRODUCTS}</p>").encode(), "text/html")
        if path == "/gone":
            return self.send(302, b"", headers={"Location": f"http://localhost:{server.port}/new/"})
        if path == "/broken/":
            return self.send(500, b"server error")
        if path == "/busy/":
            server.flaky[path] += 1
            if server.flaky[path] == 1:
                return self.send(429, b"slow down", headers={"Retry-After": "0"})
            return self.send(200, page(f"<p>{SMALL_TEXT}</p><p>{SMALL_TEXT}</p>").encode(), "text/html")
        if path == "/slow/":
            time.sleep(1.5)
            return self.send(200, page("<p>too late</p>").encode())
        if path == "/huge/":  # 20 MB, no Content-Length: the cap must stop the reading
            self.send(200, b"", "text/html", length=False)
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            try:
                for _ in range(20 * 1024 * 1024 // len(chunk)):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if path == "/doc.pdf":
            return self.send(200, b"%PDF-1.4\n" + b"0" * 5000, "application/pdf")
        if path == "/app/":
            return self.send(200, JS_PAGE.encode(), "text/html; charset=utf-8")
        return self.send(404, b"<html><body><p>not found</p></body></html>")


@pytest.fixture()
def server():
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


FAST = C.Settings(delay=0.0, timeout=0.5, max_bytes=1_000_000, max_pages=4, retries=2, backoff=0.01)

FIRMS = [  # company_id, website path (None: no website)
    ("gbk", "/gbk/"), ("utf8", "/utf8/"), ("moved", "/moved"), ("gone", "/gone"),
    ("missing", "/nothing-here/"), ("broken", "/broken/"), ("busy", "/busy/"), ("slow", "/slow/"),
    ("private", "/private/"), ("huge", "/huge/"), ("pdf", "/doc.pdf"), ("js", "/app/"),
    ("nosite", None), ("dns", "http://no-such-firm.invalid/"),
]


def write_corpus(path: Path, port: int) -> Path:
    rows = []
    for i, (cid, site) in enumerate(FIRMS):
        if site is not None and site.startswith("/"):
            site = f"http://127.0.0.1:{port}{site}"
        rows.append(dict(company_id=cid, name=f"Firm {cid}", city=["Beijing", "Shanghai", "Shenzhen"][i % 3],
                         founded_year=2015 + i % 6, description=f"A blockchain firm, {cid}.",
                         website=site or ""))
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def reasons(out: Path) -> dict[str, set]:
    table = pd.read_csv(out / "failures.csv", dtype=str, keep_default_na=False)
    return {cid: set(g["reason"]) for cid, g in table.groupby("company_id")}


def test_collect_fixture_sites(server, tmp_path):
    corpus_file = write_corpus(tmp_path / "firms.csv", server.port)
    out = tmp_path / "snap"
    summary = C.collect(corpus_file, out, FAST, progress=False)
    snap = pd.read_csv(out / "website_text.csv", dtype=str, keep_default_na=False)
    assert list(snap.columns) == snapshot.SNAPSHOT_COLUMNS
    texts = snapshot.firm_texts(snap)

    # GBK declared only in <meta>: home page plus the three business pages chosen by link text
    gbk = snap[snap["company_id"] == "gbk"]
    base = f"http://127.0.0.1:{server.port}"
    assert list(gbk["url"]) == [f"{base}/gbk/", f"{base}/gbk/about.html", f"{base}/gbk/cpzx.html",
                                f"{base}/gbk/fangan.html"]
    for text in (ZH_HOME, ZH_ABOUT, ZH_PRODUCTS, ZH_SOLUTIONS):
        assert text in texts["gbk"]
    assert "登录" not in " ".join(p for _, p in server.hits)  # never followed: not a business page
    assert not any(p in ("/gbk/login.html", "/gbk/news.html", "/gbk/jobs.html") for _, p in server.hits)
    # UTF-8 bytes under a wrong GB2312 header
    assert UTF8_TEXT in texts["utf8"]
    # same-host redirect, then English links chosen by text and path; the PDF link is never followed,
    # a 404 business page is recorded for the firm
    moved = snap[snap["company_id"] == "moved"]
    assert list(moved["url"]) == [f"{base}/en/", f"{base}/en/about-us/", f"{base}/en/products/",
                                  f"{base}/en/solutions.html"]
    assert list(moved["status"]) == ["200", "200", "200", "404"]
    assert EN_HOME in texts["moved"] and EN_ABOUT in texts["moved"] and EN_PRODUCTS in texts["moved"]
    assert ("127.0.0.1:%d" % server.port, "/en/brochure.pdf") not in server.hits
    # redirect to another host: the text and its final URL
    assert OTHER_TEXT in texts["gone"]
    assert snap.loc[snap["company_id"] == "gone", "url"].tolist() == [f"http://localhost:{server.port}/new/"]
    assert ("localhost:%d" % server.port, "/robots.txt") in server.hits  # robots of the new host checked
    # 429 then 200: retried after the backoff
    assert SMALL_TEXT in texts["busy"]

    why = reasons(out)
    assert why["moved"] == {"HTTP 404"}
    assert why["missing"] == {"HTTP 404"}
    assert why["broken"] == {"HTTP 500"}
    assert why["slow"] == {C.TIMEOUT}
    assert why["private"] == {C.ROBOTS}
    assert why["huge"] == {C.TOO_LARGE}
    assert why["pdf"] == {C.NOT_HTML}
    assert why["js"] == {C.EMPTY_TEXT}
    assert why["nosite"] == {C.NO_WEBSITE}
    assert why["dns"] == {C.DNS_FAILURE}
    assert {"gbk", "utf8", "gone", "busy"}.isdisjoint(why)
    assert texts.keys() == {"gbk", "utf8", "moved", "gone", "busy"}
    js = snap[snap["company_id"] == "js"]
    assert js["status"].tolist() == ["200"] and js["text"].tolist() == [""]

    # bounded retries: 500 asked 1 + retries times; the disallowed path never asked
    paths = Counter(p for _, p in server.hits)
    assert paths["/broken/"] == 1 + FAST.retries
    assert paths["/busy/"] == 2
    assert paths["/private/"] == 0
    assert paths["/robots.txt"] == 2  # once per host (127.0.0.1 and localhost)

    assert summary.failures[C.ROBOTS] == 1 and summary.failures["HTTP 404"] == 2
    assert summary.n_firms == len(FIRMS) and summary.n_with_website == len(FIRMS) - 1
    assert summary.n_firms_with_text == 5 and summary.pages_cached == 0
    assert summary.requests_made == len(server.hits) + 1  # the .invalid host never answered
    manifest = pd.read_csv(out / "manifest.csv", dtype=str, keep_default_na=False)
    row = manifest[(manifest["company_id"] == "gbk") & (manifest["kind"] == "home")].iloc[0]
    assert row["encoding"] == "gb18030" and row["source"] == "network" and len(row["sha256"]) == 64
    assert manifest.loc[manifest["company_id"] == "utf8", "encoding"].tolist()[-1] == "utf-8"
    assert manifest.loc[manifest["company_id"] == "private", "source"].tolist() == ["not fetched"]
    assert summary.pages_fetched == 16 + 1  # 16 answered, the slow one timed out

    # a rerun reads the cache: zero requests, the same snapshot
    before = len(server.hits)
    first = (out / "website_text.csv").read_bytes()
    again = C.collect(corpus_file, out, FAST, progress=False)
    assert len(server.hits) == before
    assert again.requests_made == 0 and again.pages_fetched == 0 and again.pages_cached > 0
    assert (out / "website_text.csv").read_bytes() == first
    assert reasons(out) == why

    # --refresh fetches again
    C.collect(corpus_file, out, FAST, refresh=True, progress=False)
    assert len(server.hits) > before


def test_snapshot_merged_by_loader(server, tmp_path):
    corpus_file = write_corpus(tmp_path / "firms.csv", server.port)
    out = tmp_path / "snap"
    C.collect(corpus_file, out, FAST, progress=False)
    plain = corpus.load(corpus_file)
    merged = corpus.load(corpus_file, website_snapshot=out)  # the folder or the CSV both work
    assert plain.firms["website_text"].isna().all()
    web = merged.firms.set_index("company_id")["website_text"]
    assert web["gbk"].split("\n\n")[0].startswith(ZH_HOME)
    order = [web["gbk"].index(t) for t in (ZH_HOME, ZH_ABOUT, ZH_PRODUCTS, ZH_SOLUTIONS)]
    assert order == sorted(order)  # home first, then the business pages in fetched order
    assert web["gbk"].count(ZH_ABOUT) == 1  # a line repeated on a page is kept once
    assert pd.isna(web["js"]) and pd.isna(web["nosite"])
    assert merged.website_snapshot.n_firms_with_text == 5
    same = corpus.load(corpus_file, website_snapshot=out / "website_text.csv")
    assert same.firms.equals(merged.firms)


def test_snapshot_errors(tmp_path):
    bad = tmp_path / "website_text.csv"
    bad.write_text("company_id,url,text\nx,http://a,hello\n", encoding="utf-8")
    with pytest.raises(snapshot.SnapshotError, match=r"website_text.csv: missing columns fetched_at, status, sha256"):
        snapshot.read(bad)
    bad.write_text("company_id,url,fetched_at,status,sha256,text\nsim-0001,http://a,,OK,,hi\n", encoding="utf-8")
    with pytest.raises(snapshot.SnapshotError, match=r"data row 1, column 'status': 'OK'"):
        snapshot.read(bad)
    bad.write_text("company_id,url,fetched_at,status,sha256,text\nnot-a-firm,http://a,,200,,hi\n", encoding="utf-8")
    with pytest.raises(corpus.CorpusError, match="none of its 1 company_id values is in the corpus"):
        corpus.load(None, website_snapshot=bad)
    with pytest.raises(corpus.CorpusError, match="no such snapshot file"):
        corpus.load(None, website_snapshot=tmp_path / "nope.csv")


@pytest.mark.parametrize("body,ctype,expected", [
    ("北京的区块链公司".encode("gbk"), "text/html", "gb18030"),  # no declaration: detected
    ('<meta charset="gb2312"><p>深圳</p>'.encode("gb18030"), "text/html; charset=iso-8859-1", "gb18030"),
    ("<p>上海</p>".encode("utf-8"), "text/html; charset=gbk", "utf-8"),
    ("<p>Zürich café</p>".encode("cp1252"), "text/html; charset=ISO-8859-1", "cp1252"),
    ("\ufeff<p>上海</p>".encode("utf-8"), None, "utf-8"),
])
def test_decode_html(body, ctype, expected):
    text, enc = C.decode_html(body, ctype)
    assert enc == expected
    assert text.lstrip("\ufeff") == body.decode(expected if expected != "utf-8" else "utf-8-sig")


def test_business_links_prefers_text_then_path_and_stays_on_site():
    html = ('<a href="/contact">联系我们</a><a href="/company/profile">Who we are</a>'
            '<a href="/gywm.html">关于我们</a><a href="https://www.example.com/chanpin/">核心技术</a>'
            '<a href="http://elsewhere.org/about">About them</a><a href="mailto:a@b.c">about</a>'
            '<a href="/solutions/x.pdf">Solutions</a><a href="/">首页</a>')
    got = C.business_links(html, "http://example.com/", 5)
    assert got == [("about", "http://example.com/gywm.html"), ("products", "https://www.example.com/chanpin/"),
                   ("about", "http://example.com/company/profile")]
    assert C.business_links(html, "http://example.com/", 1) == [("about", "http://example.com/gywm.html")]


def test_interrupted_run_resumes(server, tmp_path):
    corpus_file = write_corpus(tmp_path / "firms.csv", server.port)
    out = tmp_path / "snap"
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(var, None)
    cmd = [sys.executable, "-m", "analysis", "collect", str(corpus_file), "--out", str(out), "--quiet",
           "--delay", "0.3", "--timeout", "0.5", "--retries", "2", "--backoff", "0.01",
           "--max-bytes", "1000000"]
    # the run must start with Ctrl-C's default action even when this process ignores SIGINT (a
    # background job of a non-interactive shell inherits it ignored, and so would its children)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30
    while len(server.hits) < 6 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    assert not (out / "website_text.csv").exists()  # no half snapshot
    first = list(server.hits)
    assert 6 <= len(first) < 20

    summary = C.collect(corpus_file, out, FAST, progress=False)
    resumed = server.hits[len(first):]
    # nothing answered before the interruption is asked again (at most the request in flight)
    repeated = [h for h in resumed if h in first and h[1] not in ("/broken/",)]
    assert len(repeated) <= 1, repeated
    assert summary.pages_cached >= 1
    snap = pd.read_csv(out / "website_text.csv", dtype=str, keep_default_na=False)
    assert snapshot.firm_texts(snap).keys() == {"gbk", "utf8", "moved", "gone", "busy"}


def test_cli_summary(server, tmp_path, capsys):
    corpus_file = write_corpus(tmp_path / "firms.csv", server.port)
    out = tmp_path / "snap"
    args = [str(corpus_file), "--out", str(out), "--quiet", "--delay", "0", "--timeout", "0.5",
            "--backoff", "0.01", "--max-bytes", "1000000"]
    assert C.main(args) == 0
    text = capsys.readouterr().out
    assert "firms: 14 (13 with a website); 5 with website text, 9 without" in text
    assert "robots disallow" in text and "DNS failure" in text
    assert C.main(args) == 0
    assert "fetched 0," in capsys.readouterr().out


def _bundled_snapshot(path: Path, n: int = 3) -> Path:
    firms = corpus.load(None).firms
    ids = firms.loc[firms["website_text"].isna(), "company_id"].head(n)
    rows = [dict(company_id=cid, url=f"http://firm{i}.example/", fetched_at=f"2026-01-0{i + 1}T00:00:00Z",
                 status="200", sha256="0" * 64, text=f"网站正文 {i}") for i, cid in enumerate(ids)]
    pd.DataFrame(rows, columns=snapshot.SNAPSHOT_COLUMNS).to_csv(path, index=False)
    return path


def test_snapshot_is_a_build_input(tmp_path, monkeypatch):
    from analysis.build import runner

    snap = _bundled_snapshot(tmp_path / "website_text.csv")
    monkeypatch.chdir(tmp_path)
    from analysis.build import inputs

    params = runner.plan(overrides=["website_snapshot=website_text.csv"]).params
    assert params["website_snapshot"] == str(snap)  # made absolute for the chapters
    # the chapters' recorders count it as an input (the file, or the folder that holds it)
    assert str(snap.resolve()) in inputs.roots_for(params).split(os.pathsep)
    assert str(tmp_path.resolve()) in inputs.roots_for({**params, "website_snapshot": str(tmp_path)}).split(os.pathsep)
    recorded = inputs.digests([str(snap)])
    snap.write_text(snap.read_text(encoding="utf-8").replace("网站正文 0", "网站正文 零"), encoding="utf-8")
    assert inputs.changed(recorded) == [str(snap)]


def test_every_chapter_that_loads_the_corpus_reads_the_snapshot(tmp_path):
    from analysis.build import runner
    from analysis.present import prose

    book = runner.read_toc()
    for chapter in book.chapters:
        source = chapter.source.read_text(encoding="utf-8")
        declared = runner.declared_in(runner.parameters_cell(runner.read_chapter(chapter), chapter.name))
        if "corpus.load(" in source:
            assert "website_snapshot" in declared, chapter.name
            assert "corpus.load(corpus_path)" not in source, chapter.name
    snap = _bundled_snapshot(tmp_path / "website_text.csv")
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the loader tried to use the network")

    with pytest.MonkeyPatch.context() as mp:  # reading a snapshot never touches the network
        mp.setattr(socket, "getaddrinfo", no_network)
        mp.setattr(socket.socket, "connect", no_network)
        loaded = corpus.load(None, website_snapshot=tmp_path)
    note = prose.website_snapshot_note(loaded)
    assert "3 pages fetched from 2026-01-01T00:00:00Z to 2026-01-03T00:00:00Z" in note
    assert "which give 3 firms their website text" in note
    assert prose.escape(f"{snap.parent.name}/website_text.csv") in note
    assert "reads no collected website snapshot" in prose.website_snapshot_note(corpus.load(None))
