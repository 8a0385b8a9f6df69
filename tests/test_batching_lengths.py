"""Prediction order: the embedding says what a sentence costs (``batching_lengths``)."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_core.embeddings import (
    StackedEmbeddings,
    TokenEmbeddings,
    length_groups,
    longest_first,
)


class TokenCost(TokenEmbeddings):
    """Zeros of length 2; costs as many as the tokens (the default)."""

    registry_name = "batching_test_lookup"

    def __init__(self, name: str = "lookup") -> None:
        super().__init__()
        self.name = name

    @property
    def embedding_length(self) -> int:
        return 2

    def _embed_batch(self, sentences, storage=None):
        return torch.zeros(len(sentences), max(map(len, sentences)), 2)


class CharacterCost(TokenCost):
    """A lookup whose cost grows with characters (as a sub-word model's with pieces)."""

    def batching_lengths(self, sentences):
        return [sum(len(token.text) for token in sentence) for sentence in sentences]


def test_tokens_by_default_ties_keep_their_order_and_empties_go():
    sentences = [Sentence(words.split()) for words in
                 ("the cat", "a dog sat", "on mat", "", "quickly")]
    assert TokenCost().batching_lengths(sentences) == [2, 3, 2, 0, 1]
    ordered = longest_first(TokenCost(), sentences)
    assert ordered == [sentences[i] for i in (1, 0, 2, 4)]
    assert longest_first(TokenCost(), [Sentence([])]) == []


def test_a_stack_sorts_by_its_costliest_part():
    sentences = [Sentence(words.split()) for words in ("the cat sat", "quickly", "a mat")]
    stack = StackedEmbeddings([TokenCost("words"), CharacterCost("chars")])
    assert stack.batching_lengths(sentences) == [9, 7, 4]
    assert longest_first(stack, sentences) == sentences
    assert longest_first(TokenCost(), sentences) == [sentences[0], sentences[2],
                                                          sentences[1]]


def test_a_plugin_returning_the_wrong_number_of_sizes_is_named():
    class Broken(TokenCost):
        def batching_lengths(self, sentences):
            return [1]

    with pytest.raises(ValueError, match="Broken.batching_lengths returned 1 sizes for 2"):
        longest_first(Broken("broken"), [Sentence(["a"]), Sentence(["b", "c"])])


def test_embed_over_many_sentences_runs_in_chunks_longest_first(monkeypatch):
    """``embed`` on a whole corpus: chunks of ``EMBED_CHUNK`` sentences by falling
    ``batching_lengths``, so no tensor is padded to the corpus's longest sentence (stored
    vectors are views of their chunk's tensor); every sentence, empty ones too, gets its own."""
    import tagkit_core.embeddings as module

    class Recording(CharacterCost):
        def _embed_batch(self, sentences, storage=None):
            seen.append(self.batching_lengths(sentences))
            return torch.ones(len(sentences), max(map(len, sentences)), 2)

    seen: list[list[int]] = []
    monkeypatch.setattr(module, "EMBED_CHUNK", 2)
    texts = ["a", "bbbb cc", "", "ddd", "e f g h"]
    sentences = [Sentence(text.split()) for text in texts]
    assert Recording().embed(sentences) == sentences  # returned in the order given
    assert seen == [[6, 4], [3, 1], [0]]
    for sentence in sentences:
        vectors = sentence.embeddings["lookup"]
        assert vectors.shape == (len(sentence), 2) and bool((vectors == 1).all())
        assert vectors.untyped_storage().nbytes() <= 2 * 4 * 2 * 4  # a chunk's, not a corpus's

    seen.clear()  # up to EMBED_CHUNK sentences: one call, in the order given
    Recording().embed([Sentence(text.split()) for text in texts[:2]])
    assert seen == [[1, 6]]


def test_length_groups_are_longest_first_with_ties_in_order():
    groups, group_of, slot = length_groups([2, 5, 5, 1, 3], 2)
    assert groups == [[1, 2], [4, 0], [3]]
    assert group_of == [1, 0, 0, 2, 1] and slot == [1, 0, 1, 0, 0]
    assert length_groups([], 4) == ([], [], [])
