"""``predict(streams=N)``: the labels, scores and loss of one stream, in every precision; an
error in a stream leaves the model as it was."""

from __future__ import annotations

import pytest
import torch
from classifier_toy_data import make_texts

from tagkit_classifiers import TextClassifier
from tagkit_core.dictionary import Dictionary


@pytest.fixture
def torch_threads():
    """``torch_threads(n)`` sets torch's thread count for the test; put back after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def classifier_of(toy_document, toy_corpus) -> TextClassifier:
    torch.manual_seed(3)
    return TextClassifier(toy_document(16), toy_corpus.make_label_dictionary(), "class")


def labels_of(sentences, name: str = "class") -> list[list[tuple[str, float]]]:
    return [[(label.value, label.score) for label in s.get_labels(name)] for s in sentences]


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "int8"])
def test_streams_give_one_streams_labels_scores_and_loss(toy_document, toy_corpus,
                                                         torch_threads, precision):
    """N streams on N torch threads run each batch on one thread, as one stream on one
    thread does: the results are equal, not just close."""
    classifier = classifier_of(toy_document, toy_corpus)
    results = {}
    for streams in (1, 2, 3):
        torch_threads(streams)
        texts = make_texts(50, 7)
        loss = classifier.predict(texts, mini_batch_size=4, precision=precision,
                                  streams=streams, return_loss=True,
                                  return_probabilities_for_all_classes=True,
                                  label_name="guess")
        results[streams] = (labels_of(texts, "guess"), loss)
    assert results[2] == results[1] and results[3] == results[1]
    assert results[1][1][1] == 50  # every text had a gold label
    evaluated = []
    for streams in (1, 2):
        torch_threads(streams)
        evaluated.append(classifier.evaluate(make_texts(30, 8), mini_batch_size=4,
                                             precision=precision, streams=streams))
    assert evaluated[0].main_score == evaluated[1].main_score
    assert evaluated[0].scores == evaluated[1].scores


def test_an_error_in_a_stream_leaves_the_model_as_it_was(toy_document, toy_corpus,
                                                         torch_threads):
    torch_threads(2)
    classifier = classifier_of(toy_document, toy_corpus)
    classifier.train()
    real = classifier.document_embeddings._embed_batch
    calls = []

    def breaks_on_the_third_batch(sentences, storage=None):
        calls.append(len(sentences))
        if len(calls) == 3:
            raise RuntimeError("a broken embedding")
        return real(sentences, storage)

    classifier.document_embeddings._embed_batch = breaks_on_the_third_batch
    with pytest.raises(RuntimeError, match="a broken embedding"):
        classifier.predict(make_texts(40, 9), mini_batch_size=2, precision="int8", streams=2)
    assert len(calls) < 20  # the streams stopped
    assert classifier.training  # its mode back
    assert type(classifier.decoder) is torch.nn.Linear  # the int8 twin swapped out again
    assert torch.is_grad_enabled()


def test_streams_are_checked(toy_document, toy_corpus):
    classifier = classifier_of(toy_document, toy_corpus)
    for bad in (0, 2.0, "2"):
        with pytest.raises(ValueError, match="streams must be a positive integer"):
            classifier.predict(make_texts(3, 1), streams=bad)
        with pytest.raises(ValueError, match="streams must be a positive integer"):
            classifier.evaluate(make_texts(3, 1), streams=bad)


def test_empty_and_single_batch_predictions_run_in_the_callers_thread(toy_document):
    classifier = TextClassifier(toy_document(), Dictionary(add_unk=True), "class")
    classifier.predict([], streams=2)
    texts = make_texts(3, 1)
    classifier.predict(texts, streams=4)
    assert all(len(s.get_labels("class")) == 1 for s in texts)
