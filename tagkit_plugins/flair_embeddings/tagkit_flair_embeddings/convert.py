"""Convert a Flair language model file (a torch pickle) into a tagkit language model file.

The threat. Flair saves a language model with ``torch.save``: a pickle, and unpickling is
running a program the file's author wrote (``os.system``, ``eval``, any importable callable).
tagkit never unpickles anything when it *loads* a model; this converter is the one place that
reads a pickle, once, on request, and it does so with a restricted unpickler:

* :mod:`tagkit_flair_embeddings.restricted_pickle`: the standard library's unpickler with
  ``find_class`` and ``persistent_load`` closed down (PyTorch's own ``weights_only`` reader
  refuses protocol 4, which Flair writes). Only ``collections.OrderedDict``, checked tensor
  rebuild functions of this plugin and storage type names resolve; any other global
  (``os.system``, ``builtins.eval``, ``subprocess.Popen``, ``torch.nn.Linear``, Flair's real
  classes...) is refused before anything is called, and no module is imported by name;
* plus exactly two names, Flair's ``flair.data.Dictionary`` and
  ``flair.models.language_model.LanguageModel``, mapped to inert stub classes defined here:
  building one stores the pickled plain data and runs nothing else; ``flair`` itself is never
  imported (it need not be installed);
* the unpickled result is then checked as data: a dict with Flair's fields, a state dict of
  tensors, a dictionary of strings or bytes; it becomes a config that goes through the same
  strict check as any tagkit language model file, and the tensors must match its shapes.

The output is written atomically by :func:`save_language_model`. A file whose pickle asks for
anything else is refused with :class:`FlairConversionError`, which names the file and what was
refused.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from tagkit_core import config_fields as fields
from tagkit_flair_embeddings.language_model import (
    LanguageModel,
    LanguageModelFileError,
    language_model_from_config,
)
from tagkit_flair_embeddings.lm_file import save_language_model
from tagkit_flair_embeddings.restricted_pickle import RefusedPickle, load_torch_file

__all__ = ["FlairConversionError", "read_flair_pickle", "convert_flair_language_model",
           "flair_state_to_language_model"]


class FlairConversionError(LanguageModelFileError):
    """The file is not a Flair language model this converter accepts (or asks for code)."""


class _InertStub:
    """Stands in for a Flair class: keeps the pickled state as data, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_args"] = args

    def __setstate__(self, state: Any) -> None:
        self.__dict__["_state"] = state

    @property
    def state(self) -> Any:
        return self.__dict__.get("_state")


class FlairDictionaryStub(_InertStub):
    """``flair.data.Dictionary`` as data."""


class FlairLanguageModelStub(_InertStub):
    """``flair.models.language_model.LanguageModel`` as data (whole pickled models refused)."""


_STUBS = {"flair.data.Dictionary": FlairDictionaryStub,
          "flair.models.language_model.LanguageModel": FlairLanguageModelStub}


def read_flair_pickle(path: str | Path) -> Any:
    """Unpickle ``path`` with the restricted unpickler (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no Flair language model file at {path}")
    try:
        return load_torch_file(path, _STUBS)
    except RefusedPickle as error:
        raise FlairConversionError(
            f"refused: {error}. A Flair language model needs nothing but tensors, plain "
            "containers and Flair's Dictionary; this file may be hostile.") from None
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError,
            TypeError, AttributeError, OSError) as error:
        raise FlairConversionError(f"{path} is not a readable torch file ({error})") from None


def _text(item: Any, where: str) -> str:
    if isinstance(item, bytes):
        try:
            return item.decode("utf-8")
        except UnicodeDecodeError:
            raise FlairConversionError(f"{where}: a dictionary item is not UTF-8") from None
    if isinstance(item, str):
        return item
    raise FlairConversionError(f"{where}: a dictionary item is a {type(item).__name__}, "
                               "not text")


def _dictionary_items(stub: Any, source: str) -> list[str]:
    if not isinstance(stub, FlairDictionaryStub) or not isinstance(stub.state, dict):
        raise FlairConversionError(f"{source}: 'dictionary' is not a Flair Dictionary")
    idx2item = stub.state.get("idx2item")
    if not isinstance(idx2item, list) or not idx2item:
        raise FlairConversionError(f"{source}: the Flair Dictionary has no idx2item list")
    return [_text(item, source) for item in idx2item]


def flair_state_to_language_model(state: Any, source: str = "<state>") -> LanguageModel:
    """A LanguageModel from the dict Flair's ``LanguageModel.save`` pickles (already
    unpickled by :func:`read_flair_pickle`), checked field by field."""
    if isinstance(state, FlairLanguageModelStub):
        raise FlairConversionError(f"{source} pickles a whole Flair LanguageModel object; only "
                                   "the state-dict files Flair's LanguageModel.save writes "
                                   "(Flair >= 0.4) are supported")
    if not isinstance(state, dict) or not isinstance(state.get("state_dict"), dict):
        raise FlairConversionError(f"{source}: expected Flair's language model dict with a "
                                   "'state_dict' entry")
    weights = state["state_dict"]
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()):
        raise FlairConversionError(f"{source}: state_dict must map names to tensors")
    if "encoder.weight" not in weights:
        raise FlairConversionError(f"{source}: state_dict has no encoder.weight")
    items = _dictionary_items(state.get("dictionary"), source)
    config = {
        "dictionary": {"add_unk": "<unk>" in items, "items": items},
        "is_forward_lm": state.get("is_forward_lm"), "hidden_size": state.get("hidden_size"),
        "nlayers": state.get("nlayers", 1),
        "embedding_size": state.get("embedding_size", int(weights["encoder.weight"].shape[1])),
        "nout": state.get("nout"), "document_delimiter": state.get("document_delimiter", "\n"),
        "dropout": state.get("dropout", 0.1),
    }
    try:
        model = language_model_from_config(config)
    except fields.ConfigError as error:
        raise FlairConversionError(f"{source}: {error}") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != found:
        differing = sorted(k for k in set(expected) | set(found)
                           if expected.get(k) != found.get(k))
        raise FlairConversionError(f"{source}: the tensors do not fit the hyper-parameters "
                                   f"(differing: {differing[:5]})")
    model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)
    return model.eval()


def convert_flair_language_model(source: str | Path, destination: str | Path) -> LanguageModel:
    """Read Flair's ``source`` (restricted) and write it as a tagkit language model file."""
    model = flair_state_to_language_model(read_flair_pickle(source), str(source))
    save_language_model(model, destination)
    return model
