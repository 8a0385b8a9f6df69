"""Packaging a user relies on: one version per distribution, py.typed, tagkit-all complete.

Reads each pyproject.toml of the repository (the core's and every folder of tagkit_plugins/),
so a new plugin is checked without editing this file: it fails here until tagkit-all depends
on it and its package ships a py.typed.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parent.parent
META = REPO / "tagkit_plugins" / "all"


def pyproject(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))


DISTRIBUTIONS = [REPO] + sorted(p.parent for p in (REPO / "tagkit_plugins").glob("*/pyproject.toml")
                                if p.parent != META)


def package_of(folder: Path) -> str:
    (pattern,) = pyproject(folder)["tool"]["setuptools"]["packages"]["find"]["include"]
    return pattern.rstrip("*")


@pytest.mark.parametrize("folder", DISTRIBUTIONS, ids=lambda p: p.name)
def test_version_is_written_once_and_read_from_the_metadata(folder):
    project = pyproject(folder)["project"]
    package = package_of(folder)
    init = (folder / package / "__init__.py").read_text(encoding="utf-8")
    assert not re.search(r"^__version__\s*=", init, re.M), f"{package} writes its version again"
    module = importlib.import_module(package)
    assert module.__version__ == importlib.metadata.version(project["name"]) == project["version"]
    assert "__version__" in dir(module)


@pytest.mark.parametrize("folder", DISTRIBUTIONS, ids=lambda p: p.name)
def test_every_package_ships_py_typed(folder):
    package = package_of(folder)
    assert (folder / package / "py.typed").is_file()
    assert "py.typed" in pyproject(folder)["tool"]["setuptools"]["package-data"][package]


def test_tagkit_all_depends_on_the_core_and_every_plugin():
    def name(requirement: str) -> str:
        return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)

    meta = pyproject(META)["project"]
    wanted = {pyproject(folder)["project"]["name"] for folder in DISTRIBUTIONS}
    assert {name(r) for r in meta["dependencies"]} == wanted
    assert "tagkit-embeddings[glove]>=0.1,<0.2" in meta["dependencies"]  # 'glove' offline
    assert meta["name"] != "tagkit"  # PyPI's tagkit is another project


def test_changelog_has_the_current_version():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    version = pyproject(REPO)["project"]["version"]
    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
