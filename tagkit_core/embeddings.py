"""The embedding interfaces: Embeddings, TokenEmbeddings, DocumentEmbeddings, StackedEmbeddings.

The contract keeps the hot path in tensors. A token embedding implements
:meth:`TokenEmbeddings._embed_batch`, which returns one padded ``(batch, max_len, dim)`` tensor
for a list of sentences (one lookup per batch, not per token). :meth:`TokenEmbeddings.forward`
adds the storage rule: a *static* embedding (no trainable parameter) whose tensors are already
stored on every sentence of the batch is not recomputed; otherwise it computes the batch and
stores each sentence's slice as ``sentence.embeddings[self.name]``. A storage mode
(``tagkit_core.storage``) decides after each batch what stays stored, so ``token.embedding``
works for users while the trainer never loops over tokens.

Every embedding is saved by configuration, not by pickling: ``get_config()`` returns the
constructor arguments as plain data (a nested embedding as the object itself) and
``from_config(config)`` rebuilds an instance, never reading a file, whose tensors then come from
the model file's state dict. Persistence recognises embeddings by ``component_kind``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from tagkit_core.config_fields import REQUIRED, checked_config, instances
from tagkit_core.data import Sentence
from tagkit_core.seeding import seeded_construction
from tagkit_core.storage import StorageMode

__all__ = ["Embeddings", "TokenEmbeddings", "DocumentEmbeddings", "StackedEmbeddings",
           "DOCUMENT_KEY", "longest_first", "length_groups", "pad_stack", "pad_ids", "stores"]

DOCUMENT_KEY = "__document__"

#: ``Embeddings.embed`` over more sentences than this embeds them in chunks of this many.
EMBED_CHUNK = 128


def stores(embedding: Embeddings, storage: StorageMode | None) -> bool:
    """Whether ``embedding`` stores what it computes on the sentences under ``storage``.

    Only static embeddings store (a trainable one's output changes every step). Under a mode
    that drops everything after each batch (``none``) storing a view per sentence and dropping
    it again costs time for nothing (about 3% of glove-only prediction). ``storage=None`` (a
    user calling ``embed`` or the module directly) stores, as Flair does.
    """
    return embedding.is_static and (storage is None or storage.keeps_embeddings)


def longest_first(embeddings: Embeddings, sentences: Sequence[Sentence], *,
                  keep_empty: bool = False) -> list[Sentence]:
    """The non-empty ``sentences`` (all with ``keep_empty``) in prediction order: by falling
    :meth:`Embeddings.batching_lengths` (ties keep their order)."""
    todo = list(sentences) if keep_empty else [s for s in sentences if len(s)]
    if not todo:
        return todo
    sizes = embeddings.batching_lengths(todo)
    if len(sizes) != len(todo):  # a plugin's mistake, named here rather than as an IndexError
        raise ValueError(f"{type(embeddings).__name__}.batching_lengths returned {len(sizes)} "
                         f"sizes for {len(todo)} sentences (one int per sentence expected)")
    order = sorted(range(len(todo)), key=sizes.__getitem__, reverse=True)
    return [todo[i] for i in order]


def length_groups(lengths: Sequence[int], size: int
                  ) -> tuple[list[list[int]], list[int], list[int]]:
    """A batch too wide for one pass, as passes over groups of at most ``size`` items of
    similar length (FlairEmbeddings' LM texts, a transformer's windows): the groups (item
    indexes, longest first, ties in their order), and each item's group and place in it."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__, reverse=True)
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    group_of, slot = [0] * len(lengths), [0] * len(lengths)
    for group, members in enumerate(groups):
        for place, item in enumerate(members):
            group_of[item], slot[item] = group, place
    return groups, group_of, slot


def pad_stack(tensors: Sequence[torch.Tensor], max_len: int | None = None) -> torch.Tensor:
    """Stack ``(len_i, dim)`` tensors into a zero-padded ``(batch, max_len, dim)`` tensor."""
    batch = nn.utils.rnn.pad_sequence(list(tensors), batch_first=True)
    if max_len is not None and batch.shape[1] < max_len:
        batch = nn.functional.pad(batch, (0, 0, 0, max_len - batch.shape[1]))
    return batch


def pad_ids(rows: Sequence[Sequence[int]], width: int | None = None, pad: int = 0
            ) -> torch.Tensor:
    """Lists of ids (word rows, tag ids) as one ``(len(rows), width)`` LongTensor, padded.

    One ``torch.tensor`` call over a flat list: about a third of the time of a tensor per
    row plus ``pad_sequence``, which is what a batch of new sentences used to cost.
    """
    width = max(map(len, rows), default=0) if width is None else width
    filler = [pad] * width
    flat: list[int] = []
    for row in rows:
        flat += row
        flat += filler[: width - len(row)]
    return torch.tensor(flat, dtype=torch.long).view(len(rows), width)


class Embeddings(nn.Module):
    """Base of every embedding: a torch module with a name, a length and a config."""

    #: What model files call this kind of component (persistence recognises embeddings by it).
    component_kind: ClassVar[str] = "embedding"
    registry_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every component's initial weights come from its own seeded generator, so the
        # tutorial's order (build, then train(seed=...)) is reproducible: tagkit_core.seeding.
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = seeded_construction(cls.__dict__["__init__"])

    def __init__(self) -> None:
        super().__init__()
        self.name: str = self.registry_name or type(self).__name__

    @property
    def embedding_length(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def is_static(self) -> bool:
        """True when nothing is trained, so computed vectors can be stored and reused."""
        return not any(p.requires_grad for p in self.parameters())

    @property
    def device(self) -> torch.device:
        for tensor in list(self.parameters()) + list(self.buffers()):
            return tensor.device
        return torch.device("cpu")

    def get_config(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """Constructor arguments as plain data (nested embeddings as objects); ``from_config``
        must accept them."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Embeddings:
        """Rebuild an instance without reading any file (tensors come from the state dict).

        The config comes from a file that may be hostile: an override checks every field
        (:mod:`tagkit_core.config_fields`) and never opens a path or URL the config names.
        """
        return cls(**config)

    def embed(self, sentences: Sentence | Sequence[Sentence]) -> list[Sentence]:
        """Compute and store embeddings on the sentences (as Flair's ``embed`` does).

        More than :data:`EMBED_CHUNK` sentences (a whole corpus) are embedded in chunks of
        that many, longest first by :meth:`batching_lengths`: each sentence keeps a view of its
        chunk's padded ``(chunk, longest, dim)`` tensor, so one call over a corpus would
        otherwise build, and keep alive, a tensor padded to the corpus's longest sentence."""
        if isinstance(sentences, Sentence):
            sentences = [sentences]
        sentences = list(sentences)
        todo = sentences
        if len(sentences) > EMBED_CHUNK:
            todo = longest_first(self, sentences, keep_empty=True)
        with torch.no_grad():
            for start in range(0, len(todo), EMBED_CHUNK):
                chunk = todo[start:start + EMBED_CHUNK]
                self.store(chunk, self(chunk))
        return sentences

    def batching_lengths(self, sentences: Sequence[Sentence]) -> list[int]:
        """Each sentence's size in the units this embedding's cost grows with.

        Prediction sorts by it, longest first, so that each mini-batch pads little. The
        default is the token count. A sub-word model counts its pieces: on TREC-6's test
        questions, batches of 32 sorted by words pad MiniLM's input to 6,996 positions for
        5,162 real pieces, sorted by pieces to 5,528."""
        return [len(sentence) for sentence in sentences]

    def store(self, sentences: Sequence[Sentence], batch: torch.Tensor) -> None:  # pragma: no cover
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"name={self.name!r}, length={self.embedding_length}"


class TokenEmbeddings(Embeddings):
    """Embeddings with one vector per token."""

    def _embed_batch(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                     ) -> torch.Tensor:  # pragma: no cover
        """Return ``(len(sentences), max_len, embedding_length)``, zero beyond each length.

        ``storage`` is the run's storage mode: an embedding that wraps others passes it on
        (``inner(sentences, storage=storage)``); others ignore it.
        """
        raise NotImplementedError

    def forward(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                ) -> torch.Tensor:
        max_len = max((len(s) for s in sentences), default=0)
        # Stored vectors first: a trained embedding never has any, and is_static walks the
        # module's parameters.
        if sentences and all(self.name in s.embeddings for s in sentences) and self.is_static:
            stored = [s.embeddings[self.name] for s in sentences]
            return pad_stack(stored, max_len).to(self.device, non_blocking=True)
        batch = self._embed_batch(sentences, storage=storage)
        if stores(self, storage):
            self.store(sentences, batch.detach())
        return batch

    def store(self, sentences: Sequence[Sentence], batch: torch.Tensor) -> None:
        for i, sentence in enumerate(sentences):
            sentence.embeddings[self.name] = batch[i, : len(sentence)]


class DocumentEmbeddings(Embeddings):
    """Embeddings with one vector per sentence, stored as ``sentence.embedding``."""

    #: ``ModelTrainer.train`` options a model over these embeddings trains with unless the
    #: call gives them (see ``Model.training_defaults``).
    training_defaults: ClassVar[dict[str, Any]] = {}

    def _embed_batch(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                     ) -> torch.Tensor:  # pragma: no cover
        """Return ``(len(sentences), embedding_length)`` (``storage``: as for tokens)."""
        raise NotImplementedError

    def forward(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                ) -> torch.Tensor:
        if sentences and all(self.name in s.embeddings for s in sentences) and self.is_static:
            return torch.stack([s.embeddings[self.name] for s in sentences]).to(self.device)
        batch = self._embed_batch(sentences, storage=storage)
        if stores(self, storage):
            self.store(sentences, batch.detach())
        return batch

    def store(self, sentences: Sequence[Sentence], batch: torch.Tensor) -> None:
        # Under its own name (so two document embeddings never mix) and as the sentence's
        # ``embedding``.
        for i, sentence in enumerate(sentences):
            sentence.embeddings[self.name] = sentence.embeddings[DOCUMENT_KEY] = batch[i]


class StackedEmbeddings(TokenEmbeddings):
    """Several token embeddings side by side: each token's vector is their concatenation."""

    registry_name = "stacked"

    def __init__(self, embeddings: Sequence[TokenEmbeddings]) -> None:
        super().__init__()
        if not embeddings:
            raise ValueError("StackedEmbeddings needs at least one embedding")
        names = [e.name for e in embeddings]
        if len(set(names)) != len(names):
            raise ValueError(f"stacked embeddings need distinct names, got {names}")
        self.embeddings = nn.ModuleList(embeddings)
        self.name = "stack(" + ",".join(names) + ")"

    @property
    def embedding_length(self) -> int:
        return sum(e.embedding_length for e in self.embeddings)

    def forward(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                ) -> torch.Tensor:
        parts = [embedding(sentences, storage=storage) for embedding in self.embeddings]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def batching_lengths(self, sentences: Sequence[Sentence]) -> list[int]:
        """The largest of the parts' sizes: the costliest part decides (a transformer's
        pieces outnumber the words)."""
        parts = [embedding.batching_lengths(sentences) for embedding in self.embeddings]
        return [max(sizes) for sizes in zip(*parts)]

    def store(self, sentences: Sequence[Sentence], batch: torch.Tensor) -> None:
        offset = 0
        for embedding in self.embeddings:
            length = embedding.embedding_length
            embedding.store(sentences, batch[..., offset: offset + length])
            offset += length

    def get_config(self) -> dict[str, Any]:
        return {"embeddings": list(self.embeddings)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StackedEmbeddings:
        config = checked_config(config, {"embeddings": (instances(TokenEmbeddings), REQUIRED)})
        return cls(config["embeddings"])

    def __iter__(self):
        return iter(self.embeddings)

    def __len__(self) -> int:
        return len(self.embeddings)
