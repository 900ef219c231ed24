"""Export a study in the REFI-QDA exchange formats (QDA-XML 1.0) for QDA tools (``crosscase qda``):

- the codebook (``.qdc``): perspectives (not codable) > dimensions > second-order themes;
- the project (``.qdpx``, a zip holding ``project.qde`` and ``sources/``): the same codebook;
  one text source per case, its narratives under their dimension headings, each coded with its
  dimension; each first-order observation a selection of its evidence passage, coded with its
  dimension and themes and described by its text (a note when it rests on no passage); and the
  cases, with their number, id and protocol as variables.

GUIDs derive from the study's ids (UUID 5) and the zip has fixed timestamps, so the same data
give byte-identical files; :func:`write_export` checks both against the official schemas first.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TypeAlias

from lxml import etree

from ..model import Case, Framework, Study
from ..outputs import atomic_write
from ..palette import NEUTRAL, PERSPECTIVE_EDGES
from ..paths import Layout
from .format import (
    CASE_DESCRIPTION,
    CASES_CODE,
    CODEBOOK_NS,
    EXPORT_TIME,
    EXPORT_USER,
    ID_VARIABLE,
    NUMBER_VARIABLE,
    PROJECT_NS,
    THEME_DESCRIPTION,
    USER_GUID,
    Q,
    guid,
    mark,
)

Element: TypeAlias = etree._Element


#: Who made and last changed an element, and when (a coding is only made).
_MADE = {"creatingUser": USER_GUID, "creationDateTime": EXPORT_TIME}
_STAMP = {**_MADE, "modifyingUser": USER_GUID, "modifiedDateTime": EXPORT_TIME}


def _code(
    parent: Element, ns: str, item: tuple[str, str, str], colour: str, about: str | None
) -> Element:
    """A code of ``item`` (kind, id, name), codable unless a perspective or a group."""
    kind, ident, name = item
    codable = "false" if kind in ("perspective", "group") else "true"
    attrib = {"guid": guid(kind, ident), "name": name, "isCodable": codable, "color": colour}
    code = etree.SubElement(parent, f"{{{ns}}}Code", attrib)
    if about:
        etree.SubElement(code, f"{{{ns}}}Description").text = about
    return code


def _codes(parent: Element, ns: str, study: Study, cases: bool = False) -> None:
    """The code hierarchy; with ``cases``, a group of one code per case (the case's GUID)."""
    codes, framework = etree.SubElement(parent, f"{{{ns}}}Codes"), study.framework
    for i, p in enumerate(framework.perspectives):
        colour = PERSPECTIVE_EDGES[i % len(PERSPECTIVE_EDGES)]
        pc = _code(codes, ns, ("perspective", p.id, p.label), colour, p.definition)
        for d in (d for d in framework.dimensions if d.perspective == p.id):
            dc = _code(pc, ns, ("dimension", d.id, d.label), colour, d.definition)
            for t in (t for t in study.themes if t.dimension == d.id):
                _code(dc, ns, ("theme", t.id, t.label), colour, THEME_DESCRIPTION.format(id=t.id))
    if cases and study.cases:
        about = "One code per case, coding the case's whole source (the case's link to its text)"
        group = _code(codes, ns, ("group", "cases", CASES_CODE), NEUTRAL, about)
        for c in study.cases:
            _code(group, ns, ("case", c.id, c.name), NEUTRAL, None)


def _xml(root: Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def codebook_xml(study: Study) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", "crosscase")
    _codes(root, CODEBOOK_NS, study)
    return _xml(root)


def case_source_text(study: Study, case_id: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """The text of a case's source (narratives under dimension headings), and where each
    dimension's narrative lies in it."""
    case = next(c for c in study.cases if c.id == case_id)
    text, spans = "", {}
    for d in study.framework.dimensions:
        text += f"{d.label}\n\n"
        body = case.narratives.get(d.id, "")
        spans[d.id] = (len(text), len(text) + len(body))
        text += body + "\n\n"
    return text, spans


def project_xml(study: Study, name: str) -> tuple[bytes, dict[str, str]]:
    """The project document ``project.qde``, and the text of each source and note by file
    name."""
    sub = etree.SubElement
    made = {"creatingUserGUID": USER_GUID, "creationDateTime": EXPORT_TIME}
    changed = {"modifyingUserGUID": USER_GUID, "modifiedDateTime": EXPORT_TIME}
    attrib = {"name": name, "origin": "crosscase", **made, **changed}
    root = etree.Element(f"{Q}Project", attrib, nsmap={None: PROJECT_NS})
    sub(sub(root, f"{Q}Users"), f"{Q}User", guid=USER_GUID, name=EXPORT_USER)
    _codes(sub(root, f"{Q}CodeBook"), PROJECT_NS, study, cases=True)
    variables = sub(root, f"{Q}Variables")
    for ident, name, kind in _variables(study.framework):
        sub(variables, f"{Q}Variable", guid=guid("variable", ident), name=name, typeOfVariable=kind)
    _cases(sub(root, f"{Q}Cases"), study)
    sources, notes = sub(root, f"{Q}Sources"), etree.Element(f"{Q}Notes")
    texts: dict[str, str] = {}
    for c in study.cases:
        _source(sources, notes, study, c, texts)
    if len(notes):
        root.append(notes)
    return _xml(root), texts


def _variables(framework: Framework) -> list[tuple[str, str, str]]:
    """The case variables (id, name, type): the case's number and id, then each field of the
    case protocol (a field's id has no space: "case id" is no field's)."""
    protocol = [(f.id, f.label, "Text") for f in framework.case_protocol]
    return [("number", NUMBER_VARIABLE, "Integer"), ("case id", ID_VARIABLE, "Text"), *protocol]


def _cases(parent: Element, study: Study) -> None:
    """One ``Case`` per case: its number, id and protocol as variable values, and its source."""
    sub, variables = etree.SubElement, _variables(study.framework)
    for c in study.cases:
        ce = sub(parent, f"{Q}Case", guid=guid("case", c.id), name=c.name)
        sub(ce, f"{Q}Description").text = CASE_DESCRIPTION.format(number=c.number, id=c.id)
        protocol = [c.protocol.get(f.id, "") for f in study.framework.case_protocol]
        for (var, _, kind), value in zip(variables, [str(c.number), c.id, *protocol], strict=True):
            vv = sub(ce, f"{Q}VariableValue")
            sub(vv, f"{Q}VariableRef", targetGUID=guid("variable", var))
            sub(vv, f"{Q}{kind}Value").text = value
        sub(ce, f"{Q}SourceRef", targetGUID=guid("source", c.id))


def _source(sources: Element, notes: Element, study: Study, c: Case, texts: dict[str, str]) -> None:
    """A case's text source: the whole text coded with the case's code, each narrative with its
    dimension, each located observation as a selection of its evidence passage; a note for each
    observation that rests on no passage (each text added to ``texts``)."""
    text, spans = case_source_text(study, c.id)
    src = _text_item(sources, "TextSource", ("source", c.id), c.name, texts, text)
    etree.SubElement(src, f"{Q}Description").text = f"Within-case narratives, case {c.number}"
    _selection(src, ("case-text", c.id), c.name, (0, len(text)), [guid("case", c.id)])
    observations = [co for co in study.observations if co.case == c.id]
    unlocated = [co for co in observations if co.start is None or not co.evidence_dimension]
    for d in study.framework.dimensions:
        item = ("narrative", f"{c.id}:{d.id}")
        sel = _selection(src, item, f"Narrative: {d.label}", spans[d.id], [guid("dimension", d.id)])
        for co in unlocated:  # a note is attached to the narrative of its dimension
            if co.observation.dimension == d.id:
                etree.SubElement(sel, f"{Q}NoteRef", targetGUID=guid("note", co.observation.id))
    for co in observations:
        o = co.observation
        codes = [guid("dimension", o.dimension), *(guid("theme", t) for t in o.themes)]
        if co in unlocated:  # a note: its text, coded whole
            note = _text_item(notes, "Note", ("note", o.id), f"{o.id} ({c.name})", texts, o.text)
            about = f"First-order observation {o.id} of case {c.number}, with no evidence passage"
            etree.SubElement(note, f"{Q}Description").text = about
            _selection(note, ("note-text", o.id), o.id, (0, len(o.text)), codes)
        else:
            assert co.evidence_dimension and co.start is not None and co.end is not None
            at = spans[co.evidence_dimension][0]
            span = (at + co.start, at + co.end)
            _selection(src, ("observation", o.id), o.id, span, codes, mark(o.id, o.text))


def _text_item(
    parent: Element, tag: str, item: tuple[str, str], name: str, texts: dict[str, str], text: str
) -> Element:
    """A source or note whose text is a file of the archive (added to ``texts``)."""
    g = guid(*item)
    attrib = {"guid": g, "name": name, **_STAMP, "plainTextPath": f"internal://{g}.txt"}
    el = etree.SubElement(parent, f"{Q}{tag}", attrib)
    texts[f"{g}.txt"] = text
    return el


def _selection(
    parent: Element,
    item: tuple[str, str],
    name: str,
    span: tuple[int, int],
    codes: list[str],
    about: str | None = None,
) -> Element:
    """A selection of ``span`` coded with ``codes`` (GUIDs)."""
    start, end = map(str, span)
    attrib = {"guid": guid(*item), "name": name, "startPosition": start, "endPosition": end}
    sel = etree.SubElement(parent, f"{Q}PlainTextSelection", attrib | _STAMP)
    if about:
        etree.SubElement(sel, f"{Q}Description").text = about
    kind = "note" if item[0] == "note-text" else item[0]  # the codings' GUIDs as they were
    for g in codes:
        coding = {"guid": guid("coding", f"{kind}:{item[1]}:{g}"), **_MADE}
        etree.SubElement(etree.SubElement(sel, f"{Q}Coding", coding), f"{Q}CodeRef", targetGUID=g)
    return sel


def archive_of(xml: bytes, texts: dict[str, str]) -> bytes:
    """A ``.qdpx`` archive of a project document and its texts, with fixed timestamps."""
    entries = {"project.qde": xml} | {f"sources/{k}": v.encode("utf-8") for k, v in texts.items()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name)  # dated 1980-01-01 00:00, zipfile's default
            info.external_attr = 0o644 << 16
            zf.writestr(info, entries[name], compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def validate(document: bytes, schema: Path) -> list[str]:
    """Errors of ``document`` against an XML schema (empty when valid)."""
    xsd = etree.XMLSchema(etree.parse(str(schema)))
    return [] if xsd.validate(etree.fromstring(document)) else [str(e) for e in xsd.error_log]


class InvalidExport(ValueError):
    """The export is not valid against the official schemas (a bug: nothing is written)."""


def write_export(layout: Layout, study: Study, folder: Path) -> tuple[Path, Path]:
    """Write ``codebook.qdc`` and ``project.qdpx`` (named by the study's short title) into
    ``folder``, once both are valid against the official schemas (the contract with the
    tools)."""
    codebook = codebook_xml(study)
    project, texts = project_xml(study, study.description.short_title)
    errors = validate(codebook, layout.refi_qda_dir / "Codebook.xsd")
    errors += validate(project, layout.refi_qda_dir / "Project.xsd")
    if errors:
        raise InvalidExport("the export is not valid REFI-QDA:\n  " + "\n  ".join(errors))
    return (
        atomic_write(folder / "codebook.qdc", codebook),
        atomic_write(folder / "project.qdpx", archive_of(project, texts)),
    )
