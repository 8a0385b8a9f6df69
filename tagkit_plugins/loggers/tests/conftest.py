"""A tiny real training run for the logger tests: the core's trainer on a toy word tagger.

The model is defined here (plugins never import each other, so no tagger from tagkit-crf-tagger):
a word table and a linear layer scoring each token's tag, trained on hand-made 3-word sentences
with a few wrong tags, so the dev score moves between epochs. Two epochs take well under a
second on a CPU; every test trains its own run, so each reads what the trainer really wrote.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from tagkit_core import set_seed
from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.model import Model, Result
from tagkit_core.registry import reset_registry
from tagkit_core.trainer import ModelTrainer

PATTERNS = [
    (["the", "dog", "runs"], ["DET", "NOUN", "VERB"]),
    (["the", "runs", "stop"], ["DET", "NOUN", "VERB"]),
    (["a", "cat", "walks"], ["DET", "NOUN", "VERB"]),
    (["long", "walks", "help"], ["ADJ", "NOUN", "VERB"]),
    (["we", "love", "Berlin"], ["PRON", "VERB", "PROPN"]),
]
TAGS = sorted({tag for _, tags in PATTERNS for tag in tags})
VOCAB = sorted({word for words, _ in PATTERNS for word in words})
TRAIN_SENTENCES = 10  # with mini_batch_size=4 and no bucketing: batches of 4, 4 and 2


class ToyTagger(Model):
    """Scores each token's tag from its word alone; loss summed over tokens."""

    registry_name = "test_loggers_toy_tagger"
    label_type = "pos"

    def __init__(self, vocab: list[str], tags: list[str], dim: int = 8) -> None:
        super().__init__()
        self.vocab, self.tags = list(vocab), list(tags)
        self.word_ids = {word: i + 1 for i, word in enumerate(self.vocab)}
        self.tag_ids = {tag: i for i, tag in enumerate(self.tags)}
        self.table = nn.Embedding(len(self.vocab) + 1, dim)
        self.out = nn.Linear(dim, len(self.tags))

    def _logits(self, sentences) -> torch.Tensor:
        ids = [self.word_ids.get(token.text, 0) for sentence in sentences for token in sentence]
        return self.out(self.table(torch.tensor(ids, dtype=torch.long, device=self.device)))

    def _gold(self, sentences) -> torch.Tensor:
        return torch.tensor([self.tag_ids[token.get_label("pos").value]
                             for sentence in sentences for token in sentence], device=self.device)

    def forward_loss(self, sentences, storage=None):
        gold = self._gold(sentences)
        loss = nn.functional.cross_entropy(self._logits(sentences), gold, reduction="sum")
        return loss, len(gold)

    def predict(self, sentences, mini_batch_size: int = 32, **kwargs: Any) -> None:
        raise NotImplementedError("not needed by the logger tests")

    def evaluate(self, sentences, gold_label_type=None, mini_batch_size: int = 32,
                 **kwargs: Any) -> Result:
        with torch.no_grad():
            logits, gold = self._logits(sentences), self._gold(sentences)
            loss = nn.functional.cross_entropy(logits, gold).item()
            accuracy = (logits.argmax(-1) == gold).float().mean().item()
        return Result(main_score=accuracy, scores={"accuracy": accuracy, "loss": loss},
                      main_score_name="accuracy")

    def get_config(self) -> dict[str, Any]:
        return {"vocab": self.vocab, "tags": self.tags}


def _sentences(n: int, seed: int, noise: float) -> list[Sentence]:
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        words, tags = rng.choice(PATTERNS)
        sentence = Sentence(list(words))
        for token, tag in zip(sentence, tags):
            token.add_label("pos", rng.choice(TAGS) if rng.random() < noise else tag)
        sentences.append(sentence)
    return sentences


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Each test sees the installed plugins anew and leaves no process-wide registry."""
    reset_registry(None)
    yield
    reset_registry(None)


@pytest.fixture
def train_toy(tmp_path: Path) -> Callable[..., tuple[dict[str, Any], Path, ModelTrainer]]:
    """``train_toy(**options) -> (result, base_path, trainer)``: two epochs of the toy tagger
    in ``tmp_path/run``, batches of 4 in corpus order, no model files written."""

    def train(plugins=(), **options: Any):
        corpus = Corpus(_sentences(TRAIN_SENTENCES, 1, 0.2), _sentences(6, 2, 0.2),
                        _sentences(6, 3, 0.0), name="toy")
        set_seed(0)
        trainer = ModelTrainer(ToyTagger(VOCAB, TAGS), corpus, plugins=plugins)
        settings = {"max_epochs": 2, "mini_batch_size": 4, "learning_rate": 0.5,
                    "length_bucketing": False, "shuffle": False, "save_final_model": False,
                    "save_best_model": False, "show_progress": False, **options}
        base_path = tmp_path / "run"
        result = trainer.train(base_path, **settings)
        return result, base_path, trainer

    return train


@pytest.fixture
def loss_rows() -> Callable[[Path], list[dict[str, str]]]:
    """``loss_rows(base_path)``: the rows of the run's loss.tsv, as dicts by column name."""

    def read(base_path: Path) -> list[dict[str, str]]:
        with open(base_path / "loss.tsv", encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t"))

    return read
