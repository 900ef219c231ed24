"""What a multiple-case study is: the schemas of its files (pydantic), and the study once loaded
(:class:`Study`, which :func:`crosscase.study.load_study` returns).

Every model forbids unknown fields, so that a misspelt field is reported rather than ignored.
Fields that *define* an identifier are safe slugs (they become file names and URLs); fields that
*refer* to one (a dimension, a theme) are plain text, checked by the loader against what is
defined, so that it can name the known ones. A file that holds a list has a ``*File`` model,
which the loader validates item by item: one broken entry hides none of the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .outputs import plural

#: Identifiers are used as file names and in URLs: lowercase letters, digits and hyphens.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=100)]
#: Protocol field names are Python-identifier-like (they become column keys).
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]
#: Observation identifiers: letters, digits, '.', '_' and '-' (no path separators).
ObservationId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
]
#: Non-empty text; surrounding white space is stripped.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: A reference to something defined elsewhere (a dimension, a theme, an alternative).
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Perspective(_Model):
    """One of the framework's perspectives (lenses), grouping dimensions."""

    id: Slug
    label: Text
    definition: Text | None = None
    question: Text | None = None
    sources: list[Text] = Field(default_factory=list)


class Dimension(_Model):
    """One analytical dimension of the framework: a coding category for the narratives."""

    id: Slug
    perspective: Ref
    label: Text
    aliases: list[Text] = Field(default_factory=list)
    definition: Text | None = None
    keywords: list[Text] = Field(default_factory=list)
    question: Text | None = None


class ProtocolField(_Model):
    """A field of the case protocol (a column of the case-protocol table)."""

    id: FieldName
    label: Text


class Framework(_Model):
    """The research framework: perspectives, their dimensions, and the case protocol's fields."""

    perspectives: list[Perspective] = Field(min_length=1)
    dimensions: list[Dimension] = Field(min_length=1)
    case_protocol: list[ProtocolField] = Field(default_factory=list)


class Case(_Model):
    """A case: number, name, protocol of its data collection, and one narrative a dimension."""

    id: Slug
    number: int = Field(ge=1)
    name: Text
    protocol: dict[str, Text] = Field(default_factory=dict)
    narratives: dict[str, Text]


@dataclass(frozen=True)
class LinkBasis:
    """Where the link of an observation to a second-order theme comes from, and so what a check of
    the computed case lists against a printed one proves: an *independent* link was made from the
    observation itself; one *by construction* was assigned so as to match the printed list; an
    *ambiguous* one rests on a mark of the publication that may or may not single out the
    observation (independent if it does, by construction if not)."""

    id: str
    label: str
    grounds: Literal["independent", "ambiguous", "by construction"]


_DISPLAY = "the publication's data display"
#: The bases an observation-theme link may have (``Observation.theme_basis``), in order.
LINK_BASES: tuple[LinkBasis, ...] = (
    LinkBasis("coded", "coded by the researcher", "independent"),
    LinkBasis("highlighted", f"highlighted in {_DISPLAY}", "independent"),
    LinkBasis(
        "ambiguous-italics",
        f"in italics in {_DISPLAY}, which may mark a term, not the observation",
        "ambiguous",
    ),
    LinkBasis(
        "display-case-list",
        "follows the case list printed in the data display's last column",
        "by construction",
    ),
    LinkBasis(
        "text-case-list", "follows the case list given in the publication's text", "by construction"
    ),
)
#: The basis of a link whose observation states none: the researcher's own coding.
DEFAULT_LINK_BASIS = "coded"
#: The ``source`` of an observation rebuilt where its source is lost: links resting on it are
#: reported apart, whatever their basis.
RECONSTRUCTED = "reconstructed"


class Observation(_Model):
    """A first-order thematic observation: a reduction of a case narrative for one dimension,
    resting on a passage of it (``evidence``), evidencing second-order ``themes`` (by id or label),
    each link with its basis (one for all, or one per theme; the researcher's coding if none)."""

    id: ObservationId
    dimension: Ref
    text: Text
    themes: list[Ref] = Field(default_factory=list)
    theme_basis: Ref | dict[Ref, Ref] | None = None
    evidence: Text | None = None
    source: Text | None = None
    note: Text | None = None

    def basis_of(self, theme: str) -> str:
        """The basis of the link to ``theme`` (a theme id once the study is loaded)."""
        if isinstance(self.theme_basis, dict):
            return self.theme_basis.get(theme, DEFAULT_LINK_BASIS)
        return self.theme_basis or DEFAULT_LINK_BASIS


class ObservationFile(_Model):
    """The first-order coding of one case."""

    case: Slug
    observations: list[Observation] = Field(default_factory=list)


class Theme(_Model):
    """A second-order theme (emerging construct) within one dimension."""

    id: Slug
    dimension: Ref
    label: Text


class ThemeFile(_Model):
    themes: list[Theme] = Field(min_length=1)


class Alternative(_Model):
    """An alternative the studied phenomenon is compared with (a column of the comparison)."""

    id: Slug
    label: Text
    basis: Text


class Characteristic(_Model):
    """What the literature says of one alternative on one dimension, with citations."""

    alternative: Ref
    dimension: Ref
    text: Text
    citations: list[Text] = Field(default_factory=list)


class Discriminator(_Model):
    """A discriminator of the comparison's last column: it restates second-order ``themes``; one
    with no theme rests on the ``basis`` given (it is asserted, not computed from the cases)."""

    id: Slug
    dimension: Ref
    label: Text
    themes: list[Ref] = Field(default_factory=list)
    basis: Text | None = None


class Comparison(_Model):
    """The comparison with alternatives: their literature characteristics, per dimension, and the
    discriminators that emerge from the cases."""

    alternatives: list[Alternative] = Field(min_length=1)
    characteristics: list[Characteristic] = Field(default_factory=list)
    discriminators: list[Discriminator] = Field(default_factory=list)


class Proposition(_Model):
    """A proposition drawn from the comparison, and the discriminators it states."""

    number: int = Field(ge=1)
    perspective: Ref
    dimension: Ref
    text: Text
    discriminators: list[Ref] = Field(min_length=1)


class PropositionFile(_Model):
    propositions: list[Proposition] = Field(min_length=1)


class Headers(_Model):
    """Headers and labels of the study's tables, as the publication prints them
    (``alternative_column``: a format string with ``{number}``, ``{label}`` and ``{basis}``)."""

    themes_column: Text = "Second-order themes (cases)"
    discriminators_column: Text = "Discriminators"
    alternative_column: Text = "{label}"
    case_prefix: Text = "Case"
    proposition_number: Text = "Number"
    proposition: Text = "Proposition"


@dataclass(frozen=True)
class DiscriminatorRule:
    """A second-order theme qualifies as a discriminator when enough cases evidence it:
    ``min_cases``, ``min_share`` of the coded cases (0 < share <= 1), or both (the stricter).
    The study states its rule (``rule`` in its description) and a run may give another; both
    are checked here, the study's where it is read (file and line)."""

    min_cases: int | None = None
    min_share: float | None = None

    def __post_init__(self) -> None:
        if self.min_cases is None and self.min_share is None:
            raise ValueError("a discriminator rule needs min_cases, min_share or both")
        if self.min_cases is not None and self.min_cases < 1:
            raise ValueError(f"min_cases must be at least 1, not {self.min_cases}")
        if self.min_share is not None and not 0 < self.min_share <= 1:
            raise ValueError(f"min_share must be in (0, 1], not {self.min_share}")

    def threshold(self, n_coded: int) -> int:
        """The number of cases a theme needs, out of ``n_coded`` coded cases."""
        need = self.min_cases or 1
        if self.min_share is not None:
            need = max(need, math.ceil(self.min_share * n_coded - 1e-9))
        return need

    def _parts(self, n_coded: int | None) -> str:
        parts = []
        if self.min_cases is not None:
            parts.append(f"at least {plural(self.min_cases, 'case')}")
        if self.min_share is not None:
            of = f"the {n_coded} coded cases" if n_coded is not None else "the coded cases"
            parts.append(f"at least {self.min_share:.0%} of {of}")
        return " and ".join(parts)

    def words(self) -> str:
        """The rule in words, whatever the number of cases: ``at least 3 cases``."""
        return self._parts(None)

    def requirement(self, n_coded: int) -> str:
        """What the rule asks for, in words: ``at least 3 cases``; with a share, also the number
        of cases that makes (``at least 60% of the 5 coded cases, that is 3 cases``)."""
        words = self._parts(n_coded)
        if self.min_share is None:
            return words
        return f"{words}, that is {plural(self.threshold(n_coded), 'case')}"

    def describe(self, n_coded: int) -> str:
        """The rule with its threshold: ``at least 3 cases (threshold: 3 cases)``."""
        return f"{self._parts(n_coded)} (threshold: {plural(self.threshold(n_coded), 'case')})"


class StudyDescription(_Model):
    """What the study is and how to cite it; its rule and the name of the run that reproduces it
    (its own cases under that rule); the headers of its tables."""

    title: Text
    short_title: Text
    citation: Text
    doi: Text | None = None
    licence: Text | None = None
    reproduction: Slug
    rule: DiscriminatorRule
    headers: Headers = Field(default_factory=Headers)


@dataclass(frozen=True)
class CodedObservation:
    """A first-order observation with its case and its evidence passage located in the case's
    narratives (None when it has none or it is not found); its ``themes`` are theme ids."""

    case: str
    observation: Observation
    evidence_dimension: str | None = None
    start: int | None = None
    end: int | None = None

    @property
    def span(self) -> tuple[str, int, int] | None:
        """(dimension, start, end) of the located evidence passage, or None."""
        if self.evidence_dimension is None or self.start is None or self.end is None:
            return None
        return self.evidence_dimension, self.start, self.end


@dataclass(frozen=True)
class Study:
    """Validated study data, cases in the order of their numbers."""

    framework: Framework
    description: StudyDescription
    cases: tuple[Case, ...]
    observations: tuple[CodedObservation, ...]
    themes: tuple[Theme, ...]
    coded_cases: frozenset[str]
    comparison: Comparison | None = None
    propositions: tuple[Proposition, ...] = ()
    #: What loading found worth a look but not wrong (``crosscase.study.problems.Problem``).
    warnings: tuple[object, ...] = ()

    @property
    def headers(self) -> Headers:
        return self.description.headers

    @property
    def uncoded_cases(self) -> tuple[Case, ...]:
        """Cases that arrived with narratives only (no observations yet)."""
        return tuple(c for c in self.cases if c.id not in self.coded_cases)

    @property
    def case_numbers(self) -> dict[str, int]:
        return {c.id: c.number for c in self.cases}

    @property
    def dimension_labels(self) -> dict[str, str]:
        return {d.id: d.label for d in self.framework.dimensions}

    @property
    def perspective_of(self) -> dict[str, str]:
        """Dimension id -> the label of its perspective."""
        labels = {p.id: p.label for p in self.framework.perspectives}
        return {d.id: labels[d.perspective] for d in self.framework.dimensions}
