"""The model card: what a model file says about how it was trained, as checked plain data.

The trainer writes a ``"model_card"`` section into the JSON header of every model file it
saves (:mod:`tagkit_core.trainer.card` fills it in): the run's options, the corpus and its
split sizes, the label type and labels, dev and test scores, epochs, seed, training time and
the versions of Python, torch, tagkit-core and every plugin distribution involved. A user
should not have to keep notes beside a model to know what it is.

Being in the header, the card is covered by the file's checksum and read with the header's
size and depth limits; and being data from anywhere, it is checked here (:func:`check_card`)
before anything uses it: a wrong type, a non-finite number, a control character (which could
rewrite a terminal when ``tagkit info`` prints it) or an oversized section is a
``ModelFileError`` naming the file and the field, e.g. ``model_card.training.seed``. Keys this
version does not know are accepted (a newer tagkit may add some) and shown by no one. Files
written before cards existed have none; they load as before and ``model.model_card`` is None.

Reading a card (:func:`read_model_card`, :func:`read_model_header`) reads the header alone:
no tensor, no model, no plugin, and not even torch for a well-formed file.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from tagkit_core.model_schema import (
    CARD_KEY,
    HEADER_KEY,
    MAX_HEADER_BYTES,
    ModelFileError,
    check_header,
    field_path,
    parse_json,
)

__all__ = ["CARD_VERSION", "MAX_CARD_BYTES", "check_card", "plain_card", "read_model_card",
           "read_model_header"]

CARD_VERSION = 1
#: A card over this size (as JSON) is refused: the largest tagkit writes, a classifier's
#: per-class report over a thousand classes, takes about 150 KB.
MAX_CARD_BYTES = 4 * 1024 * 1024
#: Longest string a card may hold, and most labels it lists (the model's config has them all).
MAX_STRING = 10_000
MAX_LABELS = 1_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The fields tagkit reads, by type; every one may also be null (absent data, e.g. no dev split).
_SPLITS = {"name": "str", "train": "count", "dev": "count", "test": "count"}
_SCORES = {"main_score": "number", "main_score_name": "str", "scores": "numbers",
           "classification_report": "report", "epoch": "count", "model_file": "str"}
_SCHEMA: dict[str, Any] = {
    "card_version": "count",
    "model": {"class": "str", "type": "str", "label_type": "str", "labels": "strings",
              "dictionary_size": "count", "parameters": "count"},
    "corpus": {**_SPLITS, "corpora": [_SPLITS]},
    "training": {"options": "scalars", "seed": "int", "optimizer": "str", "epoch": "count",
                 "best_epoch": "count", "train_loss": "number", "learning_rate": "number",
                 "training_seconds": "number", "started": "str", "date": "str"},
    "dev": _SCORES,
    "test": _SCORES,
    "versions": "texts",
}
_EXPECTED = {"str": "a string", "count": "an integer >= 0", "int": "an integer",
             "number": "a number", "strings": "a list of strings",
             "numbers": "an object of numbers", "texts": "an object of strings",
             "scalars": "an object of strings, numbers, booleans and lists of strings",
             "report": "an object of objects of numbers"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _fits(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind in ("count", "int"):
        return _is_int(value) and (kind == "int" or value >= 0)
    if kind == "number":
        return _is_number(value)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if not isinstance(value, dict):
        return False
    items = value.values()
    if kind == "numbers":
        return all(_is_number(item) for item in items)
    if kind == "texts":
        return all(item is None or isinstance(item, str) for item in items)
    if kind == "scalars":
        # A list of strings: the names of the run's loggers, the only list-valued option.
        return all(item is None or isinstance(item, (str, int, float))
                   or (isinstance(item, list) and all(isinstance(x, str) for x in item))
                   for item in items)
    return all(isinstance(row, dict) and all(_is_number(x) for x in row.values())
               for row in items)  # "report"


def _describe(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) \
        else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _check_values(card: Any, source: str, where: str, error: type[ModelFileError]) -> None:
    """Every string short and free of control characters, every number finite."""
    todo = [(card, where)]
    while todo:
        value, at = todo.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > 200 or _CONTROL.search(key):
                    raise error(f"{source}: {at} has a key that is too long or holds a "
                                f"control character: {_describe(key)}")
                todo.append((item, field_path(at, key)))
        elif isinstance(value, list):
            todo.extend((item, field_path(at, i)) for i, item in enumerate(value))
        elif isinstance(value, str):
            if len(value) > MAX_STRING:
                raise error(f"{source}: {at} is a string of {len(value):,} characters, more "
                            f"than the {MAX_STRING:,} a model card may hold")
            if _CONTROL.search(value):
                raise error(f"{source}: {at} holds a control character ({_describe(value)}); "
                            "model card text may not")
        elif isinstance(value, float) and not math.isfinite(value):
            raise error(f"{source}: {at} must be a finite number, got {value}")


def check_card(card: Any, source: str, where: str = CARD_KEY,
               error: type[ModelFileError] = ModelFileError) -> dict[str, Any]:
    """Check a parsed model card (see the module docstring); return it."""
    if not isinstance(card, dict):
        raise error(f"{source}: {where} must be a JSON object, got {_describe(card)}")
    size = len(json.dumps(card))
    if size > MAX_CARD_BYTES:
        raise error(f"{source}: {where} takes {size:,} bytes of JSON, more than the "
                    f"{MAX_CARD_BYTES:,} a model card may")
    if not _is_int(card.get("card_version")) or card["card_version"] < 1:
        raise error(f"{source}: {field_path(where, 'card_version')} must be an integer >= 1, "
                    f"got {_describe(card.get('card_version'))}")
    _check_values(card, source, where, error)
    todo: list[tuple[Any, Any, str]] = [(_SCHEMA, card, where)]
    while todo:
        schema, value, at = todo.pop()
        if value is None:
            continue
        if isinstance(schema, dict):
            if not isinstance(value, dict):
                raise error(f"{source}: {at} must be a JSON object or null, "
                            f"got {_describe(value)}")
            todo.extend((schema[key], value[key], field_path(at, key))
                        for key in schema if key in value)
        elif isinstance(schema, list):
            if not isinstance(value, list):
                raise error(f"{source}: {at} must be a list or null, got {_describe(value)}")
            todo.extend((schema[0], item, field_path(at, i)) for i, item in enumerate(value))
        elif not _fits(schema, value):
            raise error(f"{source}: {at} must be {_EXPECTED[schema]} or null, "
                        f"got {_describe(value)}")
    return card


def plain_card(value: Any) -> Any:
    """``value`` made fit for a card: control characters escaped (``\\x1b``), strings cut to
    :data:`MAX_STRING`, non-finite numbers as null, tuples as lists, other objects as text.
    The trainer passes everything it writes through this, so it never writes a card that
    :func:`check_card` (and so loading) would refuse."""
    if isinstance(value, dict):
        return {plain_card(str(key))[:200]: plain_card(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_card(item) for item in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int)):
        return value
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return text[:MAX_STRING]


# -- reading --------------------------------------------------------------------------------------
def _header_text(path: Path) -> str | None:
    """The tagkit metadata entry of a well-formed safetensors file, read with the standard
    library only; None when anything is unusual (the caller then takes the checked path)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(9)
            if len(start) < 9 or start[8:9] != b"{":
                return None
            length = int.from_bytes(start[:8], "little")
            if length > MAX_HEADER_BYTES + 16 * 1024 * 1024:
                return None
            handle.seek(8)
            raw = handle.read(length)
        if len(raw) != length:
            return None
        table = json.loads(raw)
        text = table.get("__metadata__", {}).get(HEADER_KEY) if isinstance(table, dict) else None
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return text if isinstance(text, str) else None


def read_model_header(path: str | Path) -> dict[str, Any]:
    """The checked JSON header of a model file, card included, without reading a tensor.

    A well-formed file is read with the standard library alone (no torch, no plugin); any other
    file goes through :func:`tagkit_core.tensor_files.open_tensor_file`, whose error names what
    the file is. The checksum is not verified (that needs every tensor): loading does it.
    """
    path = Path(path)
    text = _header_text(path) if path.is_file() else None
    if text is None:
        from tagkit_core.tensor_files import NOT_FOUND_HINT, open_tensor_file

        opened = open_tensor_file(path, "tagkit model file", missing=NOT_FOUND_HINT)
        if HEADER_KEY not in opened.metadata:
            what = "a tagkit checkpoint, not a model file (its model is written to " \
                "final-model.pt and best-model.pt)" if "tagkit_checkpoint" in opened.metadata \
                else "a safetensors file without a tagkit header"
            raise ModelFileError(f"{path} is {what}")
        text = opened.metadata[HEADER_KEY]
    return check_header(parse_json(text, str(path), "the tagkit header"), str(path))


def read_model_card(path: str | Path) -> dict[str, Any] | None:
    """The model card of a model file (None for a file written without one), header only."""
    return read_model_header(path).get(CARD_KEY)
