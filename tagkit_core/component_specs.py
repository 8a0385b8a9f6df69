"""Components to JSON specs and back, walking nested components for them.

A component's ``get_config()`` returns plain data in which a nested component may appear as the
object itself (the tagger returns ``{"embeddings": self.embeddings, ...}``, a stack
``{"embeddings": [a, b]}``). :func:`component_spec` walks that config and writes each nested
component as a spec marked with the key ``"tagkit_component"`` (its kind), holding its registry
name, the distribution and version that provided it, and its own config. :func:`build_spec`
reverses it bottom-up: nested specs become objects first, so ``from_config`` receives a config
whose components are already built, and components never call persistence back.

A component is recognised by the ``component_kind`` class attribute of its base (``"embedding"``
on ``Embeddings``, ``"model"`` on ``Model``), not by importing those bases here.
"""

from __future__ import annotations

import math
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from tagkit_core.model_schema import (
    COMPONENT_KEY,
    COMPONENT_KINDS,
    TENSOR_KEY,
    ModelFileError,
    field_path,
    is_spec,
    safe_distribution,
)
from tagkit_core.registry import KNOWN_PROVIDERS, ComponentNotFound, get_registry

__all__ = ["component_spec", "build_spec", "MissingComponentError", "ComponentBuildError"]


class MissingComponentError(ModelFileError, ComponentNotFound):
    """The file names a component no installed plugin registers (the message says what to
    install when the file names a valid distribution)."""


class ComponentBuildError(ModelFileError):
    """A component's ``from_config`` refused the file's config (``field`` names the place)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


#: Exact types a config list may hold that need no conversion nor check (floats do: NaN).
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def _kind_of(obj: Any) -> str | None:
    kind = getattr(type(obj), "component_kind", None)
    return kind if kind in COMPONENT_KINDS else None


def _distribution_of(obj: Any) -> tuple[str | None, str | None]:
    component = get_registry().provider_of(type(obj))
    if component is not None and component.distribution:
        return component.distribution, component.version
    top = type(obj).__module__.split(".")[0]
    dist = KNOWN_PROVIDERS.get(top, "tagkit-core" if top == "tagkit_core" else None)
    try:
        return dist, version(dist) if dist else None
    except PackageNotFoundError:
        return dist, None


def component_spec(obj: Any, where: str = "model") -> dict[str, Any]:
    """The JSON spec of a component and, inside its config, of every nested component."""
    kind = _kind_of(obj)
    name = getattr(type(obj), "registry_name", "")
    if kind is None or not name:
        raise TypeError(f"{where}: {type(obj).__name__} is not a saveable component (it needs "
                        "a registry_name and a component_kind from Embeddings or Model)")
    dist, dist_version = _distribution_of(obj)
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"{where}: {type(obj).__name__}.get_config() must return a dict")
    return {COMPONENT_KEY: kind, "type": name, "distribution": dist, "version": dist_version,
            "config": _plain(config, field_path(where, "config"))}


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON data, nested components replaced by their specs."""
    if _kind_of(value) is not None:
        return component_spec(value, where)
    if isinstance(value, dict):
        if COMPONENT_KEY in value or TENSOR_KEY in value:
            raise TypeError(f"{where}: a config dict may not use the reserved key "
                            f"{COMPONENT_KEY!r} or {TENSOR_KEY!r}")
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{where}: config keys must be strings, got {key!r}")
        return {key: _plain(item, field_path(where, key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if all(type(item) in _PLAIN_SCALARS for item in value):  # a vocabulary: no walk
            return list(value)
        return [_plain(item, field_path(where, i)) for i, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise TypeError(f"{where}: {value} cannot be saved in a model file")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{where}: get_config() returned a {type(value).__name__}; configs hold "
                    "plain data (str, int, float, bool, None, lists, dicts) and components")


def build_spec(spec: dict[str, Any], source: str, where: str = "model") -> Any:
    """Build a checked spec (``model_schema.check_spec``) bottom-up through the registry.

    Every failure is a :class:`ModelFileError` naming ``source`` and the field path: an
    unregistered type (:class:`MissingComponentError`, also a ``ComponentNotFound``), a class of
    the wrong kind, or ``from_config`` refusing a value (TypeError/ValueError).
    """
    kind, name = spec[COMPONENT_KEY], spec["type"]
    registry = get_registry()
    hint = safe_distribution(spec["distribution"])
    try:
        cls = registry.resolve(kind, name, distribution_hint=hint)
    except ComponentNotFound as error:
        raise MissingComponentError(f"{source}: {field_path(where, 'type')}: {error}") from None
    if getattr(cls, "component_kind", None) != kind:
        raise ModelFileError(f"{source}: {where}: the registered {kind} {name!r} is not a "
                             f"tagkit {kind} component")
    config_at = field_path(where, "config")
    config = _built(spec["config"], source, config_at)
    try:
        return cls.from_config(config)
    except ModelFileError:
        raise
    except Exception as error:  # from_config's refusal of a value, or a constructor's
        field = getattr(error, "field", None)
        at = field_path(config_at, field) if isinstance(field, str) else config_at
        raise ComponentBuildError(
            f"{source}: {at}: the {kind} {name!r} cannot be built from this config: "
            f"{type(error).__name__}: {error}", at) from error


def _built(value: Any, source: str, where: str) -> Any:
    if is_spec(value):
        return build_spec(value, source, where)
    if isinstance(value, dict):
        return {key: _built(item, source, field_path(where, key)) for key, item in value.items()}
    if isinstance(value, list) and all(type(item) in _PLAIN_SCALARS for item in value):
        return value
    if isinstance(value, list):
        return [_built(item, source, field_path(where, i)) for i, item in enumerate(value)]
    return value
