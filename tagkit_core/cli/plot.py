"""``tagkit plot RUN_DIR``: draw a training run's pictures with a registered plotter.

The plotter is looked up by registry name (``--plotter``, default ``training_curves``, which
tagkit-plotters provides), made with ``cls()`` and asked to ``plot(RUN_DIR)``; the paths it
wrote are printed, one a line (a JSON list with ``--json``). What a user can get wrong (a
folder that is not there, a file the plotter cannot read, a plotter that is not installed) is
one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tagkit_core.cli.group import load_registry

DEFAULT_PLOTTER = "training_curves"


@click.command()
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(path_type=Path))
@click.option("--plotter", "plotter_name", default=DEFAULT_PLOTTER, show_default=True,
              metavar="NAME", help="The registered plotter to use ('tagkit components "
                                   "plotter' lists them).")
@click.option("--json", "as_json", is_flag=True, help="Print the written paths as a JSON list.")
def plot(run_dir: Path, plotter_name: str, as_json: bool) -> None:
    """Draw pictures of the training run in RUN_DIR (its loss.tsv, weights.txt...)."""
    from tagkit_core.registry import ComponentNotFound, DuplicateComponent

    if not run_dir.is_dir():
        raise click.ClickException(f"{run_dir}: no such folder (expected a training run's "
                                   "base_path)")
    try:
        plotter_class = load_registry().resolve("plotter", plotter_name)
    except ComponentNotFound as error:
        message = str(error)
        if plotter_name == DEFAULT_PLOTTER:
            message += " Install tagkit-plotters for it: pip install tagkit-plotters"
        raise click.ClickException(message) from None
    except DuplicateComponent as error:
        raise click.ClickException(str(error)) from None
    try:
        written = plotter_class().plot(run_dir)
    except (OSError, ValueError) as error:  # a missing or malformed file: the message names it
        raise click.ClickException(str(error)) from None
    paths = [str(path) for path in written]
    if as_json:
        click.echo(json.dumps(paths))
    else:
        for path in paths:
            click.echo(path)
