"""``tagkit plugins``: what is installed, which hooks each plugin implements, and what failed.

A plugin that failed to load is always listed, with its error: this command is where a user
finds out why a component is missing, so it must work when plugins are broken.
"""

from __future__ import annotations

import json

import click

from tagkit_core.cli.group import load_registry


@click.command()
@click.option("--all", "show_all", is_flag=True,
              help="Include the plugins built into tagkit-core.")
@click.option("--hook", "hook_name", metavar="NAME",
              help="Only plugins implementing this hook.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, for scripts.")
def plugins(show_all: bool, hook_name: str | None, as_json: bool) -> None:
    """List installed plugins: distribution, version, hooks and load errors."""
    registry = load_registry()
    if hook_name is not None and not hasattr(registry.pm.hook, hook_name):
        raise click.BadParameter(f"no hook named {hook_name!r}", param_hint="--hook")
    shown = [info for info in registry.plugins
             if (show_all or not info.builtin)
             and (hook_name is None or hook_name in info.hooks)]
    if as_json:
        click.echo(json.dumps([info.to_json() for info in shown], indent=2))
        return
    if not shown:
        click.echo("No plugins installed." + ("" if show_all else " (--all shows built-ins)"))
        return
    for info in shown:
        version = f" {info.version}" if info.version else ""
        builtin = " (built-in)" if info.builtin else ""
        click.echo(f"{info.name}: {info.distribution or '?'}{version}{builtin}")
        click.echo(f"  hooks: {', '.join(info.hooks) or '-'}")
        if info.error:
            click.secho(f"  error: {info.error}", fg="red")
