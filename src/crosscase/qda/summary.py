"""What an import read and what each kind of element of the file became, counted in and out
(the report of ``crosscase import-qdpx``)."""

from __future__ import annotations

from collections import Counter

from .interpret import Imported
from .names import is_number_variable

#: A line of the summary: element, how many the file has, what they became.
_Row = tuple[str, int, str]


def _n(count: int, word: str) -> str:
    """``1 case``, ``2 cases``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _also(count: int, text: str) -> str:
    return f", {count} {text}" if count else ""


def summary(imported: Imported) -> list[str]:
    """What each kind of element of the file became (counts in and out)."""
    rows = [*_structure(imported), *_content(imported)]
    width = max(len(r[0]) for r in rows)
    return [f"  {name:<{width}} {n:>5} -> {what}" for name, n, what in rows]


def _structure(imported: Imported) -> list[_Row]:
    """Sources, codes, cases, variables and their values."""
    p, cases = imported.project, imported.cases
    roles = Counter(r.role for r in imported.roles.values())
    numbers = sum(1 for c in p.cases for v, _ in c.values if is_number_variable(p.variables[v][0]))
    number_vars = sum(1 for name, _ in p.variables.values() if is_number_variable(name))
    fields = len(p.variables) - len(imported.ignored_variables) - number_vars
    return [
        (
            "sources",
            len(p.sources) + p.other_sources,
            f"the text of {_n(len(cases), 'case')}"
            + _also(len(imported.ignored_sources), "without the study's codes (ignored)")
            + _also(p.other_sources, "not text (ignored)"),
        ),
        (
            "codes",
            len(p.codes),
            f"{_n(roles['dimension'], 'dimension')}, {_n(roles['theme'], 'theme')}, "
            f"{_n(roles['new-theme'], 'new theme')} ({len(imported.new_themes)} used), "
            f"{_n(roles['case'], 'case code')}"
            + _also(roles["other"] + roles["misplaced"], "other (unused)"),
        ),
        (
            "cases",
            len(p.cases),
            f"{_n(len(cases), 'case')}: {len(imported.new)} new, {len(imported.unchanged)} as in "
            f"the study, {len(imported.changed)} changed",
        ),
        (
            "variables",
            len(p.variables),
            f"{_n(fields, 'protocol field')}, {_n(number_vars, 'case number')}"
            + _also(len(imported.ignored_variables), "other (ignored)"),
        ),
        (
            "variable values",
            p.variable_values,
            f"{_n(imported.protocol_values, 'protocol value')}, {_n(numbers, 'case number')}",
        ),
    ]


def _content(imported: Imported) -> list[_Row]:
    """Coded selections, notes, users and the archive's files."""
    p, cases = imported.project, imported.cases
    located = sum(1 for c in cases for o in c.observations if o.evidence)
    unlocated = sum(1 for c in cases for o in c.observations if not o.evidence)
    memo_less = sum(c.memo_less for c in cases)
    return [
        (
            "coded selections",
            p.selections,
            f"{_n(imported.narrative_passages, 'narrative passage')}, "
            f"{_n(located, 'first-order observation')}"
            + (f" ({memo_less} with no memo: their text is the passage)" if memo_less else "")
            + _also(imported.case_links, "case links")
            + _also(imported.ignored_selections, "with none of the study's codes (ignored)")
            + f"; {_n(p.codings, 'coding')}",
        ),
        (
            "notes",
            len(p.notes),
            f"{_n(unlocated, 'first-order observation')} with no passage"
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
