"""``tagkit components [KIND]``: every registered component and the distribution providing it.

Configs and model files name components by registry name; this command is how a user finds
those names and learns which package to install or uninstall.
"""

from __future__ import annotations

import json

import click

from tagkit_core.cli.group import load_registry
from tagkit_core.registry import KINDS


@click.command(help="List registered components and the distribution providing each.\n\n"
               f"KIND limits the list to one kind: {', '.join(KINDS)}.")
@click.argument("kind", required=False, metavar="[KIND]", type=click.Choice(tuple(KINDS)))
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of {kind, name, object, plugin, distribution, version}.")
def components(kind: str | None, as_json: bool) -> None:
    registry = load_registry()
    found = registry.components(kind)
    if as_json:
        click.echo(json.dumps([component.to_json() for component in found], indent=2))
    elif not found:
        click.echo(f"No {kind or 'component'} is registered.")
    else:
        rows = [(c.kind, c.name, " ".join(filter(None, (c.distribution or c.plugin, c.version))),
                 c.to_json()["object"]) for c in found]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                       + "  " + row[3])
    failed = [info.name for info in registry.plugins if info.error]
    if failed:
        click.echo(f"Note: {len(failed)} plugin(s) failed to load ({', '.join(failed)}); "
                   "run 'tagkit plugins' for the errors.", err=True)
