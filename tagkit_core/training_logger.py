"""Experiment loggers: the component kind ``logger`` and how a run activates them.

A logger is an ordinary pluggy plugin (an object whose ``@hookimpl`` methods are lifecycle
hooks: ``on_train_start``, ``on_epoch_end``, ``on_batch_end``, ``on_train_end``...), made a
registered *component* so that users choose it by name: ``ModelTrainer.train(loggers=
["tensorboard"])``, ``tagkit train --logger tensorboard``. Plugins register the class through
``register_loggers``; the registry accepts only subclasses of :class:`TrainingLogger`, so a
plugin's mistake is a ``TypeError`` at registration rather than in the middle of a run.

For the run, the trainer registers each logger's :meth:`TrainingLogger.hook_objects` on the
plugin manager and unregisters them at the end (:class:`tagkit_core.lifecycle.LifecycleHooks`),
so a logger's hooks are isolated like every other plugin's: one that raises is logged, skipped
for the rest of the run, and still gets ``on_train_end``.

Why a separate object for step-level metrics: the trainer makes per-batch calls only when some
active plugin implements ``on_batch_end``. A logger that offers step-level metrics as an option
puts that hook on a small companion object (:class:`BatchHook`) that it adds to
:meth:`~TrainingLogger.hook_objects` only when asked, so a logger with step-level metrics
switched off costs nothing per batch.

This module imports nothing heavy; loggers import their libraries when a run starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from tagkit_core.hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.registry import Registry

__all__ = ["BatchHook", "TrainingLogger", "logger_names", "resolve_loggers"]

# The loggers tagkit's own tagkit-loggers distribution provides, for the error that says what to
# install when one of them is asked for but not registered.
KNOWN_LOGGERS = {"tensorboard": "tagkit-loggers[tensorboard]", "mlflow": "tagkit-loggers[mlflow]"}


class TrainingLogger:
    """The base class of experiment loggers.

    Subclasses set ``registry_name`` (the name users select them by, never changed once
    released), must be constructible with no arguments (that is how a name becomes an
    instance), and implement the lifecycle hooks they need as methods marked with
    ``@tagkit_core.hookspecs.hookimpl``. Hooks receive the trainer first; an instance may be
    used for several runs one after the other, so ``on_train_start`` resets its state.
    """

    registry_name: ClassVar[str] = ""
    #: Set true (usually from a constructor argument) to get step-level metrics: the logger's
    #: ``log_batch(trainer, epoch, batch_index, step, loss, learning_rate)`` is then called
    #: after every batch.
    step_level: bool = False

    def hook_objects(self) -> list[Any]:
        """The objects registered as pluggy plugins for the run: the logger itself, plus a
        :class:`BatchHook` forwarding to ``log_batch`` when ``step_level`` is set (see the
        module docstring)."""
        if self.step_level:
            return [self, BatchHook(self.log_batch, name=f"{self.registry_name}.batches")]
        return [self]

    def log_batch(self, trainer, epoch: int, batch_index: int, step: int, loss: float,
                  learning_rate: float) -> None:
        """Record one batch; loggers offering step-level metrics override it."""
        raise NotImplementedError(f"{type(self).__name__} has no step-level metrics")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class BatchHook:
    """A plugin object implementing only ``on_batch_end``, forwarding to ``log_batch``.

    :param log_batch: called with ``(trainer, epoch, batch_index, step, loss, learning_rate)``
        by keyword, e.g. a logger's own method.
    :param name: the plugin name shown in warnings if it fails (``"tensorboard.batches"``).
    """

    def __init__(self, log_batch: Callable[..., None], name: str) -> None:
        self.log_batch = log_batch
        self.__name__ = name

    @hookimpl
    def on_batch_end(self, trainer, epoch: int, batch_index: int, step: int, loss: float,
                     learning_rate: float) -> None:
        self.log_batch(trainer=trainer, epoch=epoch, batch_index=batch_index, step=step,
                       loss=loss, learning_rate=learning_rate)


def check_logger_specs(specs: Any) -> None:
    """Type-check the ``loggers`` training option: a list of names or TrainingLogger instances
    (raises ``TypeError`` naming the bad item)."""
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Sequence):
        raise TypeError(f"option loggers must be a list of logger names or TrainingLogger "
                        f"instances, got {specs!r}")
    for item in specs:
        if not isinstance(item, (str, TrainingLogger)):
            raise TypeError(f"option loggers: {item!r} is neither a logger name nor a "
                            "tagkit_core.training_logger.TrainingLogger instance")


def logger_names(specs: Iterable[str | TrainingLogger]) -> list[str]:
    """The option as JSON (for checkpoints and logs): instances by their registry name."""
    return [item if isinstance(item, str) else (item.registry_name or type(item).__name__)
            for item in specs]


def resolve_loggers(registry: Registry, specs: Iterable[str | TrainingLogger]) -> list[Any]:
    """The plugin objects to register for a run: names are looked up in the registry (an
    unknown one is a ``ComponentNotFound`` listing the registered loggers) and built with
    ``cls()``; instances are used as they are."""
    objects: list[Any] = []
    for item in specs:
        if isinstance(item, str):
            cls = registry.resolve("logger", item, distribution_hint=KNOWN_LOGGERS.get(item))
            item = cls()
        objects.extend(item.hook_objects())
    return objects
