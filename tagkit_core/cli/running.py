"""What ``tagkit train`` and ``tagkit resume`` share: reading a config with ``--set``, running
the trainer quietly or not, Ctrl-C, and printing the result.

Ctrl-C: the trainer itself catches ``KeyboardInterrupt`` in its epoch loop, saves
``final-model.pt`` and returns normally (the Python API's behaviour, as Flair's). The command
notes the SIGINT on its way in, so after the trainer has saved it can still exit 130, the
status a shell expects from an interrupted program.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

import click

from tagkit_core.cli.group import INTERRUPTED_EXIT, is_quiet

__all__ = ["load_run_config", "run_training", "set_option", "logger_option", "status"]

set_option = click.option(
    "--set", "assignments", multiple=True, metavar="KEY=VALUE",
    help="Override one config value (repeatable): --set trainer.max_epochs=3 "
         "--set corpus.downsample=0.01 --set embeddings[0].name_or_path=glove. VALUE is read "
         "as TOML (3, 0.1, true, \"text\", [1, 2]); anything else is a string.")
logger_option = click.option(
    "--logger", "loggers", multiple=True, metavar="NAME",
    help="Log the run with this registered logger (repeatable; 'tagkit components logger' "
         "lists them): passed to the trainer as loggers=[NAME, ...].")


def status(message: str) -> None:
    """A progress note on stderr, unless ``--quiet``."""
    if not is_quiet():
        click.echo(message, err=True)


def load_run_config(path: Path, assignments: Sequence[str], output: Path | None = None,
                    loggers: Sequence[str] = ()) -> dict[str, Any]:
    """The resolved config of ``path`` after ``--set``, ``--output`` and ``--logger``; a
    config error is a one-line ``click.ClickException``."""
    from tagkit_core.run_config import RunConfigError, apply_overrides, read_config, resolve_config

    try:
        config = apply_overrides(read_config(path), assignments)
        trainer = config.setdefault("trainer", {})
        if isinstance(trainer, dict):
            if output is not None:
                trainer["base_path"] = str(output)
            if loggers:
                trainer["loggers"] = [*trainer.get("loggers", []), *loggers]
        return resolve_config(config, source=str(path))
    except RunConfigError as error:
        if error.source is None and error.key:
            error = error.with_source(str(path))
        raise click.ClickException(str(error)) from None


@contextlib.contextmanager
def _sigint_noted() -> Iterator[list[bool]]:
    """Yield a flag set when SIGINT arrives (which still raises ``KeyboardInterrupt``)."""
    noted = [False]
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        # Started with Ctrl-C ignored (nohup, or `tagkit train ... &` in a script, whose shell
        # ignores SIGINT for background jobs so a Ctrl-C meant for it spares them): keep it so.
        yield noted
        return

    def handler(signum, frame):
        noted[0] = True
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _quiet_logging(quiet: bool) -> Iterator[None]:
    """With ``--quiet`` the trainer's progress lines are dropped and warnings go to stderr."""
    if not quiet:
        yield
        return
    logger = logging.getLogger("tagkit")
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def run_training(trainer: Any, base_path: Path, options: dict[str, Any], as_json: bool
                 ) -> dict[str, Any]:
    """``trainer.train(base_path, **options)`` with the CLI's progress, quiet and Ctrl-C rules,
    then the result on stdout (exit 130 when the run was interrupted)."""
    quiet = is_quiet()
    options = dict(options)
    if quiet:
        options["show_progress"] = False
    elif options.get("show_progress") is None:
        options["show_progress"] = True  # a bar on a terminal, plain lines otherwise
    with _sigint_noted() as interrupted, _quiet_logging(quiet):
        result = trainer.train(base_path, **options)
    if as_json:
        click.echo(json.dumps({**result, "interrupted": interrupted[0]}))
    else:
        _print_result(result, base_path)
    if interrupted[0]:
        click.echo(f"Interrupted: the model was saved to {base_path / 'final-model.pt'}.",
                   err=True)
        click.get_current_context().exit(INTERRUPTED_EXIT)
    return result


def _print_result(result: dict[str, Any], base_path: Path) -> None:
    score = result.get("test_score")
    click.echo(f"test score: {score:.4f}" if score is not None else "test score: -")
    for name in ("final-model.pt", "best-model.pt"):
        if (base_path / name).exists():
            click.echo(f"{name.split('-')[0]} model: {base_path / name}")
    for error in result.get("plugin_errors", []):
        click.echo(f"Warning: {error}", err=True)
