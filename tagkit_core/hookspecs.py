"""The pluggy hook specifications: the whole contract between tagkit's core and its plugins.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names are hooks below.
It is found through the ``tagkit`` entry-point group::

    [project.entry-points.tagkit]
    my_plugin = "my_package.plugin"

Registration hooks receive a ``register`` callable owned by the core and bound to the calling
plugin, which type-checks what it is given, disables a name that two plugins register, and
records which distribution provided each component (:mod:`tagkit_core.registry`).
Lifecycle hooks are called by :class:`tagkit_core.trainer.ModelTrainer`, one plugin at a time
(:mod:`tagkit_core.lifecycle`: a plugin whose hook raises is logged and skipped for the rest of
the run); loggers and plotters implement them, so the files a training run writes
(``loss.tsv``, ``weights.txt``, ``training.log``) come from plugins that a user can replace or
extend.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import click

    from tagkit_core.trainer import EpochMetrics, ModelTrainer

PROJECT = "tagkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[..., None]

# ---------------------------------------------------------------------------------------------
# Registration hooks: one per component kind. Called once, when the registry is first used.
# ---------------------------------------------------------------------------------------------


@hookspec
def register_datasets(register: Register) -> None:
    """Register dataset loaders (subclasses of ``tagkit_core.corpus.Corpus``, e.g. ``UD_ENGLISH``).

    :param register: call ``register(cls)`` or ``register(cls, name="...")`` for each loader;
        the name defaults to the class's ``registry_name``.
    """


@hookspec
def register_embeddings(register: Register) -> None:
    """Register embedding classes (subclasses of ``tagkit_core.embeddings.Embeddings``).

    :param register: call ``register(cls)``; the registry name is ``cls.registry_name``. Model
        files name embeddings by this name, so it must never change once released.
    """


@hookspec
def register_models(register: Register) -> None:
    """Register model classes (subclasses of ``tagkit_core.model.Model``).

    :param register: call ``register(cls)``; ``load_model`` finds the class by this name.
    """


@hookspec
def register_storage_modes(register: Register) -> None:
    """Register embedding storage strategies (subclasses of ``tagkit_core.storage.StorageMode``).

    :param register: call ``register(cls)``; ``ModelTrainer.train(embeddings_storage_mode=...)``
        chooses among them by name.
    """


@hookspec
def register_plotters(register: Register) -> None:
    """Register plotters (subclasses of ``tagkit_core.plotting.Plotter``).

    :param register: call ``register(cls)``; ``tagkit plot`` picks one by name and calls its
        ``plot(run_dir)``.
    """


@hookspec
def register_loggers(register: Register) -> None:
    """Register experiment loggers (subclasses of ``tagkit_core.training_logger.TrainingLogger``).

    :param register: call ``register(cls)``; ``ModelTrainer.train(loggers=["name"])`` and
        ``tagkit train --logger NAME`` build one with ``cls()`` and activate it for the run.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``tagkit`` command line.

    :param cli: the root click group; call ``cli.add_command(...)`` or decorate with
        ``@cli.command()``.
    """


# ---------------------------------------------------------------------------------------------
# Training lifecycle hooks, called by ModelTrainer.train in this order:
# on_train_start, then per epoch on_epoch_start, on_batch_end after each optimizer step (only
# when some plugin implements it) and on_epoch_end, then on_train_end
# (or on_train_interrupted, after which on_train_end is still called). Every plugin implementing
# on_train_end gets it once per run, even after one of its own hooks failed.
# Only the process with rank 0 calls them when training is distributed.
# ---------------------------------------------------------------------------------------------


@hookspec
def on_train_start(trainer: ModelTrainer, base_path: Path) -> None:
    """Prepare for a training run (open log files, write headers).

    :param trainer: the trainer; ``trainer.model``, ``trainer.corpus`` and ``trainer.config``
        (the run's :class:`~tagkit_core.trainer.TrainingConfig`) are available.
    :param base_path: the run's output folder, already created.
    """


@hookspec
def on_epoch_start(trainer: ModelTrainer, epoch: int, learning_rate: float) -> None:
    """Called before the first batch of ``epoch`` (1-based) with its learning rate."""


@hookspec
def on_epoch_end(trainer: ModelTrainer, epoch: int, metrics: EpochMetrics) -> None:
    """Record an epoch's results.

    :param epoch: 1-based number of the epoch just finished.
    :param metrics: train loss, dev loss and score (None when there is no dev split),
        learning rate, seconds taken, sentences per second, and whether the model improved.
    """


@hookspec
def on_batch_end(trainer: ModelTrainer, epoch: int, batch_index: int, step: int, loss: float,
                 learning_rate: float) -> None:
    """Step-level metrics: called after each optimizer step, for loggers that want them.

    The trainer checks once per run whether any plugin implements this hook and, if none does,
    makes no per-batch call at all, so an epoch-level logger costs nothing per batch.

    :param epoch: 1-based epoch; ``batch_index``: 1-based batch within it.
    :param step: 1-based optimizer step counted from the run's first epoch (a resumed run goes
        on counting where the checkpointed one stopped): ``(epoch - 1) * batches_per_epoch +
        batch_index``.
    :param loss: the batch's mean loss (the same average as the epoch's train loss, over this
        batch only).
    :param learning_rate: the learning rate the step used.
    """


@hookspec
def on_train_end(trainer: ModelTrainer, base_path: Path, result: dict[str, Any]) -> None:
    """Finish a training run: flush and close what ``on_train_start`` opened.

    :param result: what ``train`` returns: test score, dev score history, train loss history.
    """


@hookspec
def on_train_interrupted(trainer: ModelTrainer, epoch: int, reason: str) -> None:
    """Training stopped early (Ctrl-C, or a non-finite loss); the model was saved first.

    :param reason: a message for the user, naming the epoch and batch where it stopped.
    """
