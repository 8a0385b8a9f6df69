"""The converter: Flair's pickled LM becomes a tagkit file; a pickle that would run code, or
names any other class, is refused before anything runs (a marker file proves it)."""

from __future__ import annotations

import os
import pickle
import sys
import types

import pytest
import torch
from click.testing import CliRunner
from flair_lm_helpers import tiny_lm

from tagkit_flair_embeddings import (
    FlairConversionError,
    FlairEmbeddings,
    convert_flair_language_model,
    load_language_model,
)
from tagkit_flair_embeddings.cli import main
from tagkit_flair_embeddings.plugin import register_commands


@pytest.fixture
def fake_flair(monkeypatch):
    """A stand-in ``flair.data.Dictionary`` importable under Flair's module path, so a test can
    pickle what Flair's LanguageModel.save pickles (flair itself is not installed)."""
    module = types.ModuleType("flair.data")

    class Dictionary:
        def __init__(self, items):
            self.item2idx = {item.encode("utf-8"): i for i, item in enumerate(items)}
            self.idx2item = [item.encode("utf-8") for item in items]
            self.multi_label = False

    Dictionary.__module__, Dictionary.__qualname__ = "flair.data", "Dictionary"
    module.Dictionary = Dictionary
    monkeypatch.setitem(sys.modules, "flair", types.ModuleType("flair"))
    monkeypatch.setitem(sys.modules, "flair.data", module)
    return Dictionary


def write_flair_lm(path, dictionary_cls, lm, legacy=False, protocol=4):
    state = {"state_dict": lm.state_dict(), "dictionary": dictionary_cls(lm.dictionary.idx2item),
             "is_forward_lm": lm.is_forward_lm, "hidden_size": lm.hidden_size,
             "nlayers": lm.nlayers, "embedding_size": lm.embedding_size, "nout": lm.nout,
             "document_delimiter": "\n", "dropout": lm.dropout}
    torch.save(state, path, pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("protocol", [2, 4])
def test_a_flair_lm_converts_exactly(tmp_path, fake_flair, legacy, protocol):
    """Both of torch's layouts (zip, legacy) and both pickle protocols Flair files use."""
    lm = tiny_lm(forward=False, nlayers=2)
    write_flair_lm(tmp_path / "flair-lm.pt", fake_flair, lm, legacy=legacy, protocol=protocol)
    convert_flair_language_model(tmp_path / "flair-lm.pt", tmp_path / "lm.safetensors")
    loaded = load_language_model(tmp_path / "lm.safetensors")
    assert loaded.get_config() == lm.get_config()
    for key, tensor in lm.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[key]), key
    assert FlairEmbeddings(str(tmp_path / "lm.safetensors")).embedding_length == 16


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("how", ["torch.save", "pickle", "in the dictionary"])
def test_a_pickle_that_would_run_code_is_refused(tmp_path, fake_flair, how):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    if how == "torch.save":
        torch.save({"state_dict": {}, "payload": RunsCode(marker)}, path)
    elif how == "pickle":
        path.write_bytes(pickle.dumps(RunsCode(marker)))
    else:
        dictionary = fake_flair(["a"])
        dictionary.idx2item = RunsCode(marker)
        torch.save({"state_dict": {}, "dictionary": dictionary}, path)
    with pytest.raises(FlairConversionError, match="refused"):
        convert_flair_language_model(path, tmp_path / "out.safetensors")
    assert not marker.exists()
    assert not (tmp_path / "out.safetensors").exists()


def test_other_classes_are_refused_by_name(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {}, "module": torch.nn.Linear(2, 2)}, path)
    with pytest.raises(FlairConversionError, match="torch.nn.modules.linear.Linear"):
        convert_flair_language_model(path, tmp_path / "out.safetensors")


def test_wrong_contents_are_named(tmp_path, fake_flair):
    lm = tiny_lm()
    path = tmp_path / "lm.pt"
    write_flair_lm(path, fake_flair, lm)
    state = torch.load(path, weights_only=False)
    state["hidden_size"] = 32
    torch.save(state, path)
    with pytest.raises(FlairConversionError, match="do not fit"):
        convert_flair_language_model(path, tmp_path / "out.safetensors")
    torch.save([1, 2], path)
    with pytest.raises(FlairConversionError, match="state_dict"):
        convert_flair_language_model(path, tmp_path / "out.safetensors")


def test_the_command_line(tmp_path, fake_flair):
    write_flair_lm(tmp_path / "flair.pt", fake_flair, tiny_lm())
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "flair.pt"),
                                       str(tmp_path / "out.safetensors")])
    assert result.exit_code == 0, result.output
    assert "forward language model" in result.output
    assert load_language_model(tmp_path / "out.safetensors").hidden_size == 16
    (tmp_path / "evil.pt").write_bytes(pickle.dumps(RunsCode(tmp_path / "marker")))
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "evil.pt"),
                                       str(tmp_path / "evil.safetensors")])
    assert result.exit_code == 1 and "refused" in result.output
    assert not (tmp_path / "marker").exists()


def test_register_commands_adds_tagkit_convert_lm():
    import click

    group = click.Group()
    register_commands(group)
    assert "convert-lm" in group.commands


def test_a_compressed_storage_claiming_a_huge_size_is_refused(tmp_path, fake_flair):
    import zipfile

    write_flair_lm(tmp_path / "lm.pt", fake_flair, tiny_lm())
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(tmp_path / "lm.pt") as source, \
            zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    with pytest.raises(FlairConversionError, match="compressed"):
        convert_flair_language_model(bomb, tmp_path / "out.safetensors")
