"""The StorageMode interface behind ``embeddings_storage_mode='none' | 'cpu' | 'gpu'``.

Static embeddings store what they compute on each sentence (``sentence.embeddings``). After
every batch the trainer and ``predict`` hand the batch to the storage mode, which decides what
stays: nothing (memory stays flat, everything is recomputed), the static tensors in CPU memory,
or the static tensors on the accelerator. The strategies themselves are plugins
(``tagkit-storage``), chosen by name through the registry.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import torch

from tagkit_core.data import Sentence

__all__ = ["StorageMode", "get_storage_mode"]


class StorageMode:
    """Decides what happens to stored embeddings after a batch has been used."""

    registry_name: ClassVar[str] = ""
    #: False for a mode that keeps nothing after a batch: static embeddings then skip storing
    #: their output during the batch (``tagkit_core.embeddings.embeddings_stored``).
    keeps_embeddings: ClassVar[bool] = True

    def __init__(self, device: torch.device | str | None = None) -> None:
        self.device = torch.device(device) if device is not None else torch.device("cpu")

    def after_batch(self, sentences: Sequence[Sentence]) -> None:  # pragma: no cover - abstract
        """Keep, move or drop the embeddings stored on ``sentences``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.registry_name!r})"


def get_storage_mode(mode: str | StorageMode, device: torch.device | str | None = None
                     ) -> StorageMode:
    """A storage mode instance from a registry name (or the instance itself)."""
    if isinstance(mode, StorageMode):
        return mode
    from tagkit_core.registry import get_registry

    cls = get_registry().resolve("storage_mode", mode, distribution_hint="tagkit-storage")
    return cls(device=device)
