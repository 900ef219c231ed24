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


def _pin(requirement: str) -> tuple[str, str]:
    """``name==version`` (conda also writes ``name=version``) -> (normalised name, version)."""
    name, _, version = re.split(r"(==|=)", requirement, maxsplit=1)
    return _norm(name.strip()), version.strip()


def _conda() -> tuple[str, dict[str, str], dict[str, str], list[str]]:
    """environment.yml: its Python, its conda pins, its pip pins, and its other pip lines."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    python, conda, pip, other = "", {}, {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                if line.startswith("-"):
                    other.append(line)
                else:
                    name, version = _pin(line)
                    assert name not in pip, f"{name} twice under pip:"
                    pip[name] = version
            continue
        if "=" not in dep:
            assert dep == "pip", f"environment.yml: {dep!r} is not pinned"
            continue
        name, version = _pin(dep)
        if name == "python":
            python = version
        else:
            assert name not in conda, f"{name} twice"
            conda[name] = version
    return python, conda, pip, other


def test_every_direct_dependency_is_locked() -> None:
    lock = _lock()
    assert [d for d in _direct() if d not in lock] == []


def test_environment_yml_pins_what_the_lock_pins() -> None:
    """Each direct dependency once, from conda-forge or (when conda-forge lacks its pin) from
    pip, at the lock's version; and the package itself, from the project."""
    python, conda, pip, other = _conda()
    lock = _lock()
    assert python == "3.11"
    assert set(conda) & set(pip) == set(), "a package both from conda-forge and from pip"
    assert sorted({**conda, **pip}) == sorted(_direct()), "environment.yml lists requirements.in"
    assert {k: v for k, v in {**conda, **pip}.items() if lock.get(k) != v} == {}
    assert other == ["--editable ."]


def _binder_requirements() -> tuple[list[str], dict[str, str]]:
    """binder/requirements.txt: the files it includes (-r) and the packages it pins."""
    included, pins = [], {}
    for raw in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            included.append(line.split(None, 1)[1])
        elif line:
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9A-Za-z.+!-]+", line), f"not a pin: {line}"
            name, version = _pin(line)
            pins[name] = version
    return included, pins


def test_binder_installs_the_lock_and_overrides_none_of_it() -> None:
    """Binder runs what `make` runs: binder/requirements.txt includes the lock (pip reads the path
    relative to the file), and what it adds is pinned and not a package of the lock, so no
    locked version is changed."""
    included, pins = _binder_requirements()
    assert [(ROOT / "binder" / path).resolve() for path in included] == [
        (ROOT / "requirements.lock").resolve()
    ]
    assert [name for name in pins if name in _lock()] == []


def test_binder_python_is_the_projects() -> None:
    """repo2docker reads binder/runtime.txt as ``python-<major>.<minor>`` (one line, nothing
    else): the Python of pyproject.toml and environment.yml."""
    import tomllib

    text = (ROOT / "binder" / "runtime.txt").read_text()
    assert re.fullmatch(r"python-3\.\d+\n?", text), text
    version = text.strip().removeprefix("python-")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={version},<3.{int(version.split('.')[1]) + 1}"
    assert _conda()[0] == version


def test_binder_post_build_is_executable() -> None:
    """repo2docker runs ./binder/postBuild (it makes it executable first, but a checkout of the
    repository should run it as the reviewer guide says)."""
    import os

    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert post_build.read_text().startswith("#!/usr/bin/env bash\n")


def test_python_version_matches_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11,<3.12"' in text


def test_package_dependencies_are_locked() -> None:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lock = _lock()
    assert [d for d in deps if _norm(re.split(r"[<>=\s]", d)[0]) not in lock] == []


def test_skipped_tests_say_why(tmp_path: Path) -> None:
    """A test that skips (no chromium, no second reader) prints its reason in every run: pytest,
    run with the project's own configuration, on a test that skips."""
    import subprocess
    import sys

    test = tmp_path / "test_skips.py"
    test.write_text(
        "import pytest\n\n\ndef test_it():\n    pytest.skip('no chromium here, for instance')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), str(test)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SKIPPED [1]" in done.stdout and "no chromium here, for instance" in done.stdout
