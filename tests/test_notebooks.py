"""The committed notebooks are executed, clean locks: nbval compares what they hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_there_are_eight_numbered_notebooks() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_is_executed_in_order(path: Path) -> None:
    counts = [c["execution_count"] for c in _cells(path)]
    assert counts == list(range(1, len(counts) + 1)), "re-run `make relock`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_warnings_or_volatile_metadata(path: Path) -> None:
    nb = json.loads(path.read_text())
    assert "papermill" not in nb["metadata"]
    for cell in _cells(path):
        assert "papermill" not in cell["metadata"] and "execution" not in cell["metadata"]
        for out in cell["outputs"]:
            assert out["output_type"] != "error"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), out["text"]
            assert "text/html" not in out.get("data", {}), "HTML output is version-dependent"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_is_tagged(path: Path) -> None:
    tagged = [c for c in _cells(path) if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_table_is_locked_in_full(path: Path) -> None:
    """Each table cell's stored output holds the whole table (Markdown, not a truncated repr)
    and the notebook ends with the checksums of every file it wrote."""
    cells = _cells(path)
    md = [
        o["data"]["text/markdown"]
        for c in cells
        for o in c["outputs"]
        if "text/markdown" in o.get("data", {})
    ]
    assert md and "Outputs of this notebook" in "".join(md[-1])
    assert all("..." not in "".join(m) for m in md)


def test_paper_map_names_the_notebook_that_writes_each_output() -> None:
    """notebooks/paper-map.yaml (printed by `make`, used by the report) is true: each table and
    figure it names is in the output manifest of the notebook it names."""
    import yaml

    items = yaml.safe_load((ROOT / "notebooks" / "paper-map.yaml").read_text())["items"]
    for item in items:
        cells = _cells(ROOT / "notebooks" / item["notebook"])
        manifest = "".join(cells[-1]["outputs"][0]["data"]["text/markdown"])
        for name in item.get("tables", []):
            assert f"data/processed/paper/{name}.csv" in manifest, (item["item"], name)
        for name in item.get("figures", []):
            assert f"figures/paper/{name}.png" in manifest, (item["item"], name)
        for name in item.get("files", []):
            assert f"data/processed/paper/{name}" in manifest, (item["item"], name)


def test_the_readme_names_every_declared_parameter() -> None:
    """The README's list of parameters covers every name a notebook declares in its
    `parameters` cell, so a user can find each one without opening the notebooks."""
    from crosscase.workflow.execute import declared_parameters

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("Parameters (the cell tagged `parameters`")
    listed = readme[start : readme.index("\n\n", start)]
    declared = {name for nb in NOTEBOOKS for name in declared_parameters(nb)}
    missing = sorted(name for name in declared if f"`{name}`" not in listed)
    assert not missing, f"README's parameter list omits {missing}"


def test_paper_map_covers_every_output() -> None:
    """Every table, figure and file a notebook writes is on the map (and so in `make`'s list
    and the report's index): showyourwork's rule that each output is traceable."""
    import re

    import yaml

    items = yaml.safe_load((ROOT / "notebooks" / "paper-map.yaml").read_text())["items"]
    mapped = {
        (item["notebook"], name)
        for item in items
        for key in ("tables", "figures", "files")
        for name in item.get(key, [])
    }
    written = set()
    for path in NOTEBOOKS:
        manifest = "".join(_cells(path)[-1]["outputs"][0]["data"]["text/markdown"])
        for found in re.findall(r"(?:data/processed|figures)/paper/([^\s|`]+)", manifest):
            stem, _, ext = found.rpartition(".")
            name = found if ext == "jsonl" else stem
            written.add((path.name, name))
    assert not sorted(written - mapped), "outputs missing from notebooks/paper-map.yaml"
