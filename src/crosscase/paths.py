"""Where things are: the one module that knows the project root and the folders under it.

A notebook runs from different working directories under papermill (the caller's), nbval (the
notebook's folder) and JupyterLab (wherever the server started), so nothing in the compendium
builds a path from the working directory or spells a folder name: everything goes through
:func:`project_root` and the :class:`Layout` built on it.

The root is, in order of precedence:

1. the folder named by the environment variable ``CROSSCASE_ROOT``;
2. the nearest folder, from the working directory upwards, that holds a ``pyproject.toml``
   declaring a ``[tool.crosscase]`` table;
3. the same search upwards from this file (an editable install inside the project).

Outputs (tables, figures, executed notebooks, reports) go under the root unless
``CROSSCASE_OUTPUT_ROOT`` points elsewhere: the tests use that to re-execute notebooks without
touching the outputs of ``make``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT_ENV = "CROSSCASE_ROOT"
OUTPUT_ROOT_ENV = "CROSSCASE_OUTPUT_ROOT"
_MARKER = "[tool.crosscase]"
#: A run name (an output folder) is one path segment of safe characters.
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _is_root(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    return pyproject.is_file() and _MARKER in pyproject.read_text(encoding="utf-8")


def _search_up(start: Path) -> Path | None:
    return next((folder for folder in (start, *start.parents) if _is_root(folder)), None)


def project_root() -> Path:
    """Return the compendium's root folder (see the module docstring for the rules)."""
    if env := os.environ.get(ROOT_ENV):
        if not _is_root(root := Path(env).resolve()):
            message = f"{ROOT_ENV}={env} has no pyproject.toml with a {_MARKER} table"
            raise FileNotFoundError(message)
        return root
    found = _search_up(Path.cwd().resolve()) or _search_up(Path(__file__).resolve().parent)
    if found is None:
        where = f"no pyproject.toml with a {_MARKER} table above {Path.cwd()}"
        raise FileNotFoundError(f"no project root: {where}; set {ROOT_ENV}")
    return found


@dataclass(frozen=True)
class Layout:
    """The folders of a compendium, derived from its root.

    Inputs: ``data/raw`` (read-only by convention: nothing in the workflow writes there) and
    ``notebooks/``. Outputs of one run: ``data/processed/<run>`` (tables, and the run's record),
    ``figures/<run>``, ``build/<run>`` (executed notebooks) and ``build/<run>/report``.
    """

    root: Path
    output_root: Path

    @classmethod
    def discover(cls) -> Layout:
        root = project_root()
        out = os.environ.get(OUTPUT_ROOT_ENV)
        return cls(root=root, output_root=Path(out).resolve() if out else root)

    @classmethod
    def at(cls, root: Path) -> Layout:
        """The layout of a project at ``root`` whose outputs also go there."""
        return cls(root=root, output_root=root)

    # Inputs ----------------------------------------------------------------------------------

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def framework_file(self) -> Path:
        return self.raw / "framework.yaml"

    @property
    def study_file(self) -> Path:
        return self.raw / "study.yaml"

    @property
    def cases_dir(self) -> Path:
        return self.raw / "cases"

    @property
    def observations_dir(self) -> Path:
        return self.raw / "observations"

    @property
    def themes_file(self) -> Path:
        return self.raw / "themes.yaml"

    @property
    def comparison_file(self) -> Path:
        """The comparison with alternatives and its discriminators (optional)."""
        return self.raw / "comparison.yaml"

    @property
    def propositions_file(self) -> Path:
        """The propositions drawn from the comparison (optional)."""
        return self.raw / "propositions.yaml"

    @property
    def extensions_dir(self) -> Path:
        """Where researchers keep case sets of their own (one folder per set)."""
        return self.root / "data" / "extensions"

    @property
    def refi_qda_dir(self) -> Path:
        """The official REFI-QDA schemas (``Project.xsd``, ``Codebook.xsd``): exports are checked
        and imports validated against them."""
        return self.root / "data" / "external" / "refi-qda"

    @property
    def notebooks_dir(self) -> Path:
        return self.root / "notebooks"

    @property
    def paper_map_file(self) -> Path:
        """Which notebook makes each table and figure of the paper (``paper-map.yaml``)."""
        return self.notebooks_dir / "paper-map.yaml"

    def notebooks(self) -> list[Path]:
        """The workflow's numbered notebooks, in order."""
        return sorted(self.notebooks_dir.glob("[0-9][0-9]-*.ipynb"))

    # Outputs of one run -----------------------------------------------------------------------

    def tables_dir(self, run: str) -> Path:
        return self.output_root / "data" / "processed" / check_run_name(run)

    def figures_dir(self, run: str) -> Path:
        return self.output_root / "figures" / check_run_name(run)

    def executed_dir(self, run: str) -> Path:
        return self.output_root / "build" / check_run_name(run)

    def report_dir(self, run: str) -> Path:
        return self.executed_dir(run) / "report"

    def run_record(self, run: str) -> Path:
        """The record of a run: its case set, rule and inputs, stored with its tables."""
        return self.tables_dir(run) / "run.yaml"

    # Paths given by users ---------------------------------------------------------------------

    def resolve(self, path: str | Path) -> Path:
        """A path given relative to the project root (as in notebook parameters), made absolute."""
        p = Path(path)
        return p if p.is_absolute() else self.root / p

    def relative(self, path: Path) -> str:
        """``path`` relative to the output root or project root, with forward slashes."""
        for base in (self.output_root, self.root):
            try:
                return path.resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                continue
        return path.as_posix()


def check_run_name(run: str) -> str:
    """Reject run names that are not a single safe path segment (no ``/``, no ``..``)."""
    if not RUN_NAME.match(run) or run in {".", ".."}:
        use = "use letters, digits, '.', '_' or '-', starting with a letter or digit"
        raise ValueError(f"run name {run!r} is not safe as a folder name: {use}")
    return run
