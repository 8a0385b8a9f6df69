"""A generator of tiny, real tagkit files and the mutations a hostile sender could make.

Nothing binary is committed: each test builds a small tagger (word embeddings over a 3-word
vocabulary, no vector file) in its ``tmp_path``, saves it or a checkpoint of it, and rewrites
the file. Header rewrites recompute the checksum, as an attacker can: the checks that refuse
them are the schema's and the components', not the checksum.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tagkit_core import set_seed
from tagkit_core.dictionary import Dictionary
from tagkit_core.tensor_files import tensors_digest
from tagkit_crf_tagger import SequenceTagger
from tagkit_embeddings import WordEmbeddings

VOCAB = ["the", "dog", "runs"]


class RunsCode:
    """Unpickling this creates ``marker``: proof that a file ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps(RunsCode(marker)))
    return path


def tiny_tagger() -> SequenceTagger:
    set_seed(0)  # the same weights at every call
    words = WordEmbeddings("glove", vocab=VOCAB, embedding_dim=4)
    with torch.no_grad():
        words.embedding.weight[1:] = torch.randn(len(VOCAB), 4)
    tags = Dictionary(add_unk=False)
    for tag in ("DET", "NOUN", "VERB"):
        tags.add_item(tag)
    return SequenceTagger(words, tags, "pos", hidden_size=8)


def read_file(path: Path, key: str) -> tuple[str, dict[str, torch.Tensor]]:
    with safe_open(str(path), framework="pt") as handle:
        text = handle.metadata()[key]
    return text, load_file(str(path))


def rewrite(path: Path, key: str, header: Callable[[Any], Any] | None = None,
            text: str | None = None,
            tensors: Callable[[dict[str, torch.Tensor]], Any] | None = None) -> None:
    """Rewrite ``path``'s JSON (``header`` mutates the parsed JSON in place; ``text`` replaces
    it) and tensors (mutated in place), with a correct checksum for the result."""
    old_text, state = read_file(path, key)
    if header is not None:
        parsed = json.loads(old_text)
        header(parsed)
        text = json.dumps(parsed)
    text = old_text if text is None else text
    if tensors is not None:
        tensors(state)
    save_file(state, str(path), metadata={key: text, key + "_sha256": tensors_digest(text, state)})


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def header_end(path: Path) -> int:
    return 8 + int.from_bytes(path.read_bytes()[:8], "little")
