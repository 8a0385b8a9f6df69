"""A third party's plugin works with no change to tagkit: build it, pip install it, use it.

The test writes a throwaway distribution (pyproject.toml + package, entry point in the ``tagkit``
group) into ``tmp_path``, installs it into the running interpreter with pip exactly as a user
would, and checks through a fresh ``Registry()`` and through the ``tagkit`` CLI in a subprocess
that its dataset and its command appear. Names carry a random suffix so concurrent runs on one
interpreter cannot collide, and the distribution is uninstalled in ``finally``.

``--no-build-isolation`` keeps pip offline: it builds with the setuptools already installed
(the nox ``tests`` session installs ``setuptools>=77`` for this) instead of downloading one.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tagkit_core.registry import Registry

PLUGIN_SOURCE = '''
    """A third-party tagkit plugin, written by a test."""

    import click

    from tagkit_core import hookimpl
    from tagkit_core.corpus import Corpus
    from tagkit_core.data import Sentence


    class THIRD_PARTY_CORPUS(Corpus):
        registry_name = "{dataset}"

        def __init__(self):
            super().__init__(train=[Sentence("installed by pip")], dev=[], test=[],
                             name="{dataset}")


    @hookimpl
    def register_datasets(register):
        register(THIRD_PARTY_CORPUS)


    @hookimpl
    def register_commands(cli):
        @cli.command(name="{command}")
        def hello():
            """Say hello from a third-party plugin."""
            click.echo("hello from {dist}")
'''


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check"],
                          capture_output=True, text=True)


def write_distribution(root: Path, dist: str, package: str, **names: str) -> Path:
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text('__version__ = "1.2.3"\n')
    (root / package / "plugin.py").write_text(
        textwrap.dedent(PLUGIN_SOURCE.format(dist=dist, **names)))
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "1.2.3"
        dependencies = ["tagkit-core"]

        [project.entry-points.tagkit]
        {package} = "{package}.plugin"

        [tool.setuptools]
        packages = ["{package}"]
    """))
    return root


def tagkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tagkit_core.cli", *args],
                          capture_output=True, text=True)


@pytest.fixture
def installed_plugin(tmp_path: Path):
    suffix = uuid.uuid4().hex[:8]
    names = {"dist": f"tagkit-thirdparty-{suffix}", "package": f"tagkit_thirdparty_{suffix}",
             "dataset": f"THIRD_PARTY_{suffix}", "command": f"hello-{suffix}"}
    source = write_distribution(tmp_path / "dist", names["dist"], names["package"],
                                dataset=names["dataset"], command=names["command"])
    installed = pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(source))
    try:
        assert installed.returncode == 0, installed.stdout + installed.stderr
        importlib.invalidate_caches()
        yield names
    finally:
        pip("uninstall", "--yes", names["dist"])
        for module in [m for m in sys.modules if m.startswith(names["package"])]:
            del sys.modules[module]
        importlib.invalidate_caches()


def test_installed_plugin_is_discovered_with_no_change_to_tagkit(installed_plugin):
    names = installed_plugin
    registry = Registry()  # real discovery through importlib.metadata

    component = registry.get("dataset", names["dataset"])
    assert (component.distribution, component.version) == (names["dist"], "1.2.3")
    assert component.plugin == names["package"]
    assert "installed by pip" in component.obj().train[0].to_tagged_string()
    (info,) = [p for p in registry.plugins if p.name == names["package"]]
    assert info.error is None
    assert info.hooks == ["register_commands", "register_datasets"]

    listed = tagkit("components", "dataset", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {"kind": "dataset", "name": names["dataset"], "distribution": names["dist"],
            "version": "1.2.3"}.items() <= next(
        item for item in json.loads(listed.stdout) if item["name"] == names["dataset"]).items()

    plugins = tagkit("plugins", "--json")
    assert plugins.returncode == 0, plugins.stderr
    assert any(p["name"] == names["package"] and p["distribution"] == names["dist"]
               for p in json.loads(plugins.stdout))

    assert names["command"] in tagkit("--help").stdout
    hello = tagkit(names["command"])
    assert (hello.returncode, hello.stdout) == (0, f"hello from {names['dist']}\n")


def test_uninstalled_plugin_is_gone(tmp_path: Path):
    """The counterpart: nothing of a removed plugin is cached between processes."""
    listed = tagkit("components", "dataset", "--json")
    assert listed.returncode == 0, listed.stderr
    assert not any(item["name"].startswith("THIRD_PARTY_") for item in json.loads(listed.stdout))
