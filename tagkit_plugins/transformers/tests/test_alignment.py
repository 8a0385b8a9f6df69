"""Every tagkit token gets its own pieces' vector: multi-piece words, dropped characters,
words with no piece at all; one tokenizer call and one forward per batch."""

from __future__ import annotations

import logging

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_transformers import TransformerWordEmbeddings, alignment


@pytest.fixture(scope="module")
def mean_and_friends(bert_dir):
    return {how: TransformerWordEmbeddings(str(bert_dir), subtoken_pooling=how)
            for how in ("first", "last", "first_last", "mean")}


def embed(embedding, *word_lists):
    with torch.no_grad():
        return embedding([Sentence(list(words)) for words in word_lists])


def test_a_word_in_several_pieces_pools_exactly_its_own_pieces(mean_and_friends, reference,
                                                               pieces_of):
    words = ["the", "unbelievable", "dog", "runs"]
    ids = pieces_of(words)
    assert len(ids) == 6  # un ##believ ##able
    hidden = reference(ids)[1:-1]  # without [CLS] and [SEP]
    first = embed(mean_and_friends["first"], words)[0]
    last = embed(mean_and_friends["last"], words)[0]
    mean = embed(mean_and_friends["mean"], words)[0]
    both = embed(mean_and_friends["first_last"], words)[0]
    atol = 1e-5
    assert torch.allclose(first[1], hidden[1], atol=atol)
    assert torch.allclose(last[1], hidden[3], atol=atol)
    assert torch.allclose(mean[1], hidden[1:4].mean(0), atol=atol)
    assert torch.allclose(both[1], torch.cat([hidden[1], hidden[3]]), atol=atol)
    for pooled in (first, last, mean):  # the one-piece words after it are not shifted
        assert torch.allclose(pooled[[0, 2, 3]], hidden[[0, 4, 5]], atol=atol)


@pytest.mark.parametrize("dropped", ["\u00ad", "\u200b", "\x07"])
def test_characters_the_tokenizer_drops_change_nothing(mean_and_friends, dropped):
    embedding = mean_and_friends["mean"]
    clean = embed(embedding, ["the", "coop", "dog", "runs"])
    dirty = embed(embedding, ["the", f"co{dropped}op", f"dog{dropped}", "runs"])
    assert dirty.shape == clean.shape == (1, 4, 32)
    assert torch.allclose(dirty, clean, atol=1e-6)


@pytest.mark.parametrize("empty", ["\u200b", "\x00", "\u00ad\u200b"])
def test_a_word_with_no_piece_is_read_as_the_unknown_token(mean_and_friends, empty):
    embedding = mean_and_friends["first"]
    got = embed(embedding, ["the", empty, "dog", "runs"])
    as_unk = embed(embedding, ["the", "[UNK]", "dog", "runs"])
    assert got.shape == (1, 4, 32)
    assert torch.allclose(got, as_unk, atol=1e-6)
    assert got[0, 1].abs().sum() > 0


def test_without_an_unknown_token_a_pieceless_word_gets_zeros(bert_dir):
    embedding = TransformerWordEmbeddings(str(bert_dir))
    embedding.tokenizer.unk_token = None
    assert embedding.tokenizer.unk_token is None
    got = embed(embedding, ["the", "\u200b", "dog"], ["\x00"])
    assert got.shape == (2, 3, 32)
    assert torch.count_nonzero(got[0, 1]) == 0 and torch.count_nonzero(got[1]) == 0
    assert torch.count_nonzero(got[0, 0]) > 0 and torch.count_nonzero(got[0, 2]) > 0


def test_padding_positions_are_zero_and_batching_changes_no_vector(mean_and_friends):
    embedding = mean_and_friends["mean"]
    long = ["anna", "visits", "new", "york", "unbelievable", "!"]
    batch = embed(embedding, long, ["we"], ["cats", "sleeps"])
    assert batch.shape == (3, 6, 32)
    assert torch.count_nonzero(batch[1, 1:]) == 0 and torch.count_nonzero(batch[2, 2:]) == 0
    assert torch.allclose(batch[0], embed(embedding, long)[0], atol=1e-5)
    assert torch.allclose(batch[2, :2], embed(embedding, ["cats", "sleeps"])[0], atol=1e-5)


def test_one_tokenizer_call_and_one_forward_per_batch(bert_dir, monkeypatch, filler):
    embedding = TransformerWordEmbeddings(str(bert_dir))
    calls = {"tokenizer": 0, "forward": 0}
    encode = alignment._encode

    def counting_encode(tokenizer, words):
        calls["tokenizer"] += 1
        return encode(tokenizer, words)

    monkeypatch.setattr(alignment, "_encode", counting_encode)
    embedding.model.register_forward_hook(
        lambda *_: calls.__setitem__("forward", calls["forward"] + 1))
    sentences = [Sentence(filler(n, seed=n)) for n in (3, 40, 7, 1)]  # one needs 5 windows
    with torch.no_grad():
        embedding(sentences)
    assert calls == {"tokenizer": 1, "forward": 1}
    with torch.no_grad():
        embedding(sentences)  # frozen, so static: the stored vectors are reused
    assert calls == {"tokenizer": 1, "forward": 1}
    for sentence in sentences:
        sentence.clear_embeddings()
    with torch.no_grad():
        embedding(sentences)  # recomputed, but the pieces are cached: no tokenizer call
    assert calls == {"tokenizer": 1, "forward": 2}


def test_pool_groups_without_pieces_get_zeros():
    vectors = torch.arange(8.0).view(4, 2)
    group = torch.tensor([0, 0, 2, 2])
    assert alignment.pool(vectors, group, 3, "first").tolist() == [[0, 1], [0, 0], [4, 5]]
    assert alignment.pool(vectors, group, 3, "last").tolist() == [[2, 3], [0, 0], [6, 7]]
    assert alignment.pool(vectors, group, 3, "mean").tolist() == [[1, 2], [0, 0], [5, 6]]
    assert alignment.pool(vectors, group, 3, "max").tolist() == [[2, 3], [0, 0], [6, 7]]
    with pytest.raises(ValueError, match="unknown pooling"):
        alignment.pool(vectors, group, 3, "median")


def test_a_sentence_longer_than_the_model_raises_no_false_alarm(bert_dir, filler, caplog):
    """Hugging Face's tokenizer warns that such a sentence "will result in indexing errors";
    it goes through overlapping windows here, so that warning would only mislead."""
    embedding = TransformerWordEmbeddings(str(bert_dir))
    embedding.encoder.tokenizer.model_max_length = 16  # as a real tokenizer says (BERT: 512)
    sentence = Sentence(filler(40, seed=3))
    library_logger = logging.getLogger("transformers")  # its handler, not propagated to root
    library_logger.addHandler(caplog.handler)
    try:
        with torch.no_grad():
            embedding([sentence])
    finally:
        library_logger.removeHandler(caplog.handler)
    assert len(sentence.cache[embedding.encoder.cache_key][0]) > 16  # it needed windows
    assert sentence[39].embedding.shape[-1] == embedding.embedding_length
    assert not [r for r in caplog.records if "indexing errors" in r.getMessage()]
