"""``tagkit components [KIND]``: every registered component and the distribution providing it.

Configs and model files name components by registry name; this command is how a user finds
those names and learns which package to install or uninstall. A name two plugins registered is
disabled (neither is served); it is still listed, once per candidate, with the error, so the
user sees which distributions to choose between. The command exits 0 either way: the other
components work.
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
              help="Print a JSON list of {kind, name, object, plugin, distribution, version, "
                   "error}; error is null for a component that is served, and says why for "
                   "each candidate of a disabled (duplicate) name.")
def components(kind: str | None, as_json: bool) -> None:
    registry = load_registry()
    entries = [{**component.to_json(), "error": None} for component in registry.components(kind)]
    conflicts = registry.conflicts(kind)
    entries += [{**candidate.to_json(), "error": conflict.message}
                for conflict in conflicts for candidate in conflict.candidates]
    entries.sort(key=lambda entry: (entry["kind"], entry["name"]))
    if as_json:
        click.echo(json.dumps(entries, indent=2))
    elif not entries:
        click.echo(f"No {kind or 'component'} is registered.")
    else:
        rows = [(e["kind"], e["name"], " ".join(filter(None, (e["distribution"] or e["plugin"],
                                                              e["version"]))),
                 e["object"] + (" (disabled: duplicate name)" if e["error"] else ""))
                for e in entries]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                       + "  " + row[3])
    for conflict in conflicts:
        click.echo(f"Error: {conflict.message}.", err=True)
    failed = [info.name for info in registry.plugins if info.error]
    if failed:
        click.echo(f"Note: {len(failed)} plugin(s) failed to load ({', '.join(failed)}); "
                   "run 'tagkit plugins' for the errors.", err=True)
