"""Export a study in the REFI-QDA exchange formats (QDA-XML 1.0), for NVivo, ATLAS.ti, MAXQDA,
QualCoder and other QDA tools, and read an export back (``crosscase qda``).

- The codebook (``.qdc``): perspectives (not codable) > dimensions > second-order themes.
- The project (``.qdpx``, a zip holding ``project.qde`` and ``sources/``): the same codebook; one
  text source per case holding its narratives under their dimension headings; each narrative
  coded with its dimension; each first-order observation as a selection of its evidence passage,
  coded with its dimension and themes and described by the observation's text (observations
  that rest on no passage become notes); and the cases, with their protocol (Table 1) as
  variables.

GUIDs are derived from the study's ids (UUID 5), and the zip carries fixed timestamps, so the
same data give byte-identical files.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..model import Case, Framework, Observation
from ..study import Study

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_Q = f"{{{PROJECT_NS}}}"  # a project element's qualified name is f"{_Q}<name>"
_NAMESPACE = uuid.UUID("5b0f6b4e-2d1c-4c55-9a55-63726f737363")  # crosscase's UUID namespace
_COLOURS = ["#2f6690", "#b5651d", "#3c7a3c", "#6a3d7a"]
_CASE_COLOUR = "#777777"


def guid(kind: str, ident: str) -> str:
    """A stable GUID for an item of the study."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{ident}"))


#: Who and when, on every element a tool wants it: the schema makes these attributes optional,
#: but QualCoder reads the date of every note and selection and qualitative-coding the user of
#: every coding. Fixed values keep the export byte-identical from run to run.
EXPORT_USER = "crosscase"
EXPORT_TIME = "1980-01-01T00:00:00Z"  # the zip's own fixed timestamp
USER_GUID = guid("user", EXPORT_USER)
#: The case variable holding the case's number (an Integer; tools may give it back as a Float).
NUMBER_VARIABLE = "Case number"
#: The (not codable) code grouping one code per case, each with its case's GUID: QualCoder links
#: a case to text through a code of the case's GUID coding that text (NVivo's convention).
CASES_CODE = "Cases"


def _stamp(el: etree._Element, modified: bool = True) -> etree._Element:
    el.set("creatingUser", USER_GUID)
    el.set("creationDateTime", EXPORT_TIME)
    if modified:
        el.set("modifyingUser", USER_GUID)
        el.set("modifiedDateTime", EXPORT_TIME)
    return el


def _code(
    parent: etree._Element,
    ns: str,
    kind: str,
    ident: str,
    name: str,
    codable: bool,
    colour: str,
    description: str | None,
) -> etree._Element:
    code = etree.SubElement(
        parent,
        f"{{{ns}}}Code",
        guid=guid(kind, ident),
        name=name,
        isCodable="true" if codable else "false",
        color=colour,
    )
    if description:
        etree.SubElement(code, f"{{{ns}}}Description").text = description
    return code


def _codes(
    parent: etree._Element, ns: str, framework: Framework, study: Study | None, cases: bool = False
) -> None:
    """The code hierarchy: perspectives (not codable) > dimensions > second-order themes; with
    ``cases``, a group of one code per case (the case's GUID)."""
    codes = etree.SubElement(parent, f"{{{ns}}}Codes")
    themes = list(study.themes) if study else []
    for i, p in enumerate(framework.perspectives):
        colour = _COLOURS[i % len(_COLOURS)]
        pc = _code(codes, ns, "perspective", p.id, p.label, False, colour, p.definition)
        for d in (d for d in framework.dimensions if d.perspective == p.id):
            dc = _code(pc, ns, "dimension", d.id, d.label, True, colour, d.definition)
            for t in (t for t in themes if t.dimension == d.id):
                _code(dc, ns, "theme", t.id, t.label, True, colour, f"Second-order theme ({t.id})")
    if cases and study and study.cases:
        group = _code(
            codes,
            ns,
            "group",
            "cases",
            CASES_CODE,
            False,
            _CASE_COLOUR,
            "One code per case, coding the case's whole source (the case's link to its text)",
        )
        for c in study.cases:
            _code(group, ns, "case", c.id, c.name, True, _CASE_COLOUR, None)


def codebook_xml(study: Study) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document."""
    root = etree.Element(
        f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin="crosscase"
    )
    _codes(root, CODEBOOK_NS, study.framework, study)
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
        f"{_Q}Project",
        nsmap={None: PROJECT_NS},
        name=name,
        origin="crosscase",
        creatingUserGUID=USER_GUID,
        creationDateTime=EXPORT_TIME,
        modifyingUserGUID=USER_GUID,
        modifiedDateTime=EXPORT_TIME,
    )
    sub(sub(root, f"{_Q}Users"), f"{_Q}User", guid=USER_GUID, name=EXPORT_USER)
    _codes(sub(root, f"{_Q}CodeBook"), PROJECT_NS, study.framework, study, cases=True)
    _variables(sub(root, f"{_Q}Variables"), study.framework)
    _cases(sub(root, f"{_Q}Cases"), study)
    sources = sub(root, f"{_Q}Sources")
    texts: dict[str, str] = {}
    notes = [note for c in study.cases for note in _source(sources, study, c, texts)]
    if notes:
        sub(root, f"{_Q}Notes").extend(notes)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return bytes(xml), texts


def _variables(parent: etree._Element, framework: Framework) -> None:
    """The case variables: the case's number, then each field of the case protocol."""
    etree.SubElement(
        parent,
        f"{_Q}Variable",
        guid=guid("variable", "number"),
        name=NUMBER_VARIABLE,
        typeOfVariable="Integer",
    )
    for f in framework.case_protocol:
        etree.SubElement(
            parent,
            f"{_Q}Variable",
            guid=guid("variable", f.id),
            name=f.label,
            typeOfVariable="Text",
        )


def _cases(parent: etree._Element, study: Study) -> None:
    """One ``Case`` per case: its number and protocol as variable values, and its source."""
    sub = etree.SubElement
    for c in study.cases:
        ce = sub(parent, f"{_Q}Case", guid=guid("case", c.id), name=c.name)
        sub(ce, f"{_Q}Description").text = f"Case {c.number} ({c.id})"
        values = [("number", "IntegerValue", str(c.number))]
        values += [
            (f.id, "TextValue", c.protocol.get(f.id, "")) for f in study.framework.case_protocol
        ]
        for var, kind, value in values:
            vv = sub(ce, f"{_Q}VariableValue")
            sub(vv, f"{_Q}VariableRef", targetGUID=guid("variable", var))
            sub(vv, f"{_Q}{kind}").text = value
        sub(ce, f"{_Q}SourceRef", targetGUID=guid("source", c.id))


def _source(
    parent: etree._Element, study: Study, c: Case, texts: dict[str, str]
) -> list[etree._Element]:
    """A case's text source: the whole text coded with the case's code, each narrative with its
    dimension, each located observation as a selection of its evidence passage; the notes of
    the observations that rest on no passage are returned (their texts added to ``texts``)."""
    sub = etree.SubElement
    text, spans = case_source_text(study, c.id)
    sid = guid("source", c.id)
    texts[f"{sid}.txt"] = text
    src = _stamp(
        sub(parent, f"{_Q}TextSource", guid=sid, name=c.name),
    )
    src.set("plainTextPath", f"internal://{sid}.txt")
    sub(src, f"{_Q}Description").text = f"Within-case narratives, case {c.number}"
    whole = _selection(src, guid("case-text", c.id), c.name, 0, len(text))
    _coding(whole, f"case-text:{c.id}", [guid("case", c.id)])
    observations = [co for co in study.observations if co.case == c.id]
    unlocated = [co for co in observations if co.start is None or not co.evidence_dimension]
    for d in study.framework.dimensions:
        start, end = spans[d.id]
        sel = _selection(
            src, guid("narrative", f"{c.id}:{d.id}"), f"Narrative: {d.label}", start, end
        )
        _coding(sel, f"narrative:{c.id}:{d.id}", [guid("dimension", d.id)])
        for co in unlocated:  # a note is attached to the narrative of its dimension
            if co.observation.dimension == d.id:
                sub(sel, f"{_Q}NoteRef", targetGUID=guid("note", co.observation.id))
    notes: list[etree._Element] = []
    for co in observations:
        o = co.observation
        codes = [guid("dimension", o.dimension), *(guid("theme", t) for t in o.themes)]
        if co in unlocated:
            notes.append(_note(o, c, codes, texts))
            continue
        assert co.evidence_dimension and co.start is not None and co.end is not None
        offset = spans[co.evidence_dimension][0]
        sel = _selection(
            src, guid("observation", o.id), o.id, offset + co.start, offset + co.end, o.text
        )
        _coding(sel, f"observation:{o.id}", codes)
    return notes


def _note(o: Observation, c: Case, codes: list[str], texts: dict[str, str]) -> etree._Element:
    """The note of an observation that rests on no passage: its text, coded whole."""
    note_text = o.text
    nid = guid("note", o.id)
    note = _stamp(etree.Element(f"{_Q}Note", guid=nid, name=f"{o.id} ({c.name})"))
    note.set("plainTextPath", f"internal://{nid}.txt")
    etree.SubElement(
        note, f"{_Q}Description"
    ).text = f"First-order observation {o.id} of case {c.number}, with no evidence passage"
    nsel = _selection(note, guid("note-text", o.id), o.id, 0, len(note_text))
    _coding(nsel, f"note:{o.id}", codes)
    texts[f"{nid}.txt"] = note_text
    return note


def _selection(
    parent: etree._Element,
    ident: str,
    name: str,
    start: int,
    end: int,
    description: str | None = None,
) -> etree._Element:
    sel = _stamp(
        etree.SubElement(
            parent,
            f"{_Q}PlainTextSelection",
            guid=ident,
            name=name,
            startPosition=str(start),
            endPosition=str(end),
        )
    )
    if description:
        etree.SubElement(sel, f"{_Q}Description").text = description
    return sel


def _coding(parent: etree._Element, key: str, code_guids: list[str]) -> None:
    for g in code_guids:
        coding = _stamp(
            etree.SubElement(parent, f"{_Q}Coding", guid=guid("coding", f"{key}:{g}")),
            modified=False,
        )
        etree.SubElement(coding, f"{_Q}CodeRef", targetGUID=g)


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, entries[name])
    return buf.getvalue()


def project_archive(study: Study, name: str) -> bytes:
    """The whole coded project as a REFI-QDA ``.qdpx`` archive."""
    return archive_of(*project_xml(study, name))


def archive_of(xml: bytes, texts: dict[str, str]) -> bytes:
    """A ``.qdpx`` archive of a project document and its source texts (from :func:`project_xml`)."""
    entries = {"project.qde": xml}
    entries.update({f"sources/{k}": v.encode("utf-8") for k, v in texts.items()})
    return _zip(entries)


def validate(document: bytes, schema: Path) -> list[str]:
    """Errors of ``document`` against an XML schema (empty when valid)."""
    xsd = etree.XMLSchema(etree.parse(str(schema)))
    doc = etree.fromstring(document)
    return [] if xsd.validate(doc) else [str(e) for e in xsd.error_log]


@dataclass(frozen=True)
class ReadBack:
    """What a ``.qdpx`` archive holds, read back."""

    codes: dict[str, str]  # guid -> name
    cases: dict[str, str]  # guid -> name
    selections: dict[str, tuple[str, str, list[str]]]  # guid -> (name, selected text, code guids)
    notes: int
    note_selections: int  # the notes' own selections (not in ``selections``)


def read_project(archive: bytes) -> ReadBack:
    """Parse a ``.qdpx`` archive: its codes, cases and the coded selections of its sources (with
    their text), and how many notes and selections of notes it holds."""
    ns = {"q": PROJECT_NS}
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        root = etree.fromstring(zf.read("project.qde"))
        texts = {
            n.removeprefix("sources/"): zf.read(n).decode("utf-8")
            for n in zf.namelist()
            if n.startswith("sources/")
        }
    codes = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", ns)}
    cases = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Case", ns)}
    selections = {}
    for src in root.iterfind(".//q:TextSource", ns):
        text = texts[src.get("plainTextPath").removeprefix("internal://")]
        for sel in src.iterfind("q:PlainTextSelection", ns):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            refs = [r.get("targetGUID") for r in sel.iterfind("q:Coding/q:CodeRef", ns)]
            selections[sel.get("guid")] = (sel.get("name"), text[start:end], refs)
    notes = root.findall(".//q:Note", ns)
    in_notes = sum(len(n.findall("q:PlainTextSelection", ns)) for n in notes)
    return ReadBack(codes, cases, selections, len(notes), in_notes)
