"""tagkit-storage: the embedding storage strategies ``none``, ``cpu`` and ``gpu``.

``ModelTrainer.train(embeddings_storage_mode="cpu")`` finds them by registry name; Python users
may also pass an instance (``CPUStorage()``). See :mod:`tagkit_storage.modes` (and this
distribution's README) for what each one keeps and what it costs in memory. The classes load
on first access, so importing the package does not import torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
__all__ = ["NoStorage", "CPUStorage", "GPUStorage", "__version__"]


def __getattr__(name: str) -> Any:
    if name not in ("NoStorage", "CPUStorage", "GPUStorage"):
        raise AttributeError(f"module 'tagkit_storage' has no attribute {name!r}")
    value = getattr(import_module("tagkit_storage.modes"), name)
    globals()[name] = value
    return value
