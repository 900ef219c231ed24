"""The package is generic and installable: no study-specific text in src/, every third-party
import declared in pyproject.toml (core or the extra of the module that needs it), one
command-line entry point, and the folder layout known in one module."""

from __future__ import annotations

import ast
import functools
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "crosscase"
RAW = ROOT / "data" / "raw"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _source_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*") if p.is_file() and p.suffix in {".py", ".j2", ".css"})


def _study_strings() -> set[str]:
    """Names that belong to this study, taken from its data (not retyped here)."""
    names: set[str] = set()
    for path in sorted((RAW / "cases").glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        names |= {case["id"], case["name"]}
    for theme in yaml.safe_load((RAW / "themes.yaml").read_text(encoding="utf-8"))["themes"]:
        names |= {theme["id"], theme["label"]}
    framework = yaml.safe_load((RAW / "framework.yaml").read_text(encoding="utf-8"))
    for item in [*framework["perspectives"], *framework["dimensions"]]:
        names |= {item["id"], item["label"]}
    models = yaml.safe_load((RAW / "comparison.yaml").read_text(encoding="utf-8"))
    for item in [*models["alternatives"], *models["discriminators"]]:
        names |= {item["id"], item["label"]}
    study = yaml.safe_load((RAW / "study.yaml").read_text(encoding="utf-8"))
    headers = {h for h in study["headers"].values() if "{" not in h}  # not the format strings
    citation = {"Srai", "IJOPM", "10.1108", "the paper's", "Distributed manufacturing"}
    return citation | {n for n in names | headers if len(n) > 4}  # short ids are ordinary words


#: The study's words for what the package names generically: the paper map's items (its tables
#: and figures by number), and the kinds the paper compares and draws (the package's
#: alternatives and propositions), with its abbreviation of its subject.
STUDY_VOCABULARY = re.compile(
    # in prose or as a name in any case style (ProductionModel, design_rules, design-rule)
    r"\b(?:Table|Figure) \d|production[ _-]?models?|design[ _-]?rules?|\bDM\b"
    r"|reproduction of the paper",
    re.IGNORECASE,
)


def test_no_study_vocabulary_in_src() -> None:
    """Generic names in the package for what this study calls its tables, production models and
    design rules (the study's own words live in its data: data/raw/study.yaml)."""
    found = [
        (p.relative_to(ROOT).as_posix(), m.group(0))
        for p in _source_files()
        for m in STUDY_VOCABULARY.finditer(p.read_text(encoding="utf-8"))
    ]
    assert found == [], "study vocabulary belongs in data/ or in the notebooks"


def test_no_study_specific_string_in_src() -> None:
    names = _study_strings()
    assert len(names) > 60  # cases, themes, dimensions, models, discriminators, the citation
    found = [
        (p.relative_to(ROOT).as_posix(), n)
        for p in _source_files()
        for n in names
        if n.lower() in p.read_text(encoding="utf-8").lower()
    ]
    assert found == [], "study knowledge belongs in data/ or in the notebooks"


def _imports(path: Path) -> set[str]:
    """Top-level names of every module imported anywhere in ``path`` (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _requirement_names(requirements: list[str]) -> set[str]:
    """Distribution names of requirements, with the package's own extras (``crosscase[x]``)
    expanded as pip expands them."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    out: set[str] = set()
    for r in requirements:
        name = _norm(re.split(r"[<>=!~\[;\s]", r, maxsplit=1)[0])
        if name == "crosscase":
            for extra in re.findall(r"\[(.*)\]", r)[0].split(","):
                out |= _requirement_names(extras[extra.strip()])
        else:
            out.add(name)
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _distributions() -> dict[str, list[str]]:
    """Import name -> the distributions that provide it (read once: it scans every package)."""
    return dict(metadata.packages_distributions())


@functools.cache
def _closure(names: frozenset[str]) -> set[str]:
    """The distributions ``names`` pull in when installed on this platform (from the installed
    metadata; requirements behind an extra or another platform's marker do not count)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_norm(req.name))
    return seen


def _module_name(path: Path) -> str:
    """A source file's module, relative to the package (``qda.export``; a subpackage's
    ``__init__.py`` is the subpackage, ``qda``)."""
    return (
        path.relative_to(SRC).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
    )


def _extra_of(module: str) -> str | None:
    """The extra that a module of the package needs beyond the core (declared in pyproject)."""
    table = PYPROJECT["tool"]["crosscase"]["module-extras"]
    return table.get(module) or table.get(module.split(".")[0])


@pytest.mark.parametrize(
    "path", sorted(SRC.rglob("*.py")), ids=lambda p: p.relative_to(SRC).as_posix()
)
def test_every_import_is_a_declared_dependency(path: Path) -> None:
    """What `pip install .[<extra>]` gives is enough for each module: every third-party import
    is a declared dependency (core, or the module's extra) or installed by one."""
    import sys

    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    module = _module_name(path)
    declared = _requirement_names(project["dependencies"])
    extra = _extra_of(module)
    if extra is not None:
        declared |= _requirement_names(extras[extra])
    available = _closure(frozenset(declared))
    dists = _distributions()
    missing = []
    for name in sorted(_imports(path)):
        if name in sys.stdlib_module_names or name in {"crosscase", "__future__"}:
            continue
        owners = {_norm(d) for d in dists.get(name, [name])}
        if not owners & available:
            missing.append((name, sorted(owners)))
    assert missing == [], f"{module} (extra {extra!r}) imports undeclared packages"


def test_every_module_extras_entry_names_a_module() -> None:
    """A module renamed or split leaves no stale entry behind (it would hide a missing one)."""
    modules = {_module_name(p) for p in SRC.rglob("*.py")}
    assert set(PYPROJECT["tool"]["crosscase"]["module-extras"]) <= modules


def test_the_all_extra_holds_every_extra() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    everything = _requirement_names(extras["all"])
    for name, reqs in extras.items():
        if name not in {"all", "dev"}:
            assert _requirement_names(reqs) <= everything, name
    assert set(PYPROJECT["tool"]["crosscase"]["module-extras"].values()) <= set(extras)


def test_one_command_line_entry_point() -> None:
    """`crosscase` is the one command: the installed script runs, and no module is a script."""
    import subprocess
    import sys

    script = Path(sys.executable).with_name("crosscase")
    shown = subprocess.run([script, "--help"], capture_output=True, text=True, check=True).stdout
    assert "validate" in shown and "import-qdpx" in shown
    runnable = [
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if "__main__" in p.read_text(encoding="utf-8") and p.name != "cli.py"
    ]
    assert runnable == [], "subcommands of `crosscase`, not `python -m crosscase.<module>`"
    assert "python -m crosscase" not in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_the_folder_layout_is_known_in_one_module() -> None:
    literals = re.compile(r"""["'](data/processed|data/raw|build/|figures/|notebooks/)""")
    found = [
        p.relative_to(ROOT).as_posix()
        for p in _source_files()
        if p.name != "paths.py" and literals.search(p.read_text(encoding="utf-8"))
    ]
    assert found == []
