"""Strict reading of a component's config in ``from_config``: plain data of the expected form.

``from_config`` is the only way a model file builds a component, and a model file is data from
anywhere. So every ``from_config`` in tagkit reads its config through :func:`checked_config`:
each field has a check (type, range, allowed values), unknown fields are refused, and a value of
the wrong form is a :class:`ConfigError` naming the field. Persistence turns that into a
``ModelFileError`` naming the file and the full field path. No check ever opens a path, so a
config can only ever describe tensors, never point at a file.

This module imports nothing from tagkit: components use it without calling persistence back.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

__all__ = ["ConfigError", "REQUIRED", "checked_config", "integer", "number", "boolean", "text",
           "optional", "text_list", "one_of", "instance", "instances", "either", "mapping"]

Check = Callable[[Any], Any]
REQUIRED: Any = object()


class ConfigError(ValueError):
    """A config field is missing, unknown, or of the wrong form; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"field {field!r} {message}")


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, (str, int, float, bool, type(None))) \
        else f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


class _Wrong(Exception):
    """Raised by a check: the value is not ``expected``."""

    def __init__(self, expected: str) -> None:
        self.expected = expected


def checked_config(config: Mapping[str, Any], fields: Mapping[str, tuple[Check, Any]]
                   ) -> dict[str, Any]:
    """``config`` checked against ``fields`` (name -> (check, default or REQUIRED))."""
    if not isinstance(config, Mapping):
        raise ConfigError("config", f"must be a mapping, got {_show(config)}")
    for name in config:
        if name not in fields:
            raise ConfigError(str(name), f"is unknown (known: {', '.join(fields)})")
    out: dict[str, Any] = {}
    for name, (check, default) in fields.items():
        if name not in config:
            if default is REQUIRED:
                raise ConfigError(name, "is required")
            out[name] = default
            continue
        try:
            out[name] = check(config[name])
        except _Wrong as wrong:
            raise ConfigError(name, f"must be {wrong.expected}, got {_show(config[name])}"
                              ) from None
        except ConfigError as inner:  # from a nested ``mapping``
            raise ConfigError(f"{name}.{inner.field}", inner.message) from None
    return out


def mapping(fields: Mapping[str, tuple[Check, Any]]) -> Check:
    """A JSON object checked field by field (errors name ``outer.inner``)."""
    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Wrong("a JSON object")
        return checked_config(value, fields)
    return check


def integer(low: int | None = None, high: int | None = None) -> Check:
    """An int (not a bool) within ``[low, high]``."""
    expected = "an integer" + (f" >= {low}" if low is not None else "") + \
        (f" <= {high}" if high is not None else "")

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or \
                (low is not None and value < low) or (high is not None and value > high):
            raise _Wrong(expected)
        return value
    return check


def number(low: float | None = None, high: float | None = None) -> Check:
    """A finite int or float within ``[low, high]``, as a float."""
    expected = "a finite number" + (f" >= {low}" if low is not None else "") + \
        (f" <= {high}" if high is not None else "")

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or (low is not None and value < low) or \
                (high is not None and value > high):
            raise _Wrong(expected)
        return float(value)
    return check


def boolean() -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise _Wrong("true or false")
        return value
    return check


def text(max_length: int = 1000) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > max_length:
            raise _Wrong(f"a string of at most {max_length} characters")
        return value
    return check


def text_list() -> Check:
    """A list of strings (a vocabulary, a tag list)."""
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Wrong("a list of strings")
        return value
    return check


def one_of(*values: Any) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in values:
            raise _Wrong("one of " + ", ".join(map(repr, values)))
        return value
    return check


def optional(inner: Check) -> Check:
    """None, or what ``inner`` accepts."""
    def check(value: Any) -> Any:
        if value is None:
            return None
        try:
            return inner(value)
        except _Wrong as wrong:
            raise _Wrong(f"null or {wrong.expected}") from None
    return check


def either(*checks: Check) -> Check:
    """The first of ``checks`` that accepts the value."""
    def check(value: Any) -> Any:
        expected = []
        for inner in checks:
            try:
                return inner(value)
            except _Wrong as wrong:
                expected.append(wrong.expected)
        raise _Wrong(" or ".join(expected))
    return check


def instance(cls: type) -> Check:
    """An already built component of class ``cls`` (persistence builds nested ones first)."""
    def check(value: Any) -> Any:
        if not isinstance(value, cls):
            raise _Wrong(f"a {cls.__name__} component")
        return value
    return check


def instances(cls: type, min_count: int = 1) -> Check:
    """A list of at least ``min_count`` built components of class ``cls``."""
    def check(value: Any) -> list:
        if not isinstance(value, list) or len(value) < min_count or \
                not all(isinstance(item, cls) for item in value):
            raise _Wrong(f"a list of at least {min_count} {cls.__name__} components")
        return value
    return check
