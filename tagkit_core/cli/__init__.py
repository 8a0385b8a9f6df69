"""The ``tagkit`` command line: a small package, one module per command group.

``main`` is the root group (``[project.scripts] tagkit = "tagkit_core.cli:main"``). Built-in
commands live in their own modules and are added below; plugins add theirs through the
``register_commands(cli)`` hook, loaded only when a command is looked up (see
:mod:`tagkit_core.cli.group`), so ``tagkit --version`` stays instant.

Adding a built-in command: write ``tagkit_core/cli/<group>.py`` defining a click command (or
group) and add it here with ``main.add_command``. Keep module-level imports light: torch and the
registry's plugins load inside the command function, not when the CLI is imported.
"""

from __future__ import annotations

import click

from tagkit_core import __version__
from tagkit_core.cli.components import components
from tagkit_core.cli.evaluate import evaluate
from tagkit_core.cli.group import TagkitGroup
from tagkit_core.cli.plot import plot
from tagkit_core.cli.plugins import plugins
from tagkit_core.cli.predict import predict

__all__ = ["main"]


@click.group(cls=TagkitGroup)
@click.version_option(__version__, prog_name="tagkit")
def main() -> None:
    """tagkit: train sequence taggers and text classifiers, built from plugins.

    Plugins add datasets, embeddings, models, storage modes, plotters and commands; 'tagkit
    plugins' lists them and 'tagkit components' lists what they registered.
    """


main.add_command(plugins)
main.add_command(components)
main.add_command(plot)
main.add_command(predict)
main.add_command(evaluate)
