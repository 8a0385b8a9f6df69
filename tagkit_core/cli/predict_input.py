"""Streaming input for ``tagkit predict``: plain text, CoNLL-U or column files, read lazily.

Why not the readers of tagkit-datasets: the core never imports a plugin, and those readers
read a whole file into a list (right for a corpus, wrong for a 1 GB input to tag). Here each
format is a generator of ``(Sentence, line_number)`` over the lines of a binary stream, so
``tagkit predict`` holds one chunk of sentences at a time, whatever the input's size.

Lines are decoded one by one, so an undecodable byte is reported with its exact line. Only the
words are read: labels in the input (a CoNLL-U UPOS column, a column file's tags) are ignored,
the model predicts its own. A line that does not fit the format is a
:class:`click.ClickException` naming the file, the line and what was expected.

Formats:

* ``text``: one sentence per line, tokenized with :func:`tagkit_core.tokenization.tokenize`
  (or split on whitespace with ``tokenize=False``). A blank line gives an empty sentence, so
  the output keeps one record per input line.
* ``conllu``: word lines' FORM column; comments, multi-word token lines (``3-4``) and empty
  nodes (``8.1``) are skipped; ``SpaceAfter=No`` is kept for the sentence's text.
* ``column``: one token per line in the first column (tab-separated when the line has a tab,
  otherwise whitespace-separated), a blank line after each sentence, ``-DOCSTART-`` skipped.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import click

from tagkit_core.data import Sentence

__all__ = ["INPUT_FORMATS", "numbered_lines", "detect_format", "read_sentences", "chunked"]

INPUT_FORMATS = ("text", "conllu", "column")
_EXTENSIONS = {".conllu": "conllu", ".conll": "column", ".col": "column", ".column": "column",
               ".bio": "column", ".iob": "column", ".tsv": "column", ".txt": "text"}
_PEEK_LINES = 200
DOCSTART = "-DOCSTART-"


def numbered_lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """``(line number, line without terminator)`` for each line of ``stream``, UTF-8 decoded."""
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = raw[error.start:error.end].hex(" ")
            raise click.ClickException(
                f"{name}: line {number}: cannot decode byte(s) {bad} as UTF-8; expected UTF-8 "
                "text") from None
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        yield number, line.rstrip("\r\n")


def detect_format(name: str, lines: Iterator[tuple[int, str]]
                  ) -> tuple[str, Iterator[tuple[int, str]]]:
    """The input format of ``name`` (by its extension, else by its first lines) and the lines,
    the peeked ones included."""
    by_extension = _EXTENSIONS.get(Path(name).suffix.lower()) if name != "-" else None
    if by_extension is not None:
        return by_extension, lines
    head = list(itertools.islice(lines, _PEEK_LINES))
    return _format_of([line for _, line in head]), itertools.chain(head, lines)


def _format_of(head: list[str]) -> str:
    """CoNLL-U when a line has ten tab-separated fields with a numeric ID (or a ``# text =`` /
    ``# sent_id`` comment); column when blank lines separate runs of lines that all have the
    same number of columns, at most four (a token and its tags); otherwise one sentence per
    line."""
    content = [line for line in head if line.strip()]
    for line in content:
        if line.startswith(("# sent_id", "# text =")):
            return "conllu"
        fields = line.split("\t")
        if len(fields) == 10 and fields[0].split("-")[0].split(".")[0].isdigit():
            return "conllu"
    runs = [len(list(group)) for blank, group in
            itertools.groupby(head, key=lambda line: not line.strip()) if not blank]
    widths = {len(line.split("\t" if "\t" in line else None)) for line in content}
    if len(runs) > 1 and max(runs) > 1 and len(widths) == 1 and widths.pop() <= 4:
        return "column"
    return "text"


def read_sentences(lines: Iterable[tuple[int, str]], input_format: str, name: str,
                   tokenize: bool = True) -> Iterator[tuple[Sentence, int]]:
    """``(sentence, line number of its first line)`` for each sentence of ``lines``."""
    if input_format == "text":
        return _text(lines, tokenize)
    if input_format == "conllu":
        return _conllu(lines, name)
    if input_format == "column":
        return _column(lines, name)
    raise click.BadParameter(f"{input_format!r} is not an input format; expected one of "
                             f"{', '.join(INPUT_FORMATS)}", param_hint="--input-format")


def _text(lines: Iterable[tuple[int, str]], tokenize: bool) -> Iterator[tuple[Sentence, int]]:
    for number, line in lines:
        yield Sentence(line, use_tokenizer=tokenize), number


def _conllu(lines: Iterable[tuple[int, str]], name: str) -> Iterator[tuple[Sentence, int]]:
    sentence, first = Sentence(), 0
    no_space_after = 0  # last word of a multi-word token whose line says SpaceAfter=No
    for number, line in lines:
        if not line.strip():
            if len(sentence):
                yield sentence, first
            sentence, first, no_space_after = Sentence(), 0, 0
            continue
        if line[0] == "#":
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise click.ClickException(
                f"{name}: line {number}: expected 10 tab-separated CoNLL-U fields, found "
                f"{len(fields)}: {line[:60]!r}")
        word_id = fields[0]
        if "-" in word_id or "." in word_id:
            start, _, end = word_id.partition("-")
            if not (start.split(".")[0].isdigit() and (not end or end.isdigit())):
                raise click.ClickException(
                    f"{name}: line {number}: expected a word ID (1, 2, ...), a range (3-4) or "
                    f"an empty node (8.1), found {word_id[:20]!r}")
            if end and "SpaceAfter=No" in fields[9]:
                no_space_after = int(end)
            continue
        if not word_id.isdigit():
            raise click.ClickException(f"{name}: line {number}: expected a word ID "
                                       f"(1, 2, ...), found {word_id[:20]!r}")
        if not first:
            first = number
        token = sentence.add_token(fields[1])
        if "SpaceAfter=No" in fields[9] or int(word_id) == no_space_after:
            token.whitespace_after = False
    if len(sentence):
        yield sentence, first


def _column(lines: Iterable[tuple[int, str]], name: str) -> Iterator[tuple[Sentence, int]]:
    sentence, first = Sentence(), 0
    for number, line in lines:
        if not line.strip():
            if len(sentence):
                yield sentence, first
            sentence, first = Sentence(), 0
            continue
        word = line.split("\t")[0].strip() if "\t" in line else line.split()[0]
        if word == DOCSTART:
            continue
        if not word:
            raise click.ClickException(f"{name}: line {number}: expected a token in the first "
                                       f"column, found an empty column: {line[:60]!r}")
        if not first:
            first = number
        sentence.add_token(word)
    if len(sentence):
        yield sentence, first


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
