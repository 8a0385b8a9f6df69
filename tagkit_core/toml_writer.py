"""Write plain data as TOML (the standard library reads TOML but does not write it).

Enough for resolved run configs: tables, arrays of tables, strings, numbers, booleans, lists
and nested tables (written inline). TOML has no null, so a key whose value is None is left out
and listed in a comment under its table (``# unset (None): mirror, vocab``): reading the file
back gives the same config, since a missing key means the default, None.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["dumps"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: Any) -> str:
    key = str(key)
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        items = [f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None]
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} as TOML: {value!r:.60}")


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _body(table: dict[str, Any]) -> list[str]:
    lines = [f"{_key(key)} = {_value(value)}" for key, value in table.items()
             if value is not None]
    unset = [str(key) for key, value in table.items() if value is None]
    if unset:
        lines.append(f"# unset (None): {', '.join(unset)}")
    return lines


def dumps(data: dict[str, Any], header: str = "") -> str:
    """``data`` (a table of tables) as TOML text, ``header`` as leading comment lines."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    scalars = {k: v for k, v in data.items()
               if not isinstance(v, dict) and not _is_table_list(v)}
    lines += _body(scalars)
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{_key(key)}]", *_body(value)]
        elif _is_table_list(value):
            for item in value:
                lines += ["", f"[[{_key(key)}]]", *_body(item)]
    return "\n".join(lines).lstrip("\n") + "\n"
