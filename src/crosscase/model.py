"""Schemas of the study data: what a framework, case, observation, theme and comparison file hold.

The models are generic for a multiple-case study: a framework of perspectives and dimensions, cases
with a protocol (the fields the framework declares) and one narrative per dimension, first-order
observations coded from the narratives, second-order themes, and an optional comparison with other
(production) models and the design rules drawn from it. Every model forbids unknown fields, so a
misspelt field is reported rather than silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: Identifiers are used as file names and in URLs: lowercase letters, digits and hyphens.
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
#: Protocol field names are Python-identifier-like (they become column keys).
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]
#: Observation identifiers: letters, digits, '.', '_' and '-' (no path separators).
ObservationId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
]
#: Non-empty text; surrounding white space is stripped.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


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
    perspective: Slug
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
    protocol: dict[FieldName, Text] = Field(default_factory=dict)
    narratives: dict[Slug, Text]


class Observation(_Model):
    """A first-order thematic observation: a reduction of a case narrative for one dimension.

    ``evidence`` is the passage of the case's narratives the observation rests on (where there is
    one); ``themes`` the second-order themes it evidences (none, one, or several).
    """

    id: ObservationId
    dimension: Slug
    text: Text
    themes: list[Slug] = Field(default_factory=list)
    evidence: Text | None = None
    source: Text | None = None
    note: Text | None = None


class ObservationFile(_Model):
    """The first-order coding of one case."""

    case: Slug
    observations: list[Observation] = Field(default_factory=list)


class Theme(_Model):
    """A second-order theme (emerging construct) within one dimension."""

    id: Slug
    dimension: Slug
    label: Text


class ThemeFile(_Model):
    themes: list[Theme] = Field(min_length=1)


class ProductionModel(_Model):
    """A model the study's phenomenon is compared with (a column of the comparison table)."""

    id: Slug
    label: Text
    basis: Text


class Characteristic(_Model):
    """What the literature says of one model on one dimension, with its citations."""

    model: Slug
    dimension: Slug
    text: Text
    citations: list[Text] = Field(default_factory=list)


class Discriminator(_Model):
    """A discriminating construct of the comparison table's last column.

    It restates one or more second-order ``themes``; one with no theme rests on the ``basis`` given
    (such a discriminator is asserted, not computed from the cases).
    """

    id: Slug
    dimension: Slug
    label: Text
    themes: list[Slug] = Field(default_factory=list)
    basis: Text | None = None


class ComparisonFile(_Model):
    production_models: list[ProductionModel] = Field(min_length=1)
    characteristics: list[Characteristic] = Field(default_factory=list)
    discriminators: list[Discriminator] = Field(default_factory=list)


class DesignRule(_Model):
    """A design rule and the discriminators it states."""

    number: int = Field(ge=1)
    perspective: Slug
    dimension: Slug
    text: Text
    discriminators: list[Slug] = Field(min_length=1)


class DesignRuleFile(_Model):
    design_rules: list[DesignRule] = Field(min_length=1)
