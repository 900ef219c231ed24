"""What each notebook reads, for ``make``: the package's modules it imports (directly, or through
other modules), and either its run's record (a notebook that declares the run's case set or
rule: the record changes with any of its inputs) or the framework and the study's description
alone. ``crosscase notebook-rules`` writes them as make rules (``build/notebooks.mk``), so that a
notebook re-runs when a module it imports changes, not when any module does."""

from __future__ import annotations

import ast
import json
from dataclasses import fields
from pathlib import Path

from ..paths import Layout
from .execute import declared_parameters
from .runs import Run

#: The package's folder: where its modules' files are.
PACKAGE = Path(__file__).resolve().parents[1]
#: The parameters through which a notebook reads its run's record: what a run is, but its name.
RUN_PARAMETERS = frozenset(f.name for f in fields(Run)) - {"name"}


def module_file(name: str) -> Path | None:
    """The file of the package's module ``name`` (``crosscase.study.load``), if it is one."""
    parts = name.split(".")
    if parts[0] != PACKAGE.name:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)


def imported(source: str, module: str = "", package: bool = False) -> set[str]:
    """The package's modules that ``source`` imports anywhere (``from x import y`` is ``x.y``
    when that is a module, else ``x``), with the packages they are in. ``module``: the name of
    the module ``source`` is (``package``: it is a package's ``__init__``), for relative
    imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".")[: None if package else -1]
                here = here[: len(here) - node.level + 1]
                base = ".".join([*here, *([node.module] if node.module else [])])
            names |= {base, *(f"{base}.{a.name}" for a in node.names)}
    parents = {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 1)}
    return {n for n in names | parents if module_file(n)}


def modules_of(source: str) -> list[Path]:
    """The files of every module of the package that code importing as ``source`` loads."""
    todo, seen = list(imported(source)), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        assert path is not None
        todo += imported(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
    return sorted({p for n in seen if (p := module_file(n)) is not None})


def notebook_code(notebook: Path) -> str:
    """The code of a notebook's code cells."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def notebook_rules(layout: Layout) -> str:
    """Make rules: for each notebook's executed copy (``$(BUILD)/<name>``), what it reads
    (``$(RECORD)``: the run's record)."""
    lines = ["# Written by `crosscase notebook-rules`: what each notebook reads. Do not edit."]
    own = [layout.relative(p) for p in (layout.framework_file, layout.study_file)]
    for nb in layout.notebooks():
        reads = ["$(RECORD)"] if RUN_PARAMETERS & set(declared_parameters(nb)) else own
        modules = [layout.relative(p) for p in modules_of(notebook_code(nb))]
        lines.append(f"$(BUILD)/{nb.name}: {' '.join([*reads, *modules])}")
    return "\n".join(lines) + "\n"
