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
from .project import QdaProject

Role = Literal["dimension", "theme", "new-theme", "case", "misplaced", "other"]


@dataclass(frozen=True)
class CodeRole:
    """What a code of the project is to the study."""

    role: Role
    ref: str = ""  # dimension id, theme id, new theme's key, or why it is misplaced


def classify_codes(
    project: QdaProject, framework: Framework, themes: ThemeIndex
) -> dict[str, CodeRole]:
    """Each code's role, by name and place in the hierarchy: a dimension (label, alias or id), a
    known theme (the id its Description gives, or its label or id; under its own dimension when
    under one), a new candidate theme (an unknown code directly under a dimension), a case's code
    (the GUID or name of a case), or other."""
    dims: dict[str, str] = {}
    for d in framework.dimensions:
        for name in (d.id, d.label, *d.aliases):
            dims.setdefault(key(name), d.id)
    case_guids = {c.guid for c in project.cases}
    case_names = {key(c.name) for c in project.cases if c.name}
    roles: dict[str, CodeRole] = {}
    for code in project.codes.values():  # parents before their children
        k = key(code.name)
        parent = roles.get(code.parent or "")
        theme = themes.by_id.get(theme_mark(code.description) or "") or themes.resolve(code.name)
        if k in dims:
            roles[code.guid] = CodeRole("dimension", dims[k])
        elif parent is not None and parent.role == "dimension":
            if theme is None:
                roles[code.guid] = CodeRole("new-theme", f"{parent.ref}\n{k}")
            elif theme.dimension == parent.ref:
                roles[code.guid] = CodeRole("theme", theme.id)
            else:
                roles[code.guid] = CodeRole(
                    "misplaced",
                    f"code {code.name!r} is theme {theme.id!r} of dimension {theme.dimension!r} "
                    f"but sits under dimension {parent.ref!r}",
                )
        elif code.guid in case_guids or k in case_names:
            roles[code.guid] = CodeRole("case")
        elif theme is not None:
            roles[code.guid] = CodeRole("theme", theme.id)
        else:
            roles[code.guid] = CodeRole("other")
    return roles


class CodeMeanings:
    """The roles of a project's codes (:func:`classify_codes`), the new candidate themes they
    name (each with a new id), and what a set of codes says; problems go to ``log``."""

    def __init__(
        self, project: QdaProject, study: Study, extra_themes: Sequence[Theme], log: ProblemLog
    ) -> None:
        self.project = project
        self.log = log
        self.themes = ThemeIndex([*study.themes, *extra_themes])
        self.known_theme_ids = set(self.themes.by_id)
        self.roles = classify_codes(project, study.framework, self.themes)
        self.new_theme_ids: dict[str, Theme] = {}  # new theme key -> theme
        self.labels = study.dimension_labels

    def study_codes(self, codes: Iterable[str]) -> list[str]:
        """The codes that are the study's: dimensions and themes (known, new or misplaced)."""
        return [
            c
            for c in codes
            if self.roles[c].role in ("dimension", "theme", "new-theme", "misplaced")
        ]

    def is_case_code(self, code: str) -> bool:
        return self.roles[code].role == "case"

    def is_foreign(self) -> bool:
        """Whether none of the codes is a dimension or a theme of the study."""
        return not any(r.role in ("dimension", "theme") for r in self.roles.values())

    def new_theme(self, ref: str) -> Theme:
        """The new candidate theme of a new theme's key: its id the one its code's Description
        gives when free, else made from its label (from its dimension for a label in a script
        with no ASCII spelling)."""
        if ref not in self.new_theme_ids:
            dimension, _ = ref.split("\n", 1)
            code = next(c for g, c in self.project.codes.items() if self.roles[g].ref == ref)
            label = normalise_space(code.name)
            taken = self.known_theme_ids | {t.id for t in self.new_theme_ids.values()}
            base = theme_mark(code.description) or ""
            if not base or base in taken:
                base = readable_slug(label) or f"{dimension}-theme"
            ident, n = base, 1
            while ident in taken:
                n += 1
                ident = f"{base}-{n}"
            self.new_theme_ids[ref] = Theme(id=ident, dimension=dimension, label=label)
        return self.new_theme_ids[ref]

    def used_new_themes(self, used: set[str]) -> tuple[Theme, ...]:
        """The new candidate themes among the theme ids ``used``."""
        return tuple(t for t in self.new_theme_ids.values() if t.id in used)

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
            elif role.role == "theme":
                themes.append(role.ref)
            elif role.role == "new-theme":
                themes.append(self.new_theme(role.ref).id)
            elif role.role == "misplaced":
                if what:
                    self.log.add(f"{what}: {role.ref}", case, line)
                ok = False
            elif role.role == "other" and what:
                code = self.project.codes[c]
                self.log.add(
                    f"{what}: code {code.name!r} is neither a dimension nor a theme (a code "
                    "directly under a dimension); known dimensions: "
                    + ", ".join(self.labels.values()),
                    case,
                    line,
                )
                ok = False
        return dims, list(dict.fromkeys(themes)), ok

    def theme_dimension(self, theme_id: str) -> str:
        theme = self.themes.by_id.get(theme_id) or next(
            t for t in self.new_theme_ids.values() if t.id == theme_id
        )
        return theme.dimension

    def dimensions_of(self, codes: Iterable[str]) -> set[str]:
        """The dimensions of some codes: theirs, or their themes'."""
        out = set()
        for c in codes:
            role = self.roles[c]
            if role.role == "dimension":
                out.add(role.ref)
            elif role.role == "theme":
                out.add(self.theme_dimension(role.ref))
            elif role.role == "new-theme":
                out.add(role.ref.split("\n", 1)[0])
        return out
