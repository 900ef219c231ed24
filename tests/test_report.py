"""The HTML report, tested in headless Chromium: every page loads with no console error and no
request leaving the machine, every table of the paper is there with its row count, the figures
render, and case text that looks like HTML is shown as text, never executed."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from conftest import NOTEBOOKS, ROOT

from crosscase.outputs import to_markdown
from crosscase.paths import Layout
from crosscase.report import build_report
from crosscase.study import load_description

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = ROOT / "build" / "test-artifacts" / "report-index.png"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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

if CHROMIUM is None:  # .ci/run installs Debian's chromium and sets CI: there it must run
    if os.environ.get("CI"):
        raise RuntimeError(
            "the browser test needs Debian's chromium package (apt-get install chromium)"
        )
    pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
    def log_message(self, *args: object) -> None:
        pass


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


@pytest.fixture(scope="module")
def report(workflow, tmp_path_factory) -> Path:
    paper_map = yaml.safe_load((ROOT / "notebooks" / "paper-map.yaml").read_text())["items"]
    out = tmp_path_factory.mktemp("report")
    layout = Layout(ROOT, workflow.output_root)
    build_report(layout, "paper", workflow.notebooks, out, paper_map, load_description(layout))
    return out


def test_every_page_loads_offline_without_errors(browser, serve, report: Path) -> None:
    origin = serve(report)
    pages = sorted(p.name for p in report.glob("*.html"))
    assert len(pages) == 1 + len(NOTEBOOKS)  # the index and a page per notebook
    for name in pages:
        page, _ = _visit(
            browser, origin + name, origin, SCREENSHOT if name == "index.html" else None
        )
        assert page.locator("main").inner_text().strip()
        if name != "index.html":
            assert page.locator("main table").count() >= 1
        page.close()
    assert SCREENSHOT.stat().st_size > 10_000


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
    build_report(Layout(ROOT, tmp_path), "hostile", [path], out, [])
    origin = serve(out)
    page, seen = _visit(browser, origin + "01-hostile.html", origin)
    assert page.evaluate("window.__pwned") is None
    assert "<script>window.__pwned = 1</script>" in page.locator("main table").inner_text()
    assert not any(u.endswith("/x") for u in seen["requests"])
    page.close()
