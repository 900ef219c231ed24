"""The pip lock and the conda environment.yml pin the same versions of the same packages."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins[_norm(name)] = version.strip()
    return pins


def _direct() -> list[str]:
    return [
        _norm(x.strip())
        for x in (ROOT / "requirements.in").read_text().splitlines()
        if x.strip() and not x.startswith("#")
    ]


def _conda() -> tuple[str, dict[str, str], list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    python, pins, pip = "", {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip = dep["pip"]
            continue
        name, _, version = re.split(r"(==|=)", dep, maxsplit=1) if "=" in dep else (dep, "", "")
        if name == "python":
            python = version
        elif version:
            pins[_norm(name)] = version
    return python, pins, pip


def test_every_direct_dependency_is_locked() -> None:
    lock = _lock()
    assert [d for d in _direct() if d not in lock] == []


def test_environment_yml_pins_what_the_lock_pins() -> None:
    python, pins, pip = _conda()
    lock = _lock()
    assert python == "3.11"
    assert sorted(pins) == sorted(_direct()), "environment.yml lists exactly requirements.in"
    assert {k: v for k, v in pins.items() if lock.get(k) != v} == {}
    assert "--editable ." in pip


def test_python_version_matches_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11,<3.12"' in text


def test_package_dependencies_are_locked() -> None:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lock = _lock()
    assert [d for d in deps if _norm(re.split(r"[<>=\s]", d)[0]) not in lock] == []


def _recipe(target: str) -> str:
    """The recipe lines of a Makefile target."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        body.append(line)
    return "\n".join(body)


def test_install_check_builds_outside_the_projects_build_folder() -> None:
    """setuptools builds a project in place (build/lib, build/bdist.*): from the project root
    that would leave its products among the runs in build/<run>/. The check installs a copy."""
    recipe = _recipe("install-check")
    installs = [line for line in recipe.splitlines() if "pip install" in line]
    assert installs and all('".[all]"' not in line and " .[all]" not in line for line in installs)


def test_skipped_tests_say_why() -> None:
    """A test that skips (no chromium, no second reader) prints its reason in every run."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "-rs" in config["tool"]["pytest"]["ini_options"]["addopts"].split()
