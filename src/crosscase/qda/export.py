"""Export a study in the REFI-QDA exchange formats (QDA-XML 1.0), for NVivo, ATLAS.ti, MAXQDA,
QualCoder and other QDA tools, and read an export back (``crosscase qda``).

- The codebook (``.qdc``): perspectives (not codable) > dimensions > second-order themes.
- The project (``.qdpx``, a zip holding ``project.qde`` and ``sources/``): the same codebook; one
  text source per case holding its narratives under their dimension headings; each narrative
  coded with its dimension; each first-order observation as a selection of its evidence passage,
  coded with its dimension and themes and described by the observation's text (observations
  that rest on no passage become notes); and the cases, with their protocol as variables.

GUIDs are derived from the study's ids (UUID 5), and the zip carries fixed timestamps, so the
same data give byte-identical files. :func:`write_export` checks both against the official
schemas before anything is written.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

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


def _stamp(el: etree._Element, modified: bool = True) -> etree._Element:
    el.set("creatingUser", USER_GUID)
    el.set("creationDateTime", EXPORT_TIME)
    if modified:
        el.set("modifyingUser", USER_GUID)
        el.set("modifiedDateTime", EXPORT_TIME)
    return el


def _code(
    parent: etree._Element, ns: str, item: tuple[str, str, str], colour: str, about: str | None
) -> etree._Element:
    """A code of ``item`` (kind, id, name), codable unless a perspective or a group."""
    (kind, ident, name), codable = item, item[0] not in ("perspective", "group")
    code = etree.SubElement(parent, f"{{{ns}}}Code", guid=guid(kind, ident), name=name)
    code.set("isCodable", "true" if codable else "false")
    code.set("color", colour)
    if about:
        etree.SubElement(code, f"{{{ns}}}Description").text = about
    return code


def _codes(parent: etree._Element, ns: str, study: Study, cases: bool = False) -> None:
    """The code hierarchy: perspectives (not codable) > dimensions > second-order themes; with
    ``cases``, a group of one code per case (the case's GUID)."""
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


def codebook_xml(study: Study) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", "crosscase")
    _codes(root, CODEBOOK_NS, study)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def case_source_text(study: Study, case_id: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """The text of a case's source (narratives under dimension headings), and where each
    dimension's narrative lies in it."""
    case = next(c for c in study.cases if c.id == case_id)
    parts: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    for d in study.framework.dimensions:
        heading = f"{d.label}\n\n"
        body = case.narratives.get(d.id, "")
        spans[d.id] = (pos + len(heading), pos + len(heading) + len(body))
        chunk = heading + body + "\n\n"
        parts.append(chunk)
        pos += len(chunk)
    return "".join(parts), spans


def project_xml(study: Study, name: str) -> tuple[bytes, dict[str, str]]:
    """The project document ``project.qde`` and the text of each source and note (by file
    name)."""
    sub = etree.SubElement
    root = etree.Element(
        f"{Q}Project",
        nsmap={None: PROJECT_NS},
        name=name,
        origin="crosscase",
        creatingUserGUID=USER_GUID,
        creationDateTime=EXPORT_TIME,
        modifyingUserGUID=USER_GUID,
        modifiedDateTime=EXPORT_TIME,
    )
    sub(sub(root, f"{Q}Users"), f"{Q}User", guid=USER_GUID, name=EXPORT_USER)
    _codes(sub(root, f"{Q}CodeBook"), PROJECT_NS, study, cases=True)
    _variables(sub(root, f"{Q}Variables"), study.framework)
    _cases(sub(root, f"{Q}Cases"), study)
    sources = sub(root, f"{Q}Sources")
    texts: dict[str, str] = {}
    notes = [note for c in study.cases for note in _source(sources, study, c, texts)]
    if notes:
        sub(root, f"{Q}Notes").extend(notes)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return bytes(xml), texts


def _variables(parent: etree._Element, framework: Framework) -> None:
    """The case variables: the case's number and id, then each field of the case protocol."""
    variables = [("number", NUMBER_VARIABLE, "Integer"), ("case id", ID_VARIABLE, "Text")]
    variables += [(f.id, f.label, "Text") for f in framework.case_protocol]
    for ident, name, kind in variables:  # a field's id has no space: "case id" is no field's
        var = etree.SubElement(parent, f"{Q}Variable", guid=guid("variable", ident), name=name)
        var.set("typeOfVariable", kind)


def _cases(parent: etree._Element, study: Study) -> None:
    """One ``Case`` per case: its number, id and protocol as variable values, and its source."""
    sub = etree.SubElement
    for c in study.cases:
        ce = sub(parent, f"{Q}Case", guid=guid("case", c.id), name=c.name)
        sub(ce, f"{Q}Description").text = CASE_DESCRIPTION.format(number=c.number, id=c.id)
        values = [("number", "IntegerValue", str(c.number)), ("case id", "TextValue", c.id)]
        values += [
            (f.id, "TextValue", c.protocol.get(f.id, "")) for f in study.framework.case_protocol
        ]
        for var, kind, value in values:
            vv = sub(ce, f"{Q}VariableValue")
            sub(vv, f"{Q}VariableRef", targetGUID=guid("variable", var))
            sub(vv, f"{Q}{kind}").text = value
        sub(ce, f"{Q}SourceRef", targetGUID=guid("source", c.id))


def _source(
    parent: etree._Element, study: Study, c: Case, texts: dict[str, str]
) -> list[etree._Element]:
    """A case's text source: the whole text coded with the case's code, each narrative with its
    dimension, each located observation as a selection of its evidence passage; the notes of
    the observations that rest on no passage are returned (their texts added to ``texts``)."""
    text, spans = case_source_text(study, c.id)
    src = _text_item(parent, "TextSource", ("source", c.id), c.name, texts, text)
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
    notes: list[etree._Element] = []
    for co in observations:
        o = co.observation
        codes = [guid("dimension", o.dimension), *(guid("theme", t) for t in o.themes)]
        if co in unlocated:  # a note: its text, coded whole
            note = _text_item(None, "Note", ("note", o.id), f"{o.id} ({c.name})", texts, o.text)
            about = f"First-order observation {o.id} of case {c.number}, with no evidence passage"
            etree.SubElement(note, f"{Q}Description").text = about
            notes.append(note)
            _selection(note, ("note-text", o.id), o.id, (0, len(o.text)), codes)
            continue
        assert co.evidence_dimension and co.start is not None and co.end is not None
        at = spans[co.evidence_dimension][0]
        span = (at + co.start, at + co.end)
        _selection(src, ("observation", o.id), o.id, span, codes, mark(o.id, o.text))
    return notes


def _text_item(
    parent: etree._Element | None,
    tag: str,
    item: tuple[str, str],
    name: str,
    texts: dict[str, str],
    text: str,
) -> etree._Element:
    """A source or note whose text is a file of the archive (added to ``texts``)."""
    g = guid(*item)
    el = etree.Element(f"{Q}{tag}", guid=g, name=name)
    if parent is not None:
        parent.append(el)
    _stamp(el).set("plainTextPath", f"internal://{g}.txt")
    texts[f"{g}.txt"] = text
    return el


def _selection(
    parent: etree._Element,
    item: tuple[str, str],
    name: str,
    span: tuple[int, int],
    codes: list[str],
    about: str | None = None,
) -> etree._Element:
    """A selection of ``span`` coded with ``codes`` (GUIDs)."""
    sel = etree.SubElement(parent, f"{Q}PlainTextSelection", guid=guid(*item), name=name)
    sel.set("startPosition", str(span[0]))
    sel.set("endPosition", str(span[1]))
    _stamp(sel)
    if about:
        etree.SubElement(sel, f"{Q}Description").text = about
    kind = "note" if item[0] == "note-text" else item[0]  # the codings' GUIDs as they were
    for g in codes:
        coding = etree.SubElement(sel, f"{Q}Coding", guid=guid("coding", f"{kind}:{item[1]}:{g}"))
        etree.SubElement(_stamp(coding, modified=False), f"{Q}CodeRef", targetGUID=g)
    return sel


def archive_of(xml: bytes, texts: dict[str, str]) -> bytes:
    """A ``.qdpx`` archive of a project document and its source texts (from :func:`project_xml`),
    with fixed timestamps."""
    entries = {"project.qde": xml} | {f"sources/{k}": v.encode("utf-8") for k, v in texts.items()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, entries[name])
    return buf.getvalue()


def validate(document: bytes, schema: Path) -> list[str]:
    """Errors of ``document`` against an XML schema (empty when valid)."""
    xsd = etree.XMLSchema(etree.parse(str(schema)))
    doc = etree.fromstring(document)
    return [] if xsd.validate(doc) else [str(e) for e in xsd.error_log]


class InvalidExport(ValueError):
    """The export is not valid against the official schemas (a bug: nothing is written)."""


def write_export(layout: Layout, study: Study, folder: Path) -> tuple[Path, Path]:
    """Write ``codebook.qdc`` and ``project.qdpx`` (named by the study's short title) into
    ``folder``, once both are valid against the official schemas (the contract with the
    tools)."""
    codebook = codebook_xml(study)
    project, texts = project_xml(study, study.description.short_title)
    schemas = layout.refi_qda_dir
    errors = validate(codebook, schemas / "Codebook.xsd")
    errors += validate(project, schemas / "Project.xsd")
    if errors:
        raise InvalidExport("the export is not valid REFI-QDA:\n  " + "\n  ".join(errors))
    return (
        atomic_write(folder / "codebook.qdc", codebook),
        atomic_write(folder / "project.qdpx", archive_of(project, texts)),
    )
