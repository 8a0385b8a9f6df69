"""CharacterEmbeddings: one BiLSTM pass over a batch's unique words, same answers."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_embeddings import CharacterEmbeddings
from tagkit_embeddings.character import DEFAULT_ALPHABET, WORD_BATCH_MULTIPLE


def reference_vector(chars: CharacterEmbeddings, word: str) -> torch.Tensor:
    """The obvious per-word computation: one unpacked BiLSTM run over this word alone."""
    ids = [chars.char_dictionary.get_idx_for_item(c) + 1 for c in word] or [0]
    embedded = chars.char_embedding(torch.tensor([ids]))
    _, (final, _) = chars.char_rnn(embedded)
    return torch.cat([final[0, 0], final[1, 0]])


@pytest.fixture
def chars() -> CharacterEmbeddings:
    torch.manual_seed(0)
    return CharacterEmbeddings().eval()


def test_defaults_give_50_trainable_dimensions(chars):
    assert chars.embedding_length == 50 and chars.name == "char"
    assert not chars.is_static
    assert "<unk>" in chars.char_dictionary and "é" in chars.char_dictionary
    assert "a" in DEFAULT_ALPHABET and " " in DEFAULT_ALPHABET


def test_batch_equals_the_per_word_reference(chars, ewt_sentences):
    with torch.no_grad():
        batch = chars(ewt_sentences)
        reference: dict[str, torch.Tensor] = {}
        for i, sentence in enumerate(ewt_sentences):
            for j, token in enumerate(sentence):
                if token.text not in reference:
                    reference[token.text] = reference_vector(chars, token.text)
                assert torch.allclose(batch[i, j], reference[token.text], atol=1e-6), token.text
            assert torch.count_nonzero(batch[i, len(sentence):]) == 0


def test_repeated_words_share_one_computation(chars, monkeypatch):
    seen = []
    original = chars._final_states

    def spy(embedded, counts):
        words = int((embedded.abs().sum(dim=(1, 2)) > 0).sum())  # padding rows are all zero
        seen.append((words, int(embedded.shape[0])))
        return original(embedded, counts)

    monkeypatch.setattr(chars, "_final_states", spy)
    chars([Sentence("the cat and the dog and the bird".split()), Sentence(["the", "cat"])])
    # One LSTM call, over the, cat, and, dog, bird, padded to a shape the kernels have seen.
    assert seen == [(5, WORD_BATCH_MULTIPLE)]


def test_unknown_characters_use_the_unk_row(chars):
    sentence = Sentence(["☃☃", "ok"])
    ids = chars.sentence_char_ids(sentence)
    assert ids[0, :2].tolist() == [1, 1]  # <unk> is dictionary id 0, tensor id 1
    assert ids.shape == (2, 2)
    assert torch.allclose(chars([sentence])[0, 0], reference_vector(chars, "☃☃"), atol=1e-6)


def test_char_ids_are_looked_up_once_per_word(chars, ewt_sentences, monkeypatch, fresh):
    first = chars(ewt_sentences)
    monkeypatch.setattr(chars, "_char_ids", {})  # a fresh lookup would now give all <unk>
    assert torch.equal(chars(ewt_sentences), first)
    assert torch.equal(chars(fresh(ewt_sentences)), first)  # new sentences, known words


def test_a_sentence_alone_equals_it_in_a_batch(chars, ewt_sentences):
    with torch.no_grad():
        batch = chars(ewt_sentences)
        for i in (0, 3, 9, 30):
            alone = chars([ewt_sentences[i]])[0]
            assert torch.allclose(alone, batch[i, : len(ewt_sentences[i])], atol=1e-6)


def test_gradients_reach_the_character_lstm(chars):
    chars.train()
    chars([Sentence(["Hello", "world"])]).pow(2).sum().backward()
    assert chars.char_rnn.weight_ih_l0.grad is not None
    assert torch.count_nonzero(chars.char_rnn.weight_ih_l0_reverse.grad) > 0
    assert torch.count_nonzero(chars.char_embedding.weight.grad[0]) == 0  # padding row


def test_gradients_of_repeated_words_are_repeatable_on_two_threads(chars):
    """Each token's vector is its word's, gathered: the backward adds a word's gradients up
    once per occurrence. Advanced indexing's backward added them in a thread-dependent order
    on two cores (two fresh processes with one seed trained different weights, to rounding);
    ``index_select``'s adds them in token order."""
    chars.train()
    words = "the a of and to in is it that for".split()
    sentences = [Sentence([words[(i * 7 + j * 3) % len(words)] for j in range(150)])
                 for i in range(16)]
    gout = torch.randn(16, 150, chars.embedding_length, generator=torch.Generator().manual_seed(1))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        grads = []
        for _ in range(8):
            chars.zero_grad(set_to_none=True)
            chars(sentences).backward(gout)
            grads.append(chars.char_rnn.weight_hh_l0.grad.clone())
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(grads[0], g) for g in grads[1:])


def test_empty_tokens_and_empty_sentences(chars):
    out = chars([Sentence([""]), Sentence([])])
    assert out.shape == (2, 1, 50)
    assert torch.count_nonzero(out[1]) == 0
    assert chars([Sentence([])]).shape == (1, 0, 50)


def test_config_keeps_the_alphabet(chars):
    custom = CharacterEmbeddings(char_embedding_dim=4, hidden_size_char=3, alphabet="abc")
    config = custom.get_config()
    assert config == {"char_embedding_dim": 4, "hidden_size_char": 3, "alphabet": "abc"}
    rebuilt = CharacterEmbeddings.from_config(config)
    rebuilt.load_state_dict(custom.state_dict())
    sentence = [Sentence(["abc", "cab", "xyz"])]
    assert torch.equal(rebuilt(sentence), custom(sentence))
    assert rebuilt.embedding_length == 6


def test_the_word_memo_is_bounded(chars, monkeypatch, fresh):
    import tagkit_embeddings.character as module

    first, second = [Sentence("the cat and dog".split())], [Sentence(["bird", "x", "the"])]
    expected = chars(fresh(first)), chars(fresh(second))
    monkeypatch.setattr(module, "MEMO_CELLS", 20)
    chars.forget_words()
    assert torch.equal(chars(fresh(first)), expected[0])
    assert len(chars._memo) == 4
    assert torch.equal(chars(fresh(second)), expected[1])  # 6 words x 4 chars > 20: afresh
    assert sorted(chars._memo) == ["bird", "the", "x"]
    assert torch.equal(chars(fresh(first)), expected[0])


def test_the_id_table_grows_with_the_words_not_with_their_widths(chars):
    chars.forget_words()
    for width in range(1, 60):  # every batch brings a longer word
        chars([Sentence(["a" * width, f"w{width}"])])
    assert chars._id_table.shape[1] == 59
    assert chars._id_table.shape[0] <= 1024  # 118 words: the first allocation suffices
    assert chars.sentence_char_ids(Sentence(["aaa"])).tolist() == [[chars._char_ids["a"]] * 3]
