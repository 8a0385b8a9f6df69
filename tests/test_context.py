"""Sentence neighbours and document starts (tagkit_core.context), as FLERT's context reads them."""

from __future__ import annotations

import copy
import pickle

from tagkit_core.context import left_context, link_sentences, right_context
from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence


def linked(*texts: str) -> list[Sentence]:
    sentences = [Sentence(text.split()) for text in texts]
    link_sentences(sentences)
    return sentences


def test_context_is_the_nearest_words_on_each_side_up_to_the_length():
    a, b, c, d = linked("a1 a2 a3", "b1 b2", "c1", "d1 d2 d3")
    assert (b.previous_sentence(), b.next_sentence()) == (a, c)
    assert left_context(c, 4) == ["a2", "a3", "b1", "b2"]
    assert left_context(c, 10) == ["a1", "a2", "a3", "b1", "b2"]
    assert right_context(b, 3) == ["c1", "d1", "d2"]
    assert left_context(a, 5) == [] and right_context(d, 5) == []
    assert left_context(c, 0) == [] and right_context(b, 0) == []
    alone = Sentence("on its own")
    assert left_context(alone, 64) == right_context(alone, 64) == []


def test_context_stops_at_a_document_start_unless_told_not_to():
    a, b, c, d = linked("a1", "b1", "c1", "d1")
    c.starts_document = True  # a and b are one document, c and d the next
    assert left_context(c, 5) == [] and left_context(d, 5) == ["c1"]
    assert right_context(b, 5) == [] and right_context(a, 5) == ["b1"]
    assert left_context(d, 5, respect_document_boundaries=False) == ["a1", "b1", "c1"]
    assert right_context(a, 5, respect_document_boundaries=False) == ["b1", "c1", "d1"]


def test_a_corpus_links_each_split_in_file_order_before_carving_dev():
    train = [Sentence([f"w{i}"]) for i in range(20)]
    corpus = Corpus(train, None, [Sentence(["t0"]), Sentence(["t1"])])
    carved = corpus.dev[0]
    index = int(carved[0].text[1:])
    assert left_context(carved, 1) == ([f"w{index - 1}"] if index else [])
    assert corpus.test[1].previous_sentence() is corpus.test[0]
    assert corpus.test[0].previous_sentence() is None  # splits are not chained together
    # A corpus made of another's sentences keeps their neighbours in the file.
    picked = [corpus.train[1], corpus.train[3]]
    before = picked[1].previous_sentence()
    Corpus(picked, [], [])
    assert picked[1].previous_sentence() is before and before is not picked[0]


def test_a_sentence_is_pickled_and_copied_without_its_neighbours():
    """Else one sentence drags its corpus along, and a long one overflows the stack."""
    sentences = [Sentence([f"w{i}"]) for i in range(20_000)]
    link_sentences(sentences)
    sentences[5].starts_document = True
    sentences[5][0].add_label("pos", "X")
    for twin in (pickle.loads(pickle.dumps(sentences[5])), copy.deepcopy(sentences[5])):
        assert twin[0].text == "w5" and twin[0].get_tag("pos") == "X" and twin.starts_document
        assert twin.previous_sentence() is None and twin.next_sentence() is None
    assert sentences[5].next_sentence() is sentences[6]  # the original keeps them
