"""Checks for ``tagkit train`` configs: values against constructor annotations, key paths, and
the one-line errors they raise.

A config names components by registry name and passes them keyword arguments. What a component
accepts is read from its constructor's signature, so a plugin needs no schema of its own: every
parameter is a known key, a parameter without a default is required, and a value is checked
against the parameter's annotation when the annotation is one this module understands (``int``,
``float``, ``bool``, ``str``, paths, ``X | None``, ``Sequence[X]``, ``Mapping[K, V]``...). An
annotation it does not understand is not guessed at: the value is passed as is and the
constructor judges it (its error is still reported as one line naming the section).

This module imports nothing heavy: validating a config must be instant.
"""

from __future__ import annotations

import difflib
import inspect
import json
from typing import Any, Callable, Iterable, Sequence

__all__ = ["RunConfigError", "key_path", "show", "unknown_key", "check_annotation",
           "WrongValue", "signature_params"]

PATH_TYPES = {"PathType", "Path", "PathLike", "os.PathLike", "pathlib.Path", "str | Path"}


class RunConfigError(ValueError):
    """A config is wrong at ``key`` (a dotted path such as ``trainer.max_epochs``).

    ``str()`` is one line: ``SOURCE: KEY...: what is wrong and what is allowed``.
    """

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        self.key, self.message, self.source = key, message, source
        super().__init__(message)

    def with_source(self, source: str) -> RunConfigError:
        return RunConfigError(self.key, self.message, source)

    def __str__(self) -> str:
        text = " ".join(self.message.split())  # one line, whatever the message held
        return f"{self.source}: {text}" if self.source else text


class WrongValue(Exception):
    """Raised by :func:`check_annotation`: the value is not ``expected``."""

    def __init__(self, expected: str) -> None:
        self.expected = expected


def key_path(*parts: str | int) -> str:
    """``("embeddings", 0, "name_or_path")`` -> ``embeddings[0].name_or_path``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part:
            text += f".{part}" if text else part
    return text


def show(value: Any) -> str:
    """A value as it is written in TOML (strings quoted, booleans lower-case), kept short."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_key(path: Sequence[str | int], key: str, known: Iterable[str]) -> RunConfigError:
    """The error for ``key`` not among ``known`` under ``path``, with the closest known key."""
    known = sorted(set(known))
    where = key_path(*path, key)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {key_path(*path, close[0])}?"
    else:
        hint = f"the keys allowed here are: {', '.join(known) or 'none'}"
    return RunConfigError(where, f"{where}: unknown key; {hint}")


def signature_params(cls: Any) -> tuple[dict[str, inspect.Parameter], bool]:
    """The keyword-passable constructor parameters of ``cls``, and whether it takes ``**kw``."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return {}, True
    params = {name: p for name, p in signature.parameters.items()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    return params, var_kw


def annotation_text(annotation: Any) -> str | None:
    """A parameter's annotation as source text (None when it has none)."""
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


# -- annotations -----------------------------------------------------------------------------------
def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _generic(text: str) -> tuple[str, list[str]]:
    if text.endswith("]") and "[" in text:
        head, _, inner = text[:-1].partition("[")
        return head.split(".")[-1], _split_top(inner, ",")
    return text, []


def _alternatives(text: str) -> list[str]:
    text = text.strip()
    head, args = _generic(text)
    if head == "Optional" and len(args) == 1:
        return [*_alternatives(args[0]), "None"]
    if head == "Union":
        return [alt for arg in args for alt in _alternatives(arg)]
    parts = _split_top(text, "|")
    if len(parts) > 1:
        return [alt for part in parts for alt in _alternatives(part)]
    return [text]


_Check = Callable[[Any], Any]


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WrongValue("an integer")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WrongValue("a number")
    return value


def _instance(kind: type, expected: str) -> _Check:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise WrongValue(expected)
        return value
    return check


def _none(value: Any) -> None:
    if value is not None:
        raise WrongValue("nothing")


def _list_of(inner: _Check | None, expected: str) -> _Check:
    def check(value: Any) -> list:
        if not isinstance(value, list):
            raise WrongValue(expected)
        if inner is None:
            return value
        try:
            return [inner(item) for item in value]
        except WrongValue:
            raise WrongValue(expected) from None
    return check


def _mapping_of(key_int: bool, inner: _Check | None, expected: str) -> _Check:
    def check(value: Any) -> dict:
        if not isinstance(value, dict):
            raise WrongValue(expected)
        out = {}
        for key, item in value.items():
            if key_int:  # TOML keys are strings: "0" means column 0
                if not (isinstance(key, int) or (isinstance(key, str) and key.isdigit())):
                    raise WrongValue(expected)
                key = int(key)
            try:
                out[key] = inner(item) if inner is not None else item
            except WrongValue:
                raise WrongValue(expected) from None
        return out
    return check


def _plural(expected: str) -> str:
    """``a string`` -> ``strings``, for "a list of strings"."""
    for article in ("an ", "a "):
        rest = expected[len(article):]
        if expected.startswith(article) and " " not in rest:
            return rest + "s"
    return f"items that are {expected}"


def _simple_check(text: str) -> tuple[_Check, str] | None:
    """A check for one alternative of an annotation, or None when it is not understood."""
    text = text.strip().strip("'\"")
    simple: dict[str, tuple[_Check, str]] = {
        "int": (_int, "an integer"), "float": (_float, "a number"),
        "bool": (_instance(bool, "true or false"), "true or false"),
        "str": (_instance(str, "a string"), "a string"), "None": (_none, "nothing"),
        "Any": (lambda value: value, "anything"),
    }
    if text in simple:
        return simple[text]
    if text in PATH_TYPES or text.endswith("PathType"):
        return _instance(str, "a path"), "a path (a string)"
    head, args = _generic(text)
    if head in ("Sequence", "list", "List", "tuple", "Tuple", "Iterable") and args:
        inner = _check_for(args[0]) if len(args) == 1 or args[-1] != "..." else None
        expected = "a list" + (f" of {_plural(inner[1])}" if inner else "")
        return _list_of(inner[0] if inner else None, expected), expected
    if head in ("Mapping", "dict", "Dict") and len(args) == 2:
        value = _check_for(args[1])
        key_int = args[0].strip() == "int"
        expected = "a table" + (" with integer keys" if key_int else "") + \
            (f" of {_plural(value[1])}" if value else "")
        return _mapping_of(key_int, value[0] if value else None, expected), expected
    return None


def _check_for(text: str) -> tuple[_Check, str] | None:
    checks = [_simple_check(alt) for alt in _alternatives(text)]
    if any(check is None for check in checks):
        return None
    usable = [check for check in checks if check[1] != "nothing"]  # TOML has no null

    def check(value: Any) -> Any:
        for inner, _ in usable:
            try:
                return inner(value)
            except WrongValue:
                continue
        raise WrongValue(" or ".join(expected for _, expected in usable))
    return check, " or ".join(expected for _, expected in usable)


def check_annotation(annotation: Any, value: Any) -> Any:
    """``value`` checked (and converted: integer table keys) against ``annotation``; raises
    :class:`WrongValue`. A value for an annotation this module does not understand passes."""
    text = annotation_text(annotation)
    found = _check_for(text) if text else None
    return value if found is None else found[0](value)


def mentions_embeddings(annotation: Any) -> bool:
    """Whether a parameter takes embeddings (its value may be a component table)."""
    text = annotation_text(annotation) or ""
    return "Embeddings" in text


def mentions_dictionary(annotation: Any) -> bool:
    text = annotation_text(annotation) or ""
    return any(alt.strip().split(".")[-1] == "Dictionary" for alt in _alternatives(text))
