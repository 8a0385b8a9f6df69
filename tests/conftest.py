"""Fixtures for the core tests: throwaway plugins and a fresh registry per test.

``make_plugin`` writes a plugin module into ``tmp_path`` (put on ``sys.path``) and a matching
``*.dist-info`` folder elsewhere, and returns the *real* ``importlib.metadata.EntryPoint`` read
from that metadata, so ``ep.dist.name`` / ``ep.dist.version`` and ``ep.load()`` behave exactly as
they do for an installed distribution. The metadata folder is kept off ``sys.path`` so the fake
plugins never leak into the process-wide registry. Tests pass the entry points to their own
``Registry(entry_points=[...])``, the pattern of pluggy's own tests (a fresh manager per test).
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tagkit_core.registry import Registry, reset_registry

MakePlugin = Callable[..., importlib.metadata.EntryPoint]


@pytest.fixture(autouse=True)
def _clean_plugin_environment(monkeypatch: pytest.MonkeyPatch):
    """No test sees the user's plugin selection, and none leaves a process-wide registry."""
    monkeypatch.delenv("TAGKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("TAGKIT_TRACE_PLUGINS", raising=False)
    yield
    reset_registry(None)


@pytest.fixture
def make_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakePlugin:
    """Build a plugin: ``make_plugin("mod", source, dist="d", version="1.0", ep_name=None)``."""
    src = tmp_path / "src"
    src.mkdir()
    monkeypatch.syspath_prepend(str(src))
    created: list[str] = []

    def make(module: str, source: str, *, dist: str = "tagkit-fake", version: str = "1.0",
             ep_name: str | None = None) -> importlib.metadata.EntryPoint:
        (src / f"{module}.py").write_text(textwrap.dedent(source))
        created.append(module)
        meta = tmp_path / "meta" / module / f"{dist.replace('-', '_')}-{version}.dist-info"
        meta.mkdir(parents=True)
        (meta / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (meta / "entry_points.txt").write_text(f"[tagkit]\n{ep_name or module} = {module}\n")
        (entry_point,) = importlib.metadata.PathDistribution(meta).entry_points
        return entry_point

    yield make
    for module in created:
        sys.modules.pop(module, None)


@pytest.fixture
def fresh_registry() -> Callable[..., Registry]:
    """``fresh_registry(*entry_points, builtins=False)``: a new, unloaded Registry."""

    def build(*entry_points: importlib.metadata.EntryPoint, builtins: bool = False) -> Registry:
        if builtins:
            return Registry(entry_points=list(entry_points))
        return Registry(entry_points=list(entry_points), default_plugins=())

    return build


@pytest.fixture
def dataset_plugin() -> Callable[[str], str]:
    """``dataset_plugin(name)``: source of a plugin registering one dataset called ``name``."""
    return lambda name: DATASET_PLUGIN.format(name=name)


DATASET_PLUGIN = """
    from tagkit_core import hookimpl
    from tagkit_core.corpus import Corpus


    class ToyCorpus(Corpus):
        registry_name = "{name}"


    @hookimpl
    def register_datasets(register):
        register(ToyCorpus)
"""


# -- tagkit train / resume ---------------------------------------------------------------------
SENTENCES = [
    [("the", "DET"), ("dog", "NOUN"), ("runs", "VERB")],
    [("a", "DET"), ("cat", "NOUN"), ("sleeps", "VERB")],
    [("the", "DET"), ("cat", "NOUN"), ("runs", "VERB"), (".", "PUNCT")],
    [("a", "DET"), ("dog", "NOUN"), ("sleeps", "VERB"), (".", "PUNCT")],
]

TINY_CONFIG = """
[corpus]
type = "column"
data_folder = "{folder}"
column_format = {{0 = "text", 1 = "pos"}}
train_file = "train.txt"
dev_file = "dev.txt"
test_file = "test.txt"

[[embeddings]]
type = "character"
char_embedding_dim = 4
hidden_size_char = 4

[model]
type = "sequence_tagger"
tag_type = "pos"
hidden_size = 8

[trainer]
base_path = "{out}"
max_epochs = 2
mini_batch_size = 2
"""


@pytest.fixture
def cli_runner(monkeypatch, tmp_path) -> CliRunner:
    """A CliRunner with the datasets mirror and a private cache."""
    mirror = os.environ.get("TAGKIT_DATASETS_MIRROR") or \
        str(Path(__file__).resolve().parents[2] / "shared" / "datasets")
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", mirror)
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TAGKIT_DEBUG", raising=False)
    return CliRunner()


@pytest.fixture
def tiny_config(tmp_path) -> Path:
    """A ``tagkit train`` config training a tagger on a four-sentence column corpus."""
    data = tmp_path / "data"
    data.mkdir()
    text = "\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in SENTENCES) + "\n"
    for split in ("train", "dev", "test"):
        (data / f"{split}.txt").write_text(text)
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG.format(folder=data.as_posix(), out=(tmp_path / "out").as_posix()))
    return path


@pytest.fixture(scope="session")
def tagger_path(tmp_path_factory) -> Path:
    """A toy tagger's model file (tests/cli_toy_models.py), trained once per test session for
    the predict and evaluate command tests, which only read it."""
    sys.path.insert(0, str(Path(__file__).parent))
    from cli_toy_models import train_tagger

    return train_tagger(tmp_path_factory.mktemp("tagger") / "tagger.pt")


@pytest.fixture(scope="session")
def classifier_path(tmp_path_factory) -> Path:
    """A toy text classifier's model file, trained once per test session (as tagger_path)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from cli_toy_models import train_classifier

    return train_classifier(tmp_path_factory.mktemp("classifier") / "classifier.pt")
