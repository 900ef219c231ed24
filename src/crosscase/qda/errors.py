"""Problems of a REFI-QDA import: every one found is reported at once, nothing is written."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from ..study.problems import Problem, StudyDataError


class QdpxError(StudyDataError):
    """Problems in a REFI-QDA project to import (every one found, nothing written)."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.subject = f"importing {source}"
        super().__init__(problems)


def fail(where: str, message: str, line: int | None = None) -> NoReturn:
    """Stop with one problem of ``where``."""
    raise QdpxError(where, [Problem(where, None, None, message, line)])


class ProblemLog:
    """The problems found interpreting a project document (``display``, ``<archive>:<qde>``)."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []

    def add(self, message: str, case: str | None = None, line: int | None = None) -> None:
        self.problems.append(Problem(self.display, case, None, message, line))

    def check(self) -> None:
        """Stop with every problem found, if any (reported as the archive's)."""
        if self.problems:
            raise QdpxError(self.display.rsplit(":", 1)[0], self.problems)
