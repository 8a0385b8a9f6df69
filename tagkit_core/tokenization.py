"""A small rule-based word tokenizer for raw text given to ``Sentence``.

Flair's default (segtok) splits punctuation off words, keeps numbers such as ``3.5`` and
``1,000``, abbreviations such as ``U.S.`` and e-mail/URL-like strings together, and splits
English clitics (``don't`` -> ``do n't``, ``Berlin's`` -> ``Berlin 's``) the way the Penn and UD
treebanks do. This module does the same with one compiled regular expression, so the core needs
no tokenizer dependency; a model or user can pass any other callable as ``use_tokenizer``.
"""

from __future__ import annotations

import re

__all__ = ["tokenize"]

_TOKEN = re.compile(
    r"""
    (?:https?://|www\.)\S+[^\s.,;:!?'")\]]          # URLs
  | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                    # e-mail addresses
  | (?:[A-Za-z]\.){2,}                              # abbreviations: U.S., e.g.
  | \d+(?:[.,:/]\d+)*                               # numbers, times, dates: 3.5 1,000 12:30
  | \w+(?=n't\b)                                    # "do" of "don't"
  | n't\b                                           # the clitic itself
  | '(?:s|re|ve|ll|d|m)\b(?=\W|$)                   # other English clitics
  | \w+(?:[-'’]\w+)*                                # words, hyphenated words
  | \.\.\.|--|[^\w\s]                               # ellipsis, dash, any other single symbol
    """,
    re.VERBOSE | re.IGNORECASE,
)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words and punctuation marks."""
    words = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        # "Berlin's" was matched whole by the word rule; split the clitic as treebanks do.
        lower = word.lower()
        for clitic in ("'s", "'re", "'ve", "'ll", "'d", "'m", "’s"):
            if lower.endswith(clitic) and len(word) > len(clitic):
                words.extend((word[: -len(clitic)], word[-len(clitic) :]))
                break
        else:
            words.append(word)
    return words
