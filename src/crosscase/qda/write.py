"""Write an imported case set (:class:`~.interpret.Imported`) into its folder: a case file and an
observation file per case, and the new candidate themes (written with
:mod:`crosscase.study.casefiles`). A file the set already has is edited, not rewritten: only
what the project changed is replaced, and its opening comment, order, layout and the fields the
project does not carry stay as they are; a file the project leaves as it is is not written. The
result is first loaded as a run would load it (the study's cases not replaced, plus the set's);
nothing is written when that fails or a file would be overwritten unasked."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..model import Observation
from ..outputs import atomic_write
from ..paths import Layout
from ..study.casefiles import case_document, dump, observations_text, themes_text
from ..study.casesets import find_case_files
from ..study.load import load_study
from ..study.problems import Problem, StudyDataError
from .errors import QdpxError, fail
from .interpret import Imported, ImportedCase

#: The fields of an observation, in the order the study's files have them.
_OBSERVATION_FIELDS = tuple(Observation.model_fields)


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


def _load(text: str) -> Any:
    """A YAML document as ruamel.yaml keeps it for editing (comments, order, styles, quotes)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml.load(text)


def _planned_files(
    imported: Imported,
    into: Path,
    source: str,
    cases: str,
    set_ids: frozenset[str],
) -> dict[Path, str]:
    """Path -> content of every file the import writes: ``cases`` new, changed or all of the
    study's, and those of the set (``set_ids``) that changed."""
    chosen = [
        c
        for c in imported.cases
        if c.known is None
        or cases == "all"
        or (c.changed and (cases == "changed" or c.case.id in set_ids))
    ]
    files: dict[Path, str] = {}
    for c in chosen:
        files.update(_case_files(c, into, source, c.case.id in set_ids))
    used = {t for c in chosen for o in c.observations for t in o.themes}
    new = [
        {"id": t.id, "dimension": t.dimension, "label": t.label}
        for t in imported.new_themes
        if t.id in used
    ]
    path = into / "themes.yaml"
    if new and path.is_file():
        doc = _load(path.read_text(encoding="utf-8"))
        doc["themes"].extend(_load(themes_text(new, ""))["themes"])
        files[path] = dump(doc)
    elif new:
        files[path] = themes_text(new, _header("New candidate second-order themes", source))
    return files


def _case_files(c: ImportedCase, into: Path, source: str, in_set: bool) -> dict[Path, str]:
    """A case's file and its observation file: those of a case of the set edited where they
    change, the others written whole."""
    case, files = c.case, {}
    case_file, obs_file = (into / sub / f"{case.id}.yaml" for sub in ("cases", "observations"))
    fields = (case.id, case.number, case.name, case.protocol, case.narratives)
    if not (in_set and case_file.is_file()):
        header = _header(f"Case {case.number} ({case.name})", source)
        files[case_file] = dump(case_document(*fields), header)
    elif c.own_differences:
        doc = _load(case_file.read_text(encoding="utf-8"))
        _update(doc, case_document(*fields), ("number", "name", "protocol", "narratives"))
        files[case_file] = dump(doc)
    entries = [_entry(o) for o in c.observations]
    if not (in_set and obs_file.is_file()):
        header = _header(f"First-order observations of case {case.number} ({case.name})", source)
        files[obs_file] = observations_text(case.id, entries, header=header)
    elif len(c.differences) > c.own_differences:
        files[obs_file] = _edited_observations(obs_file, c, entries)
    return files


def _entry(o: Observation) -> dict[str, Any]:
    """An observation as its file has it (``themes`` even when empty, as the study's files)."""
    data = o.model_dump(exclude_defaults=True) | {"themes": list(o.themes)}
    return {k: data[k] for k in _OBSERVATION_FIELDS if k in data}


def _update(doc: Any, fresh: Any, keys: Sequence[str]) -> None:
    """Replace in ``doc`` the values of ``keys`` (and of the keys within them) that ``fresh``
    gives otherwise, each in ``fresh``'s style; a key ``fresh`` lacks is removed."""
    for k in keys:
        if k not in fresh:
            doc.pop(k, None)
        elif hasattr(fresh[k], "items") and hasattr(doc.get(k), "items"):
            _update(doc[k], fresh[k], list(dict.fromkeys([*doc[k], *fresh[k]])))
        elif doc.get(k) != fresh[k]:
            doc[k] = fresh[k]


def _edited_observations(path: Path, c: ImportedCase, entries: list[dict[str, Any]]) -> str:
    """A set's observation file with the project's observations: those it has edited in place
    (a field the project left as the study's case has it stays as written), in its order; the
    others after the one before them in the project's order."""
    doc = _load(path.read_text(encoding="utf-8"))
    fresh = {e["id"]: e for e in _load(observations_text(c.case.id, entries))["observations"]}
    known = {o.id: _entry(o) for o in c.known_observations}
    ours = {o.id: _entry(o) for o in c.observations}
    kept = []
    for entry in doc["observations"]:
        if (ident := entry.get("id")) in ours:
            was, now = known.get(ident, {}), ours[ident]
            _update(
                entry, fresh[ident], [k for k in _OBSERVATION_FIELDS if was.get(k) != now.get(k)]
            )
            kept.append(entry)
    order = list(ours)
    for n, ident in enumerate(order):
        ids = [e["id"] for e in kept]
        if ident not in ids:
            kept.insert(ids.index(order[n - 1]) + 1 if n else 0, fresh[ident])
    seq = doc["observations"]
    del seq[:]
    seq.extend(kept)
    return dump(doc)


def write_case_set(
    layout: Layout,
    imported: Imported,
    into: Path,
    source: str,
    *,
    cases: str = "new",
    overwrite: bool = False,
    set_ids: frozenset[str] = frozenset(),
) -> Written:
    """Write the imported cases into the case set ``into`` once the result loads as a run would
    load it; nothing is written when it does not or a file would be overwritten unasked."""
    display = layout.relative(into)
    if into.resolve().is_relative_to(layout.raw.resolve()):
        fail(
            display,
            f"is inside the study's own data ({layout.relative(layout.raw)}): import into "
            "a case set folder of your own, e.g. data/extensions/<set>",
        )
    files = _planned_files(imported, into, source, cases, set_ids)
    same = [p for p, text in files.items() if p.is_file() and p.read_text(encoding="utf-8") == text]
    if not overwrite and (clashes := [p for p in files if p.is_file() and p not in same]):
        message = (
            "exists with other content: not overwritten (the differences are listed above; add "
            "OVERWRITE=1 to make import-qdpx, or --overwrite, to replace it)"
        )
        problems = [
            Problem(
                layout.relative(p), p.stem if p.parent.name != into.name else None, None, message
            )
            for p in clashes
        ]
        raise QdpxError(display, problems)
    study_files, kept = _check_as_a_run(layout, into, files, display)
    written = [atomic_write(p, text) for p, text in files.items() if p not in same]
    for c in imported.cases:  # the set's files left as they are: their content is the project's
        if c.case.id in set_ids:
            mine = [into / sub / f"{c.case.id}.yaml" for sub in ("cases", "observations")]
            same += [p for p in mine if p.is_file() and p not in files]
    study = [layout.relative(f) for f in kept]
    if len(kept) == len(study_files):
        study = [layout.relative(layout.cases_dir)]
    return Written(tuple(written), tuple(same), (*study, f"{display}/cases"))


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
        for f in sorted([*into.glob("cases/*.yaml"), *into.glob("observations/*.yaml")]):
            (stage / f.relative_to(into)).write_bytes(f.read_bytes())
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
            staged = stage.as_posix()  # the problems name the set's files, not the copy's
            problems = [
                replace(
                    p,
                    file=p.file.replace(staged, display),
                    message=p.message.replace(staged, display),
                )
                for p in exc.problems
            ]
            raise QdpxError(display, problems) from None
    return study_files, kept
