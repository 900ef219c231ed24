"""The import of a QDA tool's REFI-QDA project as a case set (``crosscase import-qdpx``): the
project read (:mod:`.project`) and mapped onto the study (:mod:`.interpret`), what each element
became (:mod:`.summary`) and how the study's cases in it differ said as it goes (``say``), and
the case set written (:mod:`.write`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from ..model import Study, Theme, ThemeFile
from ..outputs import plural
from ..paths import Layout
from ..study.casesets import find_case_files
from ..study.load import load_study
from ..study.problems import StudyDataError
from ..study.reading import Reader
from .interpret import interpret
from .project import read_qdpx
from .summary import summary
from .write import Written, write_case_set

#: Which of the project's cases to write: new ones only, also the study's changed ones, or all.
Which = Literal["new", "changed", "all"]


def existing_themes(layout: Layout, into: Path) -> list[Theme]:
    """The themes a case set already adds (``<into>/themes.yaml``)."""
    path = into / "themes.yaml"
    if not path.is_file():
        return []
    reader = Reader(layout)
    parsed = reader.items(path, ThemeFile)
    if reader.problems or parsed is None:
        raise StudyDataError(reader.problems)
    return [t for _, t in parsed.items]


def study_and_set(layout: Layout, into: Path) -> tuple[Study, frozenset[str]]:
    """The study with the cases already in the case set ``into`` (so that a case exported from
    the set and coded again is matched to its own file), and those cases' ids. A set that does
    not load as it is is left out (the import's own checks then report it)."""
    files = find_case_files([into / "cases"])[0] if (into / "cases").is_dir() else []
    if files:
        try:
            cases = [layout.cases_dir, into / "cases"]
            study = load_study(layout, cases, require_theme_evidence=False)
            return study, frozenset(p.stem for p in files)  # a case's id is its file's name
        except StudyDataError:
            pass
    return load_study(layout), frozenset()


def import_project(
    layout: Layout,
    path: Path,
    into: Path,
    which: Which = "new",
    overwrite: bool = False,
    say: Callable[[str], None] = print,
) -> Written:
    """Import the project at ``path`` into the case set folder ``into``; raise
    :class:`~.errors.QdpxError` with every problem (nothing written)."""
    started = time.perf_counter()
    shown = layout.relative(path) if path.is_absolute() else path.as_posix()
    study, set_ids = study_and_set(layout, into)
    themes = existing_themes(layout, into)
    project = read_qdpx(path, layout.refi_qda_dir / "Project.xsd", shown)
    origin = f"coded in a QDA tool, imported from {path.name}"
    codebook = f"{layout.relative(layout.tables_dir('run').parent)}/<run>/codebook.qdc (make qda)"
    imported = interpret(project, study, themes, shown, origin, codebook)
    say(f"Read {shown} ({project.origin or 'unknown origin'}): each element and what it became")
    for line in summary(imported):
        say(line)
    for c in imported.changed:  # shown before a refusal to overwrite names their files
        where = f"its file in {layout.relative(into)}" if c.case.id in set_ids else "the study"
        say(f"Case {c.case.id} differs from {where} ({plural(len(c.differences), 'difference')}):")
        for d in c.differences:
            say(f"  {d}")
        if c.case.id not in set_ids and which == "new":
            say("  (not written: add --with-changed to write it into the case set)")
    for t in imported.new_themes:
        say(f"New candidate theme {t.id} ({t.dimension}): {t.label}")
    files = write_case_set(
        layout,
        imported,
        into,
        path.name,
        cases=which,
        overwrite=overwrite,
        set_ids=set_ids,
    )
    for p in files.written:
        say(f"wrote {layout.relative(p)}")
    if files.unchanged:
        say(f"{plural(len(files.unchanged), 'file')} already up to date")
    if not files.written and not files.unchanged:
        why = "no case that the study does not already have"
        if not imported.cases:
            why = "no source of the project is coded with the study's dimensions or themes"
        say(f"Nothing to write: {why}.")
    else:
        cases = " ".join(files.cases_option)
        say(f'Next: make validate CASES="{cases}"; make RUN={into.name} CASES="{cases}"')
    say(f"Imported in {time.perf_counter() - started:.2f} s.")
    return files
