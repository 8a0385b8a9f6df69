"""Tiny, fast fixtures: a trainable toy word embedding (registered for model files) and corpora."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.embeddings import TokenEmbeddings
from tagkit_core.registry import get_registry


class ToyEmbeddings(TokenEmbeddings):
    """A small trainable word table; unknown words share id 0."""

    registry_name = "test_toy_words"

    def __init__(self, vocab: list[str], dim: int = 8) -> None:
        super().__init__()
        self.vocab = list(vocab)
        self.index = {w: i + 1 for i, w in enumerate(self.vocab)}
        self.dim = dim
        self.table = nn.Embedding(len(self.vocab) + 1, dim)

    @property
    def embedding_length(self) -> int:
        return self.dim

    def _embed_batch(self, sentences, storage=None):
        ids = [torch.tensor([self.index.get(t.text, 0) for t in s], dtype=torch.long)
               for s in sentences]
        return self.table(nn.utils.rnn.pad_sequence(ids, batch_first=True).to(self.device))

    def get_config(self):
        return {"vocab": self.vocab, "dim": self.dim}


@pytest.fixture(autouse=True)
def _register_toy_embeddings():
    """Model files name their embedding; the (possibly fresh) registry must know this one."""
    get_registry().add("embedding", ToyEmbeddings, plugin="tests")

PATTERNS = [
    (["the", "dog", "runs"], ["DET", "NOUN", "VERB"]),
    (["a", "cat", "sleeps", "here"], ["DET", "NOUN", "VERB", "ADV"]),
    (["Anna", "visits", "New", "York"], ["PROPN", "VERB", "PROPN", "PROPN"]),
    (["we", "love", "Berlin", "."], ["PRON", "VERB", "PROPN", "PUNCT"]),
]
NER = {"Anna": "S-PER", "New": "B-LOC", "York": "E-LOC", "Berlin": "S-LOC"}
VOCAB = sorted({w for words, _ in PATTERNS for w in words})


def make_sentences(n: int, seed: int) -> list[Sentence]:
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        words, tags = rng.choice(PATTERNS)
        sentence = Sentence(words)
        for token, tag in zip(sentence, tags):
            token.add_label("pos", tag)
            token.add_label("ner", NER.get(token.text, "O"))
        sentences.append(sentence)
    return sentences


@pytest.fixture
def toy_corpus() -> Corpus:
    return Corpus(make_sentences(120, 1), make_sentences(20, 2), make_sentences(20, 3),
                  name="toy")


@pytest.fixture
def toy_embeddings() -> ToyEmbeddings:
    torch.manual_seed(0)
    return ToyEmbeddings(VOCAB)


@pytest.fixture
def toy_embeddings_cls() -> type[ToyEmbeddings]:
    """The class itself, for tests that build several instances or their own vocabulary."""
    return ToyEmbeddings
