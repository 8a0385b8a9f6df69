"""Helpers of the tests (tiny text, tiny language models); conftest puts this folder on
sys.path, and the name is unique so no other test folder's module shadows it."""

from __future__ import annotations

from pathlib import Path

from tagkit_core.seeding import set_seed
from tagkit_flair_embeddings import LanguageModel
from tagkit_flair_embeddings.language_model import character_dictionary

# A few hundred characters of plain, repetitive English: enough for a 32-unit LM to learn.
LINES = [
    "the cat sat on the mat .",
    "the dog sat on the log .",
    "a cat and a dog sat on the mat .",
    "the dog saw the cat on the log .",
    "a dog and a cat saw the mat .",
    "the cat saw a dog on the mat .",
]


def write_corpus(folder: Path, splits: int = 2, repeat: int = 6) -> Path:
    """Flair's layout: train/ with ``splits`` files, valid.txt, test.txt."""
    (folder / "train").mkdir(parents=True, exist_ok=True)
    for i in range(splits):
        lines = LINES[i % 2:] + LINES[: i % 2]
        (folder / "train" / f"train_split_{i + 1}").write_text("\n".join(lines * repeat) + "\n")
    (folder / "valid.txt").write_text("\n".join(LINES[::-1] * 2) + "\n")
    (folder / "test.txt").write_text("\n".join(LINES[1::2] * 3) + "\n")
    return folder


def tiny_dictionary():
    return character_dictionary(LINES + ["\n"])


def tiny_lm(forward: bool = True, hidden: int = 16, seed: int = 3, nlayers: int = 1,
            nout: int | None = None) -> LanguageModel:
    set_seed(seed)
    return LanguageModel(tiny_dictionary(), is_forward_lm=forward, hidden_size=hidden,
                         nlayers=nlayers, embedding_size=8, nout=nout, dropout=0.1)
