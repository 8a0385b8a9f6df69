"""A real training run to plot: a tiny tagger trained for a few epochs on hand-made sentences.

The run is made once per session (a few seconds on a CPU) and copied into each test's folder,
so every test reads the loss.tsv and weights.txt the core's trainer really writes. The words are
ambiguous ("runs", "walks" are nouns or verbs) and a few tags are wrong, so the dev accuracy
is not perfect from the first epoch and the curves have a shape.
"""

from __future__ import annotations

import random
import shutil
import struct
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
    tagger = SequenceTagger(PlotToyEmbeddings(vocab), corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=6, locked_dropout=0.0)
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


# -- shared data and checks (fixtures: with --import-mode=importlib test modules cannot import
# each other or a helper module) ----------------------------------------------------------------
# The columns Flair 0.15's LossFilePlugin writes for a tagger trained with a dev split and
# evaluated on train and test each epoch (it drops the columns no metric was recorded for).
FLAIR_HEADER = ("EPOCH\tTIMESTAMP\tLEARNING_RATE\tTRAIN_LOSS\tDEV_LOSS\tDEV_PRECISION\t"
                "DEV_RECALL\tDEV_F1\tDEV_ACCURACY\tTEST_LOSS\tTEST_PRECISION\tTEST_RECALL\t"
                "TEST_F1\tTEST_ACCURACY")
FLAIR_ROWS = [
    "1\t10:01:02\t0.1000\t1.2345\t0.9000\t0.5000\t0.4000\t0.4444\t0.3000\t0.9500\t0.4800\t"
    "0.3900\t0.4300\t0.2900",
    "2\t10:02:03\t0.1000,0.0100\t0.8000\t0.7000\t0.6500\t0.6000\t0.6240\t0.4600\t0.7200\t"
    "0.6400\t0.5900\t0.6140\t0.4500",
]


def _write(path, *lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path



@pytest.fixture
def write_lines():
    """``write_lines(path, *lines)``: write a text file, one line each; returns the path."""
    return _write


@pytest.fixture
def flair_loss_file(tmp_path) -> Path:
    """A loss.tsv in Flair 0.15's format (its real column set), two epochs."""
    return _write(tmp_path / "flair" / "loss.tsv", FLAIR_HEADER, *FLAIR_ROWS)


@pytest.fixture
def readable_png():
    """``readable_png(path, min_width=800, min_height=500)``: assert a decodable, drawn PNG."""
    return assert_readable_png


@pytest.fixture
def png_dimensions():
    """``png_dimensions(path)``: (width, height) of a PNG."""
    return png_size


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_readable_png(path: Path, min_width: int = 800, min_height: int = 500) -> None:
    import matplotlib.image

    width, height = png_size(path)
    assert min_width <= width <= 4000 and min_height <= height <= 6000, (width, height)
    pixels = matplotlib.image.imread(path)  # decodes every chunk: a truncated file fails here
    assert pixels.shape[:2] == (height, width)
    # Something is drawn: not one flat colour.
    assert pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() > 0.05
