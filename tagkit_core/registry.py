"""The component registry: what the plugins registered, by kind and name, and who provided it.

Loading (finding and importing the plugins) is :mod:`tagkit_core.plugins`; this module turns the
registration hooks into components. Each plugin's registration hook is called on its own,
through pluggy (``TAGKIT_TRACE_PLUGINS`` shows the calls), with a ``register`` callable bound to
that plugin, so the registry knows which plugin and distribution gave each component and
type-checks it against the kind's base class.

Faults stay as small as they can be:

* a registration hook that raises (anything but ``KeyboardInterrupt``), or registers something
  of the wrong type, is recorded on that plugin; what it registered before the error stays and
  every other plugin is unaffected;
* two plugins registering the same kind and name disable that *name*: neither is served,
  :meth:`Registry.get` raises :class:`DuplicateComponent` naming both distributions, and every
  other component, ``tagkit plugins`` and ``tagkit components`` keep working. Which of the two
  should win is the user's decision, so tagkit does not guess.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
from collections.abc import Iterable
from typing import Any

import attrs

from tagkit_core import plugins as plugin_loading
from tagkit_core.plugins import DEFAULT_PLUGINS, ENTRY_POINT_GROUP, PluginInfo

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "KNOWN_PROVIDERS",
    "Component",
    "ComponentNotFound",
    "Conflict",
    "DuplicateComponent",
    "PluginInfo",
    "Registry",
    "get_registry",
    "reset_registry",
]

# Kind -> (registration hook, "module:Class" every component of that kind must subclass).
KINDS: dict[str, tuple[str, str]] = {
    "dataset": ("register_datasets", "tagkit_core.corpus:Corpus"),
    "embedding": ("register_embeddings", "tagkit_core.embeddings:Embeddings"),
    "model": ("register_models", "tagkit_core.model:Model"),
    "storage_mode": ("register_storage_modes", "tagkit_core.storage:StorageMode"),
    "plotter": ("register_plotters", "tagkit_core.plotting:Plotter"),
    "logger": ("register_loggers", "tagkit_core.training_logger:TrainingLogger"),
}

# Where the in-tree components live, so an error can say what to install before any plugin loads.
KNOWN_PROVIDERS: dict[str, str] = {
    "tagkit_datasets": "tagkit-datasets",
    "tagkit_embeddings": "tagkit-embeddings",
    "tagkit_transformers": "tagkit-transformers",
    "tagkit_crf_tagger": "tagkit-crf-tagger",
    "tagkit_classifiers": "tagkit-classifiers",
    "tagkit_storage": "tagkit-storage",
    "tagkit_plotters": "tagkit-plotters",
    "tagkit_flair_embeddings": "tagkit-flair-embeddings",
    "tagkit_loggers": "tagkit-loggers",
}


class ComponentNotFound(LookupError):
    """No component of the asked kind and name is registered."""


class DuplicateComponent(ValueError):
    """Two plugins registered a component of the same kind and name, so that name is disabled."""


@attrs.frozen
class Component:
    """One registered component and where it came from."""

    kind: str
    name: str
    obj: Any
    plugin: str
    distribution: str | None
    version: str | None

    def to_json(self) -> dict:
        obj = self.obj
        return {
            "kind": self.kind,
            "name": self.name,
            "object": f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}",
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
        }


@attrs.frozen
class Conflict:
    """A kind and name registered by more than one plugin: disabled, with every candidate."""

    kind: str
    name: str
    candidates: tuple[Component, ...]

    @property
    def message(self) -> str:
        providers = [c.distribution or c.plugin for c in self.candidates]
        listed = ", ".join(providers[:-1]) + " and " + providers[-1]
        return (f"{len(providers)} plugins register the {self.kind} {self.name!r}: {listed}; "
                f"the name is disabled until all but one of them are uninstalled")


def _check_type(kind: str, obj: Any) -> None:
    base_path = KINDS[kind][1]
    module, _, name = base_path.partition(":")
    base = getattr(importlib.import_module(module), name)
    if not (isinstance(obj, type) and issubclass(obj, base)):
        article = "an" if kind[0] in "aeiou" else "a"
        raise TypeError(f"{article} {kind} must be a subclass of {base_path.replace(':', '.')}, "
                        f"got {obj!r}")


class Registry:
    """A plugin manager plus the components its plugins registered.

    Tests build their own ``Registry(entry_points=[...])``; everything else uses
    :func:`get_registry`, the process-wide one.
    """

    def __init__(
        self,
        entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
        default_plugins: Iterable[str] = DEFAULT_PLUGINS,
    ) -> None:
        self.pm = plugin_loading.new_plugin_manager()
        self._entry_points = entry_points
        self._default_plugins = tuple(default_plugins)
        self._lock = threading.RLock()
        self._loaded = False
        self.plugins: list[PluginInfo] = []
        self._components: dict[tuple[str, str], Component] = {}
        self._conflicts: dict[tuple[str, str], list[Component]] = {}

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> Registry:
        """Load every plugin and collect its components; later calls do nothing."""
        with self._lock:
            if self._loaded:
                return self
            self._loaded = True
            self.plugins = plugin_loading.load_plugins(self.pm, self._entry_points,
                                                       self._default_plugins)
            for kind in KINDS:
                self._collect(kind)
            for conflict in self.conflicts():
                for plugin_name in dict.fromkeys(c.plugin for c in conflict.candidates):
                    info = self.plugin_info(plugin_name)
                    if info is not None:
                        info.conflicts.append(conflict.message)
            return self

    def plugin_info(self, plugin_name: str) -> PluginInfo | None:
        """The :class:`PluginInfo` of a loaded plugin (None for one the trainer added)."""
        return next((info for info in self.plugins if info.name == plugin_name), None)

    def _collect(self, kind: str) -> None:
        hook_name = KINDS[kind][0]
        # In load order (pluggy calls the last registered first), so a conflict's message names
        # the distributions in the order they were found.
        for plugin_name, call in reversed(plugin_loading.each_implementation(self.pm, hook_name)):
            info = self.plugin_info(plugin_name)
            if info is None:  # registered on the manager by hand, not loaded as a plugin
                continue

            try:
                call(register=_Register(self, kind, info))
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # one plugin's hook must not stop the others
                info.add_error(f"{hook_name} failed: {plugin_loading.describe_error(error)}")

    @staticmethod
    def _make(kind: str, obj: Any, name: str | None, plugin: str, distribution: str | None,
              version: str | None) -> Component:
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")
        _check_type(kind, obj)
        name = name or getattr(obj, "registry_name", None)
        if not name:
            raise TypeError(f"{obj!r} has no registry_name; pass register(obj, name=...)")
        return Component(kind, name, obj, plugin, distribution, version)

    def _offer(self, component: Component) -> None:
        """Keep a plugin's component, or disable its name if another object holds it."""
        key = (component.kind, component.name)
        if key in self._conflicts:
            if all(c.obj is not component.obj for c in self._conflicts[key]):
                self._conflicts[key].append(component)
            return
        existing = self._components.get(key)
        if existing is None:
            self._components[key] = component
        elif existing.obj is not component.obj:  # the same object twice is harmless
            del self._components[key]
            self._conflicts[key] = [existing, component]

    def add(self, kind: str, obj: Any, name: str | None = None, plugin: str = "<direct>",
            distribution: str | None = None, version: str | None = None) -> Component:
        """Register one component directly (code and tests, not plugins).

        Unlike a plugin's ``register``, a name already held by another object raises
        :class:`DuplicateComponent` here and changes nothing: the caller is right there to fix it.
        """
        self.load()
        component = self._make(kind, obj, name, plugin, distribution, version)
        key = (kind, component.name)
        existing = self._components.get(key)
        if key in self._conflicts or (existing is not None and existing.obj is not obj):
            holders = self._conflicts.get(key) or [existing]
            raise DuplicateComponent(Conflict(kind, component.name,
                                              (*holders, component)).message)
        if existing is not None:
            return existing
        self._components[key] = component
        return component

    # -- queries --------------------------------------------------------------------------------
    def components(self, kind: str | None = None) -> list[Component]:
        """The components served, sorted by kind and name (disabled names are not among them)."""
        self.load()
        self._check_kind(kind)
        return sorted((c for c in self._components.values() if kind in (None, c.kind)),
                      key=lambda c: (c.kind, c.name))

    def conflicts(self, kind: str | None = None) -> list[Conflict]:
        """The disabled names: each kind and name more than one plugin registered."""
        self.load()
        self._check_kind(kind)
        return [Conflict(k, n, tuple(found)) for (k, n), found in sorted(self._conflicts.items())
                if kind in (None, k)]

    def get(self, kind: str, name: str, distribution_hint: str | None = None) -> Component:
        """The component of ``kind`` called ``name``, or an error saying what exists."""
        self.load()
        self._check_kind(kind)
        component = self._components.get((kind, name))
        if component is not None:
            return component
        if (kind, name) in self._conflicts:
            raise DuplicateComponent(Conflict(kind, name,
                                              tuple(self._conflicts[kind, name])).message)
        available = ", ".join(c.name for c in self.components(kind)) or "none"
        message = f"no {kind} named {name!r} is registered (available: {available})."
        if distribution_hint:
            message += f" It is provided by {distribution_hint}: pip install {distribution_hint}"
        failed = [p for p in self.plugins if p.error]
        if failed:
            message += " Plugins that failed to load: " + "; ".join(
                f"{p.name} ({p.error})" for p in failed)
        raise ComponentNotFound(message)

    def resolve(self, kind: str, name: str, distribution_hint: str | None = None) -> Any:
        return self.get(kind, name, distribution_hint).obj

    def provider_of(self, obj: Any) -> Component | None:
        """The registration of ``obj`` (a class), if it was registered, even under a disabled
        name: a model file may still record who provided its class."""
        self.load()
        candidates = [*self._components.values(),
                      *(c for found in self._conflicts.values() for c in found)]
        return next((c for c in candidates if c.obj is obj), None)

    @property
    def hook(self) -> Any:
        self.load()
        return self.pm.hook

    @staticmethod
    def _check_kind(kind: str | None) -> None:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")


class _Register:
    """The ``register`` callable one plugin's registration hook receives, bound to that plugin
    (its repr names it, so ``TAGKIT_TRACE_PLUGINS`` shows whose call it is)."""

    def __init__(self, registry: Registry, kind: str, info: PluginInfo) -> None:
        self._registry, self._kind, self._info = registry, kind, info

    def __call__(self, obj: Any, name: str | None = None) -> None:
        info = self._info
        self._registry._offer(self._registry._make(self._kind, obj, name, info.name,
                                                   info.distribution, info.version))

    def __repr__(self) -> str:
        return f"<register {self._kind} for plugin {self._info.name}>"


_REGISTRY: Registry | None = None
_REGISTRY_LOCK = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            _REGISTRY = Registry()
    return _REGISTRY.load()


def reset_registry(registry: Registry | None = None) -> None:
    """Replace the process-wide registry (tests use this after installing a plugin)."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        _REGISTRY = registry
