"""The REFI-QDA format (QDA-XML 1.0) as this compendium writes and reads it, shared by the export
(:mod:`.export`) and the import (:mod:`.project` and the modules after it): the namespaces,
stable GUIDs, who and when every element was made, the case variable holding a case's number,
the code grouping the cases' own codes, and how names are compared and turned into ids."""

from __future__ import annotations

import re
import unicodedata
import uuid

from ..study.passages import normalise_space

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
#: A project element's qualified name is f"{Q}<name>".
Q = f"{{{PROJECT_NS}}}"
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
#: The case variable holding the case's number (an Integer; tools may give it back as a Float).
NUMBER_VARIABLE = "Case number"
#: The (not codable) code grouping one code per case, each with its case's GUID: QualCoder links
#: a case to text through a code of the case's GUID coding that text (NVivo's convention).
CASES_CODE = "Cases"


def key(name: str) -> str:
    """How names are compared: white space collapsed, case folded (tools regenerate GUIDs, so
    names and hierarchy are what match)."""
    return normalise_space(name).casefold()


def slug(text: str, limit: int = 80) -> str:
    """A safe identifier from a name: ASCII lowercase letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out[:limit].rstrip("-")


def is_number_variable(variable: str) -> bool:
    """Whether a case variable is the case's number (:data:`NUMBER_VARIABLE` or ``number``)."""
    return key(variable) in (key(NUMBER_VARIABLE), "number")
