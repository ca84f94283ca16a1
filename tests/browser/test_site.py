"""The course website (site/build.py): built here for notebooks 01 and 03 (shortened training),
it shows the exercises without solutions, hidden tests or mark schemes, has the glossary and
the notation, loads nothing from outside, shows a widget as the figure it drew, and in
Chromium its maths is typeset, its figures load and every chapter link of the index opens
its chapter."""
import functools
import html
import http.server
import re
import subprocess
import sys
import threading

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.xdist_group("browser")

NOTEBOOK = "01_sequences"
WIDGETS = "03_vanishing_gradients"          # the gradient-decay explorer
# (The students' versions say that hidden tests exist, in a comment; their code is what must not show.)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "Mark scheme")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("myst_nb", reason="the site's tools are not installed (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run([sys.executable, str(ROOT / "site" / "build.py"), NOTEBOOK, WIDGETS, "--fast", "--out", str(out)],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "site built in" in build.stdout
    return out / "html"


def page_texts(site, markup=False):
    """{path: text} of every page: the visible text (tags removed: highlighted code is split
    into spans) or, with ``markup``, the HTML itself."""
    pages = {p: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    return {p: t if markup else html.unescape(re.sub(r"<[^>]+>", "", t)) for p, t in pages.items()}


def solution_lines(assignment):
    """The longer lines of the instructor's solution, hidden-test and mark-scheme regions that
    the students' version does not have (the secrets)."""
    import json

    nb = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    student = "\n".join("".join(c["source"]) for c in json.loads(
        (ROOT / "notebooks" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))["cells"])
    lines = []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        for block in re.findall(r"BEGIN (?:SOLUTION|HIDDEN TESTS)(.*?)END (?:SOLUTION|HIDDEN TESTS)", text, re.S):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) >= 30]
        if "Mark scheme" in text:
            lines += [line.strip() for line in text.split("Mark scheme", 1)[1].splitlines() if len(line.strip()) >= 30]
    return [line for line in lines if line not in student]


def test_the_site_shows_no_solution_hidden_test_or_mark_scheme(site):
    texts = page_texts(site)
    assert any(p.name == f"{NOTEBOOK}.html" for p in texts)
    leaked = [(p.name, m) for p, t in texts.items() for m in MARKERS if m in t]
    assert leaked == []
    secret = solution_lines(NOTEBOOK)
    assert len(secret) > 5, "the instructor's notebook should have solution lines to look for"
    page = texts[site / NOTEBOOK / f"{NOTEBOOK}.html"]
    assert [line for line in secret if line in page] == []
    assert "raise NotImplementedError()" in page and "YOUR ANSWER HERE" in page   # exercises shown as such


def test_the_site_has_the_glossary_the_notation_and_no_remote_assets(site):
    texts = page_texts(site)
    glossary = texts[site / "glossary.html"]
    assert "循环神经网络" in glossary and "teacher forcing" in glossary
    assert "spectral radius" in texts[site / "notation.html"]
    remote = {p.name: re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+\.(?:js|css|woff2?)""", t)
              for p, t in page_texts(site, markup=True).items()}
    assert {name: urls for name, urls in remote.items() if urls} == {}
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_a_widget_shows_as_the_figure_it_drew(site):
    page = (site / WIDGETS / f"{WIDGETS}.html").read_text(encoding="utf-8")
    assert "Interactive in JupyterLab: here, as it first appears" in page
    assert "widget-view+json" not in page


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_page_typesets_its_maths_and_loads_its_figures_offline(sync_playwright_browser, served, request):
    context = sync_playwright_browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    outside = []
    page.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: (outside.append(route.request.url), route.abort()))
    try:
        page.goto(f"{served}/{NOTEBOOK}/{NOTEBOOK}.html")
        page.wait_for_function("document.querySelectorAll('mjx-container').length > 20", timeout=30_000)
        raw = page.evaluate("[...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length")
        assert raw == 0, f"{raw} formulas were left as TeX source"
        figures = page.locator("article img")
        assert figures.count() >= 5
        for i in range(figures.count()):
            figures.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("[...document.querySelectorAll('article img')].every(i => i.complete)")
        broken = page.evaluate("[...document.querySelectorAll('article img')].filter(i => i.naturalWidth === 0)"
                               ".map(i => i.src)")
        assert broken == []
        assert outside == [], f"the page asked for {outside}"
    except Exception:
        from .conftest import ARTIFACTS
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
        print(f"screenshot of the failure: {ARTIFACTS / (request.node.name + '.png')}")
        raise
    finally:
        context.close()


def test_every_chapter_link_of_the_index_opens_its_chapter(sync_playwright_browser, served):
    context = sync_playwright_browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{served}/index.html")
        table = page.locator("article table")
        links = table.locator("a")
        names = [text.strip() for text in links.all_inner_texts()]
        assert names == [NOTEBOOK, WIDGETS], names          # the chapters built, as links
        for name in names:
            page.goto(f"{served}/index.html")
            page.locator("article table a", has_text=name).click()
            page.wait_for_url(f"**/{name}/{name}.html")
            assert page.locator("article h1").count() >= 1
    finally:
        context.close()
