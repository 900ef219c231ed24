"""The cross-checks of a study's files, each a named function that returns the problems it finds,
each problem with its file and line.

Checks run on whatever could be read (:mod:`crosscase.study.reading`): a file with a broken entry
is still cross-checked for the rest, so that one report lists every problem.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..model import (
    LINK_BASES,
    CodedObservation,
    Comparison,
    Framework,
    Observation,
    Proposition,
    Theme,
)
from .passages import locate, nearest_passage, normalise_space
from .problems import Loc, Problem, closest, misspelt_fields, unknown
from .reading import Parsed, ParsedCase, ParsedItems
from .yamlfile import YamlDocument

#: The longest narrative accepted (characters). A two-hour interview transcript is about 100,000
#: characters; a narrative ten times longer is refused with this limit named.
MAX_NARRATIVE_CHARS = 1_000_000
#: A first-order observation is a short phrase: a longer text is accepted with a warning (a
#: passage pasted into ``text`` swells every table and notebook that shows the observation).
LONG_OBSERVATION_CHARS = 500


@dataclass(frozen=True)
class Entry:
    """Where the problems of one entry go: its file, its case, where it is in the file, and what
    each message starts with (``observation c1-sns-1: ``)."""

    doc: YamlDocument
    case: str | None
    loc: Loc = ()
    prefix: str = ""

    def problem(self, at: Loc, message: str) -> Problem:
        return self.doc.problem(self.case, (*self.loc, *at), self.prefix + message)

    def reference(self, at: Loc, kind: str, value: str, known: Sequence[str]) -> list[Problem]:
        """No problem when ``value`` is among ``known``; otherwise one naming the known ones."""
        return [] if value in known else [self.problem(at, unknown(kind, value, known))]


def check_framework(fw: Parsed[Framework]) -> list[Problem]:
    """Dimensions name a known perspective; perspective and dimension ids are unique."""
    framework, doc = fw.model, fw.doc
    persp = [p.id for p in framework.perspectives]
    out = []
    for i, d in enumerate(framework.dimensions):
        e = Entry(doc, None, ("dimensions", i))
        out += e.reference(("perspective",), "perspective", d.perspective, persp)
    for kind, ids in (("perspective", persp), ("dimension", [d.id for d in framework.dimensions])):
        for ident, n in Counter(ids).items():
            if n > 1:
                out.append(doc.problem(None, (f"{kind}s",), f"duplicate {kind} id {ident!r}"))
    return out


def check_case_identity(cases: Sequence[ParsedCase]) -> list[Problem]:
    """Each case file is named after its case; case ids and numbers are unique in the set. A
    number already taken is reported on the case read later (a new case is listed after the
    study's own), with the next free number (the one after for each further such case)."""
    out = []
    ids = Counter(c.case.id for c in cases)
    holders: dict[int, ParsedCase] = {}
    free = max((c.case.number for c in cases), default=0) + 1
    for c in cases:
        case, e = c.case, Entry(c.doc, c.case.id)
        if c.doc.path.stem != case.id:
            message = f"case id {case.id!r} differs from the file name {c.doc.path.name!r} "
            out.append(e.problem(("id",), message + f"(name the file {case.id}.yaml)"))
        if ids[case.id] > 1:
            out.append(e.problem(("id",), f"duplicate case id {case.id!r}"))
        holder = holders.setdefault(case.number, c)
        if holder is not c:
            where = f"{holder.doc.display}:{holder.doc.line(('number',))}"
            message = f"duplicate case number {case.number} (also case {holder.case.id}, {where})"
            out.append(e.problem(("number",), f"{message}; next free number: {free}"))
            free += 1
    return out


def check_case_against_framework(c: ParsedCase, framework: Framework) -> list[Problem]:
    """One narrative per dimension of the framework, no other; the protocol's fields exactly;
    narratives within the stated limit."""
    case, e = c.case, Entry(c.doc, c.case.id)
    dims = [d.id for d in framework.dimensions]
    fields = [f.id for f in framework.case_protocol]
    out = []
    missing = [d for d in dims if d not in case.narratives and d not in c.broken]
    strays = [k for k in case.narratives if k not in dims]
    # One unknown key and one dimension without a narrative: a misspelling of it, reported once
    # (as the unknown key, naming the dimension it most likely is).
    likely = misspelt_fields(strays, missing)
    if likely is None:
        out += [
            e.problem(("narratives",), f"missing narrative for dimension {d!r}") for d in missing
        ]
    for key, text in case.narratives.items():
        if key in strays:
            out.append(e.problem(("narratives", key), unknown("dimension", key, dims, likely)))
        if len(text) > MAX_NARRATIVE_CHARS:
            message = f"narrative too long: {len(text):,} characters (the limit is "
            message += f"{MAX_NARRATIVE_CHARS:,}; see data/README.md, Limits)"
            out.append(e.problem(("narratives", key), message))
    for f in fields:
        if f not in case.protocol and f not in c.broken:
            out.append(e.problem(("protocol",), f"missing protocol field {f!r}"))
    for key in case.protocol:
        out += e.reference(("protocol", key), "protocol field", key, fields)
    return out


def check_themes(files: Sequence[ParsedItems[Theme]], framework: Framework | None) -> list[Problem]:
    """Themes belong to a known dimension; theme ids are unique across the theme files."""
    dims = [d.id for d in framework.dimensions] if framework else []
    out = []
    seen: dict[str, str] = {}
    for f in files:
        for i, t in f.items:
            e = Entry(f.doc, None, ("themes", i))
            out += e.reference(("dimension",), "dimension", t.dimension, dims) if dims else []
            if t.id in seen:
                out.append(
                    e.problem(("id",), f"duplicate theme id {t.id!r} (also in {seen[t.id]})")
                )
            seen.setdefault(t.id, f.doc.display)
    return out


class ThemeIndex:
    """Themes by id and by label (case and white space folded), to resolve an observation's
    ``themes`` entries and to name the known ones when an entry resolves to none."""

    def __init__(self, themes: Sequence[Theme], rejected: Iterable[str] = ()) -> None:
        self.by_id = {t.id: t for t in themes}
        self.by_label = {normalise_space(t.label).casefold(): t for t in themes}
        #: ids and labels of the themes whose entry failed its schema (reported there)
        self.rejected = {normalise_space(r).casefold() for r in rejected}

    @classmethod
    def of(cls, files: Sequence[ParsedItems[Theme]]) -> ThemeIndex:
        """The themes of the theme files, and the ids and labels of their entries left out for
        failing their schema."""
        rejected: list[str] = []
        for f in files:
            kept = {i for i, _ in f.items}
            for i, entry in f.rejected():
                if i not in kept:
                    rejected += [v for k in ("id", "label") if isinstance(v := entry.get(k), str)]
        return cls([t for f in files for _, t in f.items], rejected)

    def resolve(self, ref: str) -> Theme | None:
        return self.by_id.get(ref) or self.by_label.get(normalise_space(ref).casefold())

    def is_rejected(self, ref: str) -> bool:
        return self.resolve(ref) is None and normalise_space(ref).casefold() in self.rejected

    def known(self, dimension: str) -> list[str]:
        return [t.id for t in self.by_id.values() if t.dimension == dimension] or list(self.by_id)

    def meant(self, ref: str, dimension: str | None = None) -> str | None:
        """The theme ``ref`` names, or else the one an unknown-theme problem suggests for it."""
        if (theme := self.resolve(ref)) is not None:
            return theme.id
        if self.is_rejected(ref):
            return None
        return closest(ref, self.known(dimension) if dimension else list(self.by_id))


def _resolve_themes(
    e: Entry, o: Observation, themes: ThemeIndex, dims: Sequence[str]
) -> tuple[list[str], list[Problem]]:
    """An observation's themes as ids (each named by id or label): known, and of its dimension."""
    resolved: list[str] = []
    out: list[Problem] = []
    for j, ref in enumerate(o.themes):
        theme = themes.resolve(ref)
        if theme is None and themes.is_rejected(ref):
            continue  # the theme's own entry is reported
        if theme is None:
            message = f"observation {o.id}: " + unknown("theme", ref, themes.known(o.dimension))
        elif theme.dimension != o.dimension and (
            not dims or {o.dimension, theme.dimension} <= set(dims)
        ):  # (an unknown dimension, of either, is reported where it is written)
            message = (
                f"observation {o.id} ({o.dimension}) cannot evidence theme {theme.id!r} of "
                f"dimension {theme.dimension!r}"
            )
        else:
            resolved.append(theme.id)
            continue
        out.append(e.doc.problem(e.case, (*e.loc, "themes", j), message))
    return resolved, out


def check_observations(
    f: ParsedItems[Observation],
    case: ParsedCase | None,
    themes: ThemeIndex,
    framework: Framework | None,
) -> tuple[list[CodedObservation], list[Problem]]:
    """Each observation of a case: known dimension, known themes of its own dimension (by id or
    label), a basis for each theme link, evidence found in the case's narratives. Returns the
    located observations (themes as ids)."""
    out: list[Problem] = []
    located: list[CodedObservation] = []
    dims = [d.id for d in framework.dimensions] if framework else []
    if case is None:
        return located, out
    for i, o in f.items:
        e = Entry(f.doc, f.head.get("case"), ("observations", i), f"observation {o.id}: ")
        out += e.reference(("dimension",), "dimension", o.dimension, dims) if dims else []
        resolved, found = _resolve_themes(e, o, themes, dims)
        basis, found_basis = check_theme_basis(e, o, resolved, themes)
        out += found + found_basis
        changes = (("themes", resolved, o.themes), ("theme_basis", basis, o.theme_basis))
        update = {k: v for k, v, was in changes if v != was}
        obs = o.model_copy(update=update) if update else o
        co = locate(case.case, obs)
        if obs.evidence is not None and co.start is None:
            hint = nearest_passage(case.case, normalise_space(obs.evidence))
            message = f"evidence passage not found in the narratives of case {case.case.id}"
            out.append(e.problem(("evidence",), message + hint))
        located.append(co)
    return located, out


def long_observations(files: Sequence[ParsedItems[Observation]]) -> list[Problem]:
    """Warnings: observations whose text is longer than a short phrase."""
    out = []
    for f in files:
        for i, o in f.items:
            if len(o.text) > LONG_OBSERVATION_CHARS:
                message = (
                    f"observation {o.id}: text of {len(o.text):,} characters: a first-order "
                    "observation is a short phrase (the limit for a warning is "
                    f"{LONG_OBSERVATION_CHARS:,}); is this an evidence passage? Put the passage "
                    "in `evidence` and the observation in `text`"
                )
                out.append(f.doc.problem(f.head.get("case"), ("observations", i, "text"), message))
    return out


def check_theme_basis(
    e: Entry, o: Observation, resolved: Sequence[str], themes: ThemeIndex
) -> tuple[str | dict[str, str] | None, list[Problem]]:
    """An observation's ``theme_basis``: known bases only; given per theme, one for each theme it
    lists and no other. Returns it with its themes named by id (labels resolved)."""
    basis = o.theme_basis
    known = [b.id for b in LINK_BASES]
    if basis is None:
        return None, []
    out = []
    if not o.themes:
        message = "theme_basis given, but the observation lists no theme"
        out.append(e.problem(("theme_basis",), message))
    if isinstance(basis, str):
        return basis, out + e.reference(("theme_basis",), "theme basis", basis, known)
    by_id: dict[str, str] = {}
    for ref, value in basis.items():
        out += e.reference(("theme_basis", ref), "theme basis", value, known)
        theme = themes.resolve(ref)
        if theme is not None and theme.id in resolved:
            by_id[theme.id] = value
        elif not any(r == ref or (theme and themes.resolve(r) is theme) for r in o.themes):
            # (a theme it lists whose link failed is reported on the link)
            listed = ", ".join(resolved) or "none"
            message = f"theme_basis names {ref!r}, which is not among its themes ({listed})"
            out.append(e.problem(("theme_basis", ref), message))
    for t in resolved:
        if t not in by_id:
            message = f"theme_basis gives no basis for its theme {t!r}"
            out.append(e.problem(("theme_basis",), message))
    return by_id, out


def check_observation_files(
    files: Sequence[ParsedItems[Observation]], cases: Mapping[str, ParsedCase], unreadable: set[str]
) -> list[Problem]:
    """Each observation file names a loaded case and is named after it."""
    out = []
    for f in files:
        name = f.head.get("case")
        if name is None or name in unreadable:
            continue
        if name not in cases:
            message = unknown("case", name, sorted(cases)) + f": no case file {name}.yaml among "
            out.append(f.doc.problem(name, ("case",), message + "the cases loaded"))
        elif f.doc.path.stem != name:
            message = f"observations of case {name!r} are in {f.doc.path.name!r} "
            out.append(f.doc.problem(name, ("case",), message + f"(name the file {name}.yaml)"))
    return out


def check_observation_ids(files: Sequence[ParsedItems[Observation]]) -> list[Problem]:
    """Observation ids are unique across the case set: each copy is reported where it stands."""
    where: dict[str, list[tuple[ParsedItems[Observation], int]]] = defaultdict(list)
    for f in files:
        for i, o in f.items:
            where[o.id].append((f, i))
    out = []
    for ident, places in where.items():
        if len(places) < 2:
            continue
        for f, i in places:
            others = [
                f"{g.doc.display}:{g.doc.line(('observations', j))}"
                for g, j in places
                if (g, j) != (f, i)
            ]
            message = f"duplicate observation id {ident!r} (also at {', '.join(others)})"
            out.append(f.doc.problem(f.head.get("case"), ("observations", i, "id"), message))
    return out


#: Observation fields that never name a theme
_NOT_THEMES = frozenset({"id", "dimension", "text", "evidence", "source", "note"})


def _meant_themes(files: Sequence[ParsedItems[Observation]], themes: ThemeIndex) -> set[str]:
    """The themes that observations name or most likely mean, whether or not their links
    passed: each theme listed (by id, by label, or misspelt), and each name in the other fields
    of an entry that failed its schema (``theme:`` written for ``themes:``)."""
    out: set[str] = set()
    for f in files:
        for _, o in f.items:
            out |= {m for ref in o.themes if (m := themes.meant(ref, o.dimension))}
        for _, entry in f.rejected():
            dim = entry.get("dimension") if isinstance(entry.get("dimension"), str) else None
            for key, value in entry.items():
                if key in _NOT_THEMES or (key == "theme_basis" and not isinstance(value, dict)):
                    continue
                refs = [value] if isinstance(value, str) else list(value) if value else []
                out |= {m for r in refs if isinstance(r, str) and (m := themes.meant(r, dim))}
    return out


def check_theme_evidence(
    files: Sequence[ParsedItems[Theme]],
    observation_files: Sequence[ParsedItems[Observation]],
    themes: ThemeIndex,
    framework: Framework | None,
) -> list[Problem]:
    """Every theme is evidenced by some observation. Not reported again: a theme whose dimension
    is unknown, and one that an observation means whose problem is reported (a link that
    failed, a theme misspelt, an entry that failed its schema)."""
    dims = {d.id for d in framework.dimensions} if framework else set()
    used = _meant_themes(observation_files, themes)
    return [
        f.doc.problem(None, ("themes", i), f"theme {t.id!r} has no observations")
        for f in files
        for i, t in f.items
        if t.id not in used and (not dims or t.dimension in dims)
    ]


def check_comparison(
    parsed: Parsed[Comparison], framework: Framework, themes: ThemeIndex
) -> list[Problem]:
    """Characteristics and discriminators name known alternatives, dimensions and themes;
    discriminator ids are unique, and one with no theme says on what it rests."""
    comparison, doc = parsed.model, parsed.doc
    alternatives = [m.id for m in comparison.alternatives]
    dims = [d.id for d in framework.dimensions]
    out = []
    for i, c in enumerate(comparison.characteristics):
        e = Entry(doc, None, ("characteristics", i))
        out += e.reference(("alternative",), "alternative", c.alternative, alternatives)
        out += e.reference(("dimension",), "dimension", c.dimension, dims)
    seen: set[str] = set()
    for i, d in enumerate(comparison.discriminators):
        e = Entry(doc, None, ("discriminators", i))
        out += e.reference(("dimension",), "dimension", d.dimension, dims)
        for j, t in enumerate(d.themes):
            if t not in themes.by_id and not themes.is_rejected(t):
                message = f"discriminator {d.id}: " + unknown("theme", t, themes.known(d.dimension))
                out.append(e.problem(("themes", j), message))
        if not d.themes and not d.basis:
            message = f"discriminator {d.id} has no theme: say on what it rests (basis)"
            out.append(e.problem((), message))
        if d.id in seen:
            out.append(e.problem(("id",), f"duplicate discriminator id {d.id!r}"))
        seen.add(d.id)
    return out


def check_propositions(
    parsed: ParsedItems[Proposition], framework: Framework, comparison: Comparison | None
) -> list[Problem]:
    """Propositions name known perspectives, dimensions and discriminators."""
    perspectives = [p.id for p in framework.perspectives]
    dims = [d.id for d in framework.dimensions]
    discriminators = [d.id for d in comparison.discriminators] if comparison else []
    out = []
    for i, r in parsed.items:
        e = Entry(parsed.doc, None, (parsed.key, i), f"proposition {r.number}: ")
        out += e.reference(("perspective",), "perspective", r.perspective, perspectives)
        out += e.reference(("dimension",), "dimension", r.dimension, dims)
        for j, d in enumerate(r.discriminators):
            out += e.reference(("discriminators", j), "discriminator", d, discriminators)
    return out
