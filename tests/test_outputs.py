"""Writing outputs: complete, escaped Markdown; atomic writes; safe run names; deterministic
figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from crosscase import figures, outputs
from crosscase.paths import check_run_name


def test_markdown_is_complete_and_escaped() -> None:
    long = "word " * 200 + "END"
    table = pd.DataFrame({"a": [long, "<script>alert(1)</script> | pipe"]})
    md = outputs.to_markdown(table)
    assert "END" in md  # no truncation
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "\\| pipe" in md


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    outputs.atomic_write(tmp_path / "x.csv", "a\n")
    outputs.atomic_write(tmp_path / "x.csv", "b\n")
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
    assert (tmp_path / "x.csv").read_text() == "b\n"


@pytest.mark.parametrize("bad", ["../paper", "a/b", "..", "", ".hidden", "x y"])
def test_unsafe_run_names_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not safe"):
        check_run_name(bad)


def test_figures_are_byte_identical_and_carry_no_timestamp() -> None:
    def draw() -> tuple[bytes, bytes]:
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2])
        ax.set_title("x")
        out = figures.figure_bytes(fig, "png"), figures.figure_bytes(fig, "svg")
        plt.close(fig)
        return out

    first, second = draw(), draw()
    assert first == second
    png, svg = first
    assert b"Software" not in png and b"matplotlib" not in png.lower()
    assert b"<dc:date>" not in svg and b"Matplotlib v" not in svg


def test_outputs_follow_the_umask(tmp_path: Path) -> None:
    """Outputs are readable by colleagues on a shared server (umask 022 gives 0644), not 0600."""
    import os

    old = os.umask(0o022)
    try:
        path = outputs.atomic_write(tmp_path / "t.csv", "a\n")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def _map_layout(tmp_path: Path, items: list[dict]) -> object:
    import yaml

    from crosscase.paths import Layout

    layout = Layout.at(tmp_path)
    layout.paper_map_file.parent.mkdir(parents=True, exist_ok=True)
    layout.paper_map_file.write_text(yaml.safe_dump({"items": items}))
    return layout


def test_the_output_map_keeps_its_columns_apart(tmp_path: Path) -> None:
    """`make` ends with the map of outputs: however long an item's name, its notebook stays a
    column of its own, and each output file has a line of its own."""
    from crosscase.workflow.papermap import output_map

    long_item = "Chain of evidence (compendium), with a longer name"
    layout = _map_layout(
        tmp_path,
        [
            {"item": "Table 1", "notebook": "01-cases.ipynb", "tables": ["t1", "t1b"]},
            {"item": long_item, "notebook": "08-chain.ipynb", "figures": ["f"]},
        ],
    )
    lines = output_map(layout, "paper").splitlines()
    row = next(line for line in lines if line.startswith(long_item))
    assert row[len(long_item) :].startswith("  ") and "08-chain.ipynb" in row
    column = lines[0].index("Notebook")
    assert row.index("08-chain.ipynb") == column
    assert sum("t1" in line for line in lines) == 2  # t1 and t1b each on a line


def test_the_output_map_lists_the_comparison_tables_of_an_extension_run(tmp_path: Path) -> None:
    """theme-changes and discriminator-changes exist only for a run compared with a baseline:
    the map lists them for such a run, and only then."""
    from crosscase.workflow.papermap import output_map

    layout = _map_layout(
        tmp_path,
        [{"item": "Table 3", "notebook": "03.ipynb", "tables": ["t3"], "compared": ["changes"]}],
    )
    assert "changes" not in output_map(layout, "paper")
    layout.tables_dir("ext").mkdir(parents=True)  # type: ignore[attr-defined]
    (layout.tables_dir("ext") / "changes.csv").write_text("a\n1\n")  # type: ignore[attr-defined]
    assert "data/processed/ext/changes.{csv,md}" in output_map(layout, "ext")


def test_a_one_case_rule_and_a_one_case_run_say_1_case(tmp_path: Path) -> None:
    """Counts agree with their noun wherever the package words them: the rule, the run's
    record and the notebook's header."""
    from crosscase.evidence import DiscriminatorRule
    from crosscase.workflow.runs import Run

    assert DiscriminatorRule(1).describe(1) == "at least 1 case (threshold: 1 case)"
    assert DiscriminatorRule(1).requirement(5) == "at least 1 case"
    assert DiscriminatorRule(1, 0.1).requirement(5) == (
        "at least 1 case and at least 10% of the 5 coded cases, that is 1 case"
    )
    facts = dict(Run("one", ("data/raw/cases",), 1, None).describe())
    assert "at least 1 case" in facts["Discriminator rule"]
    assert "1 cases" not in facts["Discriminator rule"]
