"""``tagkit predict MODEL [FILE|-]``: tag or classify a stream of sentences with any model file.

The input is read lazily (:mod:`tagkit_core.cli.predict_input`), ``--chunk-size`` sentences at
a time; each chunk is predicted with ``model.predict(chunk, mini_batch_size=...)``, written
(:mod:`tagkit_core.cli.predict_output`) and dropped before the next is read, so memory is
bounded by one chunk whatever the input's size (benchmarks/cli_predict.py measures it). Output
keeps the input's order.

A closed output pipe (``tagkit predict m.pt big.txt | head``) ends the command quietly with
exit code 0: the reader stopped wanting lines, nothing failed. Bad input stops at the first
line that does not fit its format, with a one-line message naming the file and line (the
chunks before it are already written).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import click

from tagkit_core.cli.loading import (
    label_name_of,
    load_cli_model,
    precision_option,
    precision_options,
    streams_option,
    streams_options,
)
from tagkit_core.cli.predict_input import (
    INPUT_FORMATS,
    chunked,
    detect_format,
    numbered_lines,
    read_sentences,
)
from tagkit_core.cli.predict_output import OUTPUT_FORMATS, writer

__all__ = ["predict"]


@click.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("input_name", metavar="[FILE|-]", default="-")
@click.option("--input-format", type=click.Choice(INPUT_FORMATS), default=None,
              help="text: one sentence per line; conllu; column: one token per line, blank "
                   "line between sentences. Default: from the file's extension or first lines.")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default="text",
              show_default=True, help="text: tagged sentences; conll: TOKEN<TAB>TAG lines; "
                                      "jsonl: one JSON object per sentence.")
@click.option("--no-tokenize", is_flag=True,
              help="Plain text input: split words on whitespace instead of tokenizing.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Sentences read, predicted and written at a time (bounds memory).")
@click.option("--mini-batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Sentences per forward pass.")
@click.option("-o", "--output", "output_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write here instead of stdout.")
@click.option("--device", default=None, metavar="DEVICE",
              help="cpu, cuda, cuda:1... Default: the GPU when there is one.")
@precision_option
@streams_option
def predict(model_path: Path, input_name: str, input_format: str | None, output_format: str,
            no_tokenize: bool, chunk_size: int, mini_batch_size: int,
            output_path: Path | None, device: str | None, precision: str | None,
            streams: int | None) -> None:
    """Tag or classify the sentences of FILE (stdin when '-' or absent) with MODEL."""
    model = load_cli_model(model_path, device)
    label_name = label_name_of(model)
    options = {**precision_options(model, precision, "predict"),
               **streams_options(model, streams, "predict")}
    with _open_input(input_name) as stream:
        out = _open_output(output_path)
        try:
            _predict_stream(model, stream, input_name, out, input_format=input_format,
                            output_format=output_format, tokenize=not no_tokenize,
                            chunk_size=chunk_size, mini_batch_size=mini_batch_size,
                            label_name=label_name, options=options)
            out.flush()
        except BrokenPipeError:
            _silence_stdout()
            return
        finally:
            if out is not sys.stdout:
                out.close()


def _predict_stream(model, stream: BinaryIO, name: str, out: TextIO, *, input_format: str | None,
                    output_format: str, tokenize: bool, chunk_size: int, mini_batch_size: int,
                    label_name: str, options: dict[str, Any]) -> None:
    shown = "<stdin>" if name == "-" else name
    lines = numbered_lines(stream, shown)
    if input_format is None:
        input_format, lines = detect_format(name, lines)
    write = writer(output_format, label_name)
    sentences = read_sentences(lines, input_format, shown, tokenize=tokenize)
    for chunk in chunked(sentences, chunk_size):
        batch = [sentence for sentence, _ in chunk]
        model.predict(batch, mini_batch_size=mini_batch_size, label_name=label_name, **options)
        for sentence in batch:
            write(sentence, out)
        _release(batch)
        del chunk, batch


def _release(sentences: list) -> None:
    """Let reference counting free a written chunk at once.

    Each token points back at its sentence, a reference cycle that only the cyclic garbage
    collector frees, and it seldom does here: ``predict`` freezes the objects that exist
    (:mod:`tagkit_core.gc_control`) and unfreezing hands them to the oldest generation, which
    is collected rarely. Measured on 100,000 lines, peak RSS grew as if every sentence were
    kept. Cutting the back references breaks the cycles; a ``gc.collect()`` per chunk would do
    the same at the price of walking every live object each time.
    """
    for sentence in sentences:
        for token in sentence.tokens:
            token.sentence = None
        sentence.tokens = []


def _open_input(name: str):
    if name == "-":
        import contextlib

        return contextlib.nullcontext(getattr(sys.stdin, "buffer", sys.stdin))
    path = Path(name)
    if not path.is_file():
        raise click.BadParameter(f"{name}: no such file", param_hint="FILE")
    try:
        return open(path, "rb")
    except OSError as error:
        raise click.ClickException(f"{name}: cannot read it: {error.strerror}") from None


def _open_output(path: Path | None) -> TextIO:
    if path is None:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"{path}: cannot write it: {error.strerror}") from None


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush does
    not raise again (the recipe of Python's signal module documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test runner)
        pass
