"""Plugin discovery and the component registry.

Plugins come from the ``tagkit`` entry-point group, loaded once, lazily, on first use. Each entry
point is imported inside its own try/except: a broken plugin is recorded (entry point,
distribution, error) and shown by ``tagkit plugins``, and the others still load. Only hook calls
fill the registry: every registration hook implementation is called with its own ``register``
callable, so the registry knows which plugin and distribution gave each component, type-checks it,
and rejects a second component of the same kind and name with an error naming both distributions.
A plugin implementing a hook that no spec defines (a misspelt name) is recorded and left out,
instead of failing the whole process as ``pm.check_pending()`` would.

Environment variables (as datasette and llm offer):

* ``TAGKIT_LOAD_PLUGINS``: ``""`` loads no entry-point plugin, ``"a,b"`` only those entry points.
* ``TAGKIT_TRACE_PLUGINS=1``: print each hook call (pluggy tracing) to stderr.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import sys
import threading
import traceback
from typing import Any, Callable, Iterable

import attrs
import pluggy

from tagkit_core import hookspecs

__all__ = [
    "KINDS",
    "Component",
    "PluginInfo",
    "Registry",
    "ComponentNotFound",
    "DuplicateComponent",
    "get_registry",
    "reset_registry",
]

ENTRY_POINT_GROUP = "tagkit"

# Kind -> (registration hook, "module:Class" the component must subclass, or None).
KINDS: dict[str, tuple[str, str | None]] = {
    "dataset": ("register_datasets", None),
    "embedding": ("register_embeddings", "tagkit_core.embeddings:Embeddings"),
    "model": ("register_models", "tagkit_core.model:Model"),
    "storage_mode": ("register_storage_modes", "tagkit_core.storage:StorageMode"),
    "plotter": ("register_plotters", None),
}

# Core modules that are plugins too (the llm pattern): they implement lifecycle hooks.
DEFAULT_PLUGINS = (
    "tagkit_core.default_plugins.core_components",
    "tagkit_core.default_plugins.training_files",
)

# Where the in-tree components live, so an error can say what to install before any plugin loads.
KNOWN_PROVIDERS: dict[str, str] = {
    "tagkit_datasets": "tagkit-datasets",
    "tagkit_embeddings": "tagkit-embeddings",
    "tagkit_transformers": "tagkit-transformers",
    "tagkit_crf_tagger": "tagkit-crf-tagger",
    "tagkit_classifiers": "tagkit-classifiers",
    "tagkit_storage": "tagkit-storage",
    "tagkit_plotters": "tagkit-plotters",
}


class ComponentNotFound(LookupError):
    """No component of the asked kind and name is registered."""


class DuplicateComponent(ValueError):
    """Two plugins registered a component of the same kind and name."""


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


@attrs.define
class PluginInfo:
    """A plugin that was found: loaded (``error`` is None) or failed to load."""

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = attrs.field(factory=list)
    error: str | None = None
    builtin: bool = False

    def to_json(self) -> dict:
        return attrs.asdict(self)


def _check_type(kind: str, obj: Any) -> None:
    base_path = KINDS[kind][1]
    if base_path is None:
        if not callable(obj):
            raise TypeError(f"a {kind} must be a class or callable, got {obj!r}")
        return
    module, _, name = base_path.partition(":")
    base = getattr(importlib.import_module(module), name)
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise TypeError(
            f"a {kind} must be a subclass of {base_path.replace(':', '.')}, got {obj!r}")


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
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._entry_points = entry_points
        self._default_plugins = tuple(default_plugins)
        self._lock = threading.RLock()
        self._loaded = False
        self._load_error: DuplicateComponent | None = None
        self.plugins: list[PluginInfo] = []
        self._components: dict[tuple[str, str], Component] = {}
        self._plugin_dist: dict[str, tuple[str | None, str | None]] = {}

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> Registry:
        """Load every plugin and collect components; later calls do nothing.

        A duplicate component makes the registry unusable, so the same error is raised again on
        every later call instead of handing out a half-filled registry.
        """
        with self._lock:
            if self._loaded:
                if self._load_error is not None:
                    raise DuplicateComponent(str(self._load_error))
                return self
            self._loaded = True
            from tagkit_core import __version__ as core_version

            for module_name in self._default_plugins:
                # Built-ins are provided by tagkit-core, so their components say so (model files
                # record the providing distribution of every component).
                self._register_plugin(module_name, lambda m=module_name: importlib.import_module(m),
                                      "tagkit-core", core_version, builtin=True)
            for ep in self._select_entry_points():
                dist = getattr(ep, "dist", None)
                self._register_plugin(ep.name, ep.load, dist.name if dist else None,
                                      dist.version if dist else None)
            self.pm.check_pending()
            if os.environ.get("TAGKIT_TRACE_PLUGINS"):
                self.pm.trace.root.setwriter(sys.stderr.write)
                self.pm.enable_tracing()
            try:
                for kind in KINDS:
                    self._collect(kind)
            except DuplicateComponent as error:
                self._load_error = error
                raise
            return self

    def _select_entry_points(self) -> list[importlib.metadata.EntryPoint]:
        eps = list(self._entry_points if self._entry_points is not None
                   else importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        wanted = os.environ.get("TAGKIT_LOAD_PLUGINS")
        if wanted is not None:
            names = {n.strip() for n in wanted.split(",") if n.strip()}
            eps = [ep for ep in eps if ep.name in names]
        # One entry point per name: the same distribution may be seen twice on odd sys.paths.
        unique: dict[str, importlib.metadata.EntryPoint] = {}
        for ep in eps:
            unique.setdefault(ep.name, ep)
        return list(unique.values())

    def _register_plugin(self, name: str, load: Callable[[], Any], dist: str | None,
                         version: str | None, builtin: bool = False) -> None:
        info = PluginInfo(name=name, distribution=dist, version=version, builtin=builtin)
        self.plugins.append(info)
        try:
            plugin = load()
            self.pm.register(plugin, name=name)
        except Exception as error:  # a broken plugin must not break the others
            info.error = "".join(traceback.format_exception_only(type(error), error)).strip()
            return
        unknown = self._unknown_hooks(plugin)
        if unknown:
            # pluggy's check_pending() would raise for the whole process; a misspelt hook is a
            # broken plugin like any other: reported, left out, and the others still load.
            self.pm.unregister(plugin)
            info.error = "unknown hook " + "; ".join(unknown)
            return
        self._plugin_dist[name] = (dist, version)
        info.hooks = sorted(impl_name for impl_name in dir(self.pm.hook)
                            if not impl_name.startswith("_") and any(
                                impl.plugin_name == name
                                for impl in getattr(self.pm.hook, impl_name).get_hookimpls()))

    def _unknown_hooks(self, plugin: Any) -> list[str]:
        """The hook implementations of ``plugin`` that match no hookspec, with a suggestion."""
        unknown = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is not None or all(
                    impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin):
                continue
            close = difflib.get_close_matches(caller.name, _hook_names(), n=1)
            unknown.append(caller.name + (f" (did you mean {close[0]}?)" if close else ""))
        return sorted(unknown)

    def _collect(self, kind: str) -> None:
        hook = getattr(self.pm.hook, KINDS[kind][0])
        for impl in hook.get_hookimpls():
            dist, version = self._plugin_dist.get(impl.plugin_name, (None, None))

            def register(obj: Any, name: str | None = None, _plugin: str = impl.plugin_name,
                         _dist: str | None = dist, _version: str | None = version) -> None:
                self.add(kind, obj, name=name, plugin=_plugin, distribution=_dist,
                         version=_version)

            info = next(p for p in self.plugins if p.name == impl.plugin_name)
            try:
                impl.function(register)
            except DuplicateComponent as error:
                info.error = str(error)
                raise
            except Exception as error:
                info.error = f"{KINDS[kind][0]} failed: {type(error).__name__}: {error}"

    def add(self, kind: str, obj: Any, name: str | None = None, plugin: str = "<direct>",
            distribution: str | None = None, version: str | None = None) -> Component:
        """Register one component (what a plugin's ``register`` callable does)."""
        if kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")
        _check_type(kind, obj)
        name = name or getattr(obj, "registry_name", None)
        if not name:
            raise TypeError(f"{obj!r} has no registry_name; pass register(obj, name=...)")
        existing = self._components.get((kind, name))
        if existing is not None and existing.obj is not obj:
            raise DuplicateComponent(
                f"two plugins register the {kind} {name!r}: "
                f"{existing.distribution or existing.plugin} and {distribution or plugin}; "
                "uninstall one of them"
            )
        component = Component(kind, name, obj, plugin, distribution, version)
        self._components[(kind, name)] = component
        return component

    # -- queries --------------------------------------------------------------------------------
    def components(self, kind: str | None = None) -> list[Component]:
        self.load()
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")
        return sorted((c for c in self._components.values() if kind in (None, c.kind)),
                      key=lambda c: (c.kind, c.name))

    def get(self, kind: str, name: str, distribution_hint: str | None = None) -> Component:
        """The component of ``kind`` called ``name``, or an error saying what exists."""
        self.load()
        component = self._components.get((kind, name))
        if component is not None:
            return component
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
        """The registration of ``obj`` (a class), if it was registered."""
        self.load()
        for component in self._components.values():
            if component.obj is obj:
                return component
        return None

    @property
    def hook(self) -> Any:
        self.load()
        return self.pm.hook


def _hook_names() -> list[str]:
    return [name for name, obj in vars(hookspecs).items()
            if callable(obj) and hasattr(obj, f"{hookspecs.PROJECT}_spec")]


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
