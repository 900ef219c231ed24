"""Problems found in study data, and the wording of their messages.

Loading never stops at the first problem: each check returns the problems it finds, and the
caller raises one :class:`StudyDataError` holding them all, before anything is written. A problem
names its file, line, case and field; a name that is not known is reported with the one it most
likely is and the known ones (:func:`unknown`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass

from ..outputs import plural

#: Where a value sits in a file: keys and list indices, e.g. ``("observations", 3, "evidence")``.
Loc = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the study data: which file, case and field, what is wrong, and where."""

    file: str
    case: str | None
    field: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        parts += [f"case {self.case}"] if self.case else []
        parts += [f"field {self.field}"] if self.field else []
        return ": ".join([*parts, self.message])


class StudyDataError(ValueError):
    """Raised with every problem found, so that one run reports them all."""

    #: What the report says was being read ("the study data", "importing project.qdpx").
    subject = "in the study data"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, str(p)))
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{plural(len(self.problems), 'problem')} {self.subject} (nothing was written):"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def closest(value: str, known: Sequence[str]) -> str | None:
    """The known name ``value`` is most likely a misspelling of, if any: a close spelling, else
    one with other separators ("supply_chain" for "supply-chain")."""
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    folded = {re.sub(r"[\W_]+", "", k.lower()): k for k in known}
    return close[0] if close else folded.get(re.sub(r"[\W_]+", "", value.lower()))


def unknown(
    kind: str,
    value: str,
    known: Sequence[str],
    likely: str | None = None,
    candidates: Sequence[str] | None = None,
) -> str:
    """``unknown dimension 'supply_chain' (did you mean 'supply-chain'? known: ...)``: the
    ``likely`` one, else the closest of ``candidates`` (by default of ``known``)."""
    close = likely or closest(value, known if candidates is None else candidates)
    hint = f"did you mean {close!r}? " if close else ""
    listed = ", ".join(known[:30]) + (", ..." if len(known) > 30 else "")
    return f"unknown {kind} {value!r} ({hint}known: {listed})"


def unknown_field(
    name: str, known: Sequence[str], written: Container[str], likely: str | None
) -> str:
    """``unknown field 'theme' (did you mean 'themes'? known: ...)``: the likely one among the
    known fields not already ``written`` beside it."""
    return unknown("field", name, known, likely, [k for k in known if k not in written])


def misspelt_fields(unknowns: Sequence[str], missing: Sequence[str]) -> str | None:
    """One unknown field where one required field is missing: most likely a misspelling of it."""
    return missing[0] if len(unknowns) == 1 and len(missing) == 1 else None


def format_loc(loc: Loc) -> str:
    """``("observations", 3, "evidence")`` -> ``"observations[3].evidence"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out
