"""Span tags in the scheme a tagger trains on: ``SequenceTagger(tag_format="BIO" | "BIOES")``.

Why convert. A corpus writes its entities in one scheme (WNUT-17's and CoNLL's files: BIO), and
a tagger can learn another. Flair 0.15 trains on BIOES by default: a one-token entity (``S-``)
and an entity's last token (``E-``) get tags of their own, so the tagger is told where spans
end and not only where they start. The spans are the same in every scheme; only the token tags
that spell them differ. So the tagger converts the gold tags it trains and is scored on, and its
dictionary holds the scheme's tags; its predictions are in that scheme. Without ``tag_format``
(the default) the corpus's own tags are learnt as they are.
"""

from __future__ import annotations

from typing import Sequence

from tagkit_core.dictionary import Dictionary
from tagkit_core.evaluation import is_span_scheme
from tagkit_core.spans import decode_spans

__all__ = ["TAG_FORMATS", "check_tag_format", "scheme_dictionary", "convert_tags"]

TAG_FORMATS = ("BIO", "BIOES")
_PREFIXES = {"BIO": ("B-", "I-"), "BIOES": ("B-", "I-", "E-", "S-")}


def check_tag_format(tag_format: str | None, dictionary: Dictionary, tag_type: str
                     ) -> str | None:
    """``tag_format`` in capitals, or None; a ValueError for another scheme, or for a tag set
    with no spans in it (POS tags have nothing to convert)."""
    if tag_format is None:
        return None
    scheme = str(tag_format).upper()
    if scheme not in TAG_FORMATS:
        raise ValueError(f"tag_format={tag_format!r}: expected one of {', '.join(TAG_FORMATS)}, "
                         "or None to learn the corpus's own tags")
    items = dictionary.get_items()
    if not is_span_scheme(items):
        raise ValueError(f"tag_format={tag_format!r} is for span tags (B-PER, I-LOC...); the "
                         f"{tag_type!r} tags are {', '.join(items[:6])}...: leave tag_format out")
    return scheme


def scheme_dictionary(dictionary: Dictionary, scheme: str) -> Dictionary:
    """``O`` then, per span type in order of first appearance, the scheme's tags for it.

    The same for a dictionary already in the scheme, so a saved tagger rebuilds its own."""
    types: dict[str, None] = {}
    for item in dictionary.get_items():
        if item[:2] in _PREFIXES["BIOES"] and len(item) > 2:
            types.setdefault(item[2:])
    result = Dictionary(add_unk=dictionary.add_unk)
    result.add_item("O")
    for kind in types:
        for prefix in _PREFIXES[scheme]:
            result.add_item(prefix + kind)
    return result


def convert_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """The same spans (as :func:`~tagkit_core.data.decode_spans` reads them) in ``scheme``."""
    converted = ["O"] * len(tags)
    for start, end, kind in decode_spans(tags):
        if scheme == "BIOES" and end - start == 1:
            converted[start] = f"S-{kind}"
            continue
        converted[start] = f"B-{kind}"
        for inside in range(start + 1, end):
            converted[inside] = f"I-{kind}"
        if scheme == "BIOES":
            converted[end - 1] = f"E-{kind}"
    return converted
