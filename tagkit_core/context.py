"""The sentences around a sentence, for embeddings that read them (FLERT's document context).

Flair's FLERT (``TransformerWordEmbeddings(use_context=True)``) embeds each sentence with the
words of its neighbours in the corpus file on either side, so a name's vector sees the rest of
its document. That needs each sentence to know its neighbours: a :class:`~tagkit_core.corpus.
Corpus` links the sentences of each split it is given, in file order (:func:`link_sentences`),
and a reader marks ``sentence.starts_document`` where its format says a document starts
(CoNLL's ``-DOCSTART-``, CoNLL-U's ``# newdoc``), so context can stop at document boundaries.
A sentence made on its own has no neighbours and gets no context.
"""

from __future__ import annotations

from typing import Sequence

from tagkit_core.data import Sentence

__all__ = ["link_sentences", "left_context", "right_context"]


def link_sentences(sentences: Sequence[Sentence]) -> None:
    """Make each sentence the next one's previous, in order (Flair's
    ``Sentence.set_context_for_sentences``); the ends keep what they had."""
    for before, after in zip(sentences, sentences[1:]):
        before._next, after._previous = after, before


def left_context(sentence: Sentence, length: int, respect_document_boundaries: bool = True
                 ) -> list[str]:
    """Up to ``length`` words of the sentences before ``sentence``, the nearest last; never
    across the start of ``sentence``'s document when ``respect_document_boundaries``."""
    words: list[str] = []
    current = sentence
    while len(words) < length:
        if respect_document_boundaries and current.starts_document:
            break
        current = current.previous_sentence()
        if current is None:
            break
        words = [token.text for token in current] + words
    return words[len(words) - length:] if len(words) > length else words


def right_context(sentence: Sentence, length: int, respect_document_boundaries: bool = True
                  ) -> list[str]:
    """Up to ``length`` words of the sentences after ``sentence``, the nearest first; never
    into the next document when ``respect_document_boundaries``."""
    words: list[str] = []
    current = sentence
    while len(words) < length:
        current = current.next_sentence()
        if current is None or (respect_document_boundaries and current.starts_document):
            break
        words.extend(token.text for token in current)
    return words[:length]
