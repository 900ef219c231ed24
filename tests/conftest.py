"""Shared fixtures. Notebooks re-executed by the tests (nbval, determinism) write their outputs
under a temporary folder (CROSSCASE_OUTPUT_ROOT), never over the outputs of `make`."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
import yaml

from crosscase import Layout, Study, load_study
from crosscase.analysis import DiscriminatorRule, second_order_themes

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected" / "paper.yaml"
PAPER = (
    ROOT / "data" / "external" / "srai-et-al-2020" / "srai-et-al-2020-distributed-manufacturing.md"
)


def pytest_configure(config: pytest.Config) -> None:
    if "CROSSCASE_OUTPUT_ROOT" not in os.environ:
        out = Path(tempfile.mkdtemp(prefix="crosscase-test-outputs-"))
        os.environ["CROSSCASE_OUTPUT_ROOT"] = str(out)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")


@pytest.fixture(scope="session")
def layout() -> Layout:
    return Layout(root=ROOT, output_root=Path(os.environ["CROSSCASE_OUTPUT_ROOT"]))


@pytest.fixture(scope="session")
def study(layout: Layout) -> Study:
    return load_study(layout)


@pytest.fixture(scope="session")
def expected() -> dict:
    return yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def themes(study: Study, expected: dict):
    return second_order_themes(
        study, DiscriminatorRule(expected["discriminator_rule"]["min_cases"])
    )


def plain(text: str) -> str:
    """Text of the paper's extraction without markup, white space folded."""
    # Inline markup: no space (the extraction also puts one before punctuation after </i>).
    text = re.sub(r"</(i|b|em|strong)>\s+([.,;:])", r"\2", text)
    text = re.sub(r"</?(i|b|em|strong)>", "", text)
    text = re.sub(r"<li>", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&amp;", "&")
    return " ".join(text.split())


@pytest.fixture(scope="session")
def paper_text() -> str:
    return plain(PAPER.read_text(encoding="utf-8"))


def run_notebooks(output_root: Path, work: Path) -> list[Path]:
    """Execute every notebook with its defaults, outputs under ``output_root``; return the
    executed copies (in ``work``)."""
    from concurrent.futures import ThreadPoolExecutor

    from crosscase.runner import execute

    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    before = os.environ.get("CROSSCASE_OUTPUT_ROOT")
    os.environ["CROSSCASE_OUTPUT_ROOT"] = str(output_root)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda nb: execute(nb, work / nb.name, cwd=ROOT), notebooks))
    finally:
        if before is None:
            del os.environ["CROSSCASE_OUTPUT_ROOT"]
        else:
            os.environ["CROSSCASE_OUTPUT_ROOT"] = before
    return [work / nb.name for nb in notebooks]


@pytest.fixture(scope="session")
def executed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """One execution of the whole workflow (shared by the determinism and report tests)."""
    base = tmp_path_factory.mktemp("run-a")
    return base / "out", run_notebooks(base / "out", base / "notebooks")
