"""``tagkit plugins``: what is installed, which hooks each plugin implements, and what failed.

A plugin that failed to load is always listed, with its error; so are the names it registered
that another plugin registered too (``conflicts``: those names are disabled) and, in a process
that trained, the lifecycle hooks of it that raised (``runtime_errors``). This command is where a
user finds out why a component is missing, so it must work, and exit 0, when plugins are broken.
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
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of {name, distribution, version, hooks, error, builtin, "
                   "conflicts, runtime_errors}, for scripts.")
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
        for conflict in info.conflicts:
            click.secho(f"  conflict: {conflict}", fg="red")
        for runtime_error in info.runtime_errors:
            click.secho(f"  runtime error: {runtime_error}", fg="red")
