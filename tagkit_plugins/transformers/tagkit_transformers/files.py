"""Loading a Hugging Face model safely, and carrying it inside a tagkit model file.

A saved tagkit model must open with no network, no Hugging Face cache and no pickle. So an
embedding's configuration holds everything except the weights:

* the model's configuration as a plain dict (``config.to_dict()``), rebuilt with
  ``AutoModel.from_config`` (random weights, replaced by the model file's tensors);
* the fast tokenizer's own text files (``tokenizer.json``, ``tokenizer_config.json``...), as
  strings, written into a fresh temporary directory and read back with
  ``AutoTokenizer.from_pretrained(..., local_files_only=True)``.

Safety rule: ``trust_remote_code`` is never used. A model configuration with ``auto_map``
(code shipped with the model) is refused, both when loading a model directory and when
rebuilding from a (possibly foreign) model file; a tokenizer configuration's ``auto_map`` is
dropped, so only tokenizer classes of the transformers library itself can be named. Only the
text file names in :data:`TOKENIZER_FILES` are carried: no ``.bin``, ``.model`` or pickle.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["RemoteCodeRefused", "TOKENIZER_FILES", "load_pretrained", "rebuild",
           "check_no_remote_code"]

#: The tokenizer files carried in a model file: JSON/text only, tokenizer.json required.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "added_tokens.json")

#: Configuration keys that name code outside the transformers library.
_REMOTE_CODE_KEYS = ("auto_map", "custom_pipelines")


class RemoteCodeRefused(ValueError):
    """The model asks for code of its own (``auto_map``): tagkit never runs it."""


def check_no_remote_code(config: dict[str, Any], where: str) -> None:
    """Raise :class:`RemoteCodeRefused` when ``config`` names code outside transformers."""
    found = [key for key in _REMOTE_CODE_KEYS if config.get(key)]
    if found:
        raise RemoteCodeRefused(
            f"{where} has {found[0]!r} = {config[found[0]]!r}: the model needs its own Python "
            "code (trust_remote_code), which tagkit never runs. Use a model whose architecture "
            "is part of the transformers library.")


def _offline_hint(model: str, error: Exception) -> OSError:
    return OSError(
        f"could not load the transformer {model!r}: it is not a local directory, so it was "
        f"looked up on the Hugging Face hub, which failed ({type(error).__name__}: {error}). "
        "Hub names need network access (and HF_HUB_OFFLINE unset); offline, pass the path of a "
        "local model directory holding config.json, the weights and tokenizer.json.")


def load_pretrained(model: str) -> tuple[Any, Any, dict[str, Any], dict[str, str]]:
    """``(hf_model, tokenizer, config_dict, tokenizer_files)`` for a directory or a hub name.

    The weights are read as float32 (``from_config`` builds float32 too, so a saved model's
    tensors load into the same dtype).
    """
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    path = Path(model).expanduser()
    local = path.is_dir()
    if local:
        config_file = path / "config.json"
        if not config_file.is_file():
            raise FileNotFoundError(f"{path} is a directory without config.json: not a Hugging "
                                    "Face model directory (save one with save_pretrained)")
        check_no_remote_code(json.loads(config_file.read_text(encoding="utf-8")),
                             str(config_file))
        source = str(path)
    elif path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise FileNotFoundError(f"no model directory at {model!r}: expected a directory "
                                "with config.json, or a hub name such as 'org/name'")
    else:
        source = model
    options = {"local_files_only": local, "trust_remote_code": False}
    try:
        config = AutoConfig.from_pretrained(source, **options)
        check_no_remote_code(config.to_dict(), f"the configuration of {model!r}")
        tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True, **options)
        hf_model = AutoModel.from_pretrained(source, config=config, dtype=torch.float32,
                                             **options)
    except RemoteCodeRefused:
        raise
    except OSError as error:
        if local:
            raise
        raise _offline_hint(model, error) from error
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"the tokenizer of {model!r} is not a fast (tokenizers) tokenizer: "
                         "tagkit needs one for word alignment and for saving it as tokenizer.json")
    return hf_model, tokenizer, config_dict_of(hf_model.config), tokenizer_files_of(tokenizer)


def config_dict_of(config: Any) -> dict[str, Any]:
    """The model configuration as JSON-able data (round-tripped through JSON to be sure)."""
    data = json.loads(config.to_json_string(use_diff=False))
    check_no_remote_code(data, "the model configuration")
    return data


def tokenizer_files_of(tokenizer: Any) -> dict[str, str]:
    """The tokenizer's text files, as :data:`TOKENIZER_FILES` names -> contents."""
    with tempfile.TemporaryDirectory(prefix="tagkit-tokenizer-") as folder:
        tokenizer.save_pretrained(folder)
        files = {name: (Path(folder) / name).read_text(encoding="utf-8")
                 for name in TOKENIZER_FILES if (Path(folder) / name).is_file()}
    if "tokenizer.json" not in files:
        raise ValueError("the tokenizer saved no tokenizer.json: only fast tokenizers can be "
                         "stored inside a tagkit model file")
    return files


def rebuild(config: dict[str, Any], tokenizer_files: dict[str, str]) -> tuple[Any, Any]:
    """``(hf_model, tokenizer)`` from saved data alone: no network, no cache, no remote code.

    The model has random weights; the caller's state dict replaces them.
    """
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    check_no_remote_code(config, "the saved transformer configuration")
    unknown = sorted(set(tokenizer_files) - set(TOKENIZER_FILES))
    if unknown or "tokenizer.json" not in tokenizer_files:
        raise ValueError(f"saved tokenizer files must be among {TOKENIZER_FILES} and include "
                         f"tokenizer.json; got {sorted(tokenizer_files)}")
    settings = {k: v for k, v in config.items() if k not in ("model_type", "transformers_version")}
    if "model_type" not in config:
        raise ValueError("the saved transformer configuration has no 'model_type'")
    hf_config = AutoConfig.for_model(config["model_type"], **settings)
    hf_model = AutoModel.from_config(hf_config, dtype=torch.float32)
    with tempfile.TemporaryDirectory(prefix="tagkit-tokenizer-") as folder:
        for name, text in tokenizer_files.items():
            if name == "tokenizer_config.json":
                data = json.loads(text)
                data.pop("auto_map", None)  # only transformers' own tokenizer classes
                text = json.dumps(data)
            (Path(folder) / name).write_text(text, encoding="utf-8")
        tokenizer = AutoTokenizer.from_pretrained(folder, use_fast=True, local_files_only=True,
                                                  trust_remote_code=False)
    return hf_model, tokenizer
