"""How an import compares the names in a REFI-QDA project with the study's (white space
collapsed, case folded: tools regenerate GUIDs, so names and hierarchy are what match), and
makes safe ids (file names) from them."""

from __future__ import annotations

import re
import unicodedata

from ..reading import normalise_space
from .export import NUMBER_VARIABLE


def key(name: str) -> str:
    """How names are compared: white space collapsed, case folded."""
    return normalise_space(name).casefold()


def slug(text: str, limit: int = 80) -> str:
    """A safe identifier from a name: ASCII lowercase letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out[:limit].rstrip("-")


def is_number_variable(variable: str) -> bool:
    """Whether a case variable is the case's number (:data:`~crosscase.qda.export.NUMBER_VARIABLE`
    or ``number``)."""
    return key(variable) in (key(NUMBER_VARIABLE), "number")
