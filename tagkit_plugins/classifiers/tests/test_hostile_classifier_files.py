"""Hostile classifier files: each mutation is a ModelFileError naming the file and the field,
and none opens a file the header names or allocates what the file does not hold.

The counterpart of tests/hostile/ for the TextClassifier. Each test builds a tiny classifier
(GloVe-style word vectors over a 3-word vocabulary, no vector file, under a document GRU) in its
``tmp_path``, saves it, and rewrites the file; header rewrites recompute the checksum, as an
attacker can, so what refuses them is the schema and the components' strict ``from_config``.
This test uses tagkit-embeddings (the document embedding a real classifier file holds).
"""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tagkit_classifiers import TextClassifier
from tagkit_core import set_seed
from tagkit_core.dictionary import Dictionary
from tagkit_core.persistence import ModelFileError
from tagkit_core.tensor_files import tensors_digest
from tagkit_embeddings import DocumentRNNEmbeddings, WordEmbeddings

KEY = "tagkit"
VOCAB = ["the", "dog", "runs"]


def tiny_classifier() -> TextClassifier:
    set_seed(0)  # the same weights at every call
    words = WordEmbeddings("glove", vocab=VOCAB, embedding_dim=4)
    with torch.no_grad():
        words.embedding.weight[1:] = torch.randn(len(VOCAB), 4)
    labels = Dictionary(add_unk=False)
    for label in ("ANIMAL", "ACTION"):
        labels.add_item(label)
    return TextClassifier(DocumentRNNEmbeddings([words], hidden_size=8), labels, "class",
                          loss_weights={"ACTION": 2.0})


def rewrite(path, header=None, tensors=None) -> None:
    """Mutate ``path``'s JSON header and/or tensors in place, with a correct checksum."""
    with safe_open(str(path), framework="pt") as handle:
        text = handle.metadata()[KEY]
    state = load_file(str(path))
    if header is not None:
        parsed = json.loads(text)
        header(parsed)
        text = json.dumps(parsed)
    if tensors is not None:
        tensors(state)
    save_file(state, str(path), metadata={KEY: text, KEY + "_sha256": tensors_digest(text, state)})


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "final-model.pt"
    tiny_classifier().save(path)
    return path


def config(header):
    return header["model"]["config"]


def document(header):
    return config(header)["document_embeddings"]["config"]


def words(header):
    return document(header)["embeddings"][0]["config"]


def update(part, **values):
    return lambda header: part(header).update(values)


HEADER_CASES = {
    "vocab null": (update(words, vocab=None),
                   r"document_embeddings\.config\.embeddings.*vocab.*list of strings"),
    "vocab null and a path": (update(words, vocab=None, name_or_path="/etc/passwd"), "vocab"),
    "hidden_size 10**9": (update(document, hidden_size=10**9),
                          r"document_embeddings\.config\.hidden_size: .*must be an integer"),
    "hidden_size lies": (update(document, hidden_size=4096), "disagree"),
    "label dictionary not an object": (update(config, label_dictionary=["ANIMAL"]),
                                       "label_dictionary"),
    "label items not strings": (update(config, label_dictionary={"add_unk": False,
                                                                 "items": [1, 2]}),
                                r"label_dictionary\.items.*list of strings"),
    "more labels than the decoder": (update(config, label_dictionary={
        "add_unk": False, "items": ["ANIMAL", "ACTION", "PLANT"]}), "disagree"),
    "label_type a number": (update(config, label_type=7), r"label_type.*null or a string"),
    "multi_label a string": (update(config, multi_label="yes"), "multi_label.*true or false"),
    "threshold 2": (update(config, multi_label_threshold=2), "multi_label_threshold"),
    "loss_weights a list": (update(config, loss_weights=[2.0]), "loss_weights.*JSON object"),
    "negative loss weight": (update(config, loss_weights={"ACTION": -1}),
                             r"loss_weights\.ACTION.*>= 0"),
    "loss weight for an unknown label": (update(config, loss_weights={"PLANT": 1.0}),
                                         "PLANT"),
    "unknown config field": (update(config, evil=1), "'evil' is unknown"),
    "token embeddings as the document embedding": (
        lambda h: config(h).update(document_embeddings=document(h)["embeddings"][0]),
        "DocumentEmbeddings component"),
    "a dictionary as the document embedding": (
        lambda h: config(h).update(document_embeddings=config(h)["label_dictionary"]),
        "document_embeddings"),
}


@pytest.mark.parametrize("mutate, message", HEADER_CASES.values(), ids=HEADER_CASES.keys())
def test_a_hostile_header_is_refused_naming_file_and_field(model_file, mutate, message):
    rewrite(model_file, header=mutate)
    with pytest.raises(ModelFileError, match=message) as caught:
        TextClassifier.load(model_file, device="cpu")
    assert str(model_file) in str(caught.value)


class RunsCode:
    """Unpickling this creates ``marker``: proof that a file ran code."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_header_naming_a_pickle_never_opens_it(model_file, tmp_path):
    marker = tmp_path / "pwned"
    vectors = tmp_path / "vectors.pkl"
    vectors.write_bytes(pickle.dumps(RunsCode(marker)))
    rewrite(model_file, header=update(words, vocab=None, name_or_path=str(vectors)))
    with pytest.raises(ModelFileError, match="vocab"):
        TextClassifier.load(model_file, device="cpu")
    assert not marker.exists()


TENSOR_CASES = {
    "lying decoder shape": (lambda s: s.__setitem__("decoder.weight", torch.zeros(3, 8)),
                            "disagree"),
    "missing decoder bias": (lambda s: s.pop("decoder.bias"), "missing tensor 'decoder.bias'"),
    "extra tensor": (lambda s: s.__setitem__("class_weights", torch.zeros(2)),
                     "unexpected tensor 'class_weights'"),
}


@pytest.mark.parametrize("mutate, message", TENSOR_CASES.values(), ids=TENSOR_CASES.keys())
def test_tensors_that_do_not_fit_the_header_are_refused(model_file, mutate, message):
    rewrite(model_file, tensors=mutate)
    with pytest.raises(ModelFileError, match=message) as caught:
        TextClassifier.load(model_file, device="cpu")
    assert str(model_file) in str(caught.value)


def test_a_good_file_round_trips(model_file):
    original, loaded = tiny_classifier(), TextClassifier.load(model_file, device="cpu")
    assert loaded.label_type == "class" and loaded.loss_weights == {"ACTION": 2.0}
    for key, value in original.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
