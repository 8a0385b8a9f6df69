"""TextCorpus: plain text in Flair's language-model layout, as character id tensors.

The layout is Flair's::

    path/train/     one or more text files ("splits"; a large corpus is cut into many)
    path/valid.txt
    path/test.txt

Each line is a document and ends with the document delimiter ``"\\n"`` (the character a
:class:`FlairEmbeddings` puts before every sentence). A backward corpus is the whole text
reversed, so a backward LM reads right to left. Text becomes ids in one vectorised step
(UTF-32 code points index a table, :func:`~tagkit_flair_embeddings.language_model.encode_text`):
the validation and test tensors are built once, each train split when it is trained on.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tagkit_core.dictionary import Dictionary
from tagkit_flair_embeddings.language_model import codepoint_table, encode_text

__all__ = ["TextCorpus"]


class TextCorpus:
    """A character-level corpus for :class:`LanguageModelTrainer`.

    :param path: the folder holding ``train/``, ``valid.txt`` and ``test.txt``.
    :param dictionary: the characters (the language model's dictionary).
    :param forward: False reverses the text, for a backward language model.
    :param character_level: must be True (Flair's word-level option is not supported).
    """

    def __init__(self, path: str | Path, dictionary: Dictionary, forward: bool = True,
                 character_level: bool = True) -> None:
        if not character_level:
            raise ValueError("TextCorpus(character_level=False): only character-level language "
                             "models are supported")
        self.path = Path(path)
        self.dictionary, self.forward = dictionary, bool(forward)
        self._table = codepoint_table(dictionary)
        train = self.path / "train"
        if not train.is_dir():
            raise FileNotFoundError(f"{train} is not a folder: a TextCorpus needs "
                                    "path/train/ (text files), path/valid.txt and path/test.txt")
        self.train_files = sorted(p for p in train.iterdir() if p.is_file()
                                  and not p.name.startswith("."))
        if not self.train_files:
            raise FileNotFoundError(f"{train} holds no text file (the training splits)")
        self.valid = self.ids_of(self.path / "valid.txt")
        self.test = self.ids_of(self.path / "test.txt")

    def ids_of(self, file: Path) -> torch.Tensor:
        """The character ids of one file (every line ending with ``"\\n"``), reversed for a
        backward corpus."""
        if not file.is_file():
            raise FileNotFoundError(f"{file} is missing: a TextCorpus needs path/train/, "
                                    "path/valid.txt and path/test.txt")
        lines = file.read_text(encoding="utf-8").splitlines()
        text = "".join(line + "\n" for line in lines if line.strip())
        if not text:
            raise ValueError(f"{file} holds no text")
        return encode_text(self._table, text if self.forward else text[::-1])

    def __repr__(self) -> str:
        return (f"TextCorpus({self.path}, {len(self.train_files)} train splits, "
                f"{len(self.valid)} valid and {len(self.test)} test characters, "
                f"{'forward' if self.forward else 'backward'})")
