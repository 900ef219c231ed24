"""The review loop of assisted coding, as its commands run it: suggestions for a raw text written
as a CSV to review (``crosscase suggest``), the reviewed CSV turned into a new case's narratives
(``crosscase accept``), theme suggestions for a case's observations (``crosscase
suggest-themes``), and two coders' CSVs compared (``crosscase agreement``). Each function reads
and writes tables; the commands print what they return."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..model import Framework, Study
from ..outputs import plural
from .dimensions import domain_documents, suggest_dimensions
from .measures import Agreement, agreement
from .settings import DECLARED
from .themes import suggest_themes

#: What a reviewer writes in ``accept`` to leave a segment out.
LEAVE_OUT = "-"


def dimension_suggestions(study: Study, text: str) -> tuple[pd.DataFrame, list[str]]:
    """Segments of ``text`` with a suggested dimension each and an empty ``accept`` column to
    review; what to tell the reviewer."""
    table = suggest_dimensions(study, text, domain_documents(study))
    table.insert(4, "accept", "")
    counts = table["dimension"].value_counts().sort_index()
    unsure = int((table["unsure"] == "yes").sum())
    return table, [
        f"{plural(len(table), 'segment')}: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
        f"{unsure} of {len(table)} marked unsure: their {DECLARED.unsure_coverage:.0%} "
        "prediction set (column `candidates`) does not hold the suggestion alone; read those. "
        "`score` is the calibrated probability of the suggestion.",
        "Review: leave `accept` empty to take the suggestion, write a dimension id to "
        f"override it, or '{LEAVE_OUT}' to leave the segment out; then `crosscase accept`.",
    ]


def accepted_narratives(reviewed: Path, framework: Framework) -> tuple[dict[str, str], list[str]]:
    """A new case's narratives from a reviewed suggestions CSV (each segment under the dimension
    its reviewer accepted), and the problems found (file, segment, field), if any."""
    table = pd.read_csv(reviewed, dtype=str, keep_default_na=False)
    missing = {"segment", "text", "dimension", "accept"} - set(table.columns)
    if missing:
        return {}, [f"{reviewed}: missing column(s) {', '.join(sorted(missing))}"]
    chosen: dict[str, list[str]] = {d.id: [] for d in framework.dimensions}
    problems = []
    for row in table.to_dict("records"):
        choice = (str(row["accept"]) or str(row["dimension"])).strip()
        if choice == LEAVE_OUT:
            continue
        if choice not in chosen:
            problems.append(
                f"{reviewed}: segment {row['segment']}: field accept: unknown dimension {choice!r}"
            )
            continue
        chosen[choice].append(str(row["text"]))
    return {d: " ".join(v) for d, v in chosen.items()}, problems


def theme_suggestions(study: Study, case: str, threshold: float | None) -> tuple[pd.DataFrame, str]:
    """Theme suggestions for each observation of ``case`` as the command writes them, and what
    they were learnt from."""
    table = suggest_themes(study, case, threshold).rename(
        columns={
            "reference": "coded_themes",
            "decision": "suggested_theme",
            "suggested": "best_theme",
            "second": "second_theme",
        }
    )
    columns = ["observation", "dimension", "text", "coded_themes", "suggested_theme", "score"]
    cut = table["threshold"].iloc[0] if len(table) else threshold
    how = "given" if threshold is not None else "learnt from those cases"
    said = (
        f"{plural(len(table), 'theme suggestion')} for case {case} (learnt from the other coded "
        f"cases; 'no theme' below similarity {cut}, {how})"
    )
    return table[[*columns, "best_theme", "second_theme"]], said


def agreement_of_files(a: Path, b: Path, unit: str, code: str) -> tuple[Agreement, int]:
    """Agreement of two coders' CSVs on the units both coded (``unit``: the column naming the
    unit, ``code``: the column holding the code); how many units one coder alone coded. Raises
    ValueError naming a file without one of those columns."""
    frames = []
    for path in (a, b):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in (unit, code):
            if col not in frame.columns:
                raise ValueError(f"{path}: no column {col!r}")
        frames.append(frame.set_index(unit)[code])
    x, y = frames
    units = sorted(set(x.index) & set(y.index))
    return agreement([x[u] for u in units], [y[u] for u in units]), len(set(x.index) ^ set(y.index))
