"""The safetensors container of model files and checkpoints: checked opening and a checksum.

Both kinds of file are one safetensors file: named tensors plus string metadata, where one
metadata entry holds the JSON description and a second its SHA-256 (over that JSON and every
tensor's name, dtype, shape and bytes, in sorted name order). Opening first reads the 8-byte
header length itself, so a truncated file, a pickle, a ``torch.save`` zip or random bytes are
each named for what they are before safetensors parses anything, and a header over the size
limit is refused unread.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping

import torch

from tagkit_core.model_schema import MAX_HEADER_BYTES, ModelFileError

__all__ = ["TensorFile", "open_tensor_file", "load_tensors", "tensors_digest", "verify_digest",
           "write_tensor_file", "dtype_name", "check_shapes", "NOT_FOUND_HINT",
           "ModelFileNotFound"]

#: safetensors' own names for torch dtypes (what ``get_slice(k).get_dtype()`` reports).
_DTYPE_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
                torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
                torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
# The tensor table (names, dtypes, shapes, offsets) comes on top of the JSON metadata.
_MAX_CONTAINER_HEADER = MAX_HEADER_BYTES + 16 * 1024 * 1024
_NEVER_UNPICKLES = ("tagkit files are safetensors with a JSON header; tagkit never unpickles a "
                    "file, because unpickling can run arbitrary code")
NOT_FOUND_HINT = ("tagkit has no named pretrained models (Flair's 'pos', 'ner' and the like are "
                  "not available in tagkit): pass the path of a tagkit model file, such as the "
                  "final-model.pt a training run wrote")


class ModelFileNotFound(ModelFileError, FileNotFoundError):
    """No file at the given path (also a ``FileNotFoundError``)."""


def dtype_name(dtype: torch.dtype) -> str:
    return _DTYPE_NAMES.get(dtype, str(dtype))


class TensorFile:
    """An opened file: its metadata and, per tensor name, ``(shape, safetensors dtype)``."""

    def __init__(self, path: Path, metadata: dict[str, str],
                 shapes: dict[str, tuple[tuple[int, ...], str]]) -> None:
        self.path, self.metadata, self.shapes = path, metadata, shapes


def check_shapes(model: torch.nn.Module, shapes: Mapping[str, tuple[tuple[int, ...], str]],
                 where: str, error: type[ModelFileError] = ModelFileError) -> None:
    """Refuse a ``model`` built from a file's config (on the ``meta`` device, before anything
    is allocated) whose state dict differs from the file's tensors (:attr:`TensorFile.shapes`)
    in names, shapes or dtypes; ``where`` (the file, and which part of it) opens the message.
    Model files, checkpoints and language model files all check this way."""
    expected = {k: (tuple(v.shape), dtype_name(v.dtype)) for k, v in model.state_dict().items()}
    problems = [f"missing tensor {k!r}" for k in sorted(set(expected) - set(shapes))]
    problems += [f"unexpected tensor {k!r}" for k in sorted(set(shapes) - set(expected))]
    for key in sorted(set(expected) & set(shapes)):
        if expected[key] != tuple(shapes[key]):
            problems.append(f"tensor {key!r} is {list(shapes[key][0])} {shapes[key][1]} in the "
                            f"file, the config builds {list(expected[key][0])} {expected[key][1]}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise error(f"{where}: the config and the file's tensors disagree: "
                    + "; ".join(problems[:5]) + more)


def _what_it_is(start: bytes) -> str | None:
    if start[:1] == b"\x80":
        return "a pickle file"
    if start[:4] == b"PK\x03\x04":
        return "a zip archive, which is what torch.save writes"
    return None


def open_tensor_file(path: str | Path, what: str, error: type[ModelFileError] = ModelFileError,
                     missing: str = "no such file") -> TensorFile:
    """Open ``path`` as a safetensors file, or raise ``error`` saying what it is instead
    (``missing``: what to say when there is no such file)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        hint = "it is a directory" if path.is_dir() else missing
        raise ModelFileNotFound(f"no {what} at {path}: {hint}")
    size = path.stat().st_size
    with open(path, "rb") as handle:
        start = handle.read(9)
    # A safetensors file starts with its header length, then "{" (the length's first byte may
    # well be 0x80, a pickle's first byte, so that comes second).
    if len(start) < 9 or start[8:9] != b"{":
        kind = _what_it_is(start)
        if kind is not None:
            raise error(f"{path} is not a {what} ({kind}). {_NEVER_UNPICKLES}.")
        raise error(f"{path} is not a {what} (not a safetensors file: it does not start with a "
                    f"header length and a JSON header). {_NEVER_UNPICKLES}.")
    header_length = int.from_bytes(start[:8], "little")
    if header_length > _MAX_CONTAINER_HEADER:
        raise error(f"{path}: the safetensors header claims {header_length:,} bytes, more than "
                    f"the {_MAX_CONTAINER_HEADER:,} a {what} may have; it is refused unread")
    if 8 + header_length > size:
        raise error(f"{path} is a damaged safetensors file (truncated: its header alone needs "
                    f"{8 + header_length:,} bytes, the file has {size:,})")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            shapes = {}
            for key in handle.keys():
                piece = handle.get_slice(key)
                shapes[key] = (tuple(piece.get_shape()), piece.get_dtype())
    except (SafetensorError, OSError, ValueError, RuntimeError) as problem:
        raise error(f"{path} is a damaged safetensors file (truncated or corrupted: "
                    f"{problem})") from None
    return TensorFile(path, metadata, shapes)


def load_tensors(opened: TensorFile, error: type[ModelFileError] = ModelFileError
                 ) -> dict[str, torch.Tensor]:
    """Every tensor of the file, on the CPU."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(opened.path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as problem:
        raise error(f"{opened.path} is a damaged safetensors file ({problem})") from None


def tensors_digest(text: str, tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over ``text`` and each tensor's name, dtype, shape and bytes, by sorted name.

    Bytes are hashed through a uint8 view of the contiguous CPU tensor (a memoryview, no copy
    for the tensors a file holds), which also covers dtypes numpy lacks such as bfloat16.
    """
    digest = hashlib.sha256(b"tagkit-sha256-1\0")
    encoded = text.encode("utf-8")
    digest.update(len(encoded).to_bytes(8, "little"))
    digest.update(encoded)
    for name in sorted(tensors):
        tensor = tensors[name].detach()
        head = f"{name}\0{dtype_name(tensor.dtype)}\0{list(tensor.shape)}\0".encode()
        digest.update(len(head).to_bytes(8, "little"))
        digest.update(head)
        flat = tensor.to("cpu").contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy().data)
    return digest.hexdigest()


def verify_digest(opened: TensorFile, key: str, tensors: Mapping[str, torch.Tensor],
                  error: type[ModelFileError] = ModelFileError) -> None:
    recorded = opened.metadata.get(key + "_sha256")
    if recorded is None:
        raise error(f"{opened.path}: the file records no checksum ({key}_sha256)")
    if tensors_digest(opened.metadata[key], tensors) != recorded:
        raise error(f"{opened.path}: checksum mismatch: the file is damaged (its tensors or "
                    "header changed after it was written)")


def write_tensor_file(path: str | Path, key: str, text: str,
                      tensors: dict[str, torch.Tensor]) -> None:
    """Write ``tensors`` (contiguous CPU, none sharing memory) with ``text`` and its checksum."""
    from safetensors.torch import save_file

    metadata = {key: text, key + "_sha256": tensors_digest(text, tensors)}
    save_file(tensors, str(path), metadata=metadata)


def independent_cpu_tensors(state: Mapping[str, torch.Tensor], prefix: str = ""
                            ) -> dict[str, torch.Tensor]:
    """Contiguous CPU copies of ``state`` in which no two tensors share memory (safetensors
    refuses shared ones, e.g. tied weights)."""
    tensors: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for key, tensor in state.items():
        tensor = tensor.detach().to("cpu").contiguous()
        pointer = tensor.untyped_storage().data_ptr()
        if pointer in seen:
            tensor = tensor.clone()
        seen.add(tensor.untyped_storage().data_ptr())
        tensors[prefix + key] = tensor
    return tensors
