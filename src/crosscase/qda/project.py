"""What a REFI-QDA project holds, as far as a case set needs it (:class:`QdaProject`), read from a
``.qdpx`` archive (:func:`read_qdpx`): the codes and their hierarchy, the variables, the cases
with their variable values and sources, the text sources and notes with their text (the
element's own, or a file of the archive's ``sources/`` folder) and coded selections. Pictures,
PDFs, audio and video are counted, not read. Every problem is collected and reported at once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from ..study.passages import normalise_space
from ..study.problems import Problem
from .archive import Archive, open_archive, parse_document
from .errors import ProblemLog, QdpxError
from .format import Q

_INTERNAL = "internal://"
_OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


@dataclass(frozen=True)
class Selection:
    """A ``PlainTextSelection``: its span, memo, codes (GUIDs) and the notes it refers to."""

    guid: str
    name: str
    start: int
    end: int
    memo: str
    codes: tuple[str, ...]
    notes: tuple[str, ...]
    line: int | None


@dataclass(frozen=True)
class TextItem:
    """A ``TextSource`` or a ``Note``: its text (byte-order mark removed) and selections."""

    kind: str
    guid: str
    name: str
    text: str
    selections: tuple[Selection, ...]
    notes: tuple[str, ...]  # NoteRefs of the item itself
    line: int | None
    values: tuple[tuple[str, str], ...] = ()  # variables of the source itself (MAXQDA's way)

    def describe(self) -> str:
        return f"{self.kind} {self.name!r}"


@dataclass(frozen=True)
class CodeItem:
    guid: str
    name: str
    parent: str | None
    description: str = ""


@dataclass(frozen=True)
class CaseItem:
    guid: str
    name: str | None
    values: tuple[tuple[str, str], ...]  # (variable GUID, value as text)
    sources: tuple[str, ...]
    line: int | None
    description: str = ""


@dataclass(frozen=True)
class QdaProject:
    origin: str
    users: int
    codes: dict[str, CodeItem]
    variables: dict[str, str]  # GUID -> name
    cases: tuple[CaseItem, ...]
    sources: tuple[TextItem, ...]
    notes: dict[str, TextItem]
    other_sources: int  # pictures, PDFs, audio, video: not read
    members: int
    extra_files: tuple[str, ...]  # archive members no element refers to
    document: str = "project.qde"  # the project document's name in the archive

    @property
    def selections(self) -> int:
        return sum(len(s.selections) for s in (*self.sources, *self.notes.values()))


def read_qdpx(path: Path, schema: Path, display: str | None = None) -> QdaProject:
    """Read and check a ``.qdpx`` archive: bounded, safely parsed, valid against ``schema``
    (the official ``Project.xsd``); raise :class:`QdpxError` with every problem found."""
    display = display or path.as_posix()
    with open_archive(path, display) as zf:
        archive = Archive(zf, display)
        qde = archive.document()
        where = f"{display}:{qde}"
        data = archive.read(qde, "project document")
        if data is None:
            raise QdpxError(display, archive.problems)
        root = parse_document(data, where, schema)
        _unique_guids(root, where)
        project = _Extractor(root, archive, where).project(qde)
    if archive.problems:
        raise QdpxError(display, archive.problems)
    return project


def _describe(el: Any) -> str:
    name = el.get("name")
    return f"{etree.QName(el).localname} {repr(name) if name else el.get('guid')}"


def _description(el: Any) -> str:
    return str(el.findtext(f"{Q}Description") or "")


def _refs(el: Any, path: str = f"{Q}Coding/{Q}CodeRef") -> tuple[str, ...]:
    """The GUIDs the references at ``path`` under ``el`` refer to (by default, its codes)."""
    return tuple(r.get("targetGUID") for r in el.iterfind(path))


#: The elements others refer to by GUID, each kind with GUIDs of its own (a case's code has its
#: case's GUID, NVivo's convention).
_REFERRED = {
    "code": f"{Q}CodeBook//{Q}Code",
    "variable": f"{Q}Variables/{Q}Variable",
    "case": f"{Q}Cases/{Q}Case",
    "source": f"{Q}Sources/*",
    "note": f"{Q}Notes/{Q}Note",
}


def _unique_guids(root: Any, where: str) -> None:
    """Stop when two elements others refer to share a GUID, one problem each (a reference to it
    cannot say which it means, so nothing after is read)."""
    log = ProblemLog(where)
    for kind, path in _REFERRED.items():
        holders: dict[str, list[Any]] = {}
        for el in root.iterfind(path):
            holders.setdefault(el.get("guid"), []).append(el)
        for g, els in ((g, els) for g, els in holders.items() if len(els) > 1):
            named = [f"{_describe(e)} (line {e.sourceline})" for e in els]
            message = (
                f"GUID {g} is shared by {', '.join(named[:-1])} and {named[-1]}: each {kind} "
                "needs a GUID of its own (a reference to it cannot say which is meant)"
            )
            log.add(message, line=els[1].sourceline)
    log.check()


class _Extractor:
    """The items of a parsed project document (``where``), each problem recorded."""

    def __init__(self, root: Any, archive: Archive, where: str) -> None:
        self.root, self.archive, self.where = root, archive, where
        self.codes: dict[str, CodeItem] = {}
        for codes in root.iterfind(f"{Q}CodeBook/{Q}Codes"):
            self._walk(codes, None)
        variables = root.iterfind(f"{Q}Variables/{Q}Variable")
        self.variables = {v.get("guid"): v.get("name") for v in variables}

    def project(self, document: str) -> QdaProject:
        root = self.root
        cases = []
        for c in root.iterfind(f"{Q}Cases/{Q}Case"):
            refs, values, line, about = (
                _refs(c, f"{Q}SourceRef"),
                self._values(c),
                c.sourceline,
                _description(c),
            )
            cases.append(CaseItem(c.get("guid"), c.get("name"), values, refs, line, about))
        sources = root.findall(f"{Q}Sources/*")
        texts = [self._text_item(el) for el in sources if el.tag == f"{Q}TextSource"]
        notes = [self._text_item(el) for el in root.iterfind(f"{Q}Notes/{Q}Note")]
        return QdaProject(
            origin=root.get("origin") or "",
            users=len(root.findall(f"{Q}Users/{Q}User")),
            codes=self.codes,
            variables=self.variables,
            cases=tuple(cases),
            sources=tuple(t for t in texts if t is not None),
            notes={n.guid: n for n in notes if n is not None},
            other_sources=sum(etree.QName(el).localname in _OTHER_SOURCES for el in sources),
            members=len(self.archive.members),
            extra_files=tuple(sorted(set(self.archive.members) - self.archive.read_names)),
            document=document,
        )

    def _problem(self, el: Any, message: str) -> None:
        problem = Problem(self.where, None, None, f"{_describe(el)}: {message}", el.sourceline)
        self.archive.problems.append(problem)

    def _walk(self, el: Any, parent: str | None) -> None:
        """The codes under ``el``, parents before their children."""
        for code in el.iterchildren(f"{Q}Code"):
            g = code.get("guid")
            self.codes[g] = CodeItem(g, code.get("name"), parent, _description(code))
            self._walk(code, g)

    def _values(self, el: Any) -> tuple[tuple[str, str], ...]:
        """The variable values of a case or source: (variable GUID, value as text)."""
        values = []
        for vv in el.iterchildren(f"{Q}VariableValue"):
            ref = vv.find(f"{Q}VariableRef").get("targetGUID")
            if ref not in self.variables:
                self._problem(el, f"a VariableValue refers to no Variable (targetGUID {ref})")
                continue
            value = next((v for v in vv if v.tag != f"{Q}VariableRef"), None)
            values.append((ref, (value.text or "") if value is not None else ""))
        return tuple(values)

    def _text_item(self, el: Any) -> TextItem | None:
        """A text source or note with its text and selections (None when it has no text)."""
        kind = etree.QName(el).localname
        text = self._text(el, kind)
        if text is None:
            return None
        for attr in ("richTextPath", "path"):  # referenced: not an extra file
            other = el.get(attr) or ""
            if other.startswith(_INTERNAL) and (m := self.archive.member(other[len(_INTERNAL) :])):
                self.archive.read_names.add(m)
        sels = el.iterchildren(f"{Q}PlainTextSelection")
        selections = [s for sel in sels if (s := self._selection(sel, el, kind, text))]
        if (whole := tuple(r for r in _refs(el) if r in self.codes)) and text:
            whole_text = Selection(el.get("guid"), "", 0, len(text), "", whole, (), el.sourceline)
            selections.append(whole_text)  # coded whole
        g, name, notes = el.get("guid"), el.get("name") or "", _refs(el, f"{Q}NoteRef")
        values = self._values(el)
        return TextItem(kind, g, name, text, tuple(selections), notes, el.sourceline, values)

    def _text(self, el: Any, kind: str) -> str | None:
        """An item's text: its ``PlainTextContent``, or the file its ``plainTextPath`` names in
        the archive's ``sources/`` folder, and nowhere else (None, the problem recorded)."""
        content, path = el.findtext(f"{Q}PlainTextContent"), el.get("plainTextPath") or ""
        if content is not None or (not path and kind != "TextSource"):
            return str(content or "")
        name = path.removeprefix(_INTERNAL)
        safe = re.fullmatch(r"[^/\\]+", name) and name not in {".", ".."}
        member = self.archive.member(name) if safe else None
        if not path:
            problem = "has neither PlainTextContent nor plainTextPath: no text"
        elif not path.startswith(_INTERNAL):
            problem = (
                f"plainTextPath {path!r} is outside the project: export the project with its "
                "sources inside (internal://)"
            )
        elif member is None:
            problem = f"plainTextPath {path!r}: no such file in the archive's sources/ folder"
        else:
            return self.archive.text(member, _describe(el), self.where)
        self._problem(el, problem)
        return None

    def _selection(self, sel: Any, el: Any, kind: str, text: str) -> Selection | None:
        """A selection of an item's text with the codes of the codebook it refers to (None,
        the problem recorded, when its span is not in the text)."""
        start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        if not 0 <= start < end <= len(text):
            self._problem(
                sel,
                f"selection {start}-{end} is outside its {kind}'s text "
                f"({_describe(el)}, {len(text):,} characters)"
                if start < end
                else f"empty selection ({start}-{end}) in {_describe(el)}",
            )
            return None
        refs = _refs(sel)
        for target in (r for r in refs if r not in self.codes):
            self._problem(sel, f"a Coding refers to no code of the codebook (targetGUID {target})")
        notes = _refs(sel, f".//{Q}NoteRef")  # its codings' too
        memo, codes = normalise_space(_description(sel)), tuple(dict.fromkeys(refs))
        codes = tuple(c for c in codes if c in self.codes)
        name, line = sel.get("name") or "", sel.sourceline
        return Selection(sel.get("guid"), name, start, end, memo, codes, notes, line)
