"""The ``tagkit`` command line: a small package, one module per command group.

``main`` is the root group (``[project.scripts] tagkit = "tagkit_core.cli:main"``). Built-in
commands live in their own modules and are added below; plugins add theirs through the
``register_commands(cli)`` hook, loaded only when a command is looked up (see
:mod:`tagkit_core.cli.group`), so ``tagkit --version`` stays instant.

Global options (before the command): ``--quiet`` (results and errors only, no progress) and
``--debug`` (tracebacks). Exit codes and the one-line errors are the root group's job
(:class:`~tagkit_core.cli.group.TagkitGroup`): a command raises ``click.ClickException`` for a
user error and reads the options with :func:`~tagkit_core.cli.group.is_quiet` /
:func:`~tagkit_core.cli.group.is_debug`.

Adding a built-in command: write ``tagkit_core/cli/<group>.py`` defining a click command (or
group) and add it here with ``main.add_command``. Keep module-level imports light: torch and the
registry's plugins load inside the command function, not when the CLI is imported.
"""

from __future__ import annotations

import click

from tagkit_core import __version__
from tagkit_core.cli.components import components
from tagkit_core.cli.evaluate import evaluate
from tagkit_core.cli.group import DEBUG_KEY, QUIET_KEY, TagkitGroup
from tagkit_core.cli.info import info
from tagkit_core.cli.init import init
from tagkit_core.cli.plot import plot
from tagkit_core.cli.plugins import plugins
from tagkit_core.cli.predict import predict
from tagkit_core.cli.resume import resume
from tagkit_core.cli.train import train

__all__ = ["main"]


@click.group(cls=TagkitGroup)
@click.version_option(__version__, prog_name="tagkit")
@click.option("--quiet", "-q", is_flag=True,
              help="Print only results and errors: no progress bars or log lines.")
@click.option("--debug", is_flag=True,
              help="Show the full traceback of an unexpected error (also TAGKIT_DEBUG=1).")
@click.pass_context
def main(ctx: click.Context, quiet: bool, debug: bool) -> None:
    """tagkit: train sequence taggers and text classifiers, built from plugins.

    Plugins add datasets, embeddings, models, storage modes, plotters and commands; 'tagkit
    plugins' lists them and 'tagkit components' lists what they registered.
    """
    ctx.meta[QUIET_KEY] = quiet
    ctx.meta[DEBUG_KEY] = debug


main.add_command(plugins)
main.add_command(components)
main.add_command(plot)
main.add_command(train)
main.add_command(resume)
main.add_command(init)
main.add_command(predict)
main.add_command(evaluate)
main.add_command(info)
