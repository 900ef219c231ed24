"""What an import read and what each kind of element of the file became, counted in and out
(the report of ``crosscase import-qdpx``); and what an export holds (``crosscase qda``)."""

from __future__ import annotations

from collections import Counter

from ..model import Study
from ..outputs import plural
from .format import case_variable, guid
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
    p, cases, ignored = imported.project, imported.cases, imported.ignored_variables
    roles = Counter(r.role for r in imported.roles.values())
    unused = [
        p.codes[g].name for g, r in imported.roles.items() if r.role in ("other", "misplaced")
    ]
    kinds = ("case number", "case id")
    special = {k: {g for g, name in p.variables.items() if case_variable(name) == k} for k in kinds}
    shown = [k for k in kinds if special[k] or k == "case number"]  # an id only when given
    fields = len(p.variables) - len(ignored) - sum(map(len, special.values()))
    held = [(fields, "protocol field"), *((len(special[k]), k) for k in shown)]
    values = [sum(v in special[k] for c in p.cases for v, _ in c.values) for k in shown]
    given = [(imported.protocol_values, "protocol value"), *zip(values, shown, strict=True)]
    sources = f"the text of {plural(len(cases), 'case')}"
    sources += _also(len(imported.ignored_sources), "without the study's codes (ignored)")
    sources += _also(p.other_sources, "not text (ignored)")
    codes = f"{plural(roles['dimension'], 'dimension')}, {plural(roles['theme'], 'theme')}, "
    codes += f"{plural(roles['new-theme'], 'new theme')} ({len(imported.new_themes)} used), "
    codes += plural(roles["case"], "case code") + _also(len(unused), "other (unused)")
    new, same, changed = len(imported.new), len(imported.unchanged), len(imported.changed)
    described = f"{plural(len(cases), 'case')}: {new} new, {same} as in the study, "
    variables = ", ".join(plural(n, k) for n, k in held) + _also(len(ignored), "other (ignored)")
    values_in = sum(len(c.values) for c in p.cases)
    return [
        ("sources", len(p.sources) + p.other_sources, sources),
        ("codes", len(p.codes), codes + (f": {_named(unused)}" if unused else "")),
        ("cases", len(p.cases), f"{described}{changed} changed"),
        ("variables", len(p.variables), variables),
        ("variable values", values_in, ", ".join(plural(n, k) for n, k in given)),
    ]


def _content(imported: Imported) -> list[_Row]:
    """Coded selections, notes, users and the archive's files."""
    p, cases, sel = imported.project, imported.cases, imported.selections
    located = sum(1 for c in cases for o in c.observations if o.evidence)
    unlocated = sum(1 for c in cases for o in c.observations if not o.evidence)
    memo_less = sum(c.memo_less for c in cases)
    in_notes = sum(len(n.selections) for n in p.notes.values())
    elsewhere = p.selections - in_notes - sum(sel.values())  # in the sources no case takes
    codings = sum(len(s.codes) for t in (*p.sources, *p.notes.values()) for s in t.selections)
    observations = plural(located, "first-order observation")
    if sel.get("observation", 0) != located:  # a tool keeping one code a selection
        observations = f"{sel.get('observation', 0)} for {observations}"
    selections = f"{plural(sel.get('narrative', 0), 'narrative passage')}, {observations}"
    selections += f" ({memo_less} with no memo: their text is the passage)" if memo_less else ""
    selections += _also(sel.get("case", 0), "case links")
    selections += _also(sel.get("none", 0), "with none of the study's codes (ignored)")
    selections += _also(in_notes, "in notes")
    selections += _also(elsewhere, "in sources without the study's codes (ignored)")
    notes = f"{plural(unlocated, 'first-order observation')} with no passage"
    files = f"{p.members - len(p.extra_files)} read"
    return [
        ("coded selections", p.selections, f"{selections}; {plural(codings, 'coding')}"),
        ("notes", len(p.notes), notes + _also(imported.ignored_notes, "other (ignored)")),
        ("users", p.users, "not imported"),
        ("files", p.members, files + _also(len(p.extra_files), "unreferenced (ignored)")),
    ]
