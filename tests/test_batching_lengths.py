"""Prediction order: the embedding says what a sentence costs (``batching_lengths``)."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_core.embeddings import StackedEmbeddings, TokenEmbeddings, longest_first


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
