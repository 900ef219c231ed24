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

from .model import Framework
from .study import Study

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_NAMESPACE = uuid.UUID("5b0f6b4e-2d1c-4c55-9a55-63726f737363")  # crosscase's UUID namespace
_COLOURS = ["#2f6690", "#b5651d", "#3c7a3c", "#6a3d7a"]


def guid(kind: str, ident: str) -> str:
    """A stable GUID for an item of the study."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{ident}"))


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


def _codes(parent: etree._Element, ns: str, framework: Framework, study: Study | None) -> None:
    """The code hierarchy: perspectives (not codable) > dimensions > second-order themes."""
    codes = etree.SubElement(parent, f"{{{ns}}}Codes")
    themes = list(study.themes) if study else []
    for i, p in enumerate(framework.perspectives):
        colour = _COLOURS[i % len(_COLOURS)]
        pc = _code(codes, ns, "perspective", p.id, p.label, False, colour, p.definition)
        for d in (d for d in framework.dimensions if d.perspective == p.id):
            dc = _code(pc, ns, "dimension", d.id, d.label, True, colour, d.definition)
            for t in (t for t in themes if t.dimension == d.id):
                _code(dc, ns, "theme", t.id, t.label, True, colour, f"Second-order theme ({t.id})")


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
    """The project document ``project.qde`` and the text of each source (by file name)."""
    ns = PROJECT_NS
    e = etree.Element
    root = e(f"{{{ns}}}Project", nsmap={None: ns}, name=name, origin="crosscase")
    book = etree.SubElement(root, f"{{{ns}}}CodeBook")
    _codes(book, ns, study.framework, study)
    fields = study.framework.case_protocol
    variables = etree.SubElement(root, f"{{{ns}}}Variables")
    etree.SubElement(
        variables,
        f"{{{ns}}}Variable",
        guid=guid("variable", "number"),
        name="Case number",
        typeOfVariable="Integer",
    )
    for f in fields:
        etree.SubElement(
            variables,
            f"{{{ns}}}Variable",
            guid=guid("variable", f.id),
            name=f.label,
            typeOfVariable="Text",
        )
    cases = etree.SubElement(root, f"{{{ns}}}Cases")
    for c in study.cases:
        ce = etree.SubElement(cases, f"{{{ns}}}Case", guid=guid("case", c.id), name=c.name)
        etree.SubElement(ce, f"{{{ns}}}Description").text = f"Case {c.number} ({c.id})"
        values = [("number", "IntegerValue", str(c.number))]
        values += [(f.id, "TextValue", c.protocol.get(f.id, "")) for f in fields]
        for var, kind, value in values:
            vv = etree.SubElement(ce, f"{{{ns}}}VariableValue")
            etree.SubElement(vv, f"{{{ns}}}VariableRef", targetGUID=guid("variable", var))
            etree.SubElement(vv, f"{{{ns}}}{kind}").text = value
        etree.SubElement(ce, f"{{{ns}}}SourceRef", targetGUID=guid("source", c.id))
    sources = etree.SubElement(root, f"{{{ns}}}Sources")
    texts: dict[str, str] = {}
    notes: list[tuple[str, str, str]] = []
    for c in study.cases:
        text, spans = case_source_text(study, c.id)
        sid = guid("source", c.id)
        texts[f"{sid}.txt"] = text
        src = etree.SubElement(
            sources,
            f"{{{ns}}}TextSource",
            guid=sid,
            name=c.name,
            plainTextPath=f"internal://{sid}.txt",
        )
        etree.SubElement(
            src, f"{{{ns}}}Description"
        ).text = f"Within-case narratives, case {c.number}"
        for d in study.framework.dimensions:
            start, end = spans[d.id]
            sel = etree.SubElement(
                src,
                f"{{{ns}}}PlainTextSelection",
                guid=guid("narrative", f"{c.id}:{d.id}"),
                name=f"Narrative: {d.label}",
                startPosition=str(start),
                endPosition=str(end),
            )
            _coding(sel, ns, f"narrative:{c.id}:{d.id}", [guid("dimension", d.id)])
        for co in study.observations:
            if co.case != c.id:
                continue
            o = co.observation
            codes = [guid("dimension", o.dimension), *(guid("theme", t) for t in o.themes)]
            if co.start is None or co.end is None or not co.evidence_dimension:
                notes.append((o.id, c.name, o.text))
                continue
            offset = spans[co.evidence_dimension][0]
            sel = etree.SubElement(
                src,
                f"{{{ns}}}PlainTextSelection",
                guid=guid("observation", o.id),
                name=o.id,
                startPosition=str(offset + co.start),
                endPosition=str(offset + co.end),
            )
            etree.SubElement(sel, f"{{{ns}}}Description").text = o.text
            _coding(sel, ns, f"observation:{o.id}", codes)
    if notes:
        notes_el = etree.SubElement(root, f"{{{ns}}}Notes")
        for oid, case_name, text in notes:
            note = etree.SubElement(
                notes_el, f"{{{ns}}}Note", guid=guid("note", oid), name=f"{oid} ({case_name})"
            )
            etree.SubElement(note, f"{{{ns}}}PlainTextContent").text = text
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return bytes(xml), texts


def _coding(parent: etree._Element, ns: str, key: str, code_guids: list[str]) -> None:
    for g in code_guids:
        coding = etree.SubElement(parent, f"{{{ns}}}Coding", guid=guid("coding", f"{key}:{g}"))
        etree.SubElement(coding, f"{{{ns}}}CodeRef", targetGUID=g)


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
    xml, texts = project_xml(study, name)
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


def read_project(archive: bytes) -> ReadBack:
    """Parse a ``.qdpx`` archive: its codes, cases and coded selections (with their text)."""
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
    return ReadBack(codes, cases, selections, len(root.findall(".//q:Note", ns)))
