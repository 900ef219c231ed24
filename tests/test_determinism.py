"""Two consecutive runs of the whole workflow give byte-identical tables and figures, and a run
never writes to data/raw."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import ROOT, run_notebooks


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_runs_are_byte_identical(executed_run, tmp_path: Path) -> None:
    raw_before = _tree(ROOT / "data" / "raw")
    first = _tree(executed_run[0])
    run_notebooks(tmp_path / "b", tmp_path / "nb-b")
    second = _tree(tmp_path / "b")
    assert len(first) == 52  # 21 tables x (CSV, Markdown) + 5 figures x (PNG, SVG)
    assert first == second
    assert _tree(ROOT / "data" / "raw") == raw_before, "the workflow never writes to data/raw"
