"""A static HTML report of a run, built from its executed notebooks, that works offline.

:func:`build_report` writes ``index.html`` (every table and figure of the paper mapped to its
section, notebook page and output files, with their row counts, and the run's provenance), one
page per executed notebook (nbconvert's ``basic`` template: no scripts, no CDN), copies of the
output files under ``files/``, and the evidence browser (:mod:`.browser`).

Pages are rendered from Jinja2 templates (``templates/``) with autoescaping on: every name that
comes from the data, the paper map or a file name reaches the page as text. Case text inside the
notebooks' tables is already escaped by the notebooks (their tables are Markdown with HTML
escaped), and nbconvert's output is the only markup passed through.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import nbformat
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from nbconvert import HTMLExporter

from ..evidence import Evidence
from ..model import Study, StudyDescription
from ..outputs import atomic_write
from ..paths import Layout, check_run_name
from ..workflow import papermap
from ..workflow.runs import Run
from . import names
from .browser import evidence_pages

#: The packages whose versions the provenance gives.
PACKAGES = (
    "crosscase pandas numpy scipy matplotlib seaborn scikit-learn pydantic papermill "
    "nbconvert nbval"
)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("crosscase.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    env.globals["names"] = names  # the templates' links and page names, as the pages are named
    return env


def _css() -> str:
    return resources.files(__package__).joinpath("templates/report.css").read_text(encoding="utf-8")


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.strip()


def provenance(layout: Layout, run: Run, description: StudyDescription) -> list[tuple[str, str]]:
    """The study, the run (case set, rule), commit, working-tree state, data date and package
    versions. The run's case folders count as data beside the study's (an extension's uncommitted
    files are reported, and its commits date the data)."""
    root = layout.root
    inputs = [layout.resolve(c) for c in run.cases]
    commit = _git(root, "rev-parse", "HEAD") or "unknown (not a git checkout)"
    data = [layout.relative(layout.raw)] + [
        layout.relative(p) for p in inputs if p.resolve().is_relative_to(root.resolve())
    ]
    code = [layout.relative(p) for p in (layout.notebooks_dir, root / "src")]
    dirty = _git(root, "status", "--porcelain", "--", *data, *code)
    data_date = _git(root, "log", "-1", "--format=%cs", "--", *data)
    doi = f", doi:{description.doi}" if description.doi else ""
    note = " (with uncommitted changes to data, code or notebooks)" if dirty else ""
    rows = [("Study", f"{description.citation}{doi}"), *run.describe(), ("Commit", commit + note)]
    rows.append(("Date of the data (last commit to the run's data)", data_date or "unknown"))
    for pkg in PACKAGES.split():
        try:
            rows.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            rows.append((pkg, "not installed"))
    return rows


def _rows(csv: Path) -> int:
    """Data rows of a CSV table (a header line, then one line per row; cells may span lines)."""
    if not csv.exists():
        return 0
    import pandas as pd

    return len(pd.read_csv(csv, dtype=str, keep_default_na=False))


def _copy_outputs(layout: Layout, run: str, files: Path) -> None:
    """The run's tables and figures, copied beside the pages (linked from the index)."""
    files.mkdir(parents=True, exist_ok=True)
    for folder in (layout.tables_dir(run), layout.figures_dir(run)):
        for src in sorted(folder.glob("*")):
            if src.is_file():
                shutil.copyfile(src, files / src.name)


def _map_items(paper_map: list[dict[str, Any]], files: Path, n_cases: int) -> list[dict[str, Any]]:
    """The paper map's items as the index shows them: titles for the run, row counts, and the
    tables of what changed against a baseline (``compared``) when the run has them."""
    return [
        {
            **item,
            "title": papermap.title(item, n_cases),
            "page": names.notebook_file(item["notebook"]),
            "tables": [
                {"name": t, "rows": _rows(files / f"{t}.csv")}
                for t in papermap.item_tables(item, files)
            ],
            "figures": item.get("figures", []),
            "files": item.get("files", []),
            "evidence": bool(item.get("evidence")),
        }
        for item in paper_map
    ]


def _notebook_pages(
    env: Environment, notebooks: Sequence[Path], run: str, **common: Any
) -> dict[str, str]:
    """A page per executed notebook (nbconvert's ``basic`` template: no scripts, no CDN)."""
    exporter, page = HTMLExporter(template_name="basic"), env.get_template("page.html.j2")
    out = {}
    for nb in notebooks:
        body, _ = exporter.from_notebook_node(nbformat.read(nb, as_version=4))
        title = f"{nb.stem} ({run})"
        out[names.notebook_file(nb.name)] = page.render(title=title, body=Markup(body), **common)
    return out


def build_report(
    layout: Layout,
    run: Run,
    notebooks: Sequence[Path],
    out: Path,
    study: Study,
    evidence: Evidence,
    paper_map: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """Write the report of ``run`` (its executed ``notebooks``, its ``study`` and ``evidence``)
    into ``out``: the index, a page per notebook, the evidence browser; return the pages. The
    index follows ``paper_map`` (by default the project's, :mod:`crosscase.workflow.papermap`)."""
    name, env, files = check_run_name(run.name), _environment(), out / "files"
    _copy_outputs(layout, name, files)
    nav = [("Index", "index.html"), (names.EVIDENCE_TITLE, names.EVIDENCE_INDEX)]
    nav += [("Data display", names.DATA_DISPLAY)]
    nav += [(p.stem, names.notebook_file(p.name)) for p in notebooks]
    common, description = {"css": _css(), "nav": nav}, study.description
    index = env.get_template("index.html.j2").render(
        title=f"Report: {name}",
        run=name,
        citation=description.citation,
        licence=description.licence,
        items=_map_items(paper_map or papermap.load_map(layout), files, len(study.cases)),
        figures=[p.stem for p in sorted(files.glob("*.png"))],
        provenance=provenance(layout, run, description),
        **common,
    )
    pages = {"index.html": index}
    pages |= _notebook_pages(env, notebooks, name, **common)
    pages |= evidence_pages(env, study, evidence, run=name, **common)
    return [atomic_write(out / page, html) for page, html in pages.items()]
