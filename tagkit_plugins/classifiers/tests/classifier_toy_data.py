"""A trainable toy document embedding and hand-made labelled texts, for the classifier tests.

Only the core is needed: the plugin's unit tests never import another plugin (the TREC-6 and
hostile-file tests, which do, say so)."""

from __future__ import annotations

import random

import torch
from torch import nn

from tagkit_core.config_fields import REQUIRED, checked_config, integer, text_list
from tagkit_core.data import Sentence
from tagkit_core.embeddings import DocumentEmbeddings


class ToyDocumentEmbeddings(DocumentEmbeddings):
    """The mean of trainable word vectors (unknown words share id 0); no dropout."""

    registry_name = "test_toy_document"

    def __init__(self, vocab: list[str], dim: int = 8) -> None:
        super().__init__()
        self.vocab, self.dim = list(vocab), dim
        self.index = {w: i + 1 for i, w in enumerate(self.vocab)}
        self.table = nn.EmbeddingBag(len(self.vocab) + 1, dim, mode="mean")

    @property
    def embedding_length(self) -> int:
        return self.dim

    def _embed_batch(self, sentences, storage=None):
        ids = [self.index.get(t.text, 0) for s in sentences for t in s]
        offsets = torch.tensor([0] + [len(s) for s in sentences][:-1]).cumsum(0)
        return self.table(torch.tensor(ids, device=self.device), offsets.to(self.device))

    def get_config(self):
        return {"vocab": self.vocab, "dim": self.dim}

    @classmethod
    def from_config(cls, config):
        return cls(**checked_config(config, {"vocab": (text_list(), REQUIRED),
                                             "dim": (integer(1, 64), 8)}))


# Questions whose class a bag of words decides: the word at one place names it.
PATTERNS = {
    "NUM": ["how many {} are there", "how much does {} cost", "what year was {} founded"],
    "HUM": ["who wrote {}", "who invented {}", "who is {}"],
    "LOC": ["where is {}", "where was {} born", "what country has {}"],
}
FILLERS = ["the", "bridge", "paris", "a", "song", "computer", "river"]
VOCAB = sorted(({w for texts in PATTERNS.values() for t in texts for w in t.split()} |
                set(FILLERS)) - {"{}"})


def make_texts(n: int, seed: int, label_type: str = "class") -> list[Sentence]:
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        label = rng.choice(sorted(PATTERNS))
        sentence = Sentence(rng.choice(PATTERNS[label]).format(rng.choice(FILLERS)).split())
        sentence.add_label(label_type, label)
        sentences.append(sentence)
    return sentences


def labelled(words: str, *labels: str, label_type: str = "class") -> Sentence:
    sentence = Sentence(words.split())
    for label in labels:
        sentence.add_label(label_type, label)
    return sentence
