"""Two consecutive runs of the whole workflow give byte-identical tables and figures."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crosscase.runner import execute

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _run_all(output_root: Path, work: Path) -> dict[str, str]:
    env_before = os.environ.get("CROSSCASE_OUTPUT_ROOT")
    os.environ["CROSSCASE_OUTPUT_ROOT"] = str(output_root)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda nb: execute(nb, work / nb.name, cwd=ROOT), NOTEBOOKS))
    finally:
        if env_before is None:
            del os.environ["CROSSCASE_OUTPUT_ROOT"]
        else:
            os.environ["CROSSCASE_OUTPUT_ROOT"] = env_before
    return {
        p.relative_to(output_root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(output_root.rglob("*"))
        if p.is_file()
    }


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    raw_before = _tree(ROOT / "data" / "raw")
    first = _run_all(tmp_path / "a", tmp_path / "nb-a")
    second = _run_all(tmp_path / "b", tmp_path / "nb-b")
    assert len(first) == 52  # 21 tables x (CSV, Markdown) + 5 figures x (PNG, SVG)
    assert first == second
    assert _tree(ROOT / "data" / "raw") == raw_before, "the workflow never writes to data/raw"
