"""Hostile model files: every mutation is a ModelFileError naming the file, and none runs code,
opens a file the header names, downloads, or allocates what the file does not hold."""

from __future__ import annotations

import json
import os
import random

import pytest
import torch
from hostile_files import (
    VOCAB,
    flip_byte,
    header_end,
    rewrite,
    tiny_tagger,
    write_pickle,
)

from tagkit_core import model_schema
from tagkit_core.model import Model
from tagkit_core.persistence import ModelFileError, read_header
from tagkit_core.registry import ComponentNotFound
from tagkit_crf_tagger import SequenceTagger

KEY = "tagkit"


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "final-model.pt"
    tiny_tagger().save(path)
    return path


def words(header):
    return header["model"]["config"]["embeddings"]["config"]


def set_words(**values):
    return lambda header: words(header).update(values)


def nested_stacks(depth: int) -> str:
    """A header whose embeddings are ``depth`` stacks deep (written as text: json.dumps of such
    an object would itself overflow the stack)."""
    word = json.dumps({"tagkit_component": "embedding", "type": "word", "distribution": None,
                       "version": None, "config": {"name_or_path": "x", "vocab": ["a"],
                                                   "embedding_dim": 4}})
    opening = ('{"tagkit_component": "embedding", "type": "stacked", "distribution": null, '
               '"version": null, "config": {"embeddings": [')
    embeddings = opening * depth + word + "]}}" * depth
    return ('{"format": "tagkit-model", "format_version": 2, "model": {"tagkit_component": '
            '"model", "type": "sequence_tagger", "distribution": null, "version": null, '
            '"config": {"hidden_size": 8, "tag_type": "pos", "tag_dictionary": {"add_unk": '
            'false, "items": ["A"]}, "embeddings": ' + embeddings + "}}}")


def replace_tensor(name, tensor):
    return lambda state: state.__setitem__(name, tensor)


HEADER_CASES = {
    # issue 1: a header that names a file to read, or a name that would download
    "vocab null": (set_words(vocab=None),
                   r"model\.config\.embeddings\.config\.vocab: .*must be a list of strings"),
    "name_or_path ../ path": (set_words(vocab=None, name_or_path="../../etc/passwd"), "vocab"),
    "name_or_path that downloads": (set_words(vocab=None, name_or_path="de"), "vocab"),
    "embedding_dim missing": (lambda h: words(h).pop("embedding_dim"), "embedding_dim"),
    "vocab of numbers": (set_words(vocab=[1, 2, 3]), "list of strings"),
    # issue 2: malformed headers
    "no model": (lambda h: h.pop("model"), r"missing \['model'\]"),
    "format_version string": (lambda h: h.update(format_version="2"),
                              "format_version must be an integer"),
    "format_version 99": (lambda h: h.update(format_version=99), "upgrade tagkit-core"),
    "format_version 1": (lambda h: h.update(format_version=1), "older tagkit"),
    "other format": (lambda h: h.update(format="pytorch"), "not 'tagkit-model'"),
    "hidden_size 10**9": (lambda h: h["model"]["config"].update(hidden_size=10**9),
                          r"model\.config\.hidden_size: .*must be an integer"),
    "hidden_size lies": (lambda h: h["model"]["config"].update(hidden_size=4096), "disagree"),
    "embedding_dim lies": (set_words(embedding_dim=60000), "disagree"),
    "vocab longer than the table": (set_words(vocab=VOCAB + ["cat"]), "disagree"),
    "tag dictionary not an object": (lambda h: h["model"]["config"].update(tag_dictionary=[]),
                                     "tag_dictionary"),
    "unknown config field": (lambda h: h["model"]["config"].update(evil=1), "'evil' is unknown"),
    "unknown spec key": (lambda h: h["model"].update(module="os"), "unknown"),
    "config not an object": (lambda h: h["model"].update(config="x"), r"model\.config must"),
    "kind dataset": (lambda h: h["model"]["config"]["embeddings"].update(
        tagkit_component="dataset"), r"embeddings\.tagkit_component must be one of"),
    "type with odd characters": (lambda h: h["model"].update(type="os.system('x')"),
                                 "registry name"),
    "unknown component type": (lambda h: h["model"].update(type="no_such_tagger"),
                               "no model named 'no_such_tagger'"),
    "embeddings of the wrong class": (
        lambda h: h["model"]["config"].update(embeddings=h["model"]["config"]["tag_dictionary"]),
        "TokenEmbeddings component"),
    "version not a string": (lambda h: h["model"].update(version=["1"]), r"model\.version"),
    "tag_format not a scheme": (lambda h: h["model"]["config"].update(tag_format="IOB9"),
                                r"model\.config\.tag_format: .*BIOES"),
    "tag_format on POS tags": (lambda h: h["model"]["config"].update(tag_format="BIOES"),
                               "is for span tags"),
    "stack of nothing": (lambda h: h["model"]["config"].update(embeddings={
        "tagkit_component": "embedding", "type": "stacked", "distribution": None,
        "version": None, "config": {"embeddings": []}}), "at least 1"),
}


@pytest.mark.parametrize("mutate, message", HEADER_CASES.values(), ids=HEADER_CASES.keys())
def test_a_hostile_header_is_refused_naming_file_and_field(model_file, mutate, message):
    rewrite(model_file, KEY, header=mutate)
    with pytest.raises(ModelFileError, match=message) as caught:
        SequenceTagger.load(model_file)
    assert str(model_file) in str(caught.value)


@pytest.mark.parametrize("name_or_path", ["pickle", "../pwned.pkl"])
def test_a_header_naming_a_pickle_never_opens_it(model_file, tmp_path, name_or_path):
    marker = tmp_path / "pwned"
    pickle_path = write_pickle(tmp_path / "vectors.pkl", marker)
    target = str(pickle_path) if name_or_path == "pickle" else name_or_path
    rewrite(model_file, KEY, header=set_words(vocab=None, name_or_path=target))
    with pytest.raises(ModelFileError, match="vocab") as caught:
        SequenceTagger.load(model_file)
    assert str(model_file) in str(caught.value)
    assert not marker.exists()
    # With a vocabulary present the name is only a name: the model loads, the pickle stays shut.
    rewrite(model_file, KEY, header=set_words(vocab=VOCAB, name_or_path=str(pickle_path)))
    assert SequenceTagger.load(model_file).embeddings.name == str(pickle_path)
    assert not marker.exists()


@pytest.mark.parametrize("text, message", [
    ("not json {", "not valid JSON"), (nested_stacks(5000), "nested"),
    (nested_stacks(40), "nested more than 64 levels"), ('"a string"', "must be a JSON object"),
    ('[{"format": "tagkit-model"}]', "must be a JSON object")],
    ids=["not JSON", "depth 5000", "depth 120", "JSON string", "JSON list"])
def test_unparseable_or_deep_headers_are_refused(model_file, text, message):
    rewrite(model_file, KEY, text=text)
    with pytest.raises(ModelFileError, match=message) as caught:
        SequenceTagger.load(model_file)
    assert str(model_file) in str(caught.value)


def test_a_huge_header_is_refused_before_parsing(model_file, monkeypatch):
    rewrite(model_file, KEY, header=set_words(name_or_path="x" * 900))
    monkeypatch.setattr(model_schema, "MAX_HEADER_BYTES", 800)
    with pytest.raises(ModelFileError, match="more than the 800"):
        SequenceTagger.load(model_file)


def test_a_header_length_past_every_limit_is_refused_unread(model_file):
    data = bytearray(model_file.read_bytes())
    data[:8] = (2 ** 40).to_bytes(8, "little")
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="refused unread"):
        SequenceTagger.load(model_file)


TENSOR_CASES = {
    "lying shape": (replace_tensor("linear.weight", torch.zeros(3, 5)), "disagree"),
    "lying dtype": (replace_tensor("linear.bias", torch.zeros(3, dtype=torch.float64)),
                    "disagree"),
    "missing tensor": (lambda state: state.pop("crf.transitions"),
                       "missing tensor 'crf.transitions'"),
    "extra tensor": (replace_tensor("evil", torch.zeros(1)), "unexpected tensor 'evil'"),
}


@pytest.mark.parametrize("mutate, message", TENSOR_CASES.values(), ids=TENSOR_CASES.keys())
def test_tensors_that_do_not_fit_the_header_are_refused(model_file, mutate, message):
    rewrite(model_file, KEY, tensors=mutate)
    with pytest.raises(ModelFileError, match=message) as caught:
        SequenceTagger.load(model_file)
    assert str(model_file) in str(caught.value)


def test_a_flipped_byte_in_the_data_fails_the_checksum(model_file):
    flip_byte(model_file, os.path.getsize(model_file) - 3)
    with pytest.raises(ModelFileError, match="checksum mismatch: the file is damaged"):
        SequenceTagger.load(model_file)
    assert isinstance(SequenceTagger.load(model_file, verify=False), SequenceTagger)  # opt-out


def test_a_changed_header_without_a_new_checksum_fails_it(model_file):
    data = model_file.read_bytes()
    changed = data.replace(b'\\"dog\\"', b'\\"dof\\"', 1)  # the JSON is a string in JSON
    assert changed != data
    model_file.write_bytes(changed)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        SequenceTagger.load(model_file)


@pytest.mark.parametrize("where", ["4", "8", "20", "header-5", "header", "half", "end-1"])
def test_a_truncated_file_is_called_a_damaged_safetensors_file(model_file, where):
    data = model_file.read_bytes()
    end = header_end(model_file)
    cut = {"header-5": end - 5, "header": end, "half": (end + len(data)) // 2,
           "end-1": len(data) - 1}.get(where) or int(where)
    model_file.write_bytes(data[:cut])
    with pytest.raises(ModelFileError, match="damaged safetensors file|not a safetensors") as e:
        SequenceTagger.load(model_file)
    assert str(model_file) in str(e.value) and "pickle" not in str(e.value).split(".")[0]


@pytest.mark.parametrize("content, message", [
    # Fixed "random" bytes: truly random ones have a '{' at offset 8 once in 256 runs, which
    # reads as the start of a safetensors header (a case tested on its own above).
    (random.Random(3).randbytes(4096), "not a tagkit model file"),
    (b"", "not a tagkit model file"),
    (b"PK\x03\x04" + bytes(100), "torch.save")], ids=["random", "empty", "zip"])
def test_files_of_other_kinds_are_refused(tmp_path, content, message):
    path = tmp_path / "m.pt"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        SequenceTagger.load(path)


def test_a_torch_save_file_with_code_is_refused(tmp_path):
    from hostile_files import RunsCode

    marker, path = tmp_path / "pwned", tmp_path / "m.pt"
    torch.save({"state": RunsCode(marker)}, path)
    with pytest.raises(ModelFileError, match="torch.save"):
        SequenceTagger.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("distribution, hint", [
    ("tagkit-foo; rm -rf /", None), ("tagkit-foo", "pip install tagkit-foo")])
def test_only_valid_distribution_names_reach_the_install_hint(model_file, distribution, hint):
    rewrite(model_file, KEY,
            header=lambda h: h["model"].update(type="no_such_tagger", distribution=distribution))
    with pytest.raises(ComponentNotFound) as caught:
        SequenceTagger.load(model_file)
    assert isinstance(caught.value, ModelFileError) and str(model_file) in str(caught.value)
    if hint is None:
        assert "pip install" not in str(caught.value) and "rm -rf" not in str(caught.value)
    else:
        assert hint in str(caught.value)


def test_a_named_pretrained_model_is_explained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no named pretrained models"):
        SequenceTagger.load("pos")


def test_a_good_file_round_trips_onto_the_default_device(model_file):
    original = tiny_tagger()
    loaded = Model.load(model_file)
    assert isinstance(loaded, SequenceTagger) and not loaded.training
    assert loaded.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    loaded = SequenceTagger.load(model_file, map_location="cpu")
    for key, value in original.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert read_header(model_file)["model"]["config"]["embeddings"]["tagkit_component"] == \
        "embedding"
