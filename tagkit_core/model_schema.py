"""The schema of a tagkit model file's JSON header, checked before anything is built.

A model file or checkpoint is data from anywhere, so its JSON is held to limits (size, nesting
depth, number of components) and to the shape of every field tagkit itself reads: the format
name and version, and for each component spec its kind, registry name, distribution, version and
config, and the optional model card (:mod:`tagkit_core.model_card`). Each failure is a
:class:`ModelFileError` naming the file and the field path, for example
``model.config.embeddings.config.vocab``. A distribution that is not a valid PEP 508 name is
kept out of "pip install" hints instead of failing the load: it is only advice.

Nothing here imports torch, the registry or a plugin: it is pure validation of parsed JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["ModelFileError", "CheckpointError", "COMPONENT_KEY", "TENSOR_KEY",
           "MAX_HEADER_BYTES", "MAX_DEPTH", "MAX_COMPONENTS", "COMPONENT_KINDS",
           "parse_json", "check_spec", "is_spec", "safe_distribution", "field_path",
           "check_header", "FORMAT_NAME", "FORMAT_VERSION", "HEADER_KEY", "CARD_KEY"]

#: The model file format: its name, version and the safetensors metadata key of its header.
FORMAT_NAME = "tagkit-model"
FORMAT_VERSION = 2
HEADER_KEY = "tagkit"
#: The optional header section the trainer writes (:mod:`tagkit_core.model_card`).
CARD_KEY = "model_card"

#: Marks a dict in a header as a nested component spec; a plain config dict may not use it.
COMPONENT_KEY = "tagkit_component"
#: Marks a dict in a checkpoint's JSON as a reference to one of the file's tensors.
TENSOR_KEY = "tagkit_tensor"

#: A header larger than this is refused before it is parsed (GloVe 6B's 400,000 words take
#: about 5 MB of JSON; fastText crawl's 2 million words about 25 MB).
MAX_HEADER_BYTES = 64 * 1024 * 1024
#: Deepest JSON nesting accepted (a tagger over a stack of words holds about 10 levels).
MAX_DEPTH = 64
#: Most component specs one header may hold.
MAX_COMPONENTS = 256
#: The component kinds a model file may name (their bases carry ``component_kind``).
COMPONENT_KINDS = ("model", "embedding")

_SPEC_KEYS = {COMPONENT_KEY, "type", "distribution", "version", "config"}
_REGISTRY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
# PEP 508 distribution names (packaging's own pattern): anything else is never echoed in a hint.
_DISTRIBUTION = re.compile(r"([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])", re.IGNORECASE)
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_\-]{0,63}")


class ModelFileError(ValueError):
    """The file is not a tagkit model file, is damaged, or describes something tagkit refuses."""


class CheckpointError(ModelFileError):
    """The file is not a tagkit checkpoint, is damaged, or holds a field of the wrong form."""


def field_path(parent: str, key: str | int) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else (f"{parent}.{key}" if parent else key)


def _describe(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) \
        else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def parse_json(text: str, source: str, field: str, error: type[ModelFileError] = ModelFileError
               ) -> Any:
    """``json.loads`` under the size and depth limits; a failure names ``source`` and ``field``."""
    if len(text) > MAX_HEADER_BYTES:
        raise error(f"{source}: {field} holds {len(text):,} characters of JSON, more than the "
                    f"{MAX_HEADER_BYTES:,} a tagkit file may have")
    try:
        value = json.loads(text)
    except RecursionError:
        raise error(f"{source}: {field} is JSON nested too deeply (at most {MAX_DEPTH} levels)"
                    ) from None
    except ValueError as problem:
        raise error(f"{source}: {field} is not valid JSON ({problem})") from None
    _check_depth(value, source, field, error)
    return value


def _check_depth(value: Any, source: str, field: str, error: type[ModelFileError]) -> None:
    # Iterative, so a hostile file cannot exhaust the Python stack here either.
    todo = [(value, 1, field)]
    while todo:
        item, depth, where = todo.pop()
        if depth > MAX_DEPTH:
            raise error(f"{source}: {where} is nested more than {MAX_DEPTH} levels deep")
        # A scalar within the limit needs no visit: skipping them (and their paths) keeps a
        # 400,000-word vocabulary list from costing a second per load.
        deep = depth + 1 > MAX_DEPTH
        if isinstance(item, dict):
            todo.extend((v, depth + 1, field_path(where, k)) for k, v in item.items()
                        if deep or isinstance(v, (dict, list)))
        elif isinstance(item, list):
            todo.extend((v, depth + 1, field_path(where, i)) for i, v in enumerate(item)
                        if deep or isinstance(v, (dict, list)))


def is_spec(value: Any) -> bool:
    return isinstance(value, dict) and COMPONENT_KEY in value


def safe_distribution(value: Any) -> str | None:
    """``value`` if it is a valid PEP 508 distribution name, else None (kept out of hints)."""
    if isinstance(value, str) and _DISTRIBUTION.fullmatch(value):
        return value
    return None


def check_spec(spec: Any, source: str, where: str, kind: str | None = None,
               error: type[ModelFileError] = ModelFileError) -> int:
    """Check a component spec and every spec nested in its config; return how many there are.

    ``kind`` is the kind the place requires (``"model"`` at the top), or None for any of
    :data:`COMPONENT_KINDS`. Config values are plain JSON here; their meaning is checked by the
    component's own ``from_config``.
    """
    count = 0
    todo = [(spec, where, kind)]
    while todo:
        item, at, wanted = todo.pop()
        count += 1
        if count > MAX_COMPONENTS:
            raise error(f"{source}: more than {MAX_COMPONENTS} components in one file")
        if not isinstance(item, dict):
            raise error(f"{source}: {at} must be a component spec (a JSON object), "
                        f"got {_describe(item)}")
        extra = set(item) - _SPEC_KEYS
        missing = _SPEC_KEYS - set(item)
        if extra or missing:
            raise error(f"{source}: {at} must have exactly the keys {sorted(_SPEC_KEYS)}; "
                        + (f"missing {sorted(missing)}" if missing else f"unknown {sorted(extra)}"))
        item_kind = item[COMPONENT_KEY]
        if item_kind not in COMPONENT_KINDS or (wanted is not None and item_kind != wanted):
            allowed = [wanted] if wanted else list(COMPONENT_KINDS)
            raise error(f"{source}: {field_path(at, COMPONENT_KEY)} must be one of {allowed}, "
                        f"got {_describe(item_kind)}")
        if not isinstance(item["type"], str) or not _REGISTRY_NAME.fullmatch(item["type"]):
            raise error(f"{source}: {field_path(at, 'type')} must be a registry name (letters, "
                        f"digits, '_', '.', '-'), got {_describe(item['type'])}")
        if item["distribution"] is not None and not isinstance(item["distribution"], str):
            raise error(f"{source}: {field_path(at, 'distribution')} must be a string or null, "
                        f"got {_describe(item['distribution'])}")
        version = item["version"]
        if version is not None and not (isinstance(version, str) and _VERSION.fullmatch(version)):
            raise error(f"{source}: {field_path(at, 'version')} must be a version string or "
                        f"null, got {_describe(version)}")
        if not isinstance(item["config"], dict):
            raise error(f"{source}: {field_path(at, 'config')} must be a JSON object, "
                        f"got {_describe(item['config'])}")
        config_at = field_path(at, "config")
        if COMPONENT_KEY in item["config"]:
            raise error(f"{source}: {config_at} may not contain the key {COMPONENT_KEY!r}")
        todo.extend((nested, nested_at, None)
                    for nested, nested_at in _nested_specs(item["config"], config_at))
    return count


def _nested_specs(config: Any, where: str):
    """The specs inside a config (at any depth of lists and plain dicts), with their paths."""
    todo = [(value, field_path(where, key)) for key, value in config.items()]
    while todo:
        item, at = todo.pop()
        if isinstance(item, dict):
            if COMPONENT_KEY in item:
                yield item, at
                continue
            todo.extend((v, field_path(at, k)) for k, v in item.items()
                        if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            todo.extend((v, field_path(at, i)) for i, v in enumerate(item)
                        if isinstance(v, (dict, list)))


def check_header(header: Any, source: str, where: str = "",
                 error: type[ModelFileError] = ModelFileError) -> dict[str, Any]:
    """Check a parsed model header against the schema; return it."""
    if not isinstance(header, dict):
        raise error(f"{source}: {where or 'the tagkit header'} must be a JSON object, "
                    f"got {type(header).__name__}")
    expected = {"format", "format_version", "model"}
    if not expected <= set(header) <= expected | {CARD_KEY}:
        missing = sorted(expected - set(header))
        extra = sorted(set(header) - expected - {CARD_KEY})
        raise error(f"{source}: {where or 'the tagkit header'} must have the keys "
                    f"{sorted(expected)} (and optionally {CARD_KEY!r}); "
                    + (f"missing {missing}" if missing else f"unknown {extra}"))
    if header["format"] != FORMAT_NAME:
        raise error(f"{source}: {field_path(where, 'format')} is {header['format']!r:.60}, "
                    f"not {FORMAT_NAME!r}")
    found = header["format_version"]
    if isinstance(found, bool) or not isinstance(found, int):
        raise error(f"{source}: {field_path(where, 'format_version')} must be an integer, "
                    f"got {json.dumps(found)[:60]}")
    if found > FORMAT_VERSION:
        raise error(f"{source} was written in format version {found}; this tagkit-core reads "
                    f"version {FORMAT_VERSION}: upgrade tagkit-core")
    if found < FORMAT_VERSION:
        raise error(f"{source} is in format version {found}, written by an older tagkit; this "
                    f"tagkit-core reads version {FORMAT_VERSION} only (it adds the checksum and "
                    "the strict component layout). Retrain, or re-save the model with the "
                    "tagkit version that wrote it after upgrading it.")
    check_spec(header["model"], source, field_path(where, "model"), kind="model", error=error)
    if CARD_KEY in header:  # optional: files written before model cards have none
        from tagkit_core.model_card import check_card

        check_card(header[CARD_KEY], source, field_path(where, CARD_KEY), error=error)
    return header
