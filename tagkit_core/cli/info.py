"""``tagkit info MODEL``: what a model file is and how it was trained, from its header alone.

The header is read without loading a tensor or building the model
(:func:`tagkit_core.model_card.read_model_header`): its time does not grow with the tensors,
and it works without the plugins the model needs. ``--json`` prints the header's components and the
card as one JSON object; ``--readme`` writes a README.md model card beside the file (see
:mod:`tagkit_core.model_card_text`) and says where. A file that is not a tagkit model, or whose
card is malformed, is one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("model", metavar="MODEL", type=click.Path(path_type=Path))
@click.option("--readme", is_flag=True,
              help="Also write README.md (a Hugging Face-style model card) beside MODEL.")
@click.option("--force", is_flag=True,
              help="With --readme: replace a README.md that tagkit did not write.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the components and the model card as one JSON object.")
def info(model: Path, readme: bool, force: bool, as_json: bool) -> None:
    """Show MODEL's model card: scores, options, corpus, labels, versions, seed.

    MODEL is a model file, or a training run's folder (its final-model.pt, else best-model.pt).
    """
    from tagkit_core.model_card import read_model_header
    from tagkit_core.model_card_text import README_MARKER, card_readme, card_text, components
    from tagkit_core.model_schema import CARD_KEY, ModelFileError

    if model.is_dir():
        found = [model / name for name in ("final-model.pt", "best-model.pt")
                 if (model / name).is_file()]
        if not found:
            raise click.ClickException(f"{model} is a folder without final-model.pt or "
                                       "best-model.pt; name a model file")
        model = found[0]
    try:
        header = read_model_header(model)
    except ModelFileError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps({"file": str(model), "components": components(header),
                               "model_card": header.get(CARD_KEY)}, indent=2))
    else:
        click.echo(card_text(header, str(model)))
    if readme:
        target = model.parent / "README.md"
        if target.exists() and not force and README_MARKER not in target.read_text(
                encoding="utf-8", errors="replace"):
            raise click.ClickException(f"{target} exists and was not written by tagkit; "
                                       "use --force to replace it")
        target.write_text(card_readme(header, model.name), encoding="utf-8")
        click.echo(f"wrote the model card to {target}", err=as_json)
