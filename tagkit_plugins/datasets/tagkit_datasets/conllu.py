"""Read CoNLL-U files (Universal Dependencies) into sentences with POS, XPOS and lemma labels.

Why a reader of our own rather than the ``conllu`` package: we need four columns of each word
line, not a full token dictionary with parsed FEATS, DEPS and MISC, and building those
dictionaries is most of the time ``conllu`` spends. This reader is one tight loop over the lines
of the file: split on tab, compare the ID with the expected one, keep the field list, and build a
:class:`~tagkit_core.data.Sentence` from the word list when the sentence ends. That keeps the full
UD English EWT (254k words) well under the 3 s budget, with no dependency to install.

What it keeps, per word line (ID ``1``, ``2``, ...):

* UPOS as the token label ``upos`` and, with the same value, ``pos`` (the label type the
  tutorials train a POS tagger on); XPOS as ``xpos``; LEMMA as ``lemma``. ``_`` (unspecified)
  gives no label, except a lemma ``_`` of the word ``_``, which is the literal underscore.
* ``SpaceAfter=No`` in MISC as ``token.whitespace_after = False``. On a multi-word token line
  (``3-4  don't``) it applies to the last word of the range, as the UD guidelines say.

What it skips: comments (``# ...``; a ``# newdoc`` one makes the next sentence
``starts_document``, where context stops: :mod:`tagkit_core.context`), multi-word token lines
(``3-4``; their words follow as ordinary lines) and empty nodes (``8.1``, enhanced-graph
only). What it rejects, with a :class:`~tagkit_datasets.errors.DatasetFormatError` naming file
and line: a line without exactly ten tab-separated fields, and an ID that is not the next word
number, a valid range starting at it, or an empty node after the previous word.
"""

from __future__ import annotations

from os import PathLike

from tagkit_core.data import Sentence
from tagkit_datasets.errors import DatasetFormatError
from tagkit_datasets.textfile import gc_paused, read_lines

__all__ = ["read_conllu", "parse_conllu_lines"]

# "1", "2", ... as strings, so checking a word ID is one string comparison, not an int() call.
_IDS: list[str] = [str(i) for i in range(512)]


def _id(number: int) -> str:
    while number >= len(_IDS):
        _IDS.extend(str(i) for i in range(len(_IDS), 2 * len(_IDS)))
    return _IDS[number]


def read_conllu(path: str | PathLike, encoding: str = "utf-8") -> list[Sentence]:
    """Every sentence of the CoNLL-U file ``path``, in file order."""
    lines = read_lines(path, encoding, expected="CoNLL-U sentences")
    with gc_paused():
        sentences = parse_conllu_lines(lines, path)
    if not sentences:
        raise DatasetFormatError(path, None, "the file has no sentence, only comments; "
                                 "expected CoNLL-U word lines")
    return sentences


def parse_conllu_lines(lines: list[str], path: str | PathLike = "<lines>") -> list[Sentence]:
    """Sentences from CoNLL-U ``lines`` (without terminators); ``path`` is used in errors."""
    sentences: list[Sentence] = []
    rows: list[list[str]] = []  # the field lists of the current sentence's words
    no_space_after: list[int] = []  # 0-based indexes of words with SpaceAfter=No
    count = 0  # words in the current sentence
    range_end = 0  # last word of a multi-word token whose line said SpaceAfter=No
    expected = "1"  # the next word's ID
    new_document = False  # a "# newdoc" comment came since the last sentence
    for number, line in enumerate(lines, 1):
        if not line:
            if rows:
                sentences.append(_sentence(rows, no_space_after, new_document))
                rows, no_space_after, new_document = [], [], False
            count, range_end, expected = 0, 0, "1"
            continue
        if line[0] == "#":
            new_document = new_document or line.startswith("# newdoc")
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise DatasetFormatError(
                path, number, f"expected 10 tab-separated CoNLL-U fields, found {len(fields)}: "
                f"{line[:80]!r}")
        if fields[0] == expected:
            rows.append(fields)
            count += 1
            misc = fields[9]
            if count == range_end or (
                misc != "_" and "SpaceAfter=No" in misc and "SpaceAfter=No" in misc.split("|")
            ):
                no_space_after.append(count - 1)
            expected = _IDS[count + 1] if count + 1 < len(_IDS) else _id(count + 1)
            continue
        end = _check_other_id(fields[0], count + 1, path, number)
        if end and "SpaceAfter=No" in fields[9].split("|"):
            range_end = end
    if rows:
        sentences.append(_sentence(rows, no_space_after, new_document))
    return sentences


def _check_other_id(token_id: str, expected: int, path: str | PathLike, number: int) -> int:
    """Validate a multi-word token or empty node ID; return a range's last word, else 0."""
    first, dash, last = token_id.partition("-")
    if dash:
        if first == _id(expected) and last.isascii() and last.isdigit() and int(last) > expected:
            return int(last)
    else:
        word, dot, sub = token_id.partition(".")
        if dot and word == _id(expected - 1) and sub.isascii() and sub.isdigit() and int(sub) > 0:
            return 0
    raise DatasetFormatError(
        path, number, f"bad CoNLL-U ID {token_id!r}: expected the word ID {expected}, a "
        f"multi-word range such as '{expected}-{expected + 1}' or an empty node such as "
        f"'{expected - 1}.1'")


def _sentence(rows: list[list[str]], no_space_after: list[int], starts_document: bool
              ) -> Sentence:
    sentence = Sentence([fields[1] for fields in rows])
    sentence.starts_document = starts_document  # "# newdoc" (tagkit_core.context)
    for token, fields in zip(sentence.tokens, rows):
        add_label = token.add_label
        upos = fields[3]
        if upos != "_":
            add_label("upos", upos)
            add_label("pos", upos)
        xpos = fields[4]
        if xpos != "_":
            add_label("xpos", xpos)
        lemma = fields[2]
        if lemma != "_" or fields[1] == "_":
            add_label("lemma", lemma)
    tokens = sentence.tokens
    for index in no_space_after:
        tokens[index].whitespace_after = False
    return sentence
