"""DocumentRNNEmbeddings and DocumentPoolEmbeddings: Flair's semantics, packed, saved by spec."""

from __future__ import annotations

import json

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_core.embeddings import DOCUMENT_KEY, StackedEmbeddings
from tagkit_core.persistence import build_component, component_spec
from tagkit_embeddings import (
    CharacterEmbeddings,
    DocumentPoolEmbeddings,
    DocumentRNNEmbeddings,
    WordEmbeddings,
)


@pytest.fixture
def words(word2vec_text) -> WordEmbeddings:
    return WordEmbeddings(str(word2vec_text))


@pytest.mark.parametrize("rnn_type, layers", [("GRU", 1), ("LSTM", 2)])
def test_rnn_vector_is_the_final_state_of_an_unpacked_run(words, ewt_sentences, fresh,
                                                          rnn_type, layers):
    # The batch runs padded (one-way RNN): the padding after a sentence must not reach it.
    torch.manual_seed(0)
    document = DocumentRNNEmbeddings([words], hidden_size=16, rnn_type=rnn_type,
                                     rnn_layers=layers).eval()
    assert document.embedding_length == 16 and not document.is_static
    with torch.no_grad():
        batch = document(ewt_sentences)
        assert batch.shape == (32, 16)
        for i, sentence in enumerate(ewt_sentences):
            x = document.word_reprojection_map(words(fresh([sentence])))
            outputs, _ = document.rnn(x)  # no padding: one sentence alone
            assert torch.allclose(batch[i], outputs[0, -1], atol=1e-5), sentence.text


def test_bidirectional_lstm_concatenates_first_and_last_outputs(words, ewt_sentences):
    torch.manual_seed(0)
    document = DocumentRNNEmbeddings(words, hidden_size=8, bidirectional=True, rnn_type="LSTM",
                                     rnn_layers=2, reproject_words_dimension=5).eval()
    assert document.embedding_length == 32
    assert document.word_reprojection_map.out_features == 5
    with torch.no_grad():
        batch = document(ewt_sentences)
        sentence = ewt_sentences[4]
        x = document.word_reprojection_map(words([sentence]))
        outputs, _ = document.rnn(x)
        expected = torch.cat([outputs[0, 0], outputs[0, -1]])
    row = ewt_sentences.index(sentence)
    assert torch.allclose(batch[row], expected, atol=1e-5)


def test_rnn_trains_the_rnn_and_reprojection_not_frozen_words(words):
    document = DocumentRNNEmbeddings([words], hidden_size=4, word_dropout=0.2,
                                     locked_dropout=0.2).train()
    document([Sentence("the menu is great".split()), Sentence(["thanks"])]).sum().backward()
    assert document.rnn.weight_ih_l0.grad is not None
    assert document.word_reprojection_map.weight.grad is not None
    assert words.embedding.weight.grad is None


def test_rnn_round_trip_through_its_spec(words, ewt_sentences, fresh):
    torch.manual_seed(0)
    document = DocumentRNNEmbeddings([words, CharacterEmbeddings()], hidden_size=6,
                                     reproject_words=False, rnn_type="lstm").eval()
    spec = json.loads(json.dumps(component_spec("embedding", document)))
    assert spec["type"] == "document_rnn"
    assert [e["type"] for e in spec["config"]["embeddings"]] == ["word", "character"]
    rebuilt = build_component("embedding", spec)
    rebuilt.load_state_dict(document.state_dict())
    rebuilt.eval()
    with torch.no_grad():
        assert torch.equal(rebuilt(fresh(ewt_sentences)), document(ewt_sentences))


def test_rnn_rejects_unknown_types(words):
    with pytest.raises(ValueError, match="'GRU' or 'LSTM'"):
        DocumentRNNEmbeddings([words], rnn_type="transformer")


@pytest.mark.parametrize("pooling", ["mean", "max", "min"])
def test_pooling_over_real_tokens_only(words, ewt_sentences, pooling):
    document = DocumentPoolEmbeddings([words], pooling=pooling)
    assert document.embedding_length == 8 and document.is_static
    pooled = document(ewt_sentences)
    reduce = {"mean": lambda t: t.mean(0), "max": lambda t: t.amax(0),
              "min": lambda t: t.amin(0)}[pooling]
    for i, sentence in enumerate(ewt_sentences):
        tokens = torch.stack([words.get_vec(t.text) for t in sentence])
        assert torch.allclose(pooled[i], reduce(tokens), atol=1e-6)


def test_static_pooling_is_stored_on_the_sentence(words):
    document = DocumentPoolEmbeddings(StackedEmbeddings([words]))
    sentence = Sentence("the menu".split())
    document.embed(sentence)
    assert torch.equal(sentence.embedding, sentence.embeddings[DOCUMENT_KEY])
    assert sentence.embedding.shape == (8,)


def test_linear_mode_starts_as_identity_and_trains(words, ewt_sentences, fresh):
    plain = DocumentPoolEmbeddings([words])(ewt_sentences)
    linear = DocumentPoolEmbeddings([words], fine_tune_mode="linear")
    assert not linear.is_static
    assert torch.allclose(linear(fresh(ewt_sentences)), plain, atol=1e-6)
    nonlinear = DocumentPoolEmbeddings([words], fine_tune_mode="nonlinear", pooling="max")
    nonlinear(ewt_sentences).sum().backward()
    assert nonlinear.embedding_flex_nonlinear_map.weight.grad is not None


def test_pool_round_trip_and_empty_sentences(words, fresh):
    document = DocumentPoolEmbeddings([words], fine_tune_mode="nonlinear", pooling="min")
    spec = json.loads(json.dumps(component_spec("embedding", document)))
    rebuilt = build_component("embedding", spec)
    rebuilt.load_state_dict(document.state_dict())
    sentences = [Sentence("the menu".split()), Sentence([])]
    out = rebuilt(sentences)
    assert torch.equal(out, document(fresh(sentences)))
    assert torch.count_nonzero(out[1]) == 0 and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="pooling"):
        DocumentPoolEmbeddings([words], pooling="median")
