"""REFI-QDA (QDA-XML 1.0): the round trip between the study and QDA tools (NVivo, ATLAS.ti,
MAXQDA, QualCoder).

- :mod:`~crosscase.qda.export`: the study as a codebook (``.qdc``) and a project (``.qdpx``),
  and an export read back (``crosscase qda``).
- The import of a tool's project as a case set (``crosscase import-qdpx``,
  :mod:`~crosscase.qda.importing`), in its order: :mod:`~crosscase.qda.archive` (the archive
  read defensively), :mod:`~crosscase.qda.project` (what the project holds: ``read_qdpx``),
  :mod:`~crosscase.qda.interpret` (the project mapped onto the study: ``interpret``, with
  :mod:`~crosscase.qda.codes`, :mod:`~crosscase.qda.sources`, :mod:`~crosscase.qda.content`
  and :mod:`~crosscase.qda.observations`), :mod:`~crosscase.qda.write` (the case set written:
  ``write_case_set``) and :mod:`~crosscase.qda.summary` (what each element became);
  :mod:`~crosscase.qda.errors` holds its error (every problem at once, nothing written) and
  :mod:`~crosscase.qda.format` what export and import share (ids, marks, how names compare).

Import what you use from its module (``from crosscase.qda.interpret import interpret``).
"""
