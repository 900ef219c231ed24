"""The names of the report's evidence pages, one per second-order theme and one per case, and
the anchors inside them. Shared by the evidence browser (:mod:`crosscase.browser`) and the
annotation export (:func:`crosscase.analysis.annotation_records`), whose links point into the
report; kept free of dependencies so that the core can use it."""

from __future__ import annotations

#: The evidence browser's index page.
EVIDENCE_INDEX = "evidence.html"
#: The data display (cases x dimensions) with every observation and theme linked.
DATA_DISPLAY = "data-display.html"


def theme_page(theme: str) -> str:
    """The page of a second-order theme (ids are safe slugs)."""
    return f"theme-{theme}.html"


def case_page(case: str) -> str:
    """The page of a case (ids are safe slugs)."""
    return f"case-{case}.html"


def observation_anchor(observation: str) -> str:
    """The id of an observation's entry on its case's page and on a theme's page."""
    return f"obs-{observation}"


def case_anchor(number: int) -> str:
    """The id of a case's section on a theme's page."""
    return f"case-{number}"


def observation_link(case: str, observation: str) -> str:
    """A link to an observation on its case's page."""
    return f"{case_page(case)}#{observation_anchor(observation)}"
