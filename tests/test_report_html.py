"""The report's HTML is built from autoescaped templates: names from the paper map, the notebooks
and the data reach the page as text, never as markup (no browser needed for this check)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from lxml import html

from crosscase.paths import Layout
from crosscase.report import build_report

HOSTILE = '"><script>window.__x = 1</script>'


def test_names_from_the_map_and_the_notebooks_are_escaped(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A notebook")]
    path = tmp_path / f"01-x{HOSTILE.replace('/', '')}.ipynb"
    nbformat.write(nb, path)
    paper_map = [
        {
            "item": f"Table {HOSTILE}",
            "title": HOSTILE,
            "section": HOSTILE,
            "notebook": path.name,
            "tables": [f"t{HOSTILE.replace('/', '')}"],
            "figures": [f"f{HOSTILE.replace('/', '')}"],
        }
    ]
    out = tmp_path / "report"
    build_report(Layout(tmp_path, tmp_path), "run", [path], out, paper_map)
    for page in out.glob("*.html"):
        tree = html.fromstring(page.read_bytes())
        assert tree.xpath("//script") == [], page.name
        assert all(not a.startswith("on") for el in tree.iter() for a in el.attrib), page.name
