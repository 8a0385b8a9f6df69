"""Embedding storage modes: what ``embeddings_storage_mode='none' | 'cpu' | 'gpu'`` keeps.

Static embeddings (no trainable parameter, e.g. frozen GloVe) store what they compute on each
sentence (``sentence.embeddings[name]``) and reuse it when every sentence of a later batch has
it. After every batch the trainer and ``predict`` hand the batch to the storage mode, which
decides what stays: nothing (``none``: memory stays flat, everything is recomputed) or the
static tensors in CPU memory (``cpu``). Both ship with the core as built-in plugins
(:mod:`tagkit_core.default_plugins.core_components`), so the core trains alone; ``gpu`` and
heavier strategies come from plugins (``tagkit-storage``) and register the same way.

A run resolves its mode ONCE (:func:`resolve_storage_mode`, or :meth:`Model.storage_mode
<tagkit_core.model.Model.storage_mode>` inside a model) and passes the one object to what
embeds (``embeddings(sentences, storage=mode)``): no global or context state decides storing.
"""

from __future__ import annotations

import difflib
from typing import ClassVar, Sequence

import torch

from tagkit_core.data import Sentence
from tagkit_core.registry import get_registry

__all__ = ["StorageMode", "NoStorage", "CPUStorage", "KeepOnDevice", "keep_compact",
           "resolve_storage_mode", "get_storage_mode", "StorageModeNotFound"]

#: Modes known to live in a distribution that may not be installed, for the error's hint.
PLUGIN_MODES: dict[str, str] = {"gpu": "tagkit-storage"}


class StorageModeNotFound(LookupError):
    """No storage mode of that name is registered."""


class StorageMode:
    """Decides what happens to stored embeddings after a batch has been used."""

    registry_name: ClassVar[str] = ""
    #: False for a mode that keeps nothing after a batch: static embeddings given this mode
    #: then skip storing their output during the batch (it would be dropped right after).
    keeps_embeddings: ClassVar[bool] = True

    def __init__(self, device: torch.device | str | None = None) -> None:
        self.device = torch.device(device) if device is not None else torch.device("cpu")

    def after_batch(self, sentences: Sequence[Sentence]) -> None:  # pragma: no cover - abstract
        """Keep, move or drop the embeddings stored on ``sentences``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.registry_name!r})"


def keep_compact(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` detached, on ``device``, owning exactly its own bytes (no batch behind it).

    The core stores each sentence's rows as a view into the padded batch tensor, and a view
    keeps its whole padded batch alive (with shuffled EWT batches about three times the real
    tokens), so a view is copied out once; later batches reuse the compact tensor untouched.
    """
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


class KeepOnDevice(StorageMode):
    """Keep everything stored, detached and compact, on ``self.device`` (base of cpu/gpu)."""

    def after_batch(self, sentences: Sequence[Sentence]) -> None:
        device = self.device
        for sentence in sentences:
            stored = sentence.embeddings
            for name, tensor in stored.items():
                kept = keep_compact(tensor, device)
                if kept is not tensor:
                    stored[name] = kept


class CPUStorage(KeepOnDevice):
    """``cpu``: keep static embeddings in CPU memory, so later epochs reuse them."""

    registry_name = "cpu"

    def __init__(self, device: torch.device | str | None = None) -> None:
        # The trainer passes its own device; this mode stores on the CPU whatever it is.
        super().__init__(device="cpu")


def resolve_storage_mode(mode: str | StorageMode | None,
                         device: torch.device | str | None = None) -> StorageMode:
    """The storage mode object for a registry name, an instance (returned as it is) or None
    (``none``).

    :raises StorageModeNotFound: naming the registered modes, the closest one to a typo, and
        the distribution to install only when the mode lives in one that is not installed.
    """
    if isinstance(mode, StorageMode):
        return mode
    if mode is None:
        mode = "none"
    if not isinstance(mode, str):
        raise TypeError(f"embeddings storage mode must be a name or a StorageMode, got {mode!r}")
    registry = get_registry()
    names = sorted(c.name for c in registry.components("storage_mode"))
    if mode in names:
        return registry.resolve("storage_mode", mode)(device=device)
    raise StorageModeNotFound(_not_found_message(mode, names))


def _not_found_message(mode: str, names: list[str]) -> str:
    message = (f"no embeddings storage mode named {mode!r} (registered: "
               f"{', '.join(names) or 'none'})")
    close = [n for n in names if n.lower() == mode.lower()] or \
        difflib.get_close_matches(mode, names, n=1)
    if close:
        return message + f"; did you mean {close[0]!r}?"
    provider = PLUGIN_MODES.get(mode.lower())
    if provider is not None and not _installed(provider):
        return message + f"; {mode!r} is provided by {provider}: pip install {provider}"
    return message


def _installed(distribution: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


#: The name this function had before storage modes were resolved once per call.
get_storage_mode = resolve_storage_mode
