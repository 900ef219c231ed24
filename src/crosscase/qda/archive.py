"""Read a REFI-QDA project archive (``.qdpx``: a zip holding ``project.qde`` and ``sources/``)
defensively: the zip's size, member count and member sizes are bounded, the XML is parsed
without DTDs, entities or network access and validated against the official schema, and member
names are looked up only in the archive's own ``sources/`` folder, so that nothing in the file
makes the reader read without bound or outside the archive."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from lxml import etree

from ..study.problems import Problem
from .errors import QdpxError, fail
from .format import PROJECT_NS

#: Bounds on what is read from an archive (bytes, members).
MAX_ARCHIVE_BYTES = 512 * 2**20
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 64 * 2**20
MAX_TOTAL_BYTES = 1024 * 2**20
#: Schema errors listed before "... and N more".
MAX_SCHEMA_ERRORS = 5


def open_archive(path: Path, display: str) -> zipfile.ZipFile:
    """The zip archive at ``path``, within the bounds of its size and members."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        fail(display, f"cannot read: {exc.strerror}")
    if size > MAX_ARCHIVE_BYTES:
        fail(display, f"{size:,} bytes (the limit is {MAX_ARCHIVE_BYTES:,})")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        fail(
            display,
            f"not a zip archive ({exc}): a .qdpx project is a zip holding project.qde "
            "and its sources/ folder",
        )
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if len(infos) > MAX_MEMBERS or total > MAX_TOTAL_BYTES:
        zf.close()
        if len(infos) > MAX_MEMBERS:
            fail(display, f"{len(infos):,} members (the limit is {MAX_MEMBERS:,})")
        fail(display, f"{total:,} bytes uncompressed (the limit is {MAX_TOTAL_BYTES:,})")
    return zf


class Archive:
    """Bounded reads of an open archive's members, each problem recorded in ``problems``."""

    def __init__(self, zf: zipfile.ZipFile, display: str) -> None:
        self.zf = zf
        self.display = display
        self.problems: list[Problem] = []
        self.members = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        self.folded = {n.casefold(): n for n in self.members}
        self.read_names: set[str] = set()

    def document(self) -> str:
        """The project document's name: ``project.qde``, or the one ``.qde`` at the top."""
        if "project.qde" in self.members:
            return "project.qde"
        top = [n for n in self.members if "/" not in n and n.endswith(".qde")]
        if len(top) != 1:
            fail(self.display, "no project.qde in the archive: not a REFI-QDA project")
        return top[0]

    def member(self, internal_name: str) -> str | None:
        """The archive member of an ``internal://`` file: in the ``sources`` folder (any case)."""
        return self.folded.get(f"sources/{internal_name}".casefold())

    def read(self, name: str, what: str) -> bytes | None:
        info = self.members[name]
        self.read_names.add(name)
        problem = None
        if info.file_size > MAX_MEMBER_BYTES:
            problem = f"{info.file_size:,} bytes (the limit is {MAX_MEMBER_BYTES:,})"
        else:
            try:
                with self.zf.open(info) as fh:
                    data = fh.read(MAX_MEMBER_BYTES + 1)
                if len(data) > MAX_MEMBER_BYTES:
                    problem = f"larger than {MAX_MEMBER_BYTES:,} bytes"
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                problem = f"cannot be read from the archive ({exc})"
        if problem is None:
            return data
        self.problems.append(Problem(self.display, None, None, f"{what} {name}: {problem}"))
        return None

    def text(self, name: str, what: str, where: str) -> str | None:
        """A text file's content (UTF-8, a byte-order mark removed: positions count from after
        it), or None with the problem (an encoding's reported as ``where``'s)."""
        data = self.read(name, f"{what}: text file")
        if data is None:
            return None
        data = data.removeprefix(b"\xef\xbb\xbf")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            at = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
            message = f"{what}: {name}: not UTF-8 text ({at})"
            self.problems.append(Problem(where, None, None, message))
            return None


def _safe_parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def parse_document(data: bytes, where: str, schema: Path) -> Any:
    """The root of a project document: well-formed, with no DTD, a REFI-QDA ``Project``, valid
    against ``schema``."""
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        fail(where, f"not well-formed XML: {exc.msg}", exc.lineno)
    if root.getroottree().docinfo.doctype:
        fail(where, "has a DOCTYPE: DTDs and entities are not accepted", 1)
    if root.tag != f"{{{PROJECT_NS}}}Project":
        name = etree.QName(root)
        fail(
            where,
            f"the root element is {name.localname!r} in {name.namespace or 'no namespace'}, "
            f"not a REFI-QDA Project ({PROJECT_NS})",
            root.sourceline,
        )
    try:
        xsd = etree.XMLSchema(etree.parse(str(schema), _safe_parser()))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        problem = Problem(str(schema), None, None, f"cannot read the schema: {exc}")
        raise QdpxError(where, [problem]) from None
    if not xsd.validate(root):
        errors = list(xsd.error_log)
        out = [
            Problem(where, None, None, f"not valid against {schema.name}: {e.message}", e.line)
            for e in errors[:MAX_SCHEMA_ERRORS]
        ]
        if (more := len(errors) - MAX_SCHEMA_ERRORS) > 0:
            out.append(Problem(where, None, None, f"... and {more} more schema errors"))
        raise QdpxError(where, out)
    return root
