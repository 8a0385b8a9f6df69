"""Layers (concatenated or averaged), document pooling, and what fine_tune changes."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_transformers import TransformerDocumentEmbeddings, TransformerWordEmbeddings

WORDS = ["anna", "visits", "unbelievable", "berlin", "!"]
FIRST_PIECES = [0, 1, 2, 5, 6]  # unbelievable is 3 pieces


def sentences(*word_lists):
    return [Sentence(list(words)) for words in word_lists]


@pytest.mark.parametrize(("layers", "layer_mean", "pooling", "length"), [
    ("-1", False, "first", 32), ("-1,-2", False, "first", 64), ("all", False, "mean", 96),
    ("all", True, "first", 32), ("-1,-2", False, "first_last", 128), ("0", False, "last", 32),
])
def test_embedding_length_and_shapes(bert_dir, layers, layer_mean, pooling, length):
    embedding = TransformerWordEmbeddings(str(bert_dir), layers=layers, layer_mean=layer_mean,
                                          subtoken_pooling=pooling)
    assert embedding.embedding_length == length
    with torch.no_grad():
        out = embedding(sentences(WORDS, WORDS[:2]))
    assert out.shape == (2, 5, length)


def test_layers_are_the_named_hidden_states(bert_dir, reference, pieces_of):
    states = reference(pieces_of(WORDS), all_layers=True)  # embeddings, layer 1, layer 2
    pieces = [s[1:-1][FIRST_PIECES] for s in states]
    with torch.no_grad():
        two = TransformerWordEmbeddings(str(bert_dir), layers="-1,-2")(sentences(WORDS))[0]
        every = TransformerWordEmbeddings(str(bert_dir), layers="all")(sentences(WORDS))[0]
        mean = TransformerWordEmbeddings(str(bert_dir), layers="all",
                                         layer_mean=True)(sentences(WORDS))[0]
    assert torch.allclose(two, torch.cat([pieces[2], pieces[1]], dim=-1), atol=1e-5)
    assert torch.allclose(every, torch.cat(pieces, dim=-1), atol=1e-5)
    assert torch.allclose(mean, torch.stack(pieces).mean(0), atol=1e-5)


@pytest.mark.parametrize(("layers", "pooling"), [("-4", "first"), ("3", "first"),
                                                 ("last", "first"), ("-1", "median")])
def test_bad_layers_or_pooling_are_refused(bert_dir, layers, pooling):
    with pytest.raises(ValueError, match=layers if pooling == "first" else "median"):
        TransformerWordEmbeddings(str(bert_dir), layers=layers, subtoken_pooling=pooling)


def test_document_pooling(bert_dir, reference, pieces_of):
    hidden = reference(pieces_of(WORDS))
    pieces = hidden[1:-1]
    got = {}
    for how in ("cls", "mean", "max"):
        embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False,
                                                  cls_pooling=how)
        assert embedding.embedding_length == 32
        with torch.no_grad():
            got[how] = embedding(sentences(WORDS, ["we", "love", "berlin"]))
        assert got[how].shape == (2, 32)
    assert torch.allclose(got["cls"][0], hidden[0], atol=1e-5)
    assert torch.allclose(got["mean"][0], pieces.mean(0), atol=1e-5)
    assert torch.allclose(got["max"][0], pieces.max(0).values, atol=1e-5)
    short = reference(pieces_of(["we", "love", "berlin"]))
    assert torch.allclose(got["mean"][1], short[1:-1].mean(0), atol=1e-5)  # no padding inside
    with pytest.raises(ValueError, match="cls_pooling"):
        TransformerDocumentEmbeddings(str(bert_dir), cls_pooling="first")


def test_long_documents_use_the_first_window_cls(bert_dir, reference, pieces_of, filler):
    words = filler(40, seed=6)
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False)
    with torch.no_grad():
        got = embedding(sentences(words))
    assert torch.allclose(got[0], reference(pieces_of(words)[:14])[0], atol=1e-5)


def test_names_differ_when_the_vectors_do(bert_dir):
    path = str(bert_dir)
    names = {TransformerWordEmbeddings(path).name,
             TransformerWordEmbeddings(path, layers="-1,-2").name,
             TransformerWordEmbeddings(path, subtoken_pooling="mean").name,
             TransformerDocumentEmbeddings(path).name,
             TransformerDocumentEmbeddings(path, cls_pooling="mean").name}
    assert len(names) == 5 and path in names  # Flair's defaults: the model name alone
    # Stored on the same sentences, the word and document vectors do not overwrite each other.
    batch = sentences(WORDS)
    word = TransformerWordEmbeddings(path)
    document = TransformerDocumentEmbeddings(path, fine_tune=False, cls_pooling="mean")
    word.embed(batch)
    document.embed(batch)
    assert batch[0].embeddings[word.name].shape == (5, 32)
    assert batch[0].embeddings[document.name].shape == (32,)


def test_frozen_is_static_stays_in_eval_and_stores(bert_dir):
    embedding = TransformerWordEmbeddings(str(bert_dir))
    assert embedding.is_static
    assert not any(p.requires_grad for p in embedding.parameters())
    embedding.train()
    assert not embedding.model.training  # no dropout: stored vectors stay valid
    batch = sentences(WORDS)
    out = embedding(batch)
    assert not out.requires_grad
    assert torch.equal(batch[0][2].embedding, out[0, 2])


@pytest.mark.parametrize("cls", [TransformerWordEmbeddings, TransformerDocumentEmbeddings])
def test_fine_tuned_gradients_reach_the_transformer(bert_dir, cls):
    embedding = cls(str(bert_dir), fine_tune=True)
    assert not embedding.is_static
    embedding.train()
    assert embedding.model.training
    embedding.eval()
    assert not embedding.model.training
    embedding.train()
    batch = sentences(WORDS, ["we", "love", "berlin"])
    embedding(batch).pow(2).sum().backward()
    word_table = embedding.model.embeddings.word_embeddings.weight
    assert word_table.grad is not None and word_table.grad.abs().sum() > 0
    last_layer = embedding.model.encoder.layer[-1].output.dense.weight
    assert last_layer.grad.abs().sum() > 0
    assert not batch[0].embeddings  # a trained embedding is never stored
