"""PooledFlairEmbeddings: a word's contextual vector plus a memory of its earlier contexts.

As Flair's (Akbik et al., 2019, "Pooled contextualized embeddings"): every token's vector from
the inner :class:`FlairEmbeddings` is pooled into a per-word memory (``min``, ``max``,
``mean``, or ``fade``: the average of the memory and the new vector), and each token gets its
contextual vector concatenated with its word's pooled memory after the batch's update. The
memory is wiped whenever the model is put in training mode (each training run and epoch, as in
Flair) and is never saved: it is a cache of what was read, not a weight.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from tagkit_core import config_fields as fields
from tagkit_core.data import Sentence
from tagkit_core.embeddings import TokenEmbeddings
from tagkit_flair_embeddings.flair_embeddings import FlairEmbeddings

__all__ = ["PooledFlairEmbeddings", "POOLINGS"]

POOLINGS = ("min", "max", "mean", "fade")


class PooledFlairEmbeddings(TokenEmbeddings):
    """``[contextual vector ; pooled memory]`` (``2 * inner length`` dimensions).

    :param contextual_embeddings: a :class:`FlairEmbeddings` (or its ``name_or_path``).
    :param pooling: ``'min'``, ``'max'``, ``'mean'`` or ``'fade'``.
    :param only_capitalized: remember only words starting with a capital (less memory).
    """

    registry_name = "pooled-flair"

    def __init__(self, contextual_embeddings: FlairEmbeddings | str, pooling: str = "min",
                 only_capitalized: bool = False) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if not isinstance(contextual_embeddings, FlairEmbeddings):
            contextual_embeddings = FlairEmbeddings(contextual_embeddings)
        self.context_embeddings = contextual_embeddings
        self.pooling, self.only_capitalized = pooling, bool(only_capitalized)
        self.name = contextual_embeddings.name + "-context"
        self.reset_memory()

    @property
    def embedding_length(self) -> int:
        return 2 * self.context_embeddings.embedding_length

    @property
    def is_static(self) -> bool:
        return False  # the memory changes with every batch read

    def batching_lengths(self, sentences: Sequence[Sentence]) -> list[int]:
        """The inner FlairEmbeddings' character counts: the LM is the cost."""
        return self.context_embeddings.batching_lengths(sentences)

    def reset_memory(self) -> None:
        self.word_embeddings: dict[str, torch.Tensor] = {}
        self.word_count: dict[str, int] = {}

    def train(self, mode: bool = True) -> PooledFlairEmbeddings:
        super().train(mode)
        if mode:
            self.reset_memory()
        return self

    def _remember(self, word: str, vector: torch.Tensor) -> None:
        memory = self.word_embeddings.get(word)
        if memory is None:
            self.word_embeddings[word], self.word_count[word] = vector, 1
            return
        if self.pooling == "min":
            memory = torch.minimum(memory, vector)
        elif self.pooling == "max":
            memory = torch.maximum(memory, vector)
        elif self.pooling == "mean":
            memory = memory + vector
        else:  # fade
            memory = (memory + vector) / 2
        self.word_embeddings[word] = memory
        self.word_count[word] += 1

    def _embed_batch(self, sentences: Sequence[Sentence], storage=None) -> torch.Tensor:
        local = self.context_embeddings(sentences, storage=storage)
        lengths = [len(s) for s in sentences]
        mask = torch.arange(local.shape[1])[None, :] < torch.tensor(lengths)[:, None]
        mask = mask.to(local.device)
        vectors = local[mask]
        words = [token.text for sentence in sentences for token in sentence.tokens]
        detached = vectors.detach()
        for word, vector in zip(words, detached):
            if word and (not self.only_capitalized or word[0].isupper()):
                self._remember(word, vector)
        pooled = []
        for word, vector in zip(words, detached):
            memory = self.word_embeddings.get(word)
            if memory is None:
                pooled.append(vector)
            else:
                pooled.append(memory / self.word_count[word] if self.pooling == "mean"
                              else memory)
        memory_part = local.new_zeros(local.shape)
        if pooled:
            memory_part[mask] = torch.stack(pooled)
        return torch.cat([local, memory_part], dim=-1)

    def get_config(self) -> dict[str, Any]:
        return {"contextual_embeddings": self.context_embeddings, "pooling": self.pooling,
                "only_capitalized": self.only_capitalized}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PooledFlairEmbeddings:
        config = fields.checked_config(config, {
            "contextual_embeddings": (fields.instance(FlairEmbeddings), fields.REQUIRED),
            "pooling": (fields.one_of(*POOLINGS), "min"),
            "only_capitalized": (fields.boolean(), False)})
        return cls(**config)
