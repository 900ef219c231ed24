"""Shared fixtures.

The workflow runs once per test session. nbval's items (the committed notebooks) run first, and
their kernels write every table and figure under a temporary folder (``CROSSCASE_OUTPUT_ROOT``,
never over the outputs of ``make``); the tests that read outputs (determinism, the report) then
use that run through the :func:`workflow` fixture. When the notebooks are not part of the session
(``pytest tests/test_report.py``), the fixture runs the workflow itself with papermill.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from crosscase.evidence import DiscriminatorRule, Evidence, collect
from crosscase.model import Study
from crosscase.paths import Layout
from crosscase.study import load_study

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected" / "paper.yaml"
PAPER = (
    ROOT / "data" / "external" / "srai-et-al-2020" / "srai-et-al-2020-distributed-manufacturing.md"
)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
#: Debian's Chromium, driven by Playwright in the browser tests (Playwright downloads nothing).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Its launch flags: headless, as root, and quiet on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def need_chromium() -> str:
    """The path of Chromium; without it a browser test skips, saying so, except in CI (``CI``
    set, as .ci/run sets it, after installing Debian's chromium), where it fails."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            raise RuntimeError(
                "the browser test needs Debian's chromium package (apt-get install chromium)"
            )
        pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)
    return CHROMIUM


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


_NBVAL: dict[str, str] = {}  # notebook file name -> "passed" / "failed"
_RAW_BEFORE: dict[str, str] = {}


def _notebook_of(item: pytest.Item | pytest.TestReport) -> str | None:
    path = str(item.nodeid).split("::")[0]
    return Path(path).name if path.startswith("notebooks/") and path.endswith(".ipynb") else None


class _NbvalTracker:
    """Puts nbval's items first and records which notebooks passed. Registered as a plugin:
    hooks of this conftest alone would only see the items under tests/."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=lambda item: _notebook_of(item) is None)  # stable: keeps every other order
        for item in items:
            name = _notebook_of(item)
            if name:
                _NBVAL.setdefault(name, "collected")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = _notebook_of(report)
        if name and (report.failed or report.when == "call"):
            if report.failed:
                _NBVAL[name] = "failed"
            elif _NBVAL.get(name) != "failed":
                _NBVAL[name] = "passed"


class _WorkflowMarker:
    """Marks nbval's items, the tests that read the workflow's outputs and (to balance the two)
    the browser tests ``workflow``: ``make test`` runs them (``-m workflow``) beside the others
    (``-m "not workflow"``), two pytest processes on two cores; a plain ``pytest`` runs them all
    in one."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if (
                item.path.suffix == ".ipynb"
                or "workflow" in getattr(item, "fixturenames", ())
                or {"browser", "lab"} & set(getattr(item, "fixturenames", ()))  # the browser
                # tests too, to balance the two processes
            ):
                item.add_marker(pytest.mark.workflow)


def pytest_configure(config: pytest.Config) -> None:
    if "CROSSCASE_OUTPUT_ROOT" not in os.environ:
        out = Path(tempfile.mkdtemp(prefix="crosscase-test-outputs-"))
        os.environ["CROSSCASE_OUTPUT_ROOT"] = str(out)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    _RAW_BEFORE.update(tree(ROOT / "data" / "raw"))
    config.pluginmanager.register(_NbvalTracker(), "crosscase-nbval-tracker")
    config.pluginmanager.register(_WorkflowMarker(), "crosscase-workflow-marker")
    config.addinivalue_line("markers", "workflow: nbval, or reads the workflow's outputs")


@dataclass(frozen=True)
class Workflow:
    """One run of every notebook with its defaults: where its outputs are, and an executed copy
    of each notebook."""

    output_root: Path
    notebooks: list[Path]
    by: str  # "nbval" or "papermill"


def run_notebooks(output_root: Path, work: Path) -> list[Path]:
    """Execute every notebook with its defaults, outputs under ``output_root``; return the
    executed copies (in ``work``)."""
    from concurrent.futures import ThreadPoolExecutor

    from crosscase.workflow.execute import execute

    before = os.environ.get("CROSSCASE_OUTPUT_ROOT")
    os.environ["CROSSCASE_OUTPUT_ROOT"] = str(output_root)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda nb: execute(nb, work / nb.name, cwd=ROOT), NOTEBOOKS))
    finally:
        if before is None:
            del os.environ["CROSSCASE_OUTPUT_ROOT"]
        else:
            os.environ["CROSSCASE_OUTPUT_ROOT"] = before
    return [work / nb.name for nb in NOTEBOOKS]


@pytest.fixture(scope="session")
def workflow(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """The session's run of the workflow: nbval's, when every notebook passed nbval in this
    session (the committed notebooks then are executed copies, output for output), else one
    run by papermill."""
    names = {nb.name for nb in NOTEBOOKS}
    if names <= set(_NBVAL):
        failed = sorted(n for n in names if _NBVAL[n] != "passed")
        if failed:
            pytest.fail(f"nbval failed for {', '.join(failed)}: no outputs to test")
        return Workflow(Path(os.environ["CROSSCASE_OUTPUT_ROOT"]), list(NOTEBOOKS), "nbval")
    base = tmp_path_factory.mktemp("workflow")
    return Workflow(base / "out", run_notebooks(base / "out", base / "notebooks"), "papermill")


def raw_data_unchanged() -> bool:
    return tree(ROOT / "data" / "raw") == _RAW_BEFORE


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
def evidence(study: Study, expected: dict) -> Evidence:
    return collect(study, DiscriminatorRule(expected["discriminator_rule"]["min_cases"]))


def expected_cases(study: Study, expected: dict) -> dict[str, tuple[int, ...]]:
    """Theme id -> the case numbers section 4 gives it (tests/expected/paper.yaml, transcribed
    independently of the data), matched to the study's themes by dimension and label."""
    from difflib import SequenceMatcher

    labels = study.dimension_labels
    out: dict[str, tuple[int, ...]] = {}
    for want in expected["themes"]:
        candidates = [t for t in study.themes if labels[t.dimension] == want["dimension"]]
        best = max(
            candidates,
            key=lambda t: SequenceMatcher(None, t.label.lower(), want["label"].lower()).ratio(),
        )
        score = SequenceMatcher(None, best.label.lower(), want["label"].lower()).ratio()
        assert score > 0.75, (want["label"], best.label)
        out[best.id] = tuple(want["cases"])
    return out


def project_copy(target: Path) -> Path:
    """A copy of the compendium's inputs and Makefile at ``target`` (sharing the environment and
    the package source by symlink), for tests that run make or edit data."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, target / name)
    for name in ("data/raw", "notebooks", "examples"):
        shutil.copytree(ROOT / name, target / name)
    for name in (".venv", "src"):
        (target / name).symlink_to(ROOT / name)
    # The environment is shared: make in a copy must never remake it (pip install -e . from the
    # copy would point the shared environment's commands at the copy). Its inputs look old.
    for name in ("pyproject.toml", "requirements.lock"):
        os.utime(target / name, (0, 0))
    return target


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


def hostile_study(study: Study, text: str) -> Study:
    """The study with ``text`` appended to a narrative of its first case and made the evidence
    of one of that case's themed observations (located again, as the loader locates it): case
    text that looks like HTML, for the tests that check it reaches pages as text."""
    import dataclasses

    from crosscase.study.passages import locate

    case = study.cases[0]
    co = next(c for c in study.observations if c.case == case.id and c.observation.themes)
    dim = co.observation.dimension
    changed = case.model_copy(
        update={"narratives": {**case.narratives, dim: f"{case.narratives[dim]} {text}"}}
    )
    located = locate(changed, co.observation.model_copy(update={"evidence": text}))
    assert located.start is not None
    return dataclasses.replace(
        study,
        cases=(changed, *study.cases[1:]),
        observations=tuple(located if c is co else c for c in study.observations),
    )


def hostile_report(out: Path, text: str) -> Study:
    """The evidence pages of :func:`hostile_study` written into ``out``; the study returned."""
    from crosscase.report.build import build_report
    from crosscase.workflow.runs import Run

    study = hostile_study(load_study(Layout.at(ROOT)), text)
    evidence = collect(study, DiscriminatorRule(3))
    run = Run("run", ("data/raw/cases",), 3, None)
    build_report(Layout(ROOT, out.parent), run, [], out, study, evidence)
    return study


def project_archive(study: Study, name: str = "test") -> bytes:
    """The study's REFI-QDA project as a ``.qdpx`` archive (in memory)."""
    from crosscase.qda import export

    return export.archive_of(*export.project_xml(study, name))
