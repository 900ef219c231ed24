"""Write case, observation and theme files in the compendium's format, with a YAML library.

Everything a researcher's tool hands over (a name with quotes or colons, a narrative with tabs,
text that YAML would read as a number or a boolean) is written by ruamel.yaml, which quotes and
escapes as YAML requires, so that reading the file back gives exactly the text that went in.
Long text is written as folded block scalars (``>-``), the style of the study's own files, and the
new-case template carries each field's label and interview question as a comment.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString

from ..model import Framework, Theme
from ..outputs import atomic_write
from ..paths import Layout
from .casesets import find_case_files

CASE_HEADER = """\
A case of the study: one file per case, named <id>.yaml, in a folder of cases.
Every field is explained in data/README.md (data dictionary). In short:
  id         a safe identifier: lowercase letters, digits and hyphens; equals the file name
  number     the case's number, unique in the case set (tables cite cases by number)
  name       the case's name as a column header
  protocol   how the data were collected (one line per field of the framework's case_protocol);
             the first field is the row label: write it without "Case <n>:", which is added
  narratives the within-case narrative for each dimension of the framework (none may be empty)
The empty strings below must be filled in: `make validate` reports every one left empty."""

OBSERVATIONS_HEADER = """\
The first-order coding of one case: observations/<case-id>.yaml beside the cases/ folder.
A case without observations is "not yet coded": it is analysed, but counts in no theme.
Each observation:
  id         unique in the case set, e.g. c6-sns-1
  dimension  a dimension id of the framework
  text       the first-order thematic observation (a short phrase)
  themes     the second-order themes it evidences, by id or label, of its own dimension
  theme_basis  where each theme link comes from (optional; left out, the links are "coded",
             your own coding; see data/README.md)
  evidence   the passage of this case's narratives it rests on, copied verbatim (optional)
  source     how the observation was made (free text, e.g. "interview coding")"""

#: Text longer than this is written as a folded block scalar.
_FOLD_AT = 60


def _yaml() -> YAML:
    out = YAML(typ="rt")
    out.width = 96
    out.indent(mapping=2, sequence=4, offset=2)
    out.allow_unicode = True
    return out


def _reads_back(value: str) -> bool:
    """Whether ``value`` written plain is read back as the same string by the loader (PyYAML,
    YAML 1.1, which reads ``yes`` as a boolean where ruamel's YAML 1.2 does not)."""
    try:
        return bool(yaml.safe_load(f"k: {value}") == {"k": value})
    except yaml.YAMLError:
        return False


def _text(value: str) -> Any:
    """A scalar in the compendium's style: long text folded (``>-``), short text plain where
    that reads back unchanged, double-quoted (and escaped by ruamel) otherwise."""
    if len(value) > _FOLD_AT and value == " ".join(value.split()):
        return FoldedScalarString(value)
    return value if value and _reads_back(value) else DoubleQuotedScalarString(value)


def dump(data: CommentedMap, header: str = "") -> str:
    """YAML text of ``data``, with ``header`` as the file's opening comment."""
    if header:
        data.yaml_set_start_comment(header)
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def case_document(
    case_id: str,
    number: int,
    name: str,
    protocol: Mapping[str, str],
    narratives: Mapping[str, str],
    hints: Mapping[str, str] | None = None,
) -> CommentedMap:
    """A case file's content; ``hints`` are end-of-line comments by protocol field or dimension."""
    doc = CommentedMap(id=case_id, number=number, name=DoubleQuotedScalarString(name))
    for key, values in (("protocol", protocol), ("narratives", narratives)):
        section = CommentedMap()
        for k, v in values.items():
            section[k] = _text(v)
            if hints and hints.get(k):
                section.yaml_add_eol_comment(hints[k], k)
        doc[key] = section
    return doc


def observations_text(
    case_id: str, observations: Sequence[Mapping[str, Any]], header: str = OBSERVATIONS_HEADER
) -> str:
    """An observation file: ``observations`` are mappings of the Observation fields."""
    items = CommentedSeq()
    doc = CommentedMap(case=case_id, observations=items)
    for o in observations:
        entry = CommentedMap()
        for key, value in o.items():
            if value is None:
                continue
            if isinstance(value, list):
                seq = CommentedSeq(value)
                seq.fa.set_flow_style()
                entry[key] = seq
            elif isinstance(value, Mapping):  # a theme basis per theme
                entry[key] = CommentedMap((k, _text(str(v))) for k, v in value.items())
            else:
                entry[key] = _text(str(value))
        items.append(entry)
    return dump(doc, header)


def themes_text(themes: Sequence[Mapping[str, str]], header: str) -> str:
    """A themes file (``id``, ``dimension``, ``label`` per theme)."""
    items = CommentedSeq([CommentedMap((k, _text(v)) for k, v in t.items()) for t in themes])
    return dump(CommentedMap(themes=items), header)


def coding_guide(framework: Framework, themes: Sequence[Theme], case_id: str, number: int) -> str:
    """The observation file's header for a new case: the fields, then the themes of each
    dimension by id, and an example observation to copy."""
    by_dim = {d.id: [t.id for t in themes if t.dimension == d.id] for d in framework.dimensions}
    first = next((d for d, ids in by_dim.items() if ids), framework.dimensions[0].id)
    initials = "".join(word[0] for word in first.split("-"))
    example = [
        "observations:",
        f"  - id: c{number}-{initials}-1",
        f"    dimension: {first}",
        "    text: A short phrase of what the narrative shows on this dimension",
        f"    themes: [{by_dim[first][0] if by_dim[first] else ''}]",
        "    evidence: a passage copied verbatim from this case's narratives",
        "    source: interview coding",
    ]
    return "\n".join(
        [
            OBSERVATIONS_HEADER,
            "The second-order themes of each dimension, by id (a case set may add its own in",
            "<set>/themes.yaml, beside its cases/ folder):",
            *(f"  {d}: {', '.join(ids) or '(none yet)'}" for d, ids in by_dim.items()),
            f"An observation of case {case_id}, for example (replace `observations: []` below):",
            *(f"  {line}" for line in example),
        ]
    )


def new_case(
    framework: Framework,
    themes: Sequence[Theme],
    folder: Path,
    case_id: str,
    number: int,
    name: str,
) -> list[Path]:
    """Write ``<folder>/cases/<id>.yaml`` (every protocol field and narrative to fill in, with
    hints) and ``<folder>/observations/<id>.yaml`` (no observations yet, with the themes of each
    dimension and an example); refuse to overwrite."""
    case_file = folder / "cases" / f"{case_id}.yaml"
    obs_file = folder / "observations" / f"{case_id}.yaml"
    for p in (case_file, obs_file):
        if p.exists():
            raise FileExistsError(f"{p} exists: not overwritten")
    hints = {f.id: f.label for f in framework.case_protocol}
    for d in framework.dimensions:
        hints[d.id] = f"{d.label}." + (f" {d.question}" if d.question else "")
    protocol = {f.id: "" for f in framework.case_protocol}
    narratives = {d.id: "" for d in framework.dimensions}
    case = case_document(case_id, number, name, protocol, narratives, hints)
    guide = coding_guide(framework, themes, case_id, number)
    return [
        atomic_write(case_file, dump(case, CASE_HEADER)),
        atomic_write(obs_file, observations_text(case_id, [], guide)),
    ]


def next_case_number(layout: Layout, folder: Path) -> int:
    """One more than the highest case number in the study's cases and the case set's."""
    numbers = [0]
    for f in find_case_files([layout.cases_dir, folder / "cases"])[0]:
        try:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            continue
        if isinstance(data, dict) and isinstance(data.get("number"), int):
            numbers.append(data["number"])
    return max(numbers) + 1
