"""Training-run configs (``tagkit train CONFIG.toml``): read, override, validate, save.

A config has four sections, each naming components by registry name (``tagkit components``
lists them) and passing them keyword arguments::

    [corpus]                      # a registered dataset, + its arguments
    type = "ud_english"
    downsample = 0.1              # reserved: keep this fraction of every split

    [[embeddings]]                # one table per embedding; several are stacked
    type = "word"
    name_or_path = "glove"

    [model]                       # a registered model, + its arguments
    type = "sequence_tagger"
    tag_type = "pos"
    hidden_size = 256

    [trainer]                     # ModelTrainer.train's options (TrainingConfig), and
    base_path = "resources/taggers/example-pos"   # the output folder
    optimizer = "SGD"             # a torch.optim class name (default SGD)
    max_epochs = 10

The registry name goes in ``type``, not ``name``: datasets and some embeddings take a ``name``
argument of their own. Names are matched exactly, then case-insensitively (``UD_ENGLISH``).
A model's embeddings and its tag or label dictionary are not written in ``[model]``: the
embeddings come from ``[[embeddings]]`` and the dictionary is made from the corpus (the
parameter annotated ``Dictionary``: ``tag_*`` from ``make_tag_dictionary(tag_type)``, any
other from ``make_label_dictionary(label_type)``).

:func:`resolve_config` checks everything before anything is loaded or trained and fills in
every default, so the resolved config saved beside the model says exactly what ran. Each
fault is a :class:`RunConfigError` whose ``str`` is one line naming the key path, the bad value
and what is allowed (``trainer.max_epoch: unknown key; did you mean trainer.max_epochs?``).
Relative paths in a config are relative to the working directory, as in Python code.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from tagkit_core.run_config_checks import (
    RunConfigError,
    WrongValue,
    check_annotation,
    key_path,
    mentions_dictionary,
    mentions_embeddings,
    show,
    signature_params,
    unknown_key,
)
from tagkit_core.run_config_trainer import resolve_trainer

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.registry import Registry

__all__ = ["RunConfigError", "SECTIONS", "read_config", "apply_overrides", "resolve_config",
           "model_injections", "parse_key"]

SECTIONS = ("corpus", "embeddings", "model", "trainer")


# -- reading and overriding --------------------------------------------------------------------
def read_config(path: str | Path) -> dict[str, Any]:
    """A config file as plain data: TOML, or JSON when the name ends in ``.json``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunConfigError("", f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RunConfigError("", f"{path}: cannot be read ({error})") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise RunConfigError("", f"{path}: not valid {kind}: {error}") from None
    if not isinstance(data, dict):
        raise RunConfigError("", f"{path}: expected a table of sections, got {show(data)}")
    return data


def parse_key(key: str) -> list[str | int]:
    """``embeddings[0].type`` or ``embeddings.0.type`` -> ``["embeddings", 0, "type"]``."""
    parts: list[str | int] = []
    for piece in key.split("."):
        match = re.fullmatch(r"([^\[\]]*)((?:\[\d+\])*)", piece)
        if not match or (not match.group(1) and not match.group(2)):
            raise RunConfigError(key, f"--set {key}: not a key path (e.g. trainer.max_epochs)")
        name, indexes = match.groups()
        if name:
            parts.append(int(name) if name.isdigit() else name)
        parts += [int(i) for i in re.findall(r"\d+", indexes)]
    return parts


def _parse_value(text: str) -> Any:
    """A TOML value (``3``, ``0.1``, ``true``, ``"x"``, ``[1, 2]``); anything else a string,
    so ``--set trainer.device=cpu`` needs no quotes."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(config: dict[str, Any], assignments: Sequence[str]) -> dict[str, Any]:
    """``config`` with each ``KEY=VALUE`` of ``--set`` applied (missing tables are created)."""
    for raw in assignments:
        key, sep, text = raw.partition("=")
        if not sep or not key.strip():
            raise RunConfigError("--set", f"--set {raw}: expected KEY=VALUE, e.g. "
                                          "trainer.max_epochs=3")
        parts = parse_key(key.strip())
        node: Any = config
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            where = key_path(*parts[:depth + 1])
            if isinstance(node, list):
                if not isinstance(part, int) or part >= len(node):
                    raise RunConfigError(where, f"--set {key}: {where} does not exist (the list "
                                                f"has {len(node)} item(s))")
            elif isinstance(node, dict):
                if isinstance(part, int):
                    raise RunConfigError(where, f"--set {key}: {key_path(*parts[:depth])} is a "
                                                "table, not a list")
                if not last and part not in node:
                    node[part] = {}
            else:
                raise RunConfigError(where, f"--set {key}: {key_path(*parts[:depth])} is a "
                                            f"value ({show(node)}), not a table")
            if last:
                node[part] = _parse_value(text.strip())
            else:
                node = node[part]
    return config


# -- resolving ---------------------------------------------------------------------------------
def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in value.items())
    return False


def _lookup(registry: Registry, kind: str, name: Any, path: Sequence[str | int]
            ) -> tuple[Any, str]:
    from tagkit_core.registry import ComponentNotFound, DuplicateComponent

    where = key_path(*path, "type")
    if not isinstance(name, str):
        raise RunConfigError(where, f"{where} = {show(name)}: expected the registry name of a "
                                    f"{kind} (a string)")
    try:
        return registry.resolve(kind, name), name
    except DuplicateComponent as error:
        raise RunConfigError(where, f"{where} = {show(name)}: {error}") from None
    except ComponentNotFound:
        pass
    names = sorted(c.name for c in registry.components(kind))
    same = [n for n in names if n.lower() == name.lower()]
    if len(same) == 1:
        return registry.resolve(kind, same[0]), same[0]
    import difflib

    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    failed = [info.name for info in registry.plugins if info.error]
    note = (f"; {len(failed)} plugin(s) failed to load, see 'tagkit plugins'" if failed else "")
    raise RunConfigError(where, f"{where} = {show(name)}: no {kind} of that name is registered "
                                f"(available: {', '.join(names) or 'none'}){hint}{note}")


def model_injections(cls: Any) -> dict[str, str]:
    """The model constructor's parameters tagkit fills itself: ``{param: "embeddings" |
    "tag_dictionary" | "label_dictionary"}``."""
    params, _ = signature_params(cls)
    out = {}
    for name, param in params.items():
        if mentions_dictionary(param.annotation):
            out[name] = "tag_dictionary" if name.startswith("tag") else "label_dictionary"
        elif mentions_embeddings(param.annotation):
            out[name] = "embeddings"
    return out


def _is_component(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(item, dict) and "type" in item for item in value)
    return isinstance(value, dict) and "type" in value


def _component(registry: Registry, kind: str, table: Any, path: Sequence[str | int],
               reserved: dict[str, Any] | None = None, injected: dict[str, str] | None = None
               ) -> dict[str, Any]:
    """One component's table, checked against its constructor, with defaults filled in."""
    reserved, injected = reserved or {}, injected or {}
    where = key_path(*path)
    if not isinstance(table, dict):
        raise RunConfigError(where, f"{where} = {show(table)}: expected a table naming a "
                                    f"registered {kind} in its type key")
    if "type" not in table:
        names = sorted(c.name for c in registry.components(kind))
        hint = ""
        if isinstance(table.get("name"), str) and table["name"].lower() in names:
            hint = (f"; the registry name goes in type, not name: type = "
                    f"{show(table['name'].lower())}")
        raise RunConfigError(key_path(*path, "type"), f"{key_path(*path, 'type')}: missing; "
                             f"name a registered {kind} (available: {', '.join(names) or 'none'})"
                             + hint)
    cls, name = _lookup(registry, kind, table["type"], path)
    params, var_kw = signature_params(cls)
    known = {"type", *reserved, *(p for p in params if p not in injected)}
    for key in table:
        if key in injected:
            source = "[[embeddings]]" if injected[key] == "embeddings" else "the corpus"
            raise RunConfigError(key_path(*path, key), f"{key_path(*path, key)}: set by tagkit "
                                 f"from {source}; remove it from [{where}]")
        if key not in known and not var_kw:
            raise unknown_key(path, key, known)
    out: dict[str, Any] = {"type": name}
    for key, (check, default) in reserved.items():
        value = table.get(key, default)
        try:
            out[key] = check(value) if key in table else default
        except WrongValue as wrong:
            raise RunConfigError(key_path(*path, key), f"{key_path(*path, key)} = {show(value)}:"
                                 f" expected {wrong.expected}") from None
    for param_name, param in params.items():
        at = key_path(*path, param_name)
        if param_name in injected:
            continue
        if param_name in table:
            value = table[param_name]
            if mentions_embeddings(param.annotation) and _is_component(value):
                if isinstance(value, list):
                    out[param_name] = [_component(registry, "embedding", item,
                                                  [*path, param_name, i])
                                       for i, item in enumerate(value)]
                else:
                    out[param_name] = _component(registry, "embedding", value,
                                                 [*path, param_name])
                continue
            try:
                out[param_name] = check_annotation(param.annotation, value)
            except WrongValue as wrong:
                raise RunConfigError(at, f"{at} = {show(value)}: expected {wrong.expected}"
                                     ) from None
        elif param.default is param.empty:
            raise RunConfigError(at, f"{at}: missing; the {kind} {name!r} requires it")
        elif _plain(param.default):
            out[param_name] = param.default
    for key in table:
        if key not in out and key not in params:  # taken by **kwargs
            out[key] = table[key]
    return out


def _downsample(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise WrongValue("a fraction in (0, 1]")
    return float(value)


def resolve_config(config: dict[str, Any], registry: Registry | None = None,
                   source: str | None = None) -> dict[str, Any]:
    """The validated config with every default filled in; raises :class:`RunConfigError`
    (with ``source``, e.g. the file name, at the start of its message)."""
    from tagkit_core.registry import get_registry

    registry = registry or get_registry()
    try:
        return _resolve(config, registry)
    except RunConfigError as error:
        raise (error.with_source(source) if source else error) from None


def _resolve(config: dict[str, Any], registry: Registry) -> dict[str, Any]:
    for key in config:
        if key not in SECTIONS:
            raise unknown_key([], key, SECTIONS)
    for section in ("corpus", "model", "trainer"):
        if section not in config:
            raise RunConfigError(section, f"{section}: missing section; add a [{section}] table"
                                 + (" with a type key" if section != "trainer" else ""))
    corpus = _component(registry, "dataset", config["corpus"], ["corpus"],
                        reserved={"downsample": (_downsample, None)})
    model_table = config["model"]
    model_cls = None
    if isinstance(model_table, dict) and "type" in model_table:
        model_cls, _ = _lookup(registry, "model", model_table["type"], ["model"])
    injected = model_injections(model_cls) if model_cls is not None else {}
    embeddings_raw = config.get("embeddings", [])
    if isinstance(embeddings_raw, dict):
        embeddings_raw = [embeddings_raw]
    if not isinstance(embeddings_raw, list):
        raise RunConfigError("embeddings", f"embeddings = {show(embeddings_raw)}: expected "
                                           "[[embeddings]] tables, each with a type key")
    embeddings = [_component(registry, "embedding", table, ["embeddings", i])
                  for i, table in enumerate(embeddings_raw)]
    takes_embeddings = "embeddings" in injected.values()
    if takes_embeddings and not embeddings:
        raise RunConfigError("embeddings", "embeddings: missing; the model "
                             f"{model_table['type']!r} needs an [[embeddings]] table")
    if embeddings and model_cls is not None and not takes_embeddings:
        raise RunConfigError("embeddings", "embeddings: the model "
                             f"{model_table['type']!r} takes no embeddings; remove them")
    model = _component(registry, "model", model_table, ["model"], injected=injected)
    trainer = resolve_trainer(registry, config["trainer"])
    return {"corpus": corpus, "embeddings": embeddings, "model": model, "trainer": trainer}
