"""What the model card costs on a GloVe-sized tagger file, and what reading it alone saves.

Builds a tagger over a 400,000-word, 50-dimensional word table (the size of GloVe 6B 50d: an
88 MB file with a 5 MB vocabulary in its header; no vector file is read, the table is random)
and times, best of ``--repeat``:

* ``save``: ``model.save`` with a card (what the trainer does after an epoch);
* ``write_model_card``: the rewrite that adds the test scores after training (read, verify the
  checksum, write again);
* ``read_model_card``: the header alone, in this process;
* ``load``: ``SequenceTagger.load`` (what reading the card would cost without the reader);
* ``tagkit info``: the command, a fresh process, wall clock.

Usage::

    python benchmarks/model_card_cost.py [--words 400000] [--repeat 3] [--out bench-out/card]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import torch

from tagkit_core import set_seed
from tagkit_core.dictionary import Dictionary
from tagkit_core.model_card import read_model_card
from tagkit_core.persistence import write_model_card
from tagkit_crf_tagger import SequenceTagger
from tagkit_embeddings import WordEmbeddings


def best_of(repeat: int, action) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench-out/card"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    set_seed(0)
    words = WordEmbeddings("glove", vocab=[f"w{i}" for i in range(args.words)],
                           embedding_dim=50)
    with torch.no_grad():
        words.embedding.weight.normal_()
    tags = Dictionary(add_unk=False)
    for tag in ("DET", "NOUN", "VERB"):
        tags.add_item(tag)
    model = SequenceTagger(words, tags, "pos", hidden_size=256)
    card = {"card_version": 1, "corpus": {"name": "bench", "train": 1, "dev": 1, "test": 1},
            "training": {"options": {"learning_rate": 0.1}, "seed": 1}}
    model.model_card = card
    path = args.out / "final-model.pt"
    figures = {"save": best_of(args.repeat, lambda: model.save(path)),
               "write_model_card": best_of(args.repeat, lambda: write_model_card(
                   path, {**card, "test": {"main_score": 0.5}})),
               "read_model_card": best_of(args.repeat, lambda: read_model_card(path)),
               "load": best_of(args.repeat, lambda: SequenceTagger.load(path, device="cpu"))}
    command = [sys.executable, "-m", "tagkit_core.cli", "info", str(path)]
    figures["tagkit info"] = best_of(args.repeat, lambda: subprocess.run(
        command, check=True, capture_output=True))
    print(f"file {path}: {path.stat().st_size / 1e6:.1f} MB, {args.words:,} words")
    for name, seconds in figures.items():
        print(f"{name:<18} {seconds:8.3f} s")


if __name__ == "__main__":
    main()
