"""Start new case and observation files from the framework (the documented templates)."""

from __future__ import annotations

from pathlib import Path

from .model import Framework
from .outputs import atomic_write

CASE_HEADER = """\
# A case of the study: one file per case, named <id>.yaml, in a folder of cases.
# Every field is explained in data/README.md (data dictionary). In short:
#   id         a safe identifier: lowercase letters, digits and hyphens; equals the file name
#   number     the case's number, unique in the case set (tables cite cases by number)
#   name       the case's name as a column header
#   protocol   how the data were collected (one line per field of the framework's case_protocol)
#   narratives the within-case narrative for each dimension of the framework (none may be empty)
# The empty strings below must be filled in: `crosscase validate` reports every one left empty.
"""

OBS_HEADER = """\
# The first-order coding of one case: observations/<case-id>.yaml beside the cases/ folder.
# A case without this file is "not yet coded": it is analysed, but counts in no theme.
# Each observation:
#   id         unique in the study, e.g. c6-sns-1
#   dimension  a dimension id of the framework
#   text       the first-order thematic observation (a short phrase)
#   themes     the second-order theme ids it evidences, of its own dimension ([] for none)
#   evidence   the passage of this case's narratives it rests on, copied verbatim (optional)
#   source     how the observation was made (free text, e.g. "interview coding")
"""


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def case_template(framework: Framework, case_id: str, number: int, name: str) -> str:
    """The text of a new case file with every protocol field and narrative to fill in."""
    lines = [CASE_HEADER, f"id: {case_id}", f"number: {number}", f"name: {_q(name)}", "protocol:"]
    for f in framework.case_protocol:
        lines.append(f'  {f.id}: ""  # {f.label}')
    lines.append("narratives:")
    for d in framework.dimensions:
        hint = f" {d.question}" if d.question else ""
        lines.append(f'  {d.id}: ""  # {d.label}.{hint}'.rstrip())
    return "\n".join(lines) + "\n"


def observations_template(framework: Framework, case_id: str, number: int) -> str:
    """The text of a new observation file, with one commented example per dimension."""
    lines = [OBS_HEADER, f"case: {case_id}", "observations: []", "# Example (uncomment, edit):"]
    for i, d in enumerate(framework.dimensions, start=1):
        lines += [
            f"#  - id: c{number}-{i}-1",
            f"#    dimension: {d.id}",
            '#    text: ""',
            "#    themes: []",
            '#    evidence: ""',
        ]
    return "\n".join(lines) + "\n"


def new_case(
    framework: Framework, folder: Path, case_id: str, number: int, name: str
) -> list[Path]:
    """Write ``<folder>/cases/<id>.yaml`` and ``<folder>/observations/<id>.yaml``; refuse to
    overwrite an existing case."""
    case_file = folder / "cases" / f"{case_id}.yaml"
    obs_file = folder / "observations" / f"{case_id}.yaml"
    for p in (case_file, obs_file):
        if p.exists():
            raise FileExistsError(f"{p} exists: not overwritten")
    return [
        atomic_write(case_file, case_template(framework, case_id, number, name)),
        atomic_write(obs_file, observations_template(framework, case_id, number)),
    ]


def _folded(key: str, text: str, indent: int) -> list[str]:
    import textwrap

    pad = " " * indent
    if not text:
        return [f'{pad}{key}: ""']
    wrapped = textwrap.wrap(
        text, width=96 - indent - 2, break_long_words=False, break_on_hyphens=False
    )
    return [f"{pad}{key}: >-", *(f"{pad}  {line}" for line in wrapped)]


def case_text(
    case_id: str,
    number: int,
    name: str,
    protocol: dict[str, str],
    narratives: dict[str, str],
    header: str = "",
) -> str:
    """A case file in the compendium's style (folded block scalars), from its fields."""
    lines = [header.rstrip("\n")] if header else []
    lines += [f"id: {case_id}", f"number: {number}", f"name: {_q(name)}", "protocol:"]
    for key, value in protocol.items():
        lines += _folded(key, value, 2)
    lines.append("narratives:")
    for key, value in narratives.items():
        lines += _folded(key, value, 2)
    return "\n".join(lines) + "\n"
