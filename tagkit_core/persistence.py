"""Safe model files: safetensors tensors plus a JSON description, never a pickle.

A tagkit model file (``final-model.pt``, ``best-model.pt``; the suffix is kept for tutorial
compatibility) is a safetensors file. Its header metadata ``"tagkit"`` holds JSON with the format
version, and for the model and every nested component its registry name, the distribution and
version that provided it, and its constructor configuration (dictionaries included). Loading
parses JSON and tensors only, so a file from a stranger cannot run code; a file whose model or
embedding plugin is missing fails with the distribution to install.
"""

from __future__ import annotations

import json
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch

__all__ = ["FORMAT_VERSION", "ModelFileError", "component_spec", "build_component",
           "save_model", "load_model", "read_header", "atomic_write"]

FORMAT_NAME = "tagkit-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """The file is not a tagkit model file, or one this version cannot read."""


def _distribution_of(obj: Any) -> tuple[str | None, str | None]:
    from tagkit_core.registry import KNOWN_PROVIDERS, get_registry

    component = get_registry().provider_of(type(obj))
    if component is not None and component.distribution:
        return component.distribution, component.version
    top = type(obj).__module__.split(".")[0]
    dist = KNOWN_PROVIDERS.get(top, "tagkit-core" if top == "tagkit_core" else None)
    try:
        return dist, version(dist) if dist else None
    except PackageNotFoundError:
        return dist, None


def component_spec(kind: str, obj: Any) -> dict[str, Any]:
    """The JSON description of a component: registry name, provider and configuration."""
    name = getattr(type(obj), "registry_name", "")
    if not name:
        raise TypeError(f"{type(obj).__name__} has no registry_name, so it cannot be saved")
    dist, dist_version = _distribution_of(obj)
    return {"kind": kind, "type": name, "distribution": dist, "version": dist_version,
            "config": obj.get_config()}


def build_component(kind: str, spec: dict[str, Any]) -> Any:
    """Rebuild a component from :func:`component_spec` output through the registry."""
    from tagkit_core.registry import get_registry

    cls = get_registry().resolve(kind, spec["type"], distribution_hint=spec.get("distribution"))
    return cls.from_config(spec["config"])


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)``, then rename it over ``path``: readers see the old or new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def model_header(model: Any) -> dict[str, Any]:
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "model": component_spec("model", model)}


def state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as independent contiguous CPU tensors (safetensors refuses shared ones)."""
    return {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}


def save_model(model: Any, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically as a safe, self-describing file."""
    from safetensors.torch import save_file

    path = Path(path)
    header = json.dumps(model_header(model))
    tensors = state_tensors(model)
    # Tensors that share memory (tied weights) would make save_file refuse: give each its own.
    seen: set[int] = set()
    for key, tensor in tensors.items():
        pointer = tensor.untyped_storage().data_ptr()
        if pointer in seen:
            tensors[key] = tensor.clone()
        seen.add(pointer)
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={"tagkit": header}))
    return path


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON description of a model file, checked for format and version."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        with open(path, "rb") as handle:
            start = handle.read(4)
        kind = ("a pickle or torch.save file" if start[:1] == b"\x80" or start[:2] == b"PK"
                else "not a safetensors file")
        raise ModelFileError(
            f"{path} is not a tagkit model file ({kind}: {error}). tagkit model files are "
            "safetensors with a JSON header; tagkit never unpickles a file, because unpickling "
            "can run arbitrary code.") from None
    if "tagkit" not in metadata:
        raise ModelFileError(f"{path} is a safetensors file without a tagkit header")
    header = json.loads(metadata["tagkit"])
    if header.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} has format {header.get('format')!r}, not {FORMAT_NAME!r}")
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in format version {header['format_version']}; this tagkit-core "
            f"reads up to {FORMAT_VERSION}: upgrade tagkit-core")
    return header


def load_model(path: str | Path, expected: type | None = None, map_location: str = "cpu") -> Any:
    """Load any tagkit model file, finding its class through the registry."""
    from safetensors.torch import load_file

    header = read_header(path)
    model = build_component("model", header["model"])
    if expected is not None and not isinstance(model, expected):
        raise ModelFileError(
            f"{path} holds a {type(model).__name__}, not a {expected.__name__}")
    state = load_file(str(path), device=map_location)
    model.load_state_dict(state)
    model.eval()
    return model
