"""``tagkit train CONFIG.toml``: train the corpus, embeddings and model a config names.

The command is thin: :mod:`tagkit_core.run_config` reads and validates the config (one-line
errors naming the key), :mod:`tagkit_core.run_build` makes the components from the registry,
and :func:`tagkit_core.cli.running.run_training` runs the trainer. The whole config is checked
before the corpus is read; the resolved config (defaults filled in, ``--set`` applied) is
written as ``config.toml`` in the output folder, beside the model, before training starts, so
``tagkit resume`` and a later ``tagkit train OUTPUT/config.toml`` find it.
"""

from __future__ import annotations

from pathlib import Path

import click

from tagkit_core.cli.running import load_run_config, logger_option, run_training, set_option, status


@click.command()
@click.argument("config_path", metavar="CONFIG.toml", type=click.Path(path_type=Path))
@set_option
@logger_option
@click.option("--output", "-o", type=click.Path(path_type=Path), metavar="DIR",
              help="The output folder (overrides trainer.base_path).")
@click.option("--check", is_flag=True,
              help="Only validate the config and print it resolved; train nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the training result as one JSON object.")
def train(config_path: Path, assignments: tuple[str, ...], loggers: tuple[str, ...],
          output: Path | None, check: bool, as_json: bool) -> None:
    """Train the model described by CONFIG.toml ('tagkit init config' writes a starter one).

    The config names a [corpus], [[embeddings]], a [model] and [trainer] options by registry
    name ('tagkit components' lists the names). Example:

      \b
        tagkit train examples/pos-ud-english.toml --set trainer.max_epochs=3 -o /tmp/pos
    """
    from tagkit_core.run_build import build_trainer, save_resolved_config
    from tagkit_core.run_config import RunConfigError
    from tagkit_core.toml_writer import dumps

    resolved = load_run_config(config_path, assignments, output, loggers)
    if check:
        click.echo(dumps(resolved), nl=False)
        return
    status(f"loading corpus {resolved['corpus']['type']!r} and building the model...")
    try:
        trainer, base_path, options = build_trainer(resolved)
    except RunConfigError as error:
        raise click.ClickException(str(error.with_source(str(config_path)))) from None
    save_resolved_config(resolved, base_path)
    status(f"training into {base_path}")
    run_training(trainer, base_path, options, as_json)
