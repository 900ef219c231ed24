"""Which files make a case set: its case files, their observation files, an added themes file.

A case file ``<set>/cases/<case-id>.yaml`` has its first-order coding in
``<set>/observations/<case-id>.yaml``; a case set may add themes in ``<set>/themes.yaml``. File
names starting with ``_`` or ``.`` (templates, drafts) are not cases. Path logic only (no
parsing), so that ``make`` can ask for a run's inputs cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ..paths import Layout


def find_case_files(
    sources: Iterable[Path], display: Callable[[Path], str] = Path.as_posix
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The case files of the given folders and files, each once, in order; and the sources that
    hold none, each with what is wrong (a case-set folder given for its ``cases`` folder is
    named, as ``display`` shows paths)."""
    files: list[Path] = []
    missing: list[tuple[Path, str]] = []
    for src in sources:
        if src.is_dir() and (src / "cases").is_dir():
            hint = f"did you mean {display(src / 'cases')}?"
            missing.append((src, f"a case-set folder, not a folder of case files ({hint})"))
        elif src.is_dir():
            found = _yaml_files(src)
            if not found:
                missing.append((src, "no case files (*.yaml) here"))
            files.extend(found)
        elif src.is_file():
            files.append(src)
        else:
            missing.append((src, "no such case file or folder"))
    return list({f.resolve(): f for f in files}.values()), missing


def _yaml_files(folder: Path) -> list[Path]:
    """The YAML files of a folder, sorted, but for templates and drafts (``_*``, ``.*``)."""
    return sorted(p for p in folder.glob("*.yaml") if not p.name.startswith(("_", ".")))


def observation_file_for(case_file: Path) -> Path:
    """Where the first-order coding of a case file lives."""
    return case_file.parent.parent / "observations" / case_file.name


def observation_files(case_files: Iterable[Path], sources: Sequence[Path]) -> list[Path]:
    """The observation file of each case file, then every observation file beside the given
    case folders (which must then name a case of the set), each once."""
    found = [obs for c in case_files if (obs := observation_file_for(c)).is_file()]
    for src in sources:
        found += _yaml_files(src.parent / "observations") if src.is_dir() else []
    return list(dict.fromkeys(p.resolve() for p in found))


def extra_theme_files(layout: Layout, sources: Sequence[Path]) -> list[Path]:
    """Theme files that case sets add: ``<set>/themes.yaml`` beside a ``<set>/cases`` folder."""
    found: dict[Path, None] = {}
    for src in sources:
        folder = src.parent if src.is_dir() else src.parent.parent
        candidate = (folder / "themes.yaml").resolve()
        if candidate.is_file() and candidate != layout.themes_file.resolve():
            found[candidate] = None
    return list(found)


def study_files(layout: Layout) -> list[Path]:
    """The study-wide input files that exist (description, framework, themes, comparison,
    propositions)."""
    files = (layout.study_file, layout.framework_file, layout.themes_file)
    return [p for p in (*files, layout.comparison_file, layout.propositions_file) if p.exists()]


def case_set_files(layout: Layout, cases: Sequence[str | Path]) -> list[Path]:
    """Every file a run on ``cases`` reads: the study-wide files, the case files, their
    observation files, and the themes files the case sets add."""
    sources = [layout.resolve(c) for c in cases]
    case_files, _ = find_case_files(sources)
    observations = observation_files(case_files, sources)
    themes = extra_theme_files(layout, sources)
    return list(dict.fromkeys([*study_files(layout), *case_files, *observations, *themes]))
