"""crosscase: cross-case qualitative analysis for multiple-case studies.

Read and validate a study (:mod:`.study`), decide which cases evidence each second-order theme
and which themes qualify (:mod:`.evidence`), build tables and figures (:mod:`.tables`,
:mod:`.figures`, written deterministically by :mod:`.outputs`), and run notebooks as named runs
(:mod:`.workflow`); around them the HTML report (:mod:`.report`), the REFI-QDA exchange
(:mod:`.qda`), assisted coding (:mod:`.assisted`) and the ``crosscase`` command (:mod:`.cli`).
Import what you use from its module: the package itself loads nothing, so light commands are fast.
"""

__version__ = "0.3.0"
