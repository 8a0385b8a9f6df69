"""A small rule-based word tokenizer for raw text given to ``Sentence``.

Flair's default (segtok) splits punctuation off words, keeps numbers such as ``3.5`` and
``1,000``, abbreviations such as ``U.S.`` and e-mail/URL-like strings together, and splits
English clitics (``don't`` -> ``do n't``, ``Berlin's`` -> ``Berlin 's``) the way the Penn and UD
treebanks do. This module does the same with one compiled regular expression; a model or user
can pass any other callable as ``use_tokenizer``.

A token never ends inside a user-perceived character (a Unicode extended grapheme cluster):
an emoji family joined by zero-width joiners, a flag (two regional indicators), an emoji with
its skin-tone modifier, a keycap (``1`` + U+FE0F + U+20E3), or a letter with combining accents
(``e`` + U+0301) each stays whole. The ``regex`` package provides the clusters (``\\X``) and a
``\\w`` that, unlike :mod:`re`'s, includes combining marks, so ``"e\\u0301cole"`` and
Devanagari words with their vowel signs are one word each. A combining mark with nothing to
combine with (after a space, or first in the text) becomes a token of its own rather than being
glued to the next word.
"""

from __future__ import annotations

from bisect import bisect_left

import regex

__all__ = ["tokenize"]

_TOKEN = regex.compile(
    r"""
    \p{M}+                                          # combining marks with no base before them
  | (?:https?://|www\.)\S+[^\s.,;:!?'")\]]          # URLs
  | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                    # e-mail addresses
  | (?:[A-Za-z]\.){2,}                              # abbreviations: U.S., e.g.
  | \d+(?:[.,:/]\d+)*                               # numbers, times, dates: 3.5 1,000 12:30
  | \w+(?=n't\b)                                    # "do" of "don't"
  | n't\b                                           # the clitic itself
  | '(?:s|re|ve|ll|d|m)\b(?=\W|$)                   # other English clitics
  | \w+(?:[-'’]\w+)*                                # words, hyphenated words
  | \.\.\.|--|[^\w\s]                               # ellipsis, dash, any other single symbol
    """,
    regex.VERBOSE | regex.IGNORECASE,
)
_GRAPHEME = regex.compile(r"\X")
_CLITICS = ("'s", "'re", "'ve", "'ll", "'d", "'m", "’s")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words and punctuation marks (each a substring of ``text``)."""
    if text.isascii():  # no cluster of ASCII characters spans two tokens: skip the clusters
        matches = (match.group() for match in _TOKEN.finditer(text))
    else:
        matches = _whole_clusters(text)
    words = []
    for word in matches:
        # "Berlin's" was matched whole by the word rule; split the clitic as treebanks do.
        lower = word.lower()
        for clitic in _CLITICS:
            if lower.endswith(clitic) and len(word) > len(clitic):
                words.extend((word[: -len(clitic)], word[-len(clitic) :]))
                break
        else:
            words.append(word)
    return words


def _whole_clusters(text: str):
    """The token matches, each extended to the end of the grapheme cluster it ends in.

    The rules above see code points: the symbol rule takes the first emoji of a family, the
    number rule the ``1`` of a keycap. Extending each match to the next cluster boundary (and
    going on from there) keeps every cluster in one token.
    """
    ends = [match.end() for match in _GRAPHEME.finditer(text)]
    position = 0
    while (match := _TOKEN.search(text, position)) is not None:
        start, end = match.span()
        end = ends[bisect_left(ends, end)]
        yield text[start:end]
        position = end
