"""A real training run to plot: a tiny tagger trained for a few epochs on hand-made sentences.

The run is made once per session (a few seconds on a CPU) and copied into each test's folder,
so every test reads the loss.tsv and weights.txt the core's trainer really writes. The words are
ambiguous ("runs", "walks" are nouns or verbs) and a few tags are wrong, so the dev accuracy
is not perfect from the first epoch and the curves have a shape.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from tagkit_core import set_seed
from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.embeddings import TokenEmbeddings
from tagkit_core.trainer import ModelTrainer

EPOCHS = 8
PATTERNS = [
    (["the", "dog", "runs"], ["DET", "NOUN", "VERB"]),
    (["the", "runs", "stop"], ["DET", "NOUN", "VERB"]),
    (["a", "cat", "walks", "here"], ["DET", "NOUN", "VERB", "ADV"]),
    (["long", "walks", "help"], ["ADJ", "NOUN", "VERB"]),
    (["Anna", "visits", "New", "York"], ["PROPN", "VERB", "PROPN", "PROPN"]),
    (["we", "love", "Berlin", "."], ["PRON", "VERB", "PROPN", "PUNCT"]),
]
TAGS = sorted({tag for _, tags in PATTERNS for tag in tags})


class PlotToyEmbeddings(TokenEmbeddings):
    """A small trainable word table; unknown words share id 0 (never saved: no model files)."""

    registry_name = "test_plot_toy_words"

    def __init__(self, vocab: list[str], dim: int = 6) -> None:
        super().__init__()
        self.index = {word: i + 1 for i, word in enumerate(vocab)}
        self.dim = dim
        self.table = nn.Embedding(len(vocab) + 1, dim)

    @property
    def embedding_length(self) -> int:
        return self.dim

    def _embed_batch(self, sentences, storage=None):
        ids = [torch.tensor([self.index.get(t.text, 0) for t in s], dtype=torch.long)
               for s in sentences]
        return self.table(nn.utils.rnn.pad_sequence(ids, batch_first=True).to(self.device))


def _sentences(n: int, seed: int, noise: float) -> list[Sentence]:
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        words, tags = rng.choice(PATTERNS)
        sentence = Sentence(words)
        for token, tag in zip(sentence, tags):
            token.add_label("pos", rng.choice(TAGS) if rng.random() < noise else tag)
        sentences.append(sentence)
    return sentences


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """The base_path of a finished 8-epoch run (loss.tsv, weights.txt, training.log)."""
    from tagkit_crf_tagger import SequenceTagger

    base_path = tmp_path_factory.mktemp("trained_run")
    corpus = Corpus(_sentences(60, 1, 0.1), _sentences(20, 2, 0.1), _sentences(20, 3, 0.0),
                    name="plot_toy")
    set_seed(0)
    vocab = sorted({word for words, _ in PATTERNS for word in words})
    tagger = SequenceTagger(6, PlotToyEmbeddings(vocab), corpus.make_tag_dictionary("pos"),
                            "pos", locked_dropout=0.0)
    ModelTrainer(tagger, corpus).train(
        base_path, max_epochs=EPOCHS, mini_batch_size=8, learning_rate=0.1, patience=0,
        anneal_factor=0.5, save_final_model=False, save_best_model=False, checkpoint=False,
        show_progress=False)
    return base_path


@pytest.fixture
def run_dir(trained_run: Path, tmp_path: Path) -> Path:
    """A copy of the trained run's files, for a test to draw into."""
    target = tmp_path / "run"
    shutil.copytree(trained_run, target)
    return target
