"""Prediction batches by piece count: a transformer's cost grows with its pieces, not words."""

from __future__ import annotations

import torch

from tagkit_classifiers import TextClassifier
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.embeddings import StackedEmbeddings, longest_first
from tagkit_crf_tagger import SequenceTagger
from tagkit_transformers import TransformerDocumentEmbeddings, TransformerWordEmbeddings

# Word counts fall while piece counts do not: "unbelievable" and "coops" are 3 pieces each.
TEXTS = ["the dog runs here .", "unbelievable unbelievable coops", "we love berlin",
         "a cat sleeps in new york", "coops unbelievable", "anna", "the cat"]
PIECES = [5, 9, 3, 6, 6, 1, 2]


def fresh() -> list[Sentence]:
    return [Sentence(text.split()) for text in TEXTS]


def test_piece_counts_and_order(bert_dir):
    document = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False)
    word = TransformerWordEmbeddings(str(bert_dir))
    assert document.batching_lengths(fresh()) == PIECES
    assert StackedEmbeddings([word]).batching_lengths(fresh()) == PIECES
    ordered = longest_first(document, fresh() + [Sentence([])])
    assert [s.to_plain_string() for s in ordered] == [TEXTS[i] for i in (1, 3, 4, 0, 2, 6, 5)]


def spied_batches(embedding) -> list[list[str]]:
    """Record the texts of every batch ``embedding`` computes."""
    seen: list[list[str]] = []
    inner = embedding._embed_batch

    def spy(sentences, storage=None):
        seen.append([s.to_plain_string() for s in sentences])
        return inner(sentences, storage=storage)

    embedding._embed_batch = spy
    return seen


def labels_of(sentences, label_type):
    return [[(label.value, round(label.score, 5)) for label in s.get_labels(label_type)]
            for s in sentences]


def test_classifier_predicts_in_piece_order_with_the_same_labels(bert_dir):
    torch.manual_seed(0)
    dictionary = Dictionary(add_unk=False)
    for value in ("A", "B", "C"):
        dictionary.add_item(value)
    classifier = TextClassifier(TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False),
                                dictionary, label_type="topic").eval()
    seen = spied_batches(classifier.document_embeddings)
    batched = fresh()
    classifier.predict(batched, mini_batch_size=3)
    assert seen == [[TEXTS[i] for i in (1, 3, 4)], [TEXTS[i] for i in (0, 2, 6)], [TEXTS[5]]]
    alone = fresh()
    for sentence in alone:
        classifier.predict(sentence)
    assert labels_of(batched, "topic") == labels_of(alone, "topic")


def test_tagger_predicts_in_piece_order(bert_dir):
    torch.manual_seed(0)
    tags = Dictionary(add_unk=False)
    for value in ("X", "Y"):
        tags.add_item(value)
    embedding = TransformerWordEmbeddings(str(bert_dir))
    tagger = SequenceTagger(embedding, tags, "upos", hidden_size=8, use_rnn=False, use_crf=False,
                            reproject_embeddings=False).eval()
    seen = spied_batches(embedding)
    batched = fresh()
    tagger.predict(batched, mini_batch_size=4)
    assert [text for batch in seen for text in batch] == [TEXTS[i] for i in (1, 3, 4, 0, 2, 6, 5)]
    alone = fresh()
    for sentence in alone:
        tagger.predict(sentence)
    assert [[t.get_label("upos").value for t in s] for s in batched] == \
        [[t.get_label("upos").value for t in s] for s in alone]
