"""Reading and validating a multiple-case study: its files (:mod:`.yamlfile`, :mod:`.reading`),
their cross-checks (:mod:`.checks`) and the problems they report (:mod:`.problems`), evidence
passages in narratives (:mod:`.passages`), which files make a case set (:mod:`.casesets`),
writing case files (:mod:`.casefiles`), and :func:`load_study`, which puts them together
(:mod:`.load`)."""

from .load import load_description, load_framework, load_study
from .problems import Problem, StudyDataError

__all__ = ["Problem", "StudyDataError", "load_description", "load_framework", "load_study"]
