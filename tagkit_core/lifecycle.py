"""Calling the training lifecycle hooks so that one failing plugin cannot end a training run.

A plain ``pm.hook.on_epoch_end(...)`` stops at the first implementation that raises, and the
exception ends a run that may have taken hours, although a logger or plotter failing is rarely a
reason to throw the model away. :class:`LifecycleHooks` calls each plugin's implementation on its
own, through pluggy (``pm.subset_hook_caller``, so ``TAGKIT_TRACE_PLUGINS`` still shows every
call), and isolates the failures:

* An implementation that raises (any exception, ``SystemExit`` included; only
  ``KeyboardInterrupt`` propagates, so Ctrl-C in a hook still stops training the usual way) is
  logged as a warning on the ``tagkit.trainer`` logger naming the plugin, the hook and the
  error, recorded in :attr:`LifecycleHooks.failures` and on the plugin's
  :attr:`~tagkit_core.plugins.PluginInfo.runtime_errors` (so ``tagkit plugins`` in the same
  process shows it), and the plugin is *disabled* for the rest of the run.
* A disabled plugin gets no further hook except ``on_train_end``, which every plugin
  implementing it gets exactly once per run, so files opened by ``on_train_start`` are closed
  (the core's ``training_files`` plugin removes its log handler there). Implementations of
  ``on_train_end`` must therefore tolerate a run whose start or epochs failed half-way.
* If the run ends with an exception before ``on_train_end`` was called, leaving the ``with``
  block calls it for every plugin that has not had it, with the ``trainer`` and ``base_path``
  of ``on_train_start`` and ``result={"error": "<the exception>"}``.

The order of the implementations is pluggy's own. A ``wrapper=True`` implementation wraps only
its own plugin's implementation, since each plugin is called separately.

Intended use in ``ModelTrainer.train`` (the trainer's extra ``plugins`` are registered on entry
and unregistered on exit)::

    registry = get_registry()
    with LifecycleHooks(registry, extra_plugins=self.plugins) as hooks:
        hooks.call("on_train_start", trainer=self, base_path=base_path)
        on_batch_end = hooks.batch_hook()  # None: no plugin wants per-batch calls
        try:
            for epoch in ...:
                hooks.call("on_epoch_start", trainer=self, epoch=epoch, learning_rate=lr)
                for batch ...:
                    ...
                    if on_batch_end is not None:
                        on_batch_end(trainer=self, epoch=epoch, batch_index=..., ...)
                hooks.call("on_epoch_end", trainer=self, epoch=epoch, metrics=metrics)
        except KeyboardInterrupt:
            ...  # save the model
            hooks.call("on_train_interrupted", trainer=self, epoch=epoch, reason=reason)
        except NonFiniteLossError as error:
            hooks.call("on_train_interrupted", trainer=self, epoch=epoch, reason=str(error))
            hooks.call("on_train_end", trainer=self, base_path=base_path, result=result)
            raise
        ...
        hooks.call("on_train_end", trainer=self, base_path=base_path, result=result)
    # hooks.failures: what went wrong, e.g. to mention in the run's result or log
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from tagkit_core.plugins import describe_error, each_implementation, unknown_hooks

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.registry import Registry

__all__ = ["LIFECYCLE_HOOKS", "HookFailure", "LifecycleHooks"]

log = logging.getLogger("tagkit.trainer")

LIFECYCLE_HOOKS = ("on_train_start", "on_epoch_start", "on_batch_end", "on_epoch_end",
                   "on_train_end", "on_train_interrupted")


class HookFailure(NamedTuple):
    """One lifecycle hook implementation that raised: ``(plugin, hook, error)``."""

    plugin: str
    hook: str
    error: str


class LifecycleHooks:
    """The lifecycle hooks of one training run, called plugin by plugin.

    :param registry: the registry whose plugin manager holds the plugins (loaded if it is not);
        runtime failures are recorded on its ``PluginInfo`` entries.
    :param extra_plugins: plugin objects or modules for this run only (``ModelTrainer(plugins=
        ...)`` and the loggers of ``train(loggers=...)``); registered on ``__enter__`` unless
        already registered, unregistered on ``__exit__``. A misspelt hook in one of them is
        logged as a warning.
    """

    def __init__(self, registry: Registry, extra_plugins: Iterable[Any] = ()) -> None:
        self.registry = registry.load()
        self.pm = registry.pm
        self.extra_plugins = list(extra_plugins)
        self.failures: list[HookFailure] = []
        self.disabled: set[str] = set()
        self._added: list[Any] = []
        self._start_arguments: dict[str, Any] | None = None
        self._ended: set[str] = set()

    # -- the run ------------------------------------------------------------------------------
    def __enter__(self) -> LifecycleHooks:
        for plugin in self.extra_plugins:
            if self.pm.is_registered(plugin):
                continue
            self.pm.register(plugin, name=self._free_name(plugin))
            self._added.append(plugin)
            for hook in unknown_hooks(self.pm, plugin):
                log.warning("trainer plugin %s implements unknown hook %s; it is never called",
                            self.pm.get_name(plugin), hook)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc is not None and self._start_arguments is not None:
                self.call("on_train_end", **self._start_arguments,
                          result={"error": describe_error(exc)})
        finally:
            for plugin in self._added:
                self.pm.unregister(plugin)
            self._added.clear()

    def call(self, hook_name: str, **kwargs: Any) -> None:
        """Call ``hook_name`` on every plugin not disabled, each on its own; never raises for a
        plugin's error (see the module docstring), only ``KeyboardInterrupt`` passes through."""
        if hook_name not in LIFECYCLE_HOOKS:
            raise ValueError(f"{hook_name!r} is not a lifecycle hook; they are "
                             f"{', '.join(LIFECYCLE_HOOKS)}")
        if hook_name == "on_train_start":
            self._start_arguments = {key: kwargs[key] for key in ("trainer", "base_path")
                                     if key in kwargs}
        self._call_each(hook_name, each_implementation(self.pm, hook_name), kwargs)

    def batch_hook(self) -> Callable[..., None] | None:
        """A caller for ``on_batch_end`` made once per run, or None when no plugin implements
        it, so that the trainer makes no per-batch call at all then. Failures are isolated as
        in :meth:`call`. Call it with the hook's arguments by keyword."""
        callers = each_implementation(self.pm, "on_batch_end")
        if not callers:
            return None
        return lambda **kwargs: self._call_each("on_batch_end", callers, kwargs)

    def _call_each(self, hook_name: str, callers: list[tuple[str, Callable[..., Any]]],
                   kwargs: dict[str, Any]) -> None:
        for plugin_name, call in callers:
            if hook_name == "on_train_end":
                if plugin_name in self._ended:
                    continue
                self._ended.add(plugin_name)
            elif plugin_name in self.disabled:
                continue
            try:
                call(**kwargs)
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # a plugin's failure must not end the run
                self._record(plugin_name, hook_name, error)

    # -- helpers ------------------------------------------------------------------------------
    def _record(self, plugin_name: str, hook_name: str, error: BaseException) -> None:
        text = describe_error(error)
        self.failures.append(HookFailure(plugin_name, hook_name, text))
        self.disabled.add(plugin_name)
        info = self.registry.plugin_info(plugin_name)
        if info is not None:
            info.runtime_errors.append(f"{hook_name}: {text}")
        log.warning("plugin %s failed in %s: %s; it gets no more hooks this run except "
                    "on_train_end", plugin_name, hook_name, text, exc_info=error)

    def _free_name(self, plugin: Any) -> str:
        base = getattr(plugin, "__name__", None) or type(plugin).__qualname__
        name, number = base, 1
        while self.pm.has_plugin(name):
            number += 1
            name = f"{base}#{number}"
        return name
