"""``tagkit evaluate MODEL DATASET_OR_FILE``: score a model file on gold data, by name or file.

DATASET_OR_FILE is a file when one exists at that path, else a registered dataset name
(``ud_english``, ``UD_ENGLISH``, ``trec_6``...; ``tagkit components dataset`` lists them),
loaded with its defaults and scored on ``--split`` (test by default). A file is read with the
generic corpora the datasets plugin registers, found by registry name, so the core imports no
plugin: ``universal_dependencies`` for CoNLL-U, ``classification`` for fastText-style
``__label__X text`` lines, ``column`` for one token per line (the token in the first column, the
gold tags in the last, or in ``--gold-column``). The gold label type is the model's own (a
tagger's tag type, a classifier's label type), so a POS tagger trained on ``upos`` is scored
against a CoNLL-U file's UPOS column.

Output: the main score, the other scores and the model's per-class report; ``--json`` prints
one JSON object instead (non-finite numbers as null).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from tagkit_core.cli.group import load_registry
from tagkit_core.cli.loading import (
    label_name_of,
    load_cli_model,
    precision_option,
    precision_options,
    streams_option,
    streams_options,
)
from tagkit_core.cli.predict_output import predicted_labels
from tagkit_core.data import Sentence

__all__ = ["evaluate"]

FILE_FORMATS = ("conllu", "column", "classification")
_READERS = {"conllu": "universal_dependencies", "column": "column",
            "classification": "classification"}
DATASETS_DISTRIBUTION = "tagkit-datasets"


@click.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("data", metavar="DATASET_OR_FILE")
@click.option("--split", type=click.Choice(("test", "dev", "train")), default="test",
              show_default=True, help="The split of a named dataset to score on.")
@click.option("--input-format", "file_format", type=click.Choice(FILE_FORMATS), default=None,
              help="The format of a FILE. Default: from its extension or first lines.")
@click.option("--gold-column", type=click.IntRange(min=1), default=None,
              help="Column files: the 0-based column holding the gold tags (default: the last).")
@click.option("--mini-batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--device", default=None, metavar="DEVICE",
              help="cpu, cuda, cuda:1... Default: the GPU when there is one.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@precision_option
@streams_option
def evaluate(model_path: Path, data: str, split: str, file_format: str | None,
             gold_column: int | None, mini_batch_size: int, device: str | None,
             as_json: bool, precision: str | None,
             streams: int | None) -> None:
    """Score MODEL on a registered dataset's split, or on a gold FILE."""
    model = load_cli_model(model_path, device)
    label_type = label_name_of(model)
    options = {**precision_options(model, precision, "evaluate"),
               **streams_options(model, streams, "evaluate")}
    if Path(data).is_file():
        sentences = _read_file(Path(data), file_format, label_type, gold_column)
        source, split_name = data, None
    else:
        sentences = _dataset_split(data, split)
        source, split_name = data, split
    sentences = [sentence for sentence in sentences if len(sentence)]
    _check_gold(model, sentences, label_type, source)
    result = model.evaluate(sentences, gold_label_type=label_type,
                            mini_batch_size=mini_batch_size, **options)
    if as_json:
        click.echo(json.dumps(_finite({
            "model": str(model_path), "data": source, "split": split_name,
            "label_type": label_type, "sentences": len(sentences),
            "main_score_name": result.main_score_name, "main_score": result.main_score,
            "scores": result.scores, "classification_report": result.classification_report,
        })))
        return
    where = f"{source} ({split_name} split)" if split_name else source
    click.echo(f"{model_path} on {where}: {len(sentences)} sentences, label type "
               f"{label_type!r}")
    click.echo(f"{result.main_score_name}: {result.main_score:.4f}")
    others = {k: v for k, v in result.scores.items() if k != result.main_score_name}
    if others:
        click.echo("  ".join(f"{k}: {v:.4f}" for k, v in others.items()))
    if result.detailed_results:
        click.echo(result.detailed_results)


def _dataset_split(name: str, split: str) -> list:
    from tagkit_core.registry import ComponentNotFound, DuplicateComponent

    try:
        dataset = load_registry().resolve("dataset", name.lower())
    except ComponentNotFound as error:
        raise click.BadParameter(f"{name!r} is neither a file nor a registered dataset: {error}",
                                 param_hint="DATASET_OR_FILE") from None
    except DuplicateComponent as error:
        raise click.ClickException(str(error)) from None
    try:
        corpus = dataset()
    except TypeError as error:  # a generic corpus (``column``...) needs its files named
        raise click.ClickException(f"dataset {name} cannot be loaded by name alone ({error}); "
                                   "give its file instead") from None
    except (OSError, ValueError, LookupError) as error:
        raise click.ClickException(f"dataset {name}: {error}") from None
    sentences = getattr(corpus, split, None)
    if not sentences:
        raise click.ClickException(f"dataset {name} has no {split} split")
    return sentences


def _read_file(path: Path, file_format: str | None, label_type: str,
               gold_column: int | None) -> list:
    from tagkit_core.registry import ComponentNotFound

    file_format = file_format or _file_format(path)
    try:
        reader = load_registry().resolve("dataset", _READERS[file_format],
                                         DATASETS_DISTRIBUTION)
    except ComponentNotFound as error:
        raise click.ClickException(f"reading {path} as {file_format}: {error}") from None
    options: dict[str, Any] = {"train_file": path, "autofind_splits": False,
                               "sample_missing_splits": False}
    try:
        if file_format == "column":
            column = gold_column if gold_column is not None else _last_column(path)
            corpus = reader(path.parent, {0: "text", column: label_type}, **options)
        elif file_format == "classification":
            corpus = reader(path.parent, label_type, **options)
        else:
            corpus = reader(path.parent, **options)
    except (OSError, ValueError, LookupError) as error:  # the readers name file and line
        raise click.ClickException(str(error)) from None
    return corpus.train


def _file_format(path: Path) -> str:
    if path.suffix.lower() == ".conllu":
        return "conllu"
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip("\ufeff\r\n")
            if not line.strip():
                continue
            if line.startswith("__label__"):
                return "classification"
            if line.startswith(("# sent_id", "# text =")) or len(line.split("\t")) == 10:
                return "conllu"
            if not line.startswith("#"):
                return "column"
    return "column"


def _last_column(path: Path) -> int:
    """The 0-based index of the last column of the first token line (the gold tags)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip("\ufeff\r\n")
            if line.strip() and not line.startswith("-DOCSTART-"):
                columns = line.split("\t") if "\t" in line else line.split()
                if len(columns) < 2:
                    raise click.ClickException(
                        f"{path}: line 1: expected a token and its gold tag in columns, found "
                        f"one column: {line[:60]!r}")
                return len(columns) - 1
    raise click.ClickException(f"{path}: the file has no token line")


def _check_gold(model: Any, sentences: list, label_type: str, source: str) -> None:
    """Refuse data without the model's labels at the model's level (a tagger's on tokens, a
    classifier's on sentences): every prediction would count as wrong.

    The level is found by predicting one copy of the first sentence, so any model a plugin
    registers is checked the same way, without the core knowing its class.
    """
    if not sentences:
        raise click.ClickException(f"{source}: no sentence to evaluate on")
    probe = Sentence([token.text for token in sentences[0]])
    model.predict([probe], label_name=label_type)
    level = predicted_labels(probe, label_type)[0]
    for sentence in sentences[:1000]:
        on_tokens = any(token.has_label(label_type) for token in sentence)
        if on_tokens if level == "token" else (sentence.get_labels(label_type) and not on_tokens):
            return
    found = sorted({t for s in sentences[:1000] for t in s.label_types})
    raise click.ClickException(f"{source} has no {level}-level {label_type!r} labels, what the "
                               f"model predicts (its labels: {found or 'none'})")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
