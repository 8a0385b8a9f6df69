"""Read column files (CoNLL-2003, WNUT-17): one token per line, a blank line after each sentence.

The columns are named by a column map as in Flair, ``{0: "text", 1: "ner"}``: the column called
``text`` holds the word, every other named column becomes a token label of that name, and
columns not in the map are ignored. Columns are split on any run of whitespace by default
(``str.split()``, no regular expression per line), or on an exact ``column_delimiter`` such as
``"\\t"`` when tokens may contain spaces.

Lines that are empty or hold only whitespace end a sentence (WNUT-17's train file separates
sentences with a lone tab). A ``-DOCSTART-`` line (CoNLL-2003's document marker) makes the
next sentence ``starts_document`` (context stops there: :mod:`tagkit_core.context`); it and, if
``comment_symbol`` is given, comment lines hold no tokens. Every token line must have the same
number of columns as the first one, and at least enough for the map: a line that does not is
almost always a broken separator or a truncated line, so it is reported (file, line, expected
column count) rather than silently mislabelled.
"""

from __future__ import annotations

from os import PathLike
from typing import Mapping

from tagkit_core.data import Sentence
from tagkit_datasets.errors import DatasetFormatError
from tagkit_datasets.textfile import gc_paused, read_lines

__all__ = ["read_column_file", "parse_column_lines", "WHITESPACE"]

WHITESPACE = r"\s+"  # Flair's default delimiter; here it means str.split() with no argument
DOCSTART = "-DOCSTART-"


def read_column_file(
    path: str | PathLike,
    column_format: Mapping[int, str],
    column_delimiter: str | None = None,
    comment_symbol: str | None = None,
    encoding: str = "utf-8",
) -> list[Sentence]:
    """Every sentence of the column file ``path``, in file order."""
    _check_format(column_format)
    lines = read_lines(path, encoding, expected="one token per line with its columns")
    with gc_paused():
        sentences = parse_column_lines(lines, column_format, column_delimiter, comment_symbol,
                                       path)
    if not sentences:
        raise DatasetFormatError(path, None, "the file has no token line; expected one token "
                                 "per line with its columns")
    return sentences


def _check_format(column_format: Mapping[int, str]) -> tuple[int, list[tuple[int, str]]]:
    text_columns = [int(c) for c, name in column_format.items() if name == "text"]
    if len(text_columns) != 1:
        raise ValueError(f"column_format must name exactly one column 'text' (the words), "
                         f"got {dict(column_format)}")
    if any(int(c) < 0 for c in column_format):
        raise ValueError(f"column numbers must be 0 or more, got {dict(column_format)}")
    labels = sorted((int(c), name) for c, name in column_format.items() if name != "text")
    return text_columns[0], labels


def parse_column_lines(
    lines: list[str],
    column_format: Mapping[int, str],
    column_delimiter: str | None = None,
    comment_symbol: str | None = None,
    path: str | PathLike = "<lines>",
) -> list[Sentence]:
    """Sentences from column-file ``lines``; ``path`` is used in errors."""
    text_column, label_columns = _check_format(column_format)
    needed = max(int(c) for c in column_format) + 1
    delimiter = None if column_delimiter in (None, WHITESPACE) else column_delimiter
    if delimiter == "":
        raise ValueError("column_delimiter must not be empty; use None for any whitespace")
    sentences: list[Sentence] = []
    rows: list[list[str]] = []
    width = 0  # the column count of the file, set by its first token line
    new_document = False  # a -DOCSTART- line came since the last sentence
    for number, line in enumerate(lines, 1):
        if delimiter is None:
            fields = line.split()
        elif line.strip():
            fields = [field.strip() for field in line.split(delimiter)]
        else:
            fields = []
        if not fields or fields[0] == DOCSTART:
            if rows:
                sentences.append(_sentence(rows, text_column, label_columns, new_document))
                rows, new_document = [], False
            new_document = new_document or bool(fields)
            continue
        if comment_symbol is not None and line.startswith(comment_symbol):
            continue
        if len(fields) != width:
            if width == 0 and len(fields) >= needed:
                width = len(fields)
            else:
                raise DatasetFormatError(path, number, _column_message(
                    fields, width or needed, delimiter, first=width == 0))
        if delimiter is not None and not all(fields):
            empty = fields.index("")
            raise DatasetFormatError(path, number, f"column {empty} is empty; expected a value "
                                     f"in each of the {width} columns")
        rows.append(fields)
    if rows:
        sentences.append(_sentence(rows, text_column, label_columns, new_document))
    return sentences


def _column_message(fields: list[str], expected: int, delimiter: str | None, first: bool) -> str:
    separator = "whitespace" if delimiter is None else repr(delimiter)
    which = "the column map needs" if first else "the file's first token line has"
    return (f"expected {expected} columns separated by {separator} ({which} {expected}), "
            f"found {len(fields)}: {fields[:8]!r}")


def _sentence(rows: list[list[str]], text_column: int,
              label_columns: list[tuple[int, str]], starts_document: bool) -> Sentence:
    sentence = Sentence([fields[text_column] for fields in rows])
    sentence.starts_document = starts_document
    for token, fields in zip(sentence.tokens, rows):
        for column, label_type in label_columns:
            token.add_label(label_type, fields[column])
    return sentence
