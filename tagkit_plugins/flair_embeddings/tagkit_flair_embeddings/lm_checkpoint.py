"""Checkpoints of a language-model run: everything to continue it bit for bit, as safe data.

One safetensors file (``checkpoint.pt`` in the run's folder), written atomically:

* tensors ``model/<state key>`` and ``rng/torch`` (and ``rng/cuda/<i>``);
* metadata ``"tagkit_lm_checkpoint"``: JSON with the language model's config (the same strict
  schema as a language model file), the position (``epoch``, the next ``split``), the
  learning rate, the annealing state, the history, the run's options and Python's random
  state; ``"tagkit_lm_checkpoint_sha256"`` its checksum with the tensors'.

The optimizer is plain SGD (Flair's choice for language models), whose whole state is its
learning rate, so no optimizer tensors are needed. Nothing is unpickled when reading.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch

from tagkit_core import config_fields as fields
from tagkit_core.files import atomic_write
from tagkit_core.model_schema import CheckpointError, parse_json
from tagkit_core.tensor_files import (
    check_shapes,
    independent_cpu_tensors,
    load_tensors,
    open_tensor_file,
    verify_digest,
    write_tensor_file,
)
from tagkit_core.trainer.checkpoint import capture_rng_state
from tagkit_flair_embeddings.language_model import LanguageModel, language_model_from_config

__all__ = ["save_lm_checkpoint", "read_lm_checkpoint"]

KEY = "tagkit_lm_checkpoint"
FORMAT = "tagkit-lm-checkpoint"
VERSION = 1


def save_lm_checkpoint(path: Path, model: LanguageModel, state: dict[str, Any]) -> None:
    """Write ``model`` and the run ``state`` (plain JSON: epoch, split, learning_rate,
    best_loss, bad_splits, history, options) with the generators' states."""
    rng = capture_rng_state()
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    tensors["rng/torch"] = rng["torch"]
    for i, cuda_state in enumerate(rng.get("cuda", [])):
        tensors[f"rng/cuda/{i}"] = cuda_state
    payload = {"format": FORMAT, "version": VERSION, "language_model": model.get_config(),
               "python_rng": rng["python"], "cuda_devices": len(rng.get("cuda", [])), **state}
    text = json.dumps(payload, allow_nan=True)  # a fresh run's best loss is Infinity
    tensors = independent_cpu_tensors(tensors)
    atomic_write(path, lambda tmp: write_tensor_file(tmp, KEY, text, tensors))


def _state_fields() -> dict[str, tuple[Any, Any]]:
    count = fields.integer(0, 10**9)
    loss = fields.either(fields.number(0.0), fields.one_of(float("inf")))
    return {
        "format": (fields.one_of(FORMAT), fields.REQUIRED),
        "version": (fields.one_of(VERSION), fields.REQUIRED),
        "language_model": (lambda value: value, fields.REQUIRED),  # checked when built
        "python_rng": (lambda value: value, fields.REQUIRED),  # checked below
        "cuda_devices": (fields.integer(0, 1024), fields.REQUIRED),
        "epoch": (count, fields.REQUIRED), "split": (count, fields.REQUIRED),
        "learning_rate": (fields.number(0.0), fields.REQUIRED),
        "best_loss": (loss, fields.REQUIRED), "bad_splits": (count, fields.REQUIRED),
        "history": (lambda value: _history(value), fields.REQUIRED),
        "options": (lambda value: _plain_dict(value), fields.REQUIRED),
    }


def _history(value: Any) -> list:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise fields.ConfigError("history", "must be a list of objects")
    return value


def _plain_dict(value: Any) -> dict:
    if not isinstance(value, dict) or not all(
            isinstance(v, (int, float, bool, str)) for v in value.values()):
        raise fields.ConfigError("options", "must be an object of plain values")
    return value


def _python_rng(value: Any, source: str) -> tuple:
    fresh = random.getstate()
    if not (isinstance(value, list) and len(value) == 3 and value[0] == fresh[0]
            and isinstance(value[1], list) and len(value[1]) == len(fresh[1])
            and all(isinstance(n, int) and 0 <= n < 2**32 for n in value[1])
            and (value[2] is None or isinstance(value[2], float))):
        raise CheckpointError(f"{source}: python_rng must be a random.getstate() value")
    return value[0], tuple(value[1]), value[2]


def read_lm_checkpoint(path: str | Path) -> tuple[LanguageModel, dict[str, Any]]:
    """The checkpointed language model (weights loaded) and the run state, with ``rng`` ready
    for :func:`tagkit_core.trainer.checkpoint.restore_rng_state`."""
    opened = open_tensor_file(path, "tagkit language model checkpoint", CheckpointError)
    source = str(opened.path)
    if KEY not in opened.metadata:
        raise CheckpointError(f"{source} is a safetensors file but not a language model "
                              "checkpoint")
    payload = parse_json(opened.metadata[KEY], source, "the checkpoint metadata",
                         CheckpointError)
    try:
        state = fields.checked_config(payload, _state_fields())
        with torch.device("meta"):  # compared with the file before anything is allocated
            probe = language_model_from_config(state["language_model"])
    except fields.ConfigError as error:
        raise CheckpointError(f"{source}: {error}") from None
    python = _python_rng(state["python_rng"], source)
    model_shapes = {k[len("model/"):]: shape for k, shape in opened.shapes.items()
                    if k.startswith("model/")}
    check_shapes(probe, model_shapes, f"{source}: language_model", CheckpointError)
    rng_keys = {"rng/torch"} | {f"rng/cuda/{i}" for i in range(state["cuda_devices"])}
    others = {k for k in opened.shapes if not k.startswith("model/")}
    if others != rng_keys:
        raise CheckpointError(f"{source}: the checkpoint's other tensors are "
                              f"{sorted(others)[:5]}, expected {sorted(rng_keys)}")
    model = language_model_from_config(state["language_model"])
    tensors = load_tensors(opened, CheckpointError)
    verify_digest(opened, KEY, tensors, CheckpointError)
    try:
        model.load_state_dict({k[len("model/"):]: v for k, v in tensors.items()
                               if k.startswith("model/")}, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{source}: the tensors do not fit the model: {error}") from None
    if tensors["rng/torch"].shape != torch.get_rng_state().shape:
        raise CheckpointError(f"{source}: rng/torch is not a torch generator state")
    state["rng"] = {"torch": tensors["rng/torch"], "python": python,
                    "cuda": [tensors[f"rng/cuda/{i}"] for i in range(state["cuda_devices"])]}
    return model, state
