"""The HTML report, tested in headless Chromium: every page loads with no console error and no
request leaving the machine, every table of the paper is there with its row count, the figures
render, and case text that looks like HTML is shown as text, never executed. The evidence
browser: a page per theme and per case (named from the raw data), every link resolves, the walk
from Table 3 to a highlighted passage, every highlighted passage is its observation's evidence,
and an extension run shows the new case the same way."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import urldefrag

import nbformat
import pandas as pd
import pytest
import yaml
from conftest import CHROMIUM_ARGS, NOTEBOOKS, ROOT, hostile_report, need_chromium
from lxml import html as lhtml

from crosscase.evidence import DiscriminatorRule, collect
from crosscase.model import Study
from crosscase.outputs import to_markdown
from crosscase.paths import Layout
from crosscase.report.build import build_report
from crosscase.study import load_study
from crosscase.workflow.runs import Run

SCREENSHOT = ROOT / "build" / "test-artifacts" / "report-index.png"
_PAPER = yaml.safe_load((ROOT / "tests" / "expected" / "paper.yaml").read_text(encoding="utf-8"))
#: Row counts of the paper's tables, from the independent transcription.
EXPECTED_ROWS = {
    "table-1-case-protocols": _PAPER["table1"]["rows"],
    "table-2-within-case-narratives": len(_PAPER["table2"]["row_labels"]),
    "table-3-cross-case-data-display": len(_PAPER["table3"]["row_labels"]),
    "table-4-production-model-comparison": len(_PAPER["table4"]["row_labels"]),
    "design-rules": len(_PAPER["design_rules"]),
    "appendix-interview-protocol": len(_PAPER["dimensions"]),
}

need_chromium()  # skips here, fails in CI, without chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=need_chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def serve() -> Iterator[object]:
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    #: the paths asked for that the folder does not hold (a browser asks for /favicon.ico by
    #: itself, after the page has loaded, unless the page names its icon)
    missing: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def send_error(self, code: int, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if code == 404:
            _QuietHandler.missing.append(self.path)
        super().send_error(code, *args, **kwargs)


def _visit(browser, url: str, origin: str, screenshot: Path | None = None) -> tuple[object, dict]:
    page = browser.new_page()
    seen: dict[str, list[str]] = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(url, wait_until="load")
    if screenshot:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=False)
    assert seen["errors"] == [], seen["errors"]
    outside = [
        u for u in seen["requests"] if not u.startswith(origin) and not u.startswith("data:")
    ]
    assert outside == [], f"requests leaving the machine: {outside}"
    return page, seen


PAPER_MAP = yaml.safe_load((ROOT / "notebooks" / "paper-map.yaml").read_text())["items"]
EXAMPLE = ROOT / "examples" / "illustrative"


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _evidence_of(*case_sets: Path) -> dict[str, str]:
    """Observation id -> its evidence passage (white space folded), read from the raw files of
    the case sets, not through the package."""
    return {
        o["id"]: " ".join(o["evidence"].split())
        for folder in case_sets
        for path in sorted((folder / "observations").glob("*.yaml"))
        for o in _yaml(path)["observations"]
        if o.get("evidence")
    }


def _browser_pages(*case_sets: Path) -> set[str]:
    """The evidence pages a report must hold: the index, the data display, a page per theme and
    a page per case (named from the raw data)."""
    themes = [t["id"] for folder in case_sets for t in _yaml(folder / "themes.yaml")["themes"]]
    cases = [p.stem for folder in case_sets for p in (folder / "cases").glob("*.yaml")]
    return {
        "evidence.html",
        "data-display.html",
        *(f"theme-{t}.html" for t in themes),
        *(f"case-{c}.html" for c in cases),
    }


def _run(name: str, *cases: str) -> Run:
    return Run(name, cases, 3, None)


def _run_study(cases: list[str]) -> tuple[Study, object]:
    study = load_study(Layout.at(ROOT), cases)
    return study, collect(study, DiscriminatorRule(3))


@pytest.fixture(scope="module")
def report(workflow, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    layout = Layout(ROOT, workflow.output_root)
    study, evidence = _run_study(["data/raw/cases"])
    build_report(layout, _run("paper", "data/raw/cases"), workflow.notebooks, out, study, evidence)
    return out


def _marks(page) -> dict[str, str]:
    """Observation id -> the text of the marks that hold its passage, joined in page order."""
    found: dict[str, str] = {}
    for ids, text in page.eval_on_selector_all(
        "mark", "ms => ms.map(m => [m.dataset.observations, m.textContent])"
    ):
        for ident in ids.split():
            found[ident] = found.get(ident, "") + text
    return found


def test_every_page_loads_offline_without_errors(browser, serve, report: Path) -> None:
    """Every page: no console error, no request leaving the machine. Notebook pages hold their
    tables; every highlighted passage of the evidence pages is its observation's evidence."""
    origin = serve(report)
    _QuietHandler.missing.clear()
    pages = sorted(p.name for p in report.glob("*.html"))
    notebooks = {f"{nb.stem}.html" for nb in NOTEBOOKS}
    browser_pages = _browser_pages(ROOT / "data" / "raw")
    assert set(pages) == {"index.html"} | notebooks | browser_pages
    evidence = _evidence_of(ROOT / "data" / "raw")
    marked: set[str] = set()
    page = browser.new_page()  # one tab for every page: the visits are sequential anyway
    seen: dict[str, list[str]] = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    for name in pages:
        seen["requests"].clear()
        seen["errors"].clear()
        page.goto(origin + name, wait_until="load")
        if name == "index.html":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=False)
        assert seen["errors"] == [], (name, seen["errors"])
        outside = [u for u in seen["requests"] if not u.startswith((origin, "data:"))]
        assert outside == [], f"{name}: requests leaving the machine: {outside}"
        assert page.locator("main").inner_text().strip()
        if name in notebooks:
            assert page.locator("main table").count() >= 1
        if name.startswith(("theme-", "case-")):
            marks = _marks(page)
            assert marks, name
            assert {k: v for k, v in marks.items() if evidence[k] != v} == {}, name
            marked |= set(marks)
    page.wait_for_load_state("networkidle")
    page.close()
    assert marked == set(evidence), "every passage is highlighted somewhere"
    # Nothing asked for that the report does not hold (a 404 after a page's load, such as the
    # icon a browser asks for, is logged as an error against whichever page comes next)
    assert _QuietHandler.missing == []
    assert SCREENSHOT.stat().st_size > 10_000


def test_every_link_resolves(report: Path) -> None:
    """Every link between the report's pages reaches a file, and every #anchor an element."""
    ids: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []
    for path in sorted(report.glob("*.html")):
        tree = lhtml.fromstring(path.read_bytes())
        ids[path.name] = set(tree.xpath("//@id"))
        links += [(path.name, href) for href in tree.xpath("//a/@href")]

    def resolves(page: str, href: str) -> bool:
        target, anchor = urldefrag(href)
        target = target or page
        if re.match(r"^[a-z]+:", target):  # nothing may point off the machine
            return False
        if not (report / target).is_file():
            return False
        return not anchor or not target.endswith(".html") or anchor in ids[target]

    broken = [(page, href) for page, href in links if not resolves(page, href)]
    assert len(links) > 500 and broken == []


def test_walk_from_table_3_to_a_highlighted_passage(browser, serve, report: Path) -> None:
    """Index -> the data display (Table 3) -> a theme of its last column -> the passage of each
    case's observation, highlighted in the narrative; and on to the case's page."""
    origin = serve(report)
    evidence = _evidence_of(ROOT / "data" / "raw")
    observations = {
        o["id"]: o
        for p in (ROOT / "data" / "raw" / "observations").glob("*.yaml")
        for o in _yaml(p)["observations"]
    }
    page, _ = _visit(browser, origin + "index.html", origin)
    page.get_by_role("link", name="data display").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("data-display.html")
    theme = _yaml(ROOT / "data" / "raw" / "themes.yaml")["themes"][2]
    page.locator("a.theme", has_text=theme["label"]).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"theme-{theme['id']}.html")
    articles = page.locator("article.observation")
    assert articles.count() >= 3
    for i in range(articles.count()):
        article = articles.nth(i)
        ident = article.get_attribute("id").removeprefix("obs-")
        assert theme["id"] in observations[ident]["themes"]
        if ident in evidence:
            mark = article.locator("mark")
            assert mark.is_visible() and mark.text_content() == evidence[ident]
    first = articles.first.get_attribute("id")
    articles.first.locator(".id a").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"#{first}")
    assert page.locator(f"#{first}").is_visible()
    page.close()


def test_a_script_in_a_passage_stays_text(browser, serve, tmp_path: Path) -> None:
    hostile = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'
    out = tmp_path / "report"
    study = hostile_report(out, hostile)
    co = next(c for c in study.observations if c.observation.evidence == hostile)
    origin = serve(out)
    for name in [f"theme-{co.observation.themes[0]}.html", f"case-{co.case}.html"]:
        page, seen = _visit(browser, origin + name, origin)
        assert page.evaluate("window.__pwned") is None
        assert _marks(page)[co.observation.id] == hostile
        assert not any(u.endswith("/x") for u in seen["requests"])
        page.close()


def test_an_extension_run_shows_the_new_case_the_same_way(browser, serve, tmp_path: Path) -> None:
    """The report of a run with the worked example's sixth case: its case page, its candidate
    theme's page and the paper's themes it evidences show its passages highlighted."""
    study, evidence = _run_study(["data/raw/cases", "examples/illustrative/cases"])
    out = tmp_path / "report"
    run = _run("illustrative", "data/raw/cases", "examples/illustrative/cases")
    build_report(Layout(ROOT, tmp_path), run, [], out, study, evidence, [])
    pages = {p.name for p in out.glob("*.html")}
    assert pages == {"index.html"} | _browser_pages(ROOT / "data" / "raw", EXAMPLE)
    example = _yaml(EXAMPLE / "observations" / "hospital-splints.yaml")["observations"]
    passages = _evidence_of(EXAMPLE)
    origin = serve(out)
    page, _ = _visit(browser, origin + "case-hospital-splints.html", origin)
    assert _marks(page) == {o["id"]: passages[o["id"]] for o in example}
    page.close()
    for theme in sorted({t for o in example for t in o["themes"]}):
        page, _ = _visit(browser, origin + f"theme-{theme}.html", origin)
        section = page.locator("#case-6")
        assert section.is_visible(), theme
        ids = {a.get_attribute("id") for a in section.locator("article").all()}
        want = {f"obs-{o['id']}" for o in example if theme in o["themes"]}
        assert ids == want
        marks = _marks(page)
        assert all(marks[i.removeprefix("obs-")] == passages[i.removeprefix("obs-")] for i in ids)
        page.close()


def test_index_maps_every_table_with_its_rows(browser, serve, report: Path) -> None:
    origin = serve(report)
    page, _ = _visit(browser, origin + "index.html", origin)
    text = page.locator("table.map").inner_text()
    for item in [
        "Table 1",
        "Table 2",
        "Table 3",
        "Table 4",
        "Design rules",
        "Figure 1",
        "Appendix",
    ]:
        assert item in text
    for table, rows in EXPECTED_ROWS.items():
        assert page.locator(f'.rows[data-table="{table}"]').inner_text() == str(rows)
    for table in EXPECTED_ROWS:
        resp = page.request.get(origin + f"files/{table}.csv")
        assert resp.ok
    assert "Commit" in page.locator("table.provenance").inner_text()
    page.close()


def test_figures_render(browser, serve, report: Path) -> None:
    origin = serve(report)
    page, _ = _visit(browser, origin + "index.html", origin)
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) >= 5 and all(w > 100 for w in widths)
    page.close()
    page, _ = _visit(browser, origin + "05-research-framework.html", origin)
    assert page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")[0] > 100
    page.close()


def test_tables_in_notebook_pages_have_their_rows(browser, serve, report: Path) -> None:
    origin = serve(report)
    page, _ = _visit(browser, origin + "01-cases.html", origin)
    rows = page.eval_on_selector_all("main table", "ts => ts.map(t => t.tBodies[0].rows.length)")
    assert rows[:2] == [  # Table 1 (cases), Table 2 (dimensions)
        EXPECTED_ROWS["table-1-case-protocols"],
        EXPECTED_ROWS["table-2-within-case-narratives"],
    ]
    page.close()


def test_case_text_that_looks_like_html_is_shown_as_text(browser, serve, tmp_path: Path) -> None:
    hostile = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'
    table = pd.DataFrame({"Dimension": ["Supply network structure"], "Case": [hostile]})
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("nb.table(...)", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/markdown": to_markdown(table), "text/plain": "<Markdown>"}
        )
    ]
    nb.cells = [cell]
    path = tmp_path / "01-hostile.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "report"
    study, evidence = _run_study(["data/raw/cases"])
    build_report(
        Layout(ROOT, tmp_path), _run("hostile", "data/raw/cases"), [path], out, study, evidence, []
    )
    origin = serve(out)
    page, seen = _visit(browser, origin + "01-hostile.html", origin)
    assert page.evaluate("window.__pwned") is None
    assert "<script>window.__pwned = 1</script>" in page.locator("main table").inner_text()
    assert not any(u.endswith("/x") for u in seen["requests"])
    page.close()
