"""Model files are safe: a pickle that would run code is refused, and a missing plugin is named."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from tagkit_core.persistence import ModelFileError, read_header
from tagkit_core.registry import ComponentNotFound, Registry, reset_registry
from tagkit_crf_tagger import SequenceTagger


class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "final-model.pt"
    path.write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(ModelFileError, match="never unpickles"):
        SequenceTagger.load(path)
    assert not marker.exists()


def test_a_torch_save_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "final-model.pt"
    torch.save({"state": _RunsCode(marker)}, path)
    with pytest.raises(ModelFileError, match="not a tagkit model file"):
        SequenceTagger.load(path)
    assert not marker.exists()


def test_header_is_plain_json_naming_components(toy_corpus, toy_embeddings, tmp_path):
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    tagger.save(tmp_path / "m.pt")
    header = read_header(tmp_path / "m.pt")
    json.dumps(header)
    assert header["model"]["type"] == "sequence_tagger"
    assert header["model"]["distribution"] == "tagkit-crf-tagger"
    assert header["model"]["config"]["embeddings"]["type"] == "test_toy_words"
    assert header["model"]["config"]["tag_dictionary"]["items"][:2] == ["DET", "NOUN"]


def test_loading_without_the_plugin_names_the_distribution(toy_corpus, toy_embeddings, tmp_path,
                                                           monkeypatch):
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    tagger.save(tmp_path / "m.pt")
    monkeypatch.setenv("TAGKIT_LOAD_PLUGINS", "")  # a registry that sees no plugin at all
    reset_registry(Registry())
    try:
        from tagkit_core import load_model

        with pytest.raises(ComponentNotFound, match="pip install tagkit-crf-tagger"):
            load_model(tmp_path / "m.pt")
    finally:
        reset_registry(None)
