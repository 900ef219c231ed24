"""The REFI-QDA format (QDA-XML 1.0) as the export writes it and the import reads it: namespaces,
stable GUIDs, who and when made every element, the case variables and the code that carry the
study's cases, the marks of ids left where tools keep them, and how names are compared."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Collection

from ..study.passages import normalise_space

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
Q = f"{{{PROJECT_NS}}}"  # a project element's qualified name is f"{Q}<name>"
_NAMESPACE = uuid.UUID("5b0f6b4e-2d1c-4c55-9a55-63726f737363")  # crosscase's UUID namespace


def guid(kind: str, ident: str) -> str:
    """A stable GUID for an item of the study."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{ident}"))


#: Who and when, on every element a tool wants it: the schema makes these attributes optional,
#: but QualCoder reads the date of every note and selection and qualitative-coding the user of
#: every coding. Fixed values keep the export byte-identical from run to run.
EXPORT_USER = "crosscase"
EXPORT_TIME = "1980-01-01T00:00:00Z"  # the zip's own fixed timestamp
USER_GUID = guid("user", EXPORT_USER)
#: The case variables holding the case's number (an Integer; tools may give it back as a Float)
#: and its id (Text: variables are what every tool keeps of a case).
NUMBER_VARIABLE = "Case number"
ID_VARIABLE = "Case id"
#: The (not codable) code grouping one code per case, each with its case's GUID: QualCoder links
#: a case to text through a code of the case's GUID coding that text (NVivo's convention).
CASES_CODE = "Cases"
#: Ids where tools keep them: a case's Description ends with its id in parentheses, a theme's
#: code Description is "Second-order theme (<id>)", an observation's memo starts with its id in
#: brackets (QualCoder names selections by their text, NVivo leaves them unnamed).
CASE_DESCRIPTION = "Case {number} ({id})"
THEME_DESCRIPTION = "Second-order theme ({id})"
_CASE_MARK = re.compile(r"\(([a-z0-9][a-z0-9-]*)\)\s*$")
_THEME_MARK = re.compile(r"^\s*Second-order theme \(([a-z0-9][a-z0-9-]*)\)")
_MEMO_MARK = re.compile(r"^\s*\[([A-Za-z0-9][A-Za-z0-9._-]{0,99})\]\s*(.*)$", re.DOTALL)
#: Letters NFKD does not take apart into ASCII, spelt as they usually are in ASCII.
_SPELT = str.maketrans("øłđð\u0131", "olddi") | str.maketrans(
    {"æ": "ae", "œ": "oe", "ß": "ss", "þ": "th"}
)


def case_mark(description: str) -> str | None:
    """The case id a case's Description ends with (``Case 6 (my-case)``)."""
    m = _CASE_MARK.search(description)
    return m.group(1) if m else None


def theme_mark(description: str) -> str | None:
    m = _THEME_MARK.match(description)
    return m.group(1) if m else None


def mark(ident: str, memo: str) -> str:
    """An observation's memo with its id in front: ``[c6-sns-1] text``."""
    return f"[{ident}] {memo}"


def unmark(memo: str) -> tuple[str | None, str]:
    """The id in front of a memo (:func:`mark`), if any, and the memo without it."""
    m = _MEMO_MARK.match(memo)
    return (m.group(1), m.group(2).strip()) if m and m.group(2).strip() else (None, memo)


def key(name: str) -> str:
    """How names are compared: white space collapsed, case folded (tools regenerate GUIDs, so
    names and hierarchy are what match)."""
    return normalise_space(name).casefold()


def slug(text: str) -> str:
    """A safe identifier: ASCII lowercase letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].rstrip("-")


def readable_slug(name: str) -> str:
    """:func:`slug` of a name whose every letter and digit has an ASCII spelling; empty for a
    name in another script, whose slug would keep only some of it (or nothing)."""
    spelt = name.lower().translate(_SPELT)
    return "" if any(c.isalnum() and not slug(c) for c in spelt) else slug(spelt)


def free_id(base: str, taken: Collection[str]) -> str:
    """``base``, else the first of ``base-2``, ``base-3``, ... not ``taken``."""
    ident, n = base, 1
    while ident in taken:
        n += 1
        ident = f"{base}-{n}"
    return ident


def case_variable(variable: str) -> str | None:
    """Which case variable ``variable`` is, by its name or the short one tools give it:
    ``"case number"``, ``"case id"``, or neither."""
    names = {"case number": (NUMBER_VARIABLE, "number"), "case id": (ID_VARIABLE, "id")}
    return next((k for k, ns in names.items() if key(variable) in map(key, ns)), None)
