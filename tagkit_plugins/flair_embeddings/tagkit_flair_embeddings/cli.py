"""Command line: ``tagkit-flair-embeddings convert FLAIR_LM.pt OUT.safetensors``, also
available as ``tagkit convert-lm`` through the ``register_commands`` hook."""

from __future__ import annotations

import click


@click.command("convert")
@click.argument("flair_lm", type=click.Path(exists=True, dir_okay=False))
@click.argument("output", type=click.Path(dir_okay=False))
def convert_command(flair_lm: str, output: str) -> None:
    """Convert Flair's language model FLAIR_LM (a torch pickle) into a tagkit language model
    file OUTPUT. The pickle is read with a restricted unpickler: one that would run code is
    refused."""
    from tagkit_flair_embeddings.convert import FlairConversionError, convert_flair_language_model

    try:
        model = convert_flair_language_model(flair_lm, output)
    except FlairConversionError as error:
        raise click.ClickException(str(error)) from None
    direction = "forward" if model.is_forward_lm else "backward"
    click.echo(f"wrote {output}: {direction} language model, {len(model.dictionary)} "
               f"characters, hidden size {model.hidden_size}, {model.nlayers} layer(s)")


@click.group()
def main() -> None:
    """Tools of the tagkit-flair-embeddings plugin."""


main.add_command(convert_command)
