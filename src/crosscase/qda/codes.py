"""What the codes of a REFI-QDA project are to the study, by name, description and place in the
hierarchy (never by GUID: tools regenerate GUIDs on every export): a dimension, a known
second-order theme, a new candidate theme (a code the study does not know, directly under a
dimension), a case's code, or other; and what the codes of a passage say (its dimensions and
themes). A theme's id is the one its code's Description gives (``Second-order theme (<id>)``,
as the export writes it and tools keep it), else the known theme of its label, else one made
from its label."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..model import Framework, Study, Theme
from ..study.checks import ThemeIndex
from ..study.passages import normalise_space
from .errors import ProblemLog
from .format import key, readable_slug, theme_mark
from .project import CodeItem, QdaProject

Role = Literal["dimension", "theme", "new-theme", "case", "misplaced", "other"]


@dataclass(frozen=True)
class CodeRole:
    """What a code of the project is to the study."""

    role: Role
    ref: str = ""  # dimension id, theme id (known or new), or why it is misplaced


class CodeMeanings:
    """The roles of a project's codes, the new candidate themes they name (each with its id), and
    what a set of codes says; problems go to ``log``."""

    def __init__(
        self, project: QdaProject, study: Study, extra_themes: Sequence[Theme], log: ProblemLog
    ) -> None:
        self.project = project
        self.log = log
        self.labels = study.dimension_labels
        known = ThemeIndex([*study.themes, *extra_themes])
        self.new: dict[str, Theme] = {}  # a new theme's dimension and label key -> the theme
        self.roles = self._classify(study.framework, known)
        themes = [*known.by_id.values(), *self.new.values()]
        self.dimension_of = {t.id: t.dimension for t in themes}  # theme id -> its dimension

    def _classify(self, framework: Framework, themes: ThemeIndex) -> dict[str, CodeRole]:
        """Each code's role, by name and place in the hierarchy: a dimension (label, alias or
        id), a known theme (the id its Description gives, or its label or id; under its own
        dimension when under one), a new candidate theme (an unknown code directly under a
        dimension), a case's code (the GUID or name of a case), or other."""
        dims: dict[str, str] = {}  # the first dimension of a name
        for d in framework.dimensions:
            for name in (d.id, d.label, *d.aliases):
                dims.setdefault(key(name), d.id)
        cases = {c.guid for c in self.project.cases}
        cases |= {key(c.name) for c in self.project.cases if c.name}
        roles: dict[str, CodeRole] = {}
        for code in self.project.codes.values():  # parents before their children
            k, parent = key(code.name), roles.get(code.parent or "", CodeRole("other"))
            theme = themes.by_id.get(theme_mark(code.description) or "") or themes.resolve(
                code.name
            )
            if k in dims:
                role = CodeRole("dimension", dims[k])
            elif parent.role != "dimension":
                if code.guid in cases or k in cases:
                    role = CodeRole("case")
                else:
                    role = CodeRole("theme", theme.id) if theme else CodeRole("other")
            elif theme is None:
                role = CodeRole("new-theme", self._new_theme(parent.ref, code, themes))
            elif theme.dimension == parent.ref:
                role = CodeRole("theme", theme.id)
            else:
                where = f"of dimension {theme.dimension!r} but sits under dimension {parent.ref!r}"
                role = CodeRole("misplaced", f"code {code.name!r} is theme {theme.id!r} {where}")
            roles[code.guid] = role
        return roles

    def _new_theme(self, dimension: str, code: CodeItem, themes: ThemeIndex) -> str:
        """The id of the new candidate theme of a code under a dimension: the one its
        Description gives when free, else made from its label (from its dimension for a label in
        a script with no ASCII spelling)."""
        label = normalise_space(code.name)
        if (k := f"{dimension}\n{key(label)}") not in self.new:
            taken = set(themes.by_id) | {t.id for t in self.new.values()}
            base = theme_mark(code.description) or ""
            if not base or base in taken:
                base = readable_slug(label) or f"{dimension}-theme"
            ident, n = base, 1
            while ident in taken:
                n += 1
                ident = f"{base}-{n}"
            self.new[k] = Theme(id=ident, dimension=dimension, label=label)
        return self.new[k].id

    def study_codes(self, codes: Iterable[str]) -> list[str]:
        """The codes that are the study's: dimensions and themes (known, new or misplaced)."""
        return [c for c in codes if self.roles[c].role not in ("case", "other")]

    def is_case_code(self, code: str) -> bool:
        return self.roles[code].role == "case"

    def is_foreign(self) -> bool:
        """Whether none of the codes is a dimension or a theme of the study."""
        return not any(r.role in ("dimension", "theme") for r in self.roles.values())

    def used_new_themes(self, used: set[str]) -> tuple[Theme, ...]:
        """The new candidate themes among the theme ids ``used``."""
        return tuple(t for t in self.new.values() if t.id in used)

    def meaning(
        self, codes: Iterable[str], what: str = "", case: str | None = None, line: int | None = None
    ) -> tuple[set[str], list[str], bool]:
        """The dimensions and themes (ids) of some codes; reports codes that are neither (when
        told ``what`` holds them)."""
        dims: set[str] = set()
        themes: list[str] = []
        ok = True
        for c in codes:
            role = self.roles[c]
            if role.role == "dimension":
                dims.add(role.ref)
            elif role.role in ("theme", "new-theme"):
                themes.append(role.ref)
            elif role.role == "misplaced" or (role.role == "other" and what):
                ok = False
                if what:
                    self.log.add(f"{what}: {role.ref or self._neither(c)}", case, line)
        return dims, list(dict.fromkeys(themes)), ok

    def _neither(self, code: str) -> str:
        return (
            f"code {self.project.codes[code].name!r} is neither a dimension nor a theme (a code "
            f"directly under a dimension); known dimensions: {', '.join(self.labels.values())}"
        )

    def dimensions_of(self, codes: Iterable[str]) -> set[str]:
        """The dimensions of some codes: theirs, or their themes'."""
        roles = [self.roles[c] for c in codes]
        ours = [r for r in roles if r.role in ("dimension", "theme", "new-theme")]
        return {r.ref if r.role == "dimension" else self.dimension_of[r.ref] for r in ours}
