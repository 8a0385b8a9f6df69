"""The tagkit language model file: a :class:`~tagkit_flair_embeddings.LanguageModel` on its own.

Safetensors, the model's JSON in the metadata entry ``"tagkit_language_model"``
(``{"format": "tagkit-language-model", "format_version": 1, "config": {...}}``) and the SHA-256
of both in ``"tagkit_language_model_sha256"``, written atomically
(:func:`tagkit_core.files.atomic_write`, :mod:`tagkit_core.tensor_files`). Loading reads the
config through :func:`~tagkit_flair_embeddings.language_model.language_model_from_config`,
builds the model on the ``meta`` device first and compares its tensors' names, shapes and
dtypes with the file's before anything is allocated; nothing in the file is executed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from tagkit_core import config_fields as fields
from tagkit_core.files import atomic_write
from tagkit_core.model_schema import parse_json
from tagkit_core.tensor_files import (
    check_shapes,
    independent_cpu_tensors,
    load_tensors,
    open_tensor_file,
    verify_digest,
    write_tensor_file,
)
from tagkit_flair_embeddings.language_model import (
    LanguageModel,
    LanguageModelFileError,
    language_model_from_config,
)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "HEADER_KEY", "save_language_model",
           "load_language_model"]

FORMAT_NAME = "tagkit-language-model"
FORMAT_VERSION = 1
HEADER_KEY = "tagkit_language_model"


def save_language_model(model: LanguageModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically as a safe, checksummed language model file."""
    path = Path(path)
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
              "config": model.get_config()}
    text = json.dumps(header, allow_nan=False)
    tensors = independent_cpu_tensors(model.state_dict())
    atomic_write(path, lambda tmp: write_tensor_file(tmp, HEADER_KEY, text, tensors))
    return path


def _header_config(opened, source: str) -> dict[str, Any]:
    if HEADER_KEY not in opened.metadata:
        what = ("a tagkit model file (a tagger), not a language model" if "tagkit" in
                opened.metadata else "a safetensors file without a tagkit language model header")
        raise LanguageModelFileError(f"{source} is {what}")
    header = parse_json(opened.metadata[HEADER_KEY], source, "the language model header",
                        LanguageModelFileError)
    if not isinstance(header, dict) or set(header) != {"format", "format_version", "config"}:
        raise LanguageModelFileError(f"{source}: the language model header must be an object "
                                     "with exactly format, format_version and config")
    if header["format"] != FORMAT_NAME:
        raise LanguageModelFileError(f"{source}: format is {header['format']!r:.60}, not "
                                     f"{FORMAT_NAME!r}")
    if header["format_version"] != FORMAT_VERSION or isinstance(header["format_version"], bool):
        raise LanguageModelFileError(f"{source}: format_version is "
                                     f"{header['format_version']!r:.20}; this plugin reads "
                                     f"version {FORMAT_VERSION}")
    return header["config"]


def load_language_model(path: str | Path, device: str | torch.device = "cpu",
                        verify: bool = True) -> LanguageModel:
    """Load a tagkit language model file: header schema, meta-device shape check, checksum,
    strict state dict. A Flair ``.pt`` file is refused with the command that converts it."""
    opened = open_tensor_file(path, "tagkit language model file", LanguageModelFileError)
    source = str(opened.path)
    config = _header_config(opened, source)

    def build() -> LanguageModel:
        try:
            return language_model_from_config(config)
        except fields.ConfigError as error:
            raise LanguageModelFileError(f"{source}: config.{error.field} {error.message}"
                                         ) from None

    with torch.device("meta"):
        check_shapes(build(), opened.shapes, source, LanguageModelFileError)
    tensors = load_tensors(opened, LanguageModelFileError)
    if verify:
        verify_digest(opened, HEADER_KEY, tensors, LanguageModelFileError)
    model = build()
    model.load_state_dict(tensors, strict=True)
    return model.to(device).eval()
