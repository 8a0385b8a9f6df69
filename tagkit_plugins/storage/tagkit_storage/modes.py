"""The three storage modes: what stays on the sentences after each batch, and where.

The core's ``TokenEmbeddings.forward`` stores the output of every *static* embedding (one with
no trainable parameter, such as frozen GloVe) on each sentence of the batch, as
``sentence.embeddings[name]``, and reuses it when every sentence of a later batch has it.
Trainable embeddings (CharacterEmbeddings, a fine-tuned table) are never stored by the core,
since their output changes each step. The trainer, and ``predict``, call
``mode.after_batch(batch)`` after every batch; the mode then decides what stays:

``none`` (:class:`NoStorage`)
    Drops every stored embedding (and, as its ``keeps_embeddings`` is False, the trainer and
    ``predict`` tell static embeddings not to store anything during the batch either). Extra
    memory: none beyond the batch being processed, so the memory stays flat however large the
    corpus. Cost: static embeddings are recomputed every epoch (a table lookup for GloVe, a
    full forward pass for a frozen language model).

``cpu`` (:class:`CPUStorage`)
    Keeps them in CPU memory (moved there if they were computed elsewhere). Extra memory:
    ``tokens x static dimensions x 4 bytes`` (float32) for every sentence seen, e.g. the UD
    English EWT training set (204,577 tokens) with GloVe 50d is about 41 MB, with 300-d
    fastText about 245 MB, with a frozen 768-d transformer layer about 630 MB. Gain: from the
    second epoch on, static embeddings cost a copy instead of a computation. On a GPU machine
    they travel to the GPU again each batch.

``gpu`` (:class:`GPUStorage`)
    Keeps them in accelerator memory: the same bytes, but on the GPU, so nothing travels per
    batch; fastest when the stored corpus fits next to the model and its activations.

Every kept tensor is detached (so no autograd graph is held alive) and compacted: the core
stores each sentence's rows as a view into the padded batch tensor, and a view keeps its whole
padded batch alive. With shuffled EWT batches that padding is about 3 times the real tokens,
so ``cpu``/``gpu`` copy a view out once (later batches reuse the compact tensor untouched).

The rule is simple and honest: a storage mode only sees sentences, and what is in
``sentence.embeddings`` is what static embeddings (or a user's explicit ``.embed()``) put
there; ``cpu`` and ``gpu`` keep all of it, ``none`` none of it. ``sentence.cache`` (token and
character ids, a few integers per token) is not touched by any mode.
"""

from __future__ import annotations

from typing import Sequence

import torch

from tagkit_core.data import Sentence
from tagkit_core.storage import StorageMode

__all__ = ["NoStorage", "CPUStorage", "GPUStorage", "keep_compact"]


def keep_compact(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` detached, on ``device``, owning exactly its own bytes (no batch behind it)."""
    if tensor.requires_grad:
        tensor = tensor.detach()
    if tensor.device != device:
        moved = tensor.to(device)
        if moved is not tensor:
            return moved  # a copy of the view's elements only: already compact
    if not tensor.is_contiguous() or \
            tensor.untyped_storage().nbytes() > tensor.numel() * tensor.element_size():
        return tensor.clone(memory_format=torch.contiguous_format)
    return tensor


class NoStorage(StorageMode):
    """``none``: forget every stored embedding after each batch (flat memory, recompute)."""

    registry_name = "none"
    keeps_embeddings = False  # so nothing is stored in the first place

    def after_batch(self, sentences: Sequence[Sentence]) -> None:
        for sentence in sentences:
            sentence.clear_embeddings()


class _KeepOnDevice(StorageMode):
    """Keep everything stored, detached and compact, on ``self.device``."""

    def after_batch(self, sentences: Sequence[Sentence]) -> None:
        device = self.device
        for sentence in sentences:
            stored = sentence.embeddings
            for name, tensor in stored.items():
                kept = keep_compact(tensor, device)
                if kept is not tensor:
                    stored[name] = kept


class CPUStorage(_KeepOnDevice):
    """``cpu``: keep static embeddings in CPU memory, so later epochs reuse them."""

    registry_name = "cpu"

    def __init__(self, device: torch.device | str | None = None) -> None:
        # The trainer passes its own device; this mode stores on the CPU whatever it is.
        super().__init__(device="cpu")


class GPUStorage(_KeepOnDevice):
    """``gpu``: keep static embeddings in CUDA memory, so nothing is copied per batch.

    :param device: a CUDA device (``'cuda:1'``); anything else, or None, means ``'cuda'``.
    :raises RuntimeError: when CUDA is not available, at construction, so a run does not
        start and fail (or silently fall back) later.
    """

    registry_name = "gpu"

    def __init__(self, device: torch.device | str | None = None) -> None:
        if not torch.cuda.is_available():
            raise RuntimeError(
                "embeddings_storage_mode='gpu' keeps embeddings in CUDA memory, but CUDA is not "
                "available here (torch.cuda.is_available() is False); use 'cpu' (keeps them in "
                "RAM) or 'none' (keeps nothing)")
        device = torch.device(device) if device is not None else torch.device("cuda")
        if device.type != "cuda":
            device = torch.device("cuda")
        if device.index is None:  # "cuda" means the current device; tensors say "cuda:0"
            device = torch.device("cuda", torch.cuda.current_device())
        super().__init__(device=device)
