"""docs/plugins.md runs as written: every Python block, as the plugin module it shows.

Each block is written to a module of a throwaway ``tagkit_toy`` package with a real
``*.dist-info`` (distribution ``tagkit-toy`` 0.1.0, as the page's ``pyproject.toml``), loaded
into a fresh registry beside the installed plugins, and then used the way the page says a user
would: the dataset is loaded, the embedding embeds, the storage mode converts, the plotter
draws, the logger and the lifecycle hooks see a real (tiny) training run, the command runs.
So a page that drifts from the API fails here, not in a plugin author's hands.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from markdown_blocks import code_blocks_by_heading  # noqa: E402

from tagkit_core.cli import main  # noqa: E402
from tagkit_core.data import Sentence  # noqa: E402
from tagkit_core.registry import Registry, reset_registry  # noqa: E402

PAGE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def page_blocks(language: str) -> dict[str, list[str]]:
    """The page's ``language`` blocks, by the title of the section they are in."""
    return code_blocks_by_heading(PAGE.read_text(encoding="utf-8"), language)


PYTHON = page_blocks("python")

# What the page's hook examples import from the author's own package (the page leaves those
# modules to the reader); the test supplies them.
TOY_MODULES = {
    "datasets": """
        from tagkit_core.corpus import Corpus
        from tagkit_core.data import Sentence
        from tagkit_toy.plugin import TOY_CORPUS


        class TOY_NER(Corpus):
            registry_name = "TOY_NER"

            def __init__(self):
                super().__init__(train=[Sentence("Berlin is big")], dev=[], test=[])
        """,
    "models": """
        from tagkit_core.model import Model


        class MajorityTagger(Model):
            registry_name = "majority"
        """,
}


@pytest.fixture
def toy_package(tmp_path, monkeypatch):
    """``install(name, source)``: ``tagkit_toy.NAME`` holds ``source``; returns its entry point."""
    src = tmp_path / "src"
    package = src / "tagkit_toy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, source in TOY_MODULES.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(src))

    def install(name: str, source: str) -> importlib.metadata.EntryPoint:
        (package / f"{name}.py").write_text(source)
        meta = tmp_path / "meta" / name / "tagkit_toy-0.1.0.dist-info"
        meta.mkdir(parents=True)
        (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: tagkit-toy\n"
                                       "Version: 0.1.0\n")
        (meta / "entry_points.txt").write_text(f"[tagkit]\ntoy = tagkit_toy.{name}\n")
        (entry_point,) = importlib.metadata.PathDistribution(meta).entry_points
        return entry_point

    yield install
    for module in [m for m in sys.modules if m == "tagkit_toy" or m.startswith("tagkit_toy.")]:
        del sys.modules[module]


def registry_with(*entry_points, installed: bool = False) -> Registry:
    """A fresh registry of ``entry_points`` (and the installed plugins), made process-wide."""
    extra = list(importlib.metadata.entry_points(group="tagkit")) if installed else []
    registry = Registry(entry_points=[*extra, *entry_points])
    reset_registry(registry)
    for plugin in registry.load().plugins:
        assert not plugin.error, plugin
    return registry


def only_block(title: str) -> str:
    (block,) = PYTHON[title]
    return block


def test_every_python_block_is_exercised_here():
    exercised = {"A complete plugin in two files", "register_datasets(register)",
                 "register_embeddings(register)", "register_models(register)",
                 "register_storage_modes(register)", "register_plotters(register)",
                 "register_loggers(register)", "register_commands(cli)"}
    lifecycle = {t for t in PYTHON if t.startswith("on_")}
    assert set(PYTHON) == exercised | lifecycle
    assert len(lifecycle) == 6


def test_the_complete_plugin_and_its_console_output(toy_package, cli_runner):
    registry = registry_with(toy_package("plugin", only_block("A complete plugin in two files")))
    corpus = registry.resolve("dataset", "TOY_CORPUS")()
    assert [s.to_plain_string() for s in corpus.train] == ["a tiny corpus",
                                                          "with two sentences"]

    (console,) = page_blocks("console")["A complete plugin in two files"]
    expected = [line for line in console.splitlines() if not line.startswith("$")]
    shown = cli_runner.invoke(main, ["plugins"]).output + \
        cli_runner.invoke(main, ["components", "dataset"]).output
    normalised = [" ".join(line.split()) for line in shown.splitlines()]
    for line in expected:
        assert " ".join(line.split()) in normalised, shown


def test_register_datasets_block(toy_package):
    toy_package("plugin", only_block("A complete plugin in two files"))
    registry = registry_with(toy_package("hooks", only_block("register_datasets(register)")))
    assert registry.resolve("dataset", "TOY_CORPUS")().name == "toy"
    assert registry.resolve("dataset", "toy_ner")().train[0].to_plain_string() == "Berlin is big"


def test_register_embeddings_block(toy_package):
    registry = registry_with(toy_package("hooks", only_block("register_embeddings(register)")))
    embedding_class = registry.resolve("embedding", "one_hot_length")
    embedding = embedding_class(max_len=4)
    sentences = [Sentence("a bb"), Sentence("cccccc d e")]
    vectors = embedding(sentences)
    assert vectors.shape == (2, 3, 4)
    assert vectors[0, :2].argmax(-1).tolist() == [0, 1]
    assert vectors[1].argmax(-1).tolist() == [3, 0, 0]  # 6 letters: capped at max_len
    assert vectors[0, 2].abs().sum() == 0  # padding
    rebuilt = embedding_class.from_config(embedding.get_config())
    assert torch.equal(rebuilt(sentences), vectors)


def test_register_models_block(toy_package):
    registry = registry_with(toy_package("hooks", only_block("register_models(register)")))
    assert registry.resolve("model", "majority").__name__ == "MajorityTagger"


def test_register_storage_modes_block(toy_package):
    registry = registry_with(toy_package("hooks", only_block("register_storage_modes(register)")))
    mode = registry.resolve("storage_mode", "cpu_fp16")()
    sentence = Sentence("two words")
    sentence.embeddings["glove"] = torch.randn(2, 3)
    kept = sentence.embeddings["glove"].clone()
    mode.after_batch([sentence])
    assert sentence.embeddings["glove"].dtype == torch.float16
    assert torch.allclose(sentence.embeddings["glove"].float(), kept, atol=1e-2)


def test_register_plotters_block(toy_package, tmp_path):
    registry = registry_with(toy_package("hooks", only_block("register_plotters(register)")))
    run = tmp_path / "run"
    run.mkdir()
    (run / "loss.tsv").write_text(
        "EPOCH\tTIMESTAMP\tSECONDS\tLEARNING_RATE\tTRAIN_LOSS\tDEV_LOSS\tDEV_SCORE\n"
        "1\t10:00:00\t1.00\t0.100000\t2.000000\t1.900000\t0.5000\n"
        "2\t10:00:01\t1.00\t0.100000\t1.000000\t1.100000\t0.6000\n")
    written = registry.resolve("plotter", "loss_curve")().plot(run)
    assert written == [run / "loss.png"]
    assert (run / "loss.png").read_bytes().startswith(b"\x89PNG")


def test_register_loggers_block_sees_a_training_run(toy_package, cli_runner, tiny_config):
    registry_with(toy_package("hooks", only_block("register_loggers(register)")),
                  installed=True)
    result = cli_runner.invoke(main, ["train", str(tiny_config), "--logger", "print"])
    assert result.exit_code == 0, result.output
    printed = re.findall(r"^epoch (\d): train loss \d+\.\d{4}$", result.output, re.M)
    assert printed == ["1", "2"], result.output


def test_register_commands_block(toy_package, cli_runner):
    source = only_block("A complete plugin in two files") + "\n\n" + \
        only_block("register_commands(cli)")
    registry_with(toy_package("plugin", source))
    result = cli_runner.invoke(main, ["toy-stats", "TOY_CORPUS"])
    assert result.exit_code == 0, result.output
    statistics = json.loads(result.output)
    assert statistics["TRAIN"]["number_of_sentences"] == 2
    assert statistics["TRAIN"]["number_of_tokens"]["total"] == 6


def test_lifecycle_hook_blocks_see_a_training_run(toy_package, cli_runner, tiny_config, tmp_path):
    notified = []
    source = "\n\n".join(block for title, blocks in PYTHON.items() if title.startswith("on_")
                         for block in blocks)
    registry_with(toy_package("hooks", source), installed=True)
    sys.modules["tagkit_toy.hooks"].notify_me = notified.append  # the page's own function
    result = cli_runner.invoke(main, ["train", str(tiny_config)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert (out / "run.json").read_text() == '{"model": "SequenceTagger"}'
    assert re.search(r"^epoch 1: lr=0\.1$", result.output, re.M), result.output
    assert re.search(rf"^done; results in {re.escape(str(out))}: test score [\d.]+$",
                     result.output, re.M), result.output
    assert notified == []  # not interrupted
