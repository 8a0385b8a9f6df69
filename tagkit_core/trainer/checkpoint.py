"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model (its JSON header and state dict), the optimizer and scheduler
states, every random number generator's state, the finished epoch, the run's options and its
history. It is written with ``torch.save`` but contains only tensors and plain Python values, so
it is read with ``torch.load(weights_only=True)``: opening a checkpoint cannot run code. It is
written to a temporary file and renamed, so a crash or SIGKILL mid-write leaves the previous
checkpoint whole.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch

from tagkit_core.persistence import atomic_write, model_header

__all__ = ["save_checkpoint", "read_checkpoint", "capture_rng_state", "restore_rng_state",
           "optimizer_path", "optimizer_class"]

CHECKPOINT_VERSION = 1


def capture_rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(),
                             "python": json.dumps(random.getstate())}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def optimizer_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def optimizer_class(path: str) -> type:
    """The optimizer class named in a checkpoint; only ``torch.optim`` classes are accepted."""
    import importlib

    module_name, _, name = path.rpartition(".")
    if not module_name.startswith("torch.optim"):
        raise ValueError(f"checkpoint names optimizer {path!r}; only torch.optim classes load")
    cls = getattr(importlib.import_module(module_name), name)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"{path!r} is not a torch optimizer")
    return cls


def save_checkpoint(path: Path, *, model, optimizer, scheduler, epoch: int, config: dict,
                    history: dict, best_score: float | None, extra: dict | None = None) -> None:
    payload = {
        "checkpoint_version": CHECKPOINT_VERSION,
        "model_header": json.dumps(model_header(model)),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer_class": optimizer_path(type(optimizer)),
        "optimizer_state": optimizer.state_dict(),
        "scheduler_state": json.dumps(scheduler.state_dict()),
        "rng_state": capture_rng_state(),
        "epoch": epoch,
        "config": json.dumps(config),
        "history": json.dumps(history),
        "best_score": best_score,
        "extra": json.dumps(extra or {}),
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely; JSON fields come back decoded."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError or RuntimeError for bad files
        raise ValueError(f"{path} is not a readable tagkit checkpoint: {error}") from None
    if not isinstance(payload, dict) or payload.get("checkpoint_version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path} is not a tagkit checkpoint (version {CHECKPOINT_VERSION})")
    payload.setdefault("extra", "{}")
    for key in ("model_header", "scheduler_state", "config", "history", "extra"):
        payload[key] = json.loads(payload[key])
    return payload
