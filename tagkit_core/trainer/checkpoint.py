"""Checkpoints: everything needed to continue a run exactly where it stopped, as safe data.

A checkpoint is one safetensors file, like a model file (:mod:`tagkit_core.tensor_files`):

* tensors ``model/<state key>`` (the model's state dict), ``optimizer/...`` (each tensor of the
  optimizer's state, named by its place: ``optimizer/state/0/momentum_buffer``), ``rng/torch``
  and ``rng/cuda/<i>`` (generator states as uint8), and ``scheduler/...`` / ``extra/...`` should
  those hold tensors;
* one JSON metadata entry ``"tagkit_checkpoint"`` (and its SHA-256 in
  ``"tagkit_checkpoint_sha256"``) with the format and checkpoint version, the model header (the
  same schema as a model file's), the optimizer class (``torch.optim`` only), the non-tensor
  parts of the optimizer and scheduler states (a tensor appears as ``{"tagkit_tensor": name}``),
  Python's random state, the finished epoch, the run's options, its history, the best score and
  an ``extra`` dict the trainer passes through.

Reading checks that JSON against a schema and the checksum before anything is used, so each
fault is a :class:`~tagkit_core.model_schema.CheckpointError` naming the file and the field.
Nothing is unpickled (``torch.load`` is not used). The file is written to a temporary file and
renamed, so a crash or SIGKILL mid-write leaves the previous checkpoint whole.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch

from tagkit_core.files import atomic_write
from tagkit_core.model_schema import TENSOR_KEY, CheckpointError, parse_json
from tagkit_core.persistence import build_model, check_header, model_header
from tagkit_core.tensor_files import (
    dtype_name,
    independent_cpu_tensors,
    load_tensors,
    open_tensor_file,
    verify_digest,
    write_tensor_file,
)

__all__ = ["save_checkpoint", "read_checkpoint", "checkpoint_model", "capture_rng_state",
           "restore_rng_state", "optimizer_path", "optimizer_class", "CheckpointError"]

CHECKPOINT_FORMAT = "tagkit-checkpoint"
CHECKPOINT_VERSION = 2
METADATA_KEY = "tagkit_checkpoint"
_FIELDS = {"format", "checkpoint_version", "model_header", "optimizer_class", "optimizer_state",
           "scheduler_state", "rng_state", "epoch", "config", "history", "best_score", "extra"}


# -- random generators ----------------------------------------------------------------------------
def capture_rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# -- optimizers -----------------------------------------------------------------------------------
def optimizer_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def optimizer_class(path: str, given: type | None = None) -> type:
    """The optimizer class named in a checkpoint: a ``torch.optim`` class, looked up by name,
    or ``given``, a class of the caller's own (its optimizer outside torch.optim), when the
    checkpoint names exactly that class. A checkpoint never makes tagkit import other code."""
    import importlib

    if not isinstance(path, str):
        raise ValueError(f"an optimizer class path must be a string, got {path!r:.60}")
    if given is not None:
        if optimizer_path(given) != path:
            raise ValueError(f"the checkpoint's run trained with {path!r:.80}, not with the "
                             f"{optimizer_path(given)!r:.80} passed")
        return given
    module_name, _, name = path.rpartition(".")
    if module_name != "torch.optim" and not module_name.startswith("torch.optim."):
        raise ValueError(f"checkpoint names optimizer {path!r:.80}, not a torch.optim class; "
                         "a checkpoint imports no other code, so pass the class itself: "
                         "ModelTrainer.load_checkpoint(path, corpus, optimizer=...)")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise ValueError(f"{path!r:.80} names no class in torch.optim") from None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"{path!r:.80} is not a torch optimizer")
    return cls


# -- writing --------------------------------------------------------------------------------------
def _split(value: Any, name: str, tensors: dict[str, torch.Tensor]) -> Any:
    """``value`` as JSON, each tensor moved into ``tensors`` under its place's name."""
    if isinstance(value, torch.Tensor):
        tensors[name] = value
        return {TENSOR_KEY: name}
    if isinstance(value, dict):
        if TENSOR_KEY in value or not all(isinstance(key, str) for key in value):
            raise TypeError(f"{name}: checkpoint dicts need string keys other than "
                            f"{TENSOR_KEY!r}")
        return {key: _split(item, f"{name}/{key}", tensors) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split(item, f"{name}/{i}", tensors) for i, item in enumerate(value)]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{name}: a {type(value).__name__} cannot be saved in a checkpoint")


def save_checkpoint(path: Path, *, model, optimizer, scheduler, epoch: int, config: dict,
                    history: dict, best_score: float | None, extra: dict | None = None) -> None:
    tensors: dict[str, torch.Tensor] = {f"model/{k}": v for k, v in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    optimizer_json = {
        "state": [[int(param), _split(state, f"optimizer/state/{param}", tensors)]
                  for param, state in optimizer_state["state"].items()],
        "param_groups": _split(optimizer_state["param_groups"], "optimizer/param_groups",
                               tensors)}
    rng = capture_rng_state()
    tensors["rng/torch"] = rng["torch"]
    for i, state in enumerate(rng.get("cuda", [])):
        tensors[f"rng/cuda/{i}"] = state
    payload = {
        "format": CHECKPOINT_FORMAT, "checkpoint_version": CHECKPOINT_VERSION,
        "model_header": model_header(model),
        "optimizer_class": optimizer_path(type(optimizer)),
        "optimizer_state": optimizer_json,
        "scheduler_state": _split(scheduler.state_dict(), "scheduler", tensors),
        "rng_state": {"python": rng["python"], "cuda_devices": len(rng.get("cuda", []))},
        "epoch": epoch, "config": config, "history": history, "best_score": best_score,
        "extra": _split(dict(extra or {}), "extra", tensors),
    }
    text = json.dumps(payload)  # Infinity allowed: a fresh scheduler's best score is -inf
    tensors = independent_cpu_tensors(tensors)
    atomic_write(path, lambda tmp: write_tensor_file(tmp, METADATA_KEY, text, tensors))


# -- reading --------------------------------------------------------------------------------------
def read_checkpoint(path: str | Path, optimizer: type | None = None) -> dict[str, Any]:
    """Read and check a checkpoint: the fields :func:`save_checkpoint` wrote, decoded
    (``optimizer``: the run's optimizer class when it is not a torch.optim one).

    Returns ``checkpoint_version``, ``model_header``, ``model_state`` (tensors),
    ``optimizer_class``, ``optimizer_state`` and ``scheduler_state`` (as their ``state_dict``
    methods return them), ``rng_state``, ``epoch``, ``config``, ``history``, ``best_score``
    and ``extra``. Every fault is a :class:`CheckpointError` naming the file and the field.
    """
    opened = open_tensor_file(path, "readable tagkit checkpoint", CheckpointError)
    source = str(opened.path)
    if METADATA_KEY not in opened.metadata:
        what = "a tagkit model file" if "tagkit" in opened.metadata else "a safetensors file"
        raise CheckpointError(f"{source} is {what}, not a readable tagkit checkpoint")
    payload = parse_json(opened.metadata[METADATA_KEY], source, "the checkpoint metadata",
                         CheckpointError)
    _check(payload, source, opened.shapes, optimizer)
    tensors = load_tensors(opened, CheckpointError)
    verify_digest(opened, METADATA_KEY, tensors, CheckpointError)

    def joined(value: Any) -> Any:
        if isinstance(value, dict):
            if TENSOR_KEY in value:
                return tensors[value[TENSOR_KEY]]
            return {key: joined(item) for key, item in value.items()}
        if isinstance(value, list):
            return [joined(item) for item in value]
        return value

    optimizer = payload["optimizer_state"]
    count = payload["rng_state"]["cuda_devices"]
    return {
        "checkpoint_version": payload["checkpoint_version"],
        "model_header": payload["model_header"],
        "model_state": {k[len("model/"):]: v for k, v in tensors.items()
                        if k.startswith("model/")},
        "optimizer_class": payload["optimizer_class"],
        "optimizer_state": {"state": {param: joined(state) for param, state in optimizer["state"]},
                            "param_groups": joined(optimizer["param_groups"])},
        "scheduler_state": joined(payload["scheduler_state"]),
        "rng_state": {"torch": tensors["rng/torch"], "python": payload["rng_state"]["python"],
                      "cuda": [tensors[f"rng/cuda/{i}"] for i in range(count)]},
        "epoch": payload["epoch"], "config": payload["config"], "history": payload["history"],
        "best_score": payload["best_score"], "extra": joined(payload["extra"]),
    }


def checkpoint_model(payload: dict[str, Any], path: str | Path) -> Any:
    """The model of a :func:`read_checkpoint` result, built under the model-file guards
    (meta-device build compared with the checkpoint's tensors first), on the CPU."""
    state = payload["model_state"]
    shapes = {k: (tuple(v.shape), dtype_name(v.dtype)) for k, v in state.items()}
    model = build_model(payload["model_header"]["model"], shapes, lambda: state,
                        source=str(path), where="model_header.model", device="cpu")
    model.model_card = payload["model_header"].get("model_card")  # the run's card so far
    return model


def _fail(source: str, field: str, expected: str, value: Any) -> CheckpointError:
    shown = json.dumps(value)[:60] if isinstance(value, (str, int, float, bool, type(None))) \
        else type(value).__name__
    return CheckpointError(f"{source}: {field} must be {expected}, got {shown}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(payload: Any, source: str, shapes: dict[str, tuple[tuple[int, ...], str]],
           optimizer: type | None = None) -> None:
    """The checkpoint schema: every field tagkit reads, and every tensor reference."""
    if not isinstance(payload, dict):
        raise _fail(source, "the checkpoint metadata", "a JSON object", payload)
    if set(payload) != _FIELDS:
        missing, extra = sorted(_FIELDS - set(payload)), sorted(set(payload) - _FIELDS)
        raise CheckpointError(f"{source}: the checkpoint metadata must have the fields "
                              f"{sorted(_FIELDS)}; " + (f"missing {missing}" if missing
                                                        else f"unknown {extra}"))
    if payload["format"] != CHECKPOINT_FORMAT:
        raise _fail(source, "format", repr(CHECKPOINT_FORMAT), payload["format"])
    if payload["checkpoint_version"] != CHECKPOINT_VERSION or \
            not _is_int(payload["checkpoint_version"]):
        raise _fail(source, "checkpoint_version", f"{CHECKPOINT_VERSION} (this tagkit-core's "
                    "checkpoint version)", payload["checkpoint_version"])
    check_header(payload["model_header"], source, "model_header", CheckpointError)
    try:
        optimizer_class(payload["optimizer_class"], optimizer)
    except ValueError as error:
        raise CheckpointError(f"{source}: optimizer_class: {error}") from None
    epoch = payload["epoch"]
    if not _is_int(epoch) or epoch < 0:
        raise _fail(source, "epoch", "an integer >= 0", epoch)
    best = payload["best_score"]
    if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))):
        raise _fail(source, "best_score", "a number or null", best)
    for name in ("config", "scheduler_state", "extra", "history"):
        if not isinstance(payload[name], dict):
            raise _fail(source, name, "a JSON object", payload[name])
    for key, values in payload["history"].items():
        if not isinstance(values, list):
            raise _fail(source, f"history.{key}", "a list", values)
    _check_optimizer(payload["optimizer_state"], source)
    _check_rng(payload["rng_state"], source, shapes)
    _check_tensor_refs(payload, source, shapes)


def _check_optimizer(state: Any, source: str) -> None:
    if not isinstance(state, dict) or set(state) != {"state", "param_groups"}:
        raise _fail(source, "optimizer_state", 'an object with "state" and "param_groups"',
                    state)
    if not isinstance(state["state"], list):
        raise _fail(source, "optimizer_state.state", "a list of [parameter, state]", state["state"])
    for i, item in enumerate(state["state"]):
        if not (isinstance(item, list) and len(item) == 2 and _is_int(item[0])
                and isinstance(item[1], dict)):
            raise _fail(source, f"optimizer_state.state[{i}]", "[parameter id, {state}]", item)
    groups = state["param_groups"]
    if not isinstance(groups, list):
        raise _fail(source, "optimizer_state.param_groups", "a list", groups)
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or not isinstance(group.get("params"), list) or \
                not all(_is_int(p) for p in group["params"]):
            raise _fail(source, f"optimizer_state.param_groups[{i}]",
                        'an object whose "params" is a list of parameter ids', group)


def _check_rng(state: Any, source: str, shapes) -> None:
    if not isinstance(state, dict) or set(state) != {"python", "cuda_devices"}:
        raise _fail(source, "rng_state", 'an object with "python" and "cuda_devices"', state)
    python = state["python"]
    fresh = random.getstate()
    if not (isinstance(python, list) and len(python) == 3 and python[0] == fresh[0]
            and isinstance(python[1], list) and len(python[1]) == len(fresh[1])
            and all(_is_int(n) and 0 <= n < 2 ** 32 for n in python[1])
            and (python[2] is None or isinstance(python[2], float))):
        raise _fail(source, "rng_state.python", "a Python random.getstate() value", python)
    count = state["cuda_devices"]
    if not _is_int(count) or not 0 <= count <= 1024:
        raise _fail(source, "rng_state.cuda_devices", "an integer >= 0", count)
    wanted = tuple(torch.get_rng_state().shape)
    found = shapes.get("rng/torch")
    if found != (wanted, "U8"):
        raise CheckpointError(f"{source}: tensor rng/torch must be the torch generator state "
                              f"({list(wanted)} U8), got "
                              + ("nothing" if found is None else f"{list(found[0])} {found[1]}"))
    for i in range(count):
        found = shapes.get(f"rng/cuda/{i}")
        if found is None or len(found[0]) != 1 or found[0][0] == 0 or found[1] != "U8":
            raise CheckpointError(f"{source}: tensor rng/cuda/{i} must be a CUDA generator "
                                  "state (a non-empty U8 vector)")


def _check_tensor_refs(payload: dict[str, Any], source: str, shapes) -> None:
    """Every ``{"tagkit_tensor": name}`` names one of the file's tensors, and every tensor of
    the file is the model's, a generator's, or referenced."""
    referenced: set[str] = set()
    todo = [(payload[name], name) for name in ("optimizer_state", "scheduler_state", "extra")]
    while todo:
        value, where = todo.pop()
        if isinstance(value, dict):
            if TENSOR_KEY in value:
                name = value[TENSOR_KEY]
                if set(value) != {TENSOR_KEY} or not isinstance(name, str) or name not in shapes:
                    raise _fail(source, where, "a reference to one of the file's tensors", name)
                referenced.add(name)
                continue
            todo.extend((item, f"{where}.{key}") for key, item in value.items())
        elif isinstance(value, list):
            todo.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
    own = {"rng/torch"} | {f"rng/cuda/{i}" for i in range(payload["rng_state"]["cuda_devices"])}
    stray = sorted(k for k in shapes if not k.startswith("model/") and k not in own | referenced)
    if stray:
        raise CheckpointError(f"{source}: tensors no field refers to: {', '.join(stray[:5])}")
