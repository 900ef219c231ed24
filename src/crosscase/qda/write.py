"""Write an imported case set (:class:`~crosscase.qda.interpret.Imported`) into its folder: one
case file and one observation file per case, and the new candidate themes (written with
:mod:`crosscase.casefiles`). The result is first checked as a run would load it (the study's
cases not replaced, plus the set's); nothing is written when a check fails or a file would be
overwritten unasked."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model import Theme
from ..outputs import atomic_write
from ..paths import Layout
from ..study.casefiles import case_text, observations_text, themes_text
from ..study.casesets import find_case_files
from ..study.load import load_study
from ..study.problems import Problem, StudyDataError
from .errors import QdpxError, fail
from .interpret import Imported, ImportedCase

#: The fields of an observation, in the order the study's files have them.
_OBSERVATION_FIELDS = ("id", "dimension", "text", "themes", "evidence", "source", "note")


@dataclass(frozen=True)
class Written:
    """The files of an import: written, already identical, and how to run the case set."""

    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    cases_option: tuple[str, ...]  # the CASES of a run on the study plus the case set


def _header(kind: str, source: str) -> str:
    return (
        f"{kind} imported from the REFI-QDA project {source} by `crosscase import-qdpx`.\n"
        "Narratives are the passages coded with each dimension; each first-order observation is\n"
        "a passage coded with a theme (or carrying a memo), its text the memo. Fields: see the\n"
        "data dictionary (data/README.md). Code in the QDA tool and import again to change it."
    )


def planned_files(
    imported: Imported,
    into: Path,
    existing_themes: Sequence[Theme],
    source: str,
    cases: str,
    set_ids: frozenset[str] = frozenset(),
) -> dict[Path, str]:
    """Path -> content of every file the import writes (``cases``: new, changed or all of the
    study's; a case already in the set, ``set_ids``, is planned when its content changed, and
    then replaced only when asked)."""
    chosen = [
        c
        for c in imported.cases
        if c.known is None
        or cases == "all"
        or (c.changed and (cases == "changed" or c.case.id in set_ids))
    ]
    files: dict[Path, str] = {}
    for c in chosen:
        files.update(_case_files(c, into, source))
    used = {t for c in chosen for o in c.observations for t in o.themes}
    new = [t for t in imported.new_themes if t.id in used]
    if new:
        themes = [
            *existing_themes,
            *(t for t in new if t.id not in {e.id for e in existing_themes}),
        ]
        files[into / "themes.yaml"] = themes_text(
            [{"id": t.id, "dimension": t.dimension, "label": t.label} for t in themes],
            _header("New candidate second-order themes", source),
        )
    return files


def _case_files(c: ImportedCase, into: Path, source: str) -> dict[Path, str]:
    """A case's file and its observation file."""
    case = c.case
    files: dict[Path, str] = {}
    files[into / "cases" / f"{case.id}.yaml"] = case_text(
        case.id,
        case.number,
        case.name,
        case.protocol,
        case.narratives,
        header=_header(f"Case {case.number} ({case.name})", source),
    )
    obs = [o.model_dump(exclude_defaults=True) for o in c.observations]
    for o, model in zip(obs, c.observations, strict=True):
        o["themes"] = list(model.themes)  # written even when empty, as the study's files do
    files[into / "observations" / f"{case.id}.yaml"] = observations_text(
        case.id,
        [{k: o[k] for k in _OBSERVATION_FIELDS if k in o} for o in obs],
        header=_header(f"First-order observations of case {case.number} ({case.name})", source),
    )
    return files


def existing_themes(layout: Layout, into: Path) -> list[Theme]:
    """The themes a case set already adds (``<into>/themes.yaml``)."""
    path = into / "themes.yaml"
    if not path.is_file():
        return []
    from ..model import ThemeFile
    from ..study.reading import Reader

    reader = Reader(layout)
    parsed = reader.items(path, ThemeFile)
    if reader.problems or parsed is None:
        raise StudyDataError(reader.problems)
    return [t for _, t in parsed.items]


def write_case_set(
    layout: Layout,
    imported: Imported,
    into: Path,
    source: str,
    *,
    cases: str = "new",
    overwrite: bool = False,
    themes: Sequence[Theme] = (),
    set_ids: frozenset[str] = frozenset(),
) -> Written:
    """Write the imported cases into the case set ``into`` after checking the result as a run
    would load it (the study's cases not replaced, plus the set's); nothing is written when a
    check fails or a file would be overwritten without ``overwrite``."""
    display = layout.relative(into)
    if into.resolve().is_relative_to(layout.raw.resolve()):
        fail(
            display,
            f"is inside the study's own data ({layout.relative(layout.raw)}): import into "
            "a case set folder of your own, e.g. data/extensions/<set>",
        )
    files = planned_files(imported, into, themes, source, cases, set_ids)
    message = (
        "exists with other content: not overwritten (the differences are listed above; add "
        "OVERWRITE=1 to make import-qdpx, or --overwrite, to replace it)"
    )
    clashes = [
        Problem(layout.relative(p), p.stem if p.parent.name != into.name else None, None, message)
        for p, text in files.items()
        if p.is_file() and p.read_text(encoding="utf-8") != text and not overwrite
    ]
    if clashes:
        raise QdpxError(display, clashes)
    study_files, kept = _check_as_a_run(layout, into, files, display)
    written, same = [], []
    for p, text in files.items():
        if p.is_file() and p.read_text(encoding="utf-8") == text:
            same.append(p)
        else:
            written.append(atomic_write(p, text))
    for c in imported.cases:  # the set's cases whose content is as in their files
        if c.case.id in set_ids and not c.changed:
            same += [
                into / "cases" / f"{c.case.id}.yaml",
                into / "observations" / f"{c.case.id}.yaml",
            ]
    if len(kept) == len(study_files):
        option: tuple[str, ...] = (layout.relative(layout.cases_dir), f"{display}/cases")
    else:
        option = (*(layout.relative(f) for f in kept), f"{display}/cases")
    return Written(tuple(written), tuple(same), option)


def _check_as_a_run(
    layout: Layout, into: Path, files: dict[Path, str], display: str
) -> tuple[list[Path], list[Path]]:
    """Load the case set as the import would leave it (a copy, with ``files``) beside the
    study's cases it does not replace; raise :class:`QdpxError` with every problem. The study's
    case files, and those kept beside the set."""
    with tempfile.TemporaryDirectory(prefix="crosscase-import-") as tmp:
        stage = Path(tmp).resolve() / "set"
        for sub in ("cases", "observations"):
            (stage / sub).mkdir(parents=True)
            if (into / sub).is_dir():
                for f in sorted((into / sub).glob("*.yaml")):
                    (stage / sub / f.name).write_bytes(f.read_bytes())
        if (into / "themes.yaml").is_file():
            (stage / "themes.yaml").write_bytes((into / "themes.yaml").read_bytes())
        for p, text in files.items():
            (stage / p.relative_to(into)).write_text(text, encoding="utf-8")
        set_ids = {f.stem for f in find_case_files([stage / "cases"])[0]}
        study_files, _ = find_case_files([layout.cases_dir])
        kept = [f for f in study_files if f.stem not in set_ids]
        try:
            if set_ids:
                load_study(layout, [*kept, stage / "cases"], require_theme_evidence=False)
        except StudyDataError as exc:
            prefix = (stage).as_posix()
            raise QdpxError(
                display,
                [
                    Problem(
                        p.file.replace(prefix, display),
                        p.case,
                        p.field,
                        p.message.replace(prefix, display),
                        p.line,
                    )
                    for p in exc.problems
                ],
            ) from None
    return study_files, kept
