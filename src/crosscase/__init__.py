"""crosscase: cross-case qualitative analysis for multiple-case studies.

Read and validate a study against its research framework (:mod:`crosscase.study`), decide which
cases evidence each second-order theme and which themes qualify (:mod:`crosscase.evidence`),
build the tables and figures from that (:mod:`crosscase.tables`, :mod:`crosscase.figures`,
written deterministically by :mod:`crosscase.outputs`), and run parameterised notebooks as
named runs (:mod:`crosscase.workflow`). Around them: the HTML report (:mod:`crosscase.report`),
the REFI-QDA exchange with QDA tools (:mod:`crosscase.qda`), assisted coding
(:mod:`crosscase.assisted`), and the ``crosscase`` command (:mod:`crosscase.cli`).

Import what you use from its module (``from crosscase.study import load_study``): importing the
package itself loads nothing, so light commands stay fast.
"""

__version__ = "0.3.0"
