"""What an import read and what each kind of element of the file became, counted in and out
(the report of ``crosscase import-qdpx``); and what an export holds (``crosscase qda``)."""

from __future__ import annotations

from collections import Counter

from ..model import Study
from ..outputs import plural
from .format import guid, is_id_variable, is_number_variable
from .interpret import Imported
from .project import QdaProject

#: A line of the summary: element, how many the file has, what they became.
_Row = tuple[str, int, str]


def _also(count: int, text: str) -> str:
    return f", {count} {text}" if count else ""


def export_summary(study: Study, project: QdaProject) -> list[str]:
    """What an exported project holds, read back from the file (:func:`.project.read_qdpx`):
    every selection counted, those of the case texts by kind and those of the notes."""
    cases, dims = study.cases, study.framework.dimensions
    in_texts = {sel.guid for s in project.sources for sel in s.selections}
    whole = sum(guid("case-text", c.id) in in_texts for c in cases)
    narratives = sum(guid("narrative", f"{c.id}:{d.id}") in in_texts for c in cases for d in dims)
    located = sum(guid("observation", co.observation.id) in in_texts for co in study.observations)
    in_notes = sum(len(n.selections) for n in project.notes.values())
    kinds = [
        plural(whole, "whole case text"),
        plural(narratives, "narrative"),
        f"{plural(located, 'evidence passage')} of observations",
    ]
    if rest := len(in_texts) - whole - narratives - located:
        kinds.append(f"{rest} other")
    return [
        f"  {plural(len(project.codes), 'code')}, {plural(len(project.cases), 'case')}, "
        f"{plural(len(project.notes), 'note')} (observations with no evidence passage)",
        f"  {len(in_texts) + in_notes} coded selections: {len(in_texts)} in the case texts "
        f"({', '.join(kinds)}), {in_notes} in the notes (each note's whole text)",
    ]


def _named(names: list[str], few: int = 4) -> str:
    """Names, quoted: all of them when they are ``few``, else the first ones and how many more."""
    shown = names if len(names) <= few else names[: few - 1]
    more = len(names) - len(shown)
    return ", ".join(repr(n) for n in shown) + (f" and {more} more" if more else "")


def summary(imported: Imported) -> list[str]:
    """What each kind of element of the file became (counts in and out)."""
    rows = [*_structure(imported), *_content(imported)]
    width = max(len(r[0]) for r in rows)
    return [f"  {name:<{width}} {n:>5} -> {what}" for name, n, what in rows]


def _structure(imported: Imported) -> list[_Row]:
    """Sources, codes, cases, variables and their values."""
    p, cases = imported.project, imported.cases
    roles = Counter(r.role for r in imported.roles.values())
    unused = [
        p.codes[g].name for g, r in imported.roles.items() if r.role in ("other", "misplaced")
    ]
    kinds = (("case number", is_number_variable), ("case id", is_id_variable))
    special = {k: {g for g, name in p.variables.items() if is_(name)} for k, is_ in kinds}
    fields = len(p.variables) - len(imported.ignored_variables) - sum(map(len, special.values()))
    shown = [k for k, _ in kinds if special[k] or k == "case number"]  # an id only when given
    held = [(len(special[k]), k) for k in shown]
    given = [(sum(v in special[k] for c in p.cases for v, _ in c.values), k) for k in shown]
    return [
        (
            "sources",
            len(p.sources) + p.other_sources,
            f"the text of {plural(len(cases), 'case')}"
            + _also(len(imported.ignored_sources), "without the study's codes (ignored)")
            + _also(p.other_sources, "not text (ignored)"),
        ),
        (
            "codes",
            len(p.codes),
            f"{plural(roles['dimension'], 'dimension')}, {plural(roles['theme'], 'theme')}, "
            f"{plural(roles['new-theme'], 'new theme')} ({len(imported.new_themes)} used), "
            f"{plural(roles['case'], 'case code')}"
            + _also(len(unused), "other (unused)")
            + (f": {_named(unused)}" if unused else ""),
        ),
        (
            "cases",
            len(p.cases),
            f"{plural(len(cases), 'case')}: {len(imported.new)} new, "
            f"{len(imported.unchanged)} as in the study, {len(imported.changed)} changed",
        ),
        (
            "variables",
            len(p.variables),
            ", ".join(plural(n, k) for n, k in [(fields, "protocol field"), *held])
            + _also(len(imported.ignored_variables), "other (ignored)"),
        ),
        (
            "variable values",
            sum(len(c.values) for c in p.cases),
            ", ".join(
                plural(n, k) for n, k in ((imported.protocol_values, "protocol value"), *given)
            ),
        ),
    ]


def _content(imported: Imported) -> list[_Row]:
    """Coded selections, notes, users and the archive's files."""
    p, cases = imported.project, imported.cases
    texts = (*p.sources, *p.notes.values())
    located = sum(1 for c in cases for o in c.observations if o.evidence)
    unlocated = sum(1 for c in cases for o in c.observations if not o.evidence)
    memo_less = sum(c.memo_less for c in cases)
    sel = imported.selections
    in_notes = sum(len(n.selections) for n in p.notes.values())
    elsewhere = p.selections - in_notes - sum(sel.values())  # in the sources no case takes
    observations = plural(located, "first-order observation")
    if sel.get("observation", 0) != located:  # a tool keeping one code a selection
        observations = f"{sel.get('observation', 0)} for {observations}"
    return [
        (
            "coded selections",
            p.selections,
            f"{plural(sel.get('narrative', 0), 'narrative passage')}, {observations}"
            + (f" ({memo_less} with no memo: their text is the passage)" if memo_less else "")
            + _also(sel.get("case", 0), "case links")
            + _also(sel.get("none", 0), "with none of the study's codes (ignored)")
            + _also(in_notes, "in notes")
            + _also(elsewhere, "in sources without the study's codes (ignored)")
            + f"; {plural(sum(len(s.codes) for t in texts for s in t.selections), 'coding')}",
        ),
        (
            "notes",
            len(p.notes),
            f"{plural(unlocated, 'first-order observation')} with no passage"
            + _also(imported.ignored_notes, "other (ignored)"),
        ),
        ("users", p.users, "not imported"),
        (
            "files",
            p.members,
            f"{p.members - len(p.extra_files)} read"
            + _also(len(p.extra_files), "unreferenced (ignored)"),
        ),
    ]
