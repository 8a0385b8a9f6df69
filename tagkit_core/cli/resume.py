"""``tagkit resume CHECKPOINT``: continue a run from the ``checkpoint.pt`` the trainer wrote.

This is the tutorial's ``ModelTrainer.load_checkpoint(checkpoint, corpus)`` followed by
``trainer.train(base_path, ...)``. The checkpoint holds the model, optimizer, scheduler, random
states and finished epoch, but not the corpus, so the corpus is rebuilt from the run's
resolved config: ``config.toml`` beside the checkpoint (``tagkit train`` writes it), or
``--config``. The trainer options are that config's ``[trainer]`` (``--set
trainer.max_epochs=20`` extends a run); the run continues in the checkpoint's folder unless
``--output`` says otherwise.
"""

from __future__ import annotations

from pathlib import Path

import click

from tagkit_core.cli.running import load_run_config, logger_option, run_training, set_option, status


@click.command()
@click.argument("checkpoint", metavar="CHECKPOINT",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--config", "config_path", type=click.Path(path_type=Path), metavar="FILE",
              help="The run's config (default: config.toml beside CHECKPOINT).")
@set_option
@logger_option
@click.option("--output", "-o", type=click.Path(path_type=Path), metavar="DIR",
              help="Where the continued run writes (default: CHECKPOINT's folder).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the training result as one JSON object.")
def resume(checkpoint: Path, config_path: Path | None, assignments: tuple[str, ...],
           loggers: tuple[str, ...], output: Path | None, as_json: bool) -> None:
    """Continue the training run saved in CHECKPOINT (train with trainer.checkpoint = true).

    Example: tagkit resume resources/taggers/example-pos/checkpoint.pt --set trainer.max_epochs=20
    """
    from tagkit_core.model_schema import CheckpointError
    from tagkit_core.run_build import (
        CONFIG_NAME,
        build_corpus,
        save_resolved_config,
        trainer_options,
    )
    from tagkit_core.run_config import RunConfigError
    from tagkit_core.trainer import ModelTrainer

    if not checkpoint.is_file():
        raise click.ClickException(f"{checkpoint}: no such file (expected the checkpoint.pt "
                                   "of a run trained with trainer.checkpoint = true)")
    config_path = config_path or checkpoint.parent / CONFIG_NAME
    if not config_path.is_file():
        raise click.ClickException(f"{config_path}: no such file; the corpus is rebuilt from "
                                   "the run's config: pass it with --config FILE")
    resolved = load_run_config(config_path, assignments, output or checkpoint.parent, loggers)
    base_path, _, options = trainer_options(resolved)
    status(f"loading corpus {resolved['corpus']['type']!r} and checkpoint {checkpoint}...")
    try:
        corpus = build_corpus(resolved)
        trainer = ModelTrainer.load_checkpoint(checkpoint, corpus)
    except RunConfigError as error:
        raise click.ClickException(str(error.with_source(str(config_path)))) from None
    except CheckpointError as error:
        raise click.ClickException(" ".join(str(error).split())) from None
    if trainer.epoch >= options["max_epochs"]:
        raise click.ClickException(
            f"{checkpoint}: the run already finished epoch {trainer.epoch} of max_epochs "
            f"{options['max_epochs']}; raise it to go on: --set trainer.max_epochs=N")
    save_resolved_config(resolved, base_path)  # with the options this part runs with
    status(f"resuming after epoch {trainer.epoch} into {base_path}")
    run_training(trainer, base_path, options, as_json)
