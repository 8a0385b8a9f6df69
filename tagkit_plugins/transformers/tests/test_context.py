"""``TransformerWordEmbeddings(use_context=...)``: FLERT's document context."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.context import link_sentences
from tagkit_core.data import Sentence
from tagkit_transformers import TransformerWordEmbeddings

TEXTS = [["anna", "visits"], ["the", "dog", "runs"], ["we", "love", "berlin"]]


def document() -> list[Sentence]:
    sentences = [Sentence(list(words)) for words in TEXTS]
    link_sentences(sentences)
    return sentences


def plain_vectors(bert_dir, words: list[str], start: int, stop: int) -> torch.Tensor:
    """The words ``start:stop`` of ``words`` embedded as one sentence without context."""
    with torch.no_grad():
        return TransformerWordEmbeddings(str(bert_dir))([Sentence(words)])[0, start:stop]


def test_a_sentence_is_embedded_between_its_neighbours_words(bert_dir):
    first, middle, last = document()
    embedding = TransformerWordEmbeddings(str(bert_dir), use_context=True)
    with torch.no_grad():
        out = embedding([middle, first])
    every = TEXTS[0] + TEXTS[1] + TEXTS[2]  # 8 pieces: one window of the tiny BERT
    assert torch.allclose(out[0, :3], plain_vectors(bert_dir, every, 2, 5), atol=1e-5)
    assert torch.allclose(out[1, :2], plain_vectors(bert_dir, every, 0, 2), atol=1e-5)
    assert torch.all(out[1, 2] == 0)  # beyond the first sentence's own two words
    few = TransformerWordEmbeddings(str(bert_dir), use_context=1)
    with torch.no_grad():
        one_each_side = few([middle])[0]
    assert torch.allclose(one_each_side, plain_vectors(bert_dir, every[1:6], 1, 4), atol=1e-5)


def test_no_context_for_a_sentence_alone_or_across_a_document_start(bert_dir):
    embedding = TransformerWordEmbeddings(str(bert_dir), use_context=True)
    alone = Sentence(TEXTS[1])
    with torch.no_grad():
        assert torch.allclose(embedding([alone])[0], plain_vectors(bert_dir, TEXTS[1], 0, 3),
                              atol=1e-5)
    first, middle, last = document()
    middle.starts_document = True
    with torch.no_grad():
        out = embedding([middle])[0]
    assert torch.allclose(out, plain_vectors(bert_dir, TEXTS[1] + TEXTS[2], 0, 3), atol=1e-5)


def test_context_dropout_leaves_sides_out_only_while_fine_tuning(bert_dir, monkeypatch):
    seen: list[list[str]] = []

    def spy(embedding):
        real = embedding.encoder.encode

        def encode(sentences, *args):
            seen.extend([t.text for t in s] for s in sentences)
            return real(sentences, *args)
        monkeypatch.setattr(embedding.encoder, "encode", encode)
        return embedding

    middle = document()[1]
    every = TEXTS[0] + TEXTS[1] + TEXTS[2]
    tuned = spy(TransformerWordEmbeddings(str(bert_dir), fine_tune=True, use_context=True,
                                          context_dropout=1.0))
    tuned.train()
    tuned([middle])
    tuned.eval()
    tuned([middle])
    frozen = spy(TransformerWordEmbeddings(str(bert_dir), use_context=True, context_dropout=1.0))
    frozen.train()
    with torch.no_grad():
        frozen([middle])
    assert seen == [TEXTS[1], every, every]

    seen.clear()
    half = spy(TransformerWordEmbeddings(str(bert_dir), fine_tune=True, use_context=True))
    half.train()
    for _ in range(2):
        torch.manual_seed(3)
        for _ in range(8):
            half([middle])
    assert seen[:8] == seen[8:]  # the draws come from the seeded generator
    assert len({tuple(words) for words in seen}) > 1


def test_the_options_are_kept_in_the_config_and_the_name(bert_dir):
    embedding = TransformerWordEmbeddings(str(bert_dir), use_context=True, context_dropout=0.25,
                                          respect_document_boundaries=False)
    config = embedding.get_config()
    assert (config["use_context"], config["context_dropout"],
            config["respect_document_boundaries"]) == (64, 0.25, False)
    rebuilt = TransformerWordEmbeddings.from_config(config)
    assert (rebuilt.context_words, rebuilt.context_dropout) == (64, 0.25)
    assert "use_context=64" in embedding.name
    assert TransformerWordEmbeddings(str(bert_dir)).name == str(bert_dir)
    with pytest.raises(ValueError, match="use_context='yes'"):
        TransformerWordEmbeddings(str(bert_dir), use_context="yes")
    with pytest.raises(ValueError, match=r"context_dropout=1.5: expected a probability"):
        TransformerWordEmbeddings(str(bert_dir), use_context=True, context_dropout=1.5)
    with pytest.raises(ValueError, match="use_context needs allow_long_sentences=True"):
        TransformerWordEmbeddings(str(bert_dir), use_context=True, allow_long_sentences=False)
    assert "respect_document_boundaries=False" in embedding.name  # other vectors, other name


def test_context_longer_than_the_model_goes_through_its_windows(bert_dir, filler):
    before, after = filler(30, seed=1), filler(30, seed=2)
    sentences = [Sentence(before), Sentence(TEXTS[1]), Sentence(after)]
    link_sentences(sentences)
    embedding = TransformerWordEmbeddings(str(bert_dir), use_context=20)
    with torch.no_grad():
        out = embedding([sentences[1]])[0]
    expanded = before[-20:] + TEXTS[1] + after[:20]  # 43 pieces, 16 positions a window
    assert torch.allclose(out, plain_vectors(bert_dir, expanded, 20, 23), atol=1e-5)
