"""REFI-QDA (QDA-XML 1.0): the round trip between the study and QDA tools (NVivo, ATLAS.ti,
MAXQDA, QualCoder).

- :mod:`.export`: the study as a codebook (``.qdc``) and a project (``.qdpx``) (``crosscase qda``).
- The import of a tool's project as a case set (``crosscase import-qdpx``, :mod:`.importing`), in
  its order: :mod:`.archive` (read defensively), :mod:`.project` (what it holds), :mod:`.codes`
  (what its codes, sources and notes are to the study), :mod:`.content` (narratives and
  observations), :mod:`.interpret` (cases and ids: the case set), :mod:`.write` and
  :mod:`.summary` (what each element became); :mod:`.errors` (every problem at once, nothing
  written) and :mod:`.format` (what export and import share).
"""
