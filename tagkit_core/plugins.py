"""Finding and importing plugins, and calling one plugin's hook at a time.

Plugins come from the ``tagkit`` entry-point group plus the core's own default plugins. Each is
imported and registered inside its own ``try``: a plugin that raises anything at import
(``ImportError``, but also ``SystemExit`` from a stray ``sys.exit()``, ``GeneratorExit`` or a
custom ``BaseException``) is recorded on its :class:`PluginInfo` and left out, and the others
still load. Only ``KeyboardInterrupt`` propagates: the user asked to stop.

A plugin implementing a hook that no spec defines (a misspelt name) is recorded and unregistered
instead of failing the whole process as ``pm.check_pending()`` would; ``check_pending()`` then
runs as an assertion that nothing unknown is left.

:func:`each_implementation` gives one pluggy caller per plugin for a hook, made with the public
``pm.subset_hook_caller`` so the call still goes through pluggy (``TAGKIT_TRACE_PLUGINS`` shows
it) while the caller knows which plugin it is calling, and one plugin's failure cannot stop the
others'. The registry, the CLI and :mod:`tagkit_core.lifecycle` all call plugins this way.

Environment variables (as datasette and llm offer):

* ``TAGKIT_LOAD_PLUGINS``: ``""`` loads no entry-point plugin, ``"a,b"`` only those entry points
  (the default plugins always load).
* ``TAGKIT_TRACE_PLUGINS=1``: print each hook call (pluggy tracing) to stderr.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pluggy

from tagkit_core import hookspecs

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "describe_error",
    "each_implementation",
    "load_plugins",
    "new_plugin_manager",
    "unknown_hooks",
]

ENTRY_POINT_GROUP = "tagkit"

# Core modules that are plugins too (the llm pattern): they register components and implement
# lifecycle hooks like any other plugin.
DEFAULT_PLUGINS = (
    "tagkit_core.default_plugins.core_components",
    "tagkit_core.default_plugins.training_files",
)


@attrs.define
class PluginInfo:
    """A plugin that was found, and everything that went wrong with it.

    * ``error``: why it failed to load, or why one of its registration hooks failed (several
      messages are joined with ``"; "``). None for a plugin that loaded cleanly.
    * ``conflicts``: names it registered that another plugin registered too; those names are
      disabled (served by neither), the plugin's other components work.
    * ``runtime_errors``: lifecycle hooks that raised during training in this process
      (``"on_epoch_end: RuntimeError: ..."``); the plugin was skipped for the rest of that run.
    """

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = attrs.field(factory=list)
    error: str | None = None
    builtin: bool = False
    conflicts: list[str] = attrs.field(factory=list)
    runtime_errors: list[str] = attrs.field(factory=list)

    def add_error(self, message: str) -> None:
        self.error = f"{self.error}; {message}" if self.error else message

    def to_json(self) -> dict:
        return attrs.asdict(self)


def describe_error(error: BaseException) -> str:
    """``"ImportError: no module named x"``: the one line a user needs, without the traceback."""
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def select_entry_points(
    entry_points: Iterable[importlib.metadata.EntryPoint] | None,
) -> list[importlib.metadata.EntryPoint]:
    """The entry points to load: ``entry_points`` (or the installed ones), filtered by
    ``TAGKIT_LOAD_PLUGINS``, one per name."""
    eps = list(entry_points if entry_points is not None
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


def load_plugins(
    pm: pluggy.PluginManager,
    entry_points: Iterable[importlib.metadata.EntryPoint] | None,
    default_plugins: Iterable[str] = DEFAULT_PLUGINS,
) -> list[PluginInfo]:
    """Import and register the default plugins, then the entry points; one PluginInfo each."""
    from tagkit_core import __version__ as core_version

    infos = []
    for module_name in default_plugins:
        # Built-ins are provided by tagkit-core, so their components say so (model files
        # record the providing distribution of every component).
        infos.append(_register_plugin(pm, module_name,
                                      lambda m=module_name: importlib.import_module(m),
                                      "tagkit-core", core_version, builtin=True))
    for ep in select_entry_points(entry_points):
        dist = getattr(ep, "dist", None)
        infos.append(_register_plugin(pm, ep.name, ep.load, dist.name if dist else None,
                                      dist.version if dist else None))
    pm.check_pending()  # an assertion: _register_plugin left out every unknown hook
    if os.environ.get("TAGKIT_TRACE_PLUGINS"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return infos


def _register_plugin(pm: pluggy.PluginManager, name: str, load: Callable[[], Any],
                     dist: str | None, version: str | None, builtin: bool = False) -> PluginInfo:
    info = PluginInfo(name=name, distribution=dist, version=version, builtin=builtin)
    try:
        plugin = load()
        pm.register(plugin, name=name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit from a plugin's import must not end tagkit
        info.error = describe_error(error)
        return info
    unknown = unknown_hooks(pm, plugin)
    if unknown:
        # pluggy's check_pending() would raise for the whole process; a misspelt hook is a
        # broken plugin like any other: reported, left out, and the others still load.
        pm.unregister(plugin)
        info.error = "unknown hook " + "; ".join(unknown)
        return info
    info.hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
    return info


def unknown_hooks(pm: pluggy.PluginManager, plugin: Any) -> list[str]:
    """The hook implementations of ``plugin`` that match no hookspec, with a suggestion."""
    unknown = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.spec is not None or all(
                impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin):
            continue
        close = difflib.get_close_matches(caller.name, _hook_names(), n=1)
        unknown.append(caller.name + (f" (did you mean {close[0]}?)" if close else ""))
    return sorted(unknown)


def _hook_names() -> list[str]:
    return [name for name, obj in vars(hookspecs).items()
            if callable(obj) and hasattr(obj, f"{hookspecs.PROJECT}_spec")]


def each_implementation(pm: pluggy.PluginManager,
                        hook_name: str) -> list[tuple[str, Callable[..., Any]]]:
    """``[(plugin name, caller), ...]``: one caller per plugin implementing ``hook_name``.

    Each caller is ``pm.subset_hook_caller(hook_name, remove_plugins=<every other plugin>)``, so
    calling it runs that plugin's implementation only, through pluggy (tracing, argument
    passing by name). The list is in pluggy's own call order (last registered first, honouring
    ``tryfirst``/``trylast``). A wrapper implementation wraps only its own plugin's call.
    """
    impls = getattr(pm.hook, hook_name).get_hookimpls()
    callers = []
    for impl in reversed(impls):  # pluggy calls the list from its end
        others = [other.plugin for other in impls if other.plugin is not impl.plugin]
        callers.append((impl.plugin_name,
                        pm.subset_hook_caller(hook_name, remove_plugins=others)))
    return callers
