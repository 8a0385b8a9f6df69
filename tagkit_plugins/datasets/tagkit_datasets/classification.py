"""Read text classification files: one labelled text per line, fastText or TREC style.

Two label layouts are common and both are read here:

* ``fasttext``: ``__label__POSITIVE __label__SHORT the text`` -- one or more labels, each a
  leading word with the label prefix; a text may carry several labels (multi-label data).
* ``trec_coarse`` / ``trec_fine`` (``trec`` means fine): ``NUM:dist How far is it ...`` -- the
  TREC question classification files of Li and Roth. ``trec_coarse`` keeps ``NUM`` (TREC-6),
  ``trec_fine`` keeps ``NUM:dist`` (TREC-50); the same files serve both.

Each label becomes a sentence label (``sentence.add_label(label_type, value)``). The text is split
on whitespace by default (both TREC and fastText files are distributed tokenized); pass
``use_tokenizer=True`` (tagkit's rule-based tokenizer) or any callable to tokenize raw text.
Blank lines are skipped. A line without a label, or with a label but no text, is a
:class:`~tagkit_datasets.errors.DatasetFormatError` naming file and line: training on an
unlabelled example as if it were labelled would be a silent error.
"""

from __future__ import annotations

from os import PathLike
from typing import Callable

from tagkit_core.data import Sentence
from tagkit_datasets.errors import DatasetFormatError
from tagkit_datasets.textfile import gc_paused, read_lines

__all__ = ["read_classification_file", "parse_classification_lines", "LABEL_FORMATS"]

LABEL_FORMATS = ("fasttext", "trec_coarse", "trec_fine", "trec")

Tokenizer = bool | Callable[[str], list[str]]


def read_classification_file(
    path: str | PathLike,
    label_type: str = "class",
    label_format: str = "fasttext",
    label_prefix: str = "__label__",
    use_tokenizer: Tokenizer = False,
    encoding: str = "utf-8",
) -> list[Sentence]:
    """Every labelled text of ``path``, in file order, as sentences with sentence labels."""
    _check_options(label_format, label_prefix)
    lines = read_lines(path, encoding, expected="one labelled text per line")
    with gc_paused():
        return parse_classification_lines(lines, label_type, label_format, label_prefix,
                                          use_tokenizer, path)


def parse_classification_lines(
    lines: list[str],
    label_type: str = "class",
    label_format: str = "fasttext",
    label_prefix: str = "__label__",
    use_tokenizer: Tokenizer = False,
    path: str | PathLike = "<lines>",
) -> list[Sentence]:
    """Sentences from classification-file ``lines``; ``path`` is used in errors."""
    _check_options(label_format, label_prefix)
    split = _fasttext if label_format == "fasttext" else _trec
    coarse = label_format == "trec_coarse"
    sentences = []
    for number, line in enumerate(lines, 1):
        if not line or line.isspace():
            continue
        labels, text = split(line, label_prefix, coarse, path, number)
        if use_tokenizer is False:
            sentence = Sentence(text.split())
        else:
            sentence = Sentence(text, use_tokenizer=use_tokenizer)
        if not len(sentence):
            raise DatasetFormatError(path, number, "the text after the label has no token; "
                                     "expected a label followed by text")
        for label in labels:
            sentence.add_label(label_type, label)
        sentences.append(sentence)
    return sentences


def _check_options(label_format: str, label_prefix: str) -> None:
    if label_format not in LABEL_FORMATS:
        raise ValueError(f"label_format must be one of {', '.join(LABEL_FORMATS)}, "
                         f"got {label_format!r}")
    if label_format == "fasttext" and not label_prefix:
        raise ValueError("label_prefix must not be empty for fastText-style files")


def _fasttext(line: str, prefix: str, coarse: bool, path: str | PathLike,
              number: int) -> tuple[list[str], str]:
    labels = []
    rest = line.strip()
    while rest.startswith(prefix):
        head, *tail = rest.split(None, 1)
        label = head[len(prefix):]
        if not label:
            raise DatasetFormatError(path, number, f"empty label {head!r}; expected "
                                     f"'{prefix}NAME'")
        labels.append(label)
        rest = tail[0] if tail else ""
    if not labels:
        raise DatasetFormatError(path, number, f"no label: expected the line to start with "
                                 f"'{prefix}NAME', found {line[:60]!r}")
    if not rest:
        raise DatasetFormatError(path, number, f"no text after the label(s) {labels}; expected "
                                 f"'{prefix}NAME text'")
    return labels, rest


def _trec(line: str, prefix: str, coarse: bool, path: str | PathLike,
          number: int) -> tuple[list[str], str]:
    head, *tail = line.split(None, 1)
    major, colon, minor = head.partition(":")
    if not (colon and major and minor) or not tail:
        raise DatasetFormatError(path, number, f"expected 'COARSE:fine question text' (e.g. "
                                 f"'NUM:dist How far ...'), found {line[:60]!r}")
    return [major if coarse else head], tail[0]
