"""The report of a run: static HTML pages built from its executed notebooks (:mod:`.build`),
with the evidence browser (:mod:`.browser`: a page per second-order theme and per case, their
file names and anchors in :mod:`.names`), and the chain of evidence as annotations that link
into it (:mod:`.annotations`). Importing this package loads nothing: the annotations need only
the core, the pages nbconvert and Jinja2."""
