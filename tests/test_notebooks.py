"""The committed notebooks are executed, clean locks: nbval compares what they hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


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


def test_the_guide_documents_every_declared_parameter_and_no_other() -> None:
    """docs/reproducing.md's table of parameters names every parameter a notebook declares in its
    `parameters` cell, and the notebooks that declare it, so a user can find each one without
    opening the notebooks."""
    import re

    from crosscase.workflow.execute import declared_parameters

    guide = (ROOT / "docs" / "reproducing.md").read_text(encoding="utf-8")
    table = guide[guide.index("| parameter | notebooks |") :].split("\n\n")[0]
    documented: dict[str, str] = {}
    for row in table.splitlines()[2:]:
        names, notebooks = row.split("|")[1:3]
        for name in re.findall(r"`(\w+)`", names):
            documented[name] = notebooks.strip()
    declared: dict[str, set[str]] = {}
    for nb in NOTEBOOKS:
        for name in declared_parameters(nb):
            declared.setdefault(name, set()).add(nb.name[:2])
    assert set(documented) == set(declared)
    for name, numbers in declared.items():
        said = documented[name]
        listed = set(re.findall(r"\d\d", said))
        if said.startswith("all but"):
            listed = {nb.name[:2] for nb in NOTEBOOKS} - listed
        elif said == "all":
            listed = {nb.name[:2] for nb in NOTEBOOKS}
        assert listed == numbers, (name, said, sorted(numbers))


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


def _run_by_hand(tmp_path: Path, parameters: dict) -> str:
    """Notebook 01 executed with plain papermill (as in JupyterLab: its parameters cell edited)
    for a run that has a record of six cases; what it printed. Outputs go under ``tmp_path``."""
    import os

    import papermill
    import yaml

    record = tmp_path / "data" / "processed" / "agri" / "run.yaml"
    record.parent.mkdir(parents=True)
    cases = ["data/raw/cases", "examples/illustrative/cases"]
    record.write_text(yaml.safe_dump({"run": "agri", "cases": cases, "min_cases": 3}))
    before = os.environ.get("CROSSCASE_OUTPUT_ROOT")
    os.environ["CROSSCASE_OUTPUT_ROOT"] = str(tmp_path)
    try:
        nb = papermill.execute_notebook(
            str(ROOT / "notebooks" / "01-cases.ipynb"),
            str(tmp_path / "01.ipynb"),
            parameters=parameters,
            cwd=str(ROOT),
            progress_bar=False,
        )
    finally:
        os.environ["CROSSCASE_OUTPUT_ROOT"] = before or ""
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


def test_a_notebook_run_by_hand_takes_its_runs_recorded_case_set(tmp_path: Path) -> None:
    """A recorded run's notebook run by hand with `cases` left at its default analyses the run's
    case set, not the study's own: its folders never mix two analyses (issue 18)."""
    said = _run_by_hand(tmp_path, {"run": "agri"})
    assert "Run 'agri': 6 cases" in said, said


def test_a_notebook_run_by_hand_refuses_another_case_set_for_a_recorded_run(tmp_path) -> None:
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError, match="run 'agri' was made with"):
        _run_by_hand(tmp_path, {"run": "agri", "cases": ["data/raw/cases"]})
    assert not (tmp_path / "data" / "processed" / "agri" / "table-1-case-protocols.csv").exists()
