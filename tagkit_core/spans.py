"""Spans read from BIO and BIOES tags: the one reading every span score and span label uses.

Its own module because it is pure logic over tag strings, shared by ``Sentence.get_spans``, the
span scores of :mod:`tagkit_core.evaluation` and the taggers' tag-scheme conversion.
"""

from __future__ import annotations

from typing import Sequence

__all__ = ["decode_spans"]


def decode_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Decode BIO, BIOES (and IOB1-style stray ``I-``) tags into ``(start, end, type)`` spans.

    A span starts at ``B-``/``S-`` or at an ``I-``/``E-`` whose type differs from the open span;
    it closes at ``E-``/``S-``, at ``O`` or at the next start. This is the conlleval reading,
    so scores computed from these spans agree with conlleval and seqeval on well-formed input.
    """
    spans: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if not label or prefix not in ("B", "I", "E", "S"):  # "O" or anything unprefixed
            if start >= 0:
                spans.append((start, i, kind))
            start, kind = -1, ""
            continue
        if prefix in ("B", "S") or start < 0 or label != kind:
            if start >= 0:
                spans.append((start, i, kind))
            start, kind = i, label
        if prefix in ("E", "S"):
            spans.append((start, i + 1, kind))
            start, kind = -1, ""
    if start >= 0:
        spans.append((start, len(tags), kind))
    return spans
