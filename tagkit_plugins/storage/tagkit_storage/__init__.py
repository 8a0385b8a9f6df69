"""tagkit-storage: the embedding storage strategies ``none``, ``cpu`` and ``gpu``.

``ModelTrainer.train(embeddings_storage_mode="cpu")`` finds them by registry name; Python users
may also pass an instance (``CPUStorage()``). See :mod:`tagkit_storage.modes` (and this
distribution's README) for what each one keeps and what it costs in memory. The classes load
on first access, so importing the package does not import torch.
"""

from __future__ import annotations

from tagkit_core.lazy import lazy_attributes

__all__ = ["NoStorage", "CPUStorage", "GPUStorage", "__version__"]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    name: "tagkit_storage.modes" for name in ("NoStorage", "CPUStorage", "GPUStorage")},
    "tagkit-storage")
