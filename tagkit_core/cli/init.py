"""``tagkit init config --task pos|ner|classify``: write a commented starter config.

The configs are the tutorial's models (:mod:`tagkit_core.cli.templates`); ``tagkit train``
accepts each as written. ``init`` is a group so that other starters (a plugin skeleton...) can
join it later.
"""

from __future__ import annotations

from pathlib import Path

import click

from tagkit_core.cli.templates import TEMPLATES, render


@click.group()
def init() -> None:
    """Write starter files."""


@init.command("config")
@click.option("--task", required=True, type=click.Choice(tuple(TEMPLATES)),
              help="pos: a POS tagger (UD English); ner: an entity tagger (WNUT-17); "
                   "classify: a text classifier (TREC-6).")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="Write here instead of printing to stdout.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def init_config(task: str, output: Path | None, force: bool) -> None:
    """Write a commented starter config for 'tagkit train'."""
    text = render(task, str(output) if output is not None else "CONFIG.toml")
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists; pass --force to overwrite it")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}; train it with: tagkit train {output}", err=True)
