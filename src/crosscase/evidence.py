"""The evidence core: which cases evidence each second-order theme, and whether it qualifies.

A second-order theme is evidenced by a case when at least one first-order observation of that
case lists it; it *qualifies* as a discriminator when the number of such cases meets the
study's or the run's :class:`~crosscase.model.DiscriminatorRule`. :func:`collect` computes this
once for a study; every result that depends on it (the themes table, the data display's last
column, the comparison's discriminators, the propositions, robustness, what changed against a
baseline) is derived from the :class:`Evidence` it returns, never recomputed from tables.
Everything here is plain typed Python; :mod:`crosscase.tables` turns it into tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from .model import (
    LINK_BASES,
    RECONSTRUCTED,
    Comparison,
    Discriminator,
    DiscriminatorRule,
    Observation,
    Study,
    Theme,
)


@dataclass(frozen=True)
class ThemeEvidence:
    """One theme and the observations that evidence it, as (case number, observation id)."""

    theme: Theme
    observations: tuple[tuple[int, str], ...]

    @cached_property
    def cases(self) -> tuple[int, ...]:
        """Numbers of the cases that evidence the theme, ascending."""
        return tuple(sorted({n for n, _ in self.observations}))

    @cached_property
    def counts(self) -> Counter[int]:
        """Case number -> how many of its observations evidence the theme."""
        return Counter(n for n, _ in self.observations)


@dataclass(frozen=True)
class Evidence:
    """Every theme's evidence in a study, under one rule."""

    rule: DiscriminatorRule
    coded_cases: tuple[int, ...]
    themes: tuple[ThemeEvidence, ...]

    @property
    def threshold(self) -> int:
        return self.rule.threshold(len(self.coded_cases))

    @cached_property
    def _by_id(self) -> dict[str, ThemeEvidence]:
        return {t.theme.id: t for t in self.themes}

    def of(self, theme: str) -> ThemeEvidence:
        """The evidence of one theme (KeyError for a theme the study does not have)."""
        return self._by_id[theme]

    def qualifies(self, theme: str) -> bool:
        return len(self.of(theme).cases) >= self.threshold

    @property
    def qualified(self) -> frozenset[str]:
        """Ids of the themes that qualify as discriminators."""
        return frozenset(t.theme.id for t in self.themes if self.qualifies(t.theme.id))


def collect(study: Study, rule: DiscriminatorRule) -> Evidence:
    """Each theme of the study with the observations (and so the cases) that evidence it."""
    number = study.case_numbers
    found: dict[str, list[tuple[int, str]]] = {t.id: [] for t in study.themes}
    for co in study.observations:
        for t in co.observation.themes:
            found[t].append((number[co.case], co.observation.id))
    coded = tuple(sorted(number[c] for c in study.coded_cases))
    return Evidence(rule, coded, tuple(ThemeEvidence(t, tuple(found[t.id])) for t in study.themes))


# The grounds of each theme-case link ------------------------------------------------------------


Grounds = Literal["independent", "ambiguous", "by construction", "reconstructed"]
#: The grounds a link may rest on, strongest first.
GROUNDS: tuple[Grounds, ...] = ("independent", "ambiguous", "by construction", "reconstructed")
Check = Literal["independent", "partly independent", "ambiguous", "by construction", "none"]
_GROUNDS_OF = {b.id: b.grounds for b in LINK_BASES}
#: A link basis's label, as the tables and the report show it.
BASIS_LABELS = {b.id: b.label for b in LINK_BASES}


def grounds_of(observation: Observation, theme: str) -> Grounds:
    """What the link of ``observation`` to ``theme`` rests on: a reconstructed observation (its
    ``source`` says so), else its basis: *independent* when the link was made from the
    observation itself (highlighted, or coded by the researcher), *ambiguous* when it rests on a
    mark that may not single out the observation (italics that may be a term's), *by
    construction* when it was assigned to match a printed case list."""
    if observation.source == RECONSTRUCTED:
        return "reconstructed"
    return _GROUNDS_OF[observation.basis_of(theme)]


@dataclass(frozen=True)
class Link:
    """One observation-theme link: the case, the observation, its basis and its grounds."""

    theme: str
    case: int
    observation: str
    basis: str
    grounds: Grounds


@dataclass(frozen=True)
class ThemeGrounds:
    """A theme's evidence with the grounds of each link. A case evidences the theme on the
    strongest grounds of its links (one independent link makes the case independent)."""

    evidence: ThemeEvidence
    links: tuple[Link, ...]

    @cached_property
    def by_case(self) -> dict[int, Grounds]:
        """Case number -> the strongest grounds on which the case evidences the theme."""
        rank = GROUNDS.index  # strongest first
        cases = sorted({k.case for k in self.links})
        return {c: min((k.grounds for k in self.links if k.case == c), key=rank) for c in cases}

    def cases(self, grounds: Grounds) -> tuple[int, ...]:
        """The cases that evidence the theme on ``grounds`` (as their strongest)."""
        return tuple(c for c, g in self.by_case.items() if g == grounds)

    @property
    def check(self) -> Check:
        """What comparing the computed case list with a printed one proves: an independent check
        (every case rests on an independent link), a partial one, one that depends on how an
        ambiguous mark is read (no case independent, some ambiguous), or nothing (the list agrees
        by construction)."""
        n = len(self.cases("independent"))
        if not self.by_case:
            return "none"
        if n == len(self.by_case):
            return "independent"
        if n:
            return "partly independent"
        return "ambiguous" if self.cases("ambiguous") else "by construction"


def theme_grounds(study: Study, evidence: Evidence) -> tuple[ThemeGrounds, ...]:
    """Every theme of ``evidence`` with the basis and grounds of each of its links (from the
    study's observations)."""
    by_id = {co.observation.id: co.observation for co in study.observations}

    def link(theme: str, case: int, o: Observation) -> Link:
        return Link(theme, case, o.id, o.basis_of(theme), grounds_of(o, theme))

    return tuple(
        ThemeGrounds(t, tuple(link(t.theme.id, n, by_id[i]) for n, i in t.observations))
        for t in evidence.themes
    )


# Discriminators of the comparison with alternatives ----------------------------------------------


@dataclass(frozen=True)
class DiscriminatorStatus:
    """A discriminator of the comparison: the cases behind its themes, and whether it holds (all
    its themes qualify). One that restates no theme is *asserted* on its basis and always shown."""

    discriminator: Discriminator
    cases: tuple[int, ...]
    holds: bool

    @property
    def asserted(self) -> bool:
        return not self.discriminator.themes


def discriminator_statuses(
    comparison: Comparison, evidence: Evidence
) -> tuple[DiscriminatorStatus, ...]:
    """Every discriminator of the comparison, with its cases and status under the rule."""
    out = []
    for d in comparison.discriminators:
        cases = tuple(sorted({n for t in d.themes for n in evidence.of(t).cases}))
        out.append(DiscriminatorStatus(d, cases, all(evidence.qualifies(t) for t in d.themes)))
    return tuple(out)


# Robustness: leaving one case out, and other thresholds ------------------------------------------


Verdict = Literal["stable", "falls without any one of its cases", "not a discriminator"]


@dataclass(frozen=True)
class ThemeRobustness:
    """Does a qualifying theme survive leaving out any one case? ``pivotal`` are the cases
    without any one of which it falls below the rule."""

    evidence: ThemeEvidence
    margin: int
    pivotal: tuple[int, ...]
    verdict: Verdict


def leave_one_case_out(evidence: Evidence) -> dict[str, dict[int, bool]]:
    """Theme -> left-out case -> does the theme still qualify without that case? Without case
    ``c`` a theme keeps ``len(cases) - (c in cases)`` cases, against the threshold for one coded
    case fewer: O(themes x cases), no re-analysis per case."""
    need = evidence.rule.threshold(len(evidence.coded_cases) - 1)
    out = {}
    for t in evidence.themes:
        cases = frozenset(t.cases)
        out[t.theme.id] = {c: len(cases) - (c in cases) >= need for c in evidence.coded_cases}
    return out


def robustness(evidence: Evidence) -> tuple[ThemeRobustness, ...]:
    """Per theme: stable (it qualifies without any one case), falling without any one of its
    cases (the rule's threshold exactly: each of its cases is pivotal), or not a discriminator."""
    loo = leave_one_case_out(evidence)
    need = evidence.threshold
    out = []
    for t in evidence.themes:
        qualifies = len(t.cases) >= need
        pivotal = tuple(c for c, ok in loo[t.theme.id].items() if not ok) if qualifies else ()
        verdict: Verdict = "falls without any one of its cases" if pivotal else "stable"
        verdict = verdict if qualifies else "not a discriminator"
        out.append(ThemeRobustness(t, len(t.cases) - need, pivotal, verdict))
    return tuple(out)


def threshold_sweep(evidence: Evidence, thresholds: Iterable[int]) -> dict[str, dict[int, bool]]:
    """Theme -> minimum number of cases -> does the theme qualify at that minimum?"""
    ks = list(thresholds)
    return {t.theme.id: {k: len(t.cases) >= k for k in ks} for t in evidence.themes}


# What changed against a baseline -----------------------------------------------------------------


Status = Literal["holds", "falls below the rule", "newly qualifies", "below the rule"]


@dataclass(frozen=True)
class ThemeChange:
    """A theme of the current run against the baseline: its cases then and now, and its status.
    ``baseline`` is None for a theme the baseline does not have (a new candidate theme)."""

    current: ThemeEvidence
    baseline: ThemeEvidence | None
    status: Status


def changes(baseline: Evidence, current: Evidence) -> tuple[ThemeChange, ...]:
    """Every theme of ``current`` against ``baseline``: holds, falls below the rule, newly
    qualifies, or stays below it."""
    before = {t.theme.id: t for t in baseline.themes}
    was_in, now_in = baseline.qualified, current.qualified
    statuses: dict[tuple[bool, bool], Status] = {
        (True, True): "holds",
        (True, False): "falls below the rule",
        (False, True): "newly qualifies",
        (False, False): "below the rule",
    }
    out = []
    for t in current.themes:
        status = statuses[(t.theme.id in was_in, t.theme.id in now_in)]
        out.append(ThemeChange(t, before.get(t.theme.id), status))
    return tuple(out)


DiscriminatorChange = Literal[
    "holds", "falls below the rule", "newly holds", "below the rule", "asserted (rests on no theme)"
]


@dataclass(frozen=True)
class DiscriminatorDelta:
    """A discriminator of the comparison against the baseline: its status then and now."""

    current: DiscriminatorStatus
    baseline: DiscriminatorStatus | None
    status: DiscriminatorChange


def discriminator_changes(
    baseline_comparison: Comparison, baseline: Evidence, comparison: Comparison, current: Evidence
) -> tuple[DiscriminatorDelta, ...]:
    """Every discriminator of the comparison against the baseline: holds, falls below the rule
    (a theme it restates falls), newly holds, stays below it, or is asserted (no theme)."""
    before = {s.discriminator.id: s for s in discriminator_statuses(baseline_comparison, baseline)}
    statuses: dict[tuple[bool, bool], DiscriminatorChange] = {
        (True, True): "holds",
        (True, False): "falls below the rule",
        (False, True): "newly holds",
        (False, False): "below the rule",
    }
    out = []
    for now in discriminator_statuses(comparison, current):
        then = before.get(now.discriminator.id)
        status = statuses[(bool(then and then.holds), now.holds)]
        status = "asserted (rests on no theme)" if now.asserted else status
        out.append(DiscriminatorDelta(now, then, status))
    return tuple(out)


def case_list(cases: Sequence[int]) -> str:
    """``(1, 4, 5)`` -> ``"1, 4, 5"``, as the data display prints case sources."""
    return ", ".join(map(str, cases))
