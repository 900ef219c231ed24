"""The file names of the report's evidence pages (one per second-order theme, one per case) and
the anchors inside them, and the pages of the executed notebooks: the report's URL scheme, in
one place. Used by the report's pages and templates (:mod:`.build`, :mod:`.browser`) and by the
annotations (:mod:`.annotations`), whose links point into the report."""

from __future__ import annotations

from pathlib import PurePath

#: The evidence browser's index page, and its name wherever the report names it.
EVIDENCE_INDEX = "evidence.html"
EVIDENCE_TITLE = "The chain of evidence"
#: The data display (cases x dimensions) with every observation and theme linked.
DATA_DISPLAY = "data-display.html"


def notebook_file(notebook: str) -> str:
    """The page of an executed notebook (its path or file name)."""
    return f"{PurePath(notebook).stem}.html"


def theme_file(theme: str) -> str:
    """The page of a second-order theme (ids are safe slugs)."""
    return f"theme-{theme}.html"


def case_file(case: str) -> str:
    """The page of a case (ids are safe slugs)."""
    return f"case-{case}.html"


def observation_anchor(observation: str) -> str:
    """The id of an observation's entry on its case's page and on a theme's page."""
    return f"obs-{observation}"


def case_anchor(number: int) -> str:
    """The id of a case's section on a theme's page."""
    return f"case-{number}"


def dimension_anchor(dimension: str) -> str:
    """The id of a dimension's narrative on a case's page."""
    return f"dim-{dimension}"


def observation_link(case: str, observation: str) -> str:
    """A link to an observation on its case's page."""
    return f"{case_file(case)}#{observation_anchor(observation)}"


def theme_case_link(theme: str, number: int) -> str:
    """A link to a case's evidence on a theme's page."""
    return f"{theme_file(theme)}#{case_anchor(number)}"
