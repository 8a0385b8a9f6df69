"""The ``gpu`` storage mode, and the core's ``none`` and ``cpu`` under their old import path.

``none`` and ``cpu`` are built into the core (``tagkit_core.storage``), so the core trains with
no plugin installed; this distribution adds the modes that need more than the core has. See
the core module for the rules every mode follows (what is stored, detached, compacted) and this
distribution's README for what each one costs in memory.

``gpu`` (:class:`GPUStorage`)
    Keeps static embeddings in accelerator memory: the same bytes as ``cpu``, but on the GPU,
    so nothing travels per batch; fastest when the stored corpus fits next to the model and its
    activations.
"""

from __future__ import annotations

import torch

from tagkit_core.storage import CPUStorage, KeepOnDevice, NoStorage, keep_compact

__all__ = ["NoStorage", "CPUStorage", "GPUStorage", "keep_compact"]


class GPUStorage(KeepOnDevice):
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
