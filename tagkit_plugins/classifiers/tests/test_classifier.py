"""TextClassifier on tiny hand-made texts: losses by hand, labels, evaluation, files, training."""

from __future__ import annotations

import math

import pytest
import torch
from classifier_toy_data import labelled, make_texts

from tagkit_classifiers import TextClassifier
from tagkit_core import set_seed
from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.registry import get_registry
from tagkit_core.trainer import ModelTrainer


def dictionary(*items: str, add_unk: bool = False) -> Dictionary:
    d = Dictionary(add_unk=add_unk)
    for item in items:
        d.add_item(item)
    return d


def scores_of(classifier, sentences):
    with torch.no_grad():
        return classifier(sentences)


# -- label type ---------------------------------------------------------------------------------
def test_label_type_none_is_taken_from_the_corpus_and_saved(toy_document, toy_corpus, tmp_path):
    # The tutorial's call: no label type, the dictionary from make_label_dictionary().
    classifier = TextClassifier(toy_document(), label_dictionary=toy_corpus.make_label_dictionary())
    assert classifier.label_type is None
    loss, count = classifier.forward_loss(toy_corpus.train[:4])
    assert classifier.label_type == "class" and count == 4 and loss.item() > 0
    classifier.save(tmp_path / "m.pt")
    assert TextClassifier.load(tmp_path / "m.pt", device="cpu").label_type == "class"


def test_label_type_none_with_two_sentence_label_types_asks_for_one(toy_document):
    sentence = labelled("who is paris", "HUM")
    sentence.add_label("topic", "travel")
    classifier = TextClassifier(toy_document(), dictionary("HUM"))
    with pytest.raises(ValueError, match=r"\['class', 'topic'\].*label_type="):
        classifier.forward_loss([sentence])


def test_a_label_type_the_sentences_lack_is_named(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("HUM"), label_type="question")
    with pytest.raises(KeyError, match=r"no sentence of the batch has a 'question' label.*class"):
        classifier.forward_loss([labelled("who is paris", "HUM")])


def test_a_multi_label_batch_of_another_label_type_is_named(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("HUM"), label_type="question",
                                multi_label=True)
    with pytest.raises(KeyError, match=r"no sentence of the batch has a 'question' label"):
        classifier.forward_loss([labelled("who is paris", "HUM")])
    # texts without any label are all-negative examples, not an error
    _, count = classifier.forward_loss([labelled("who is paris")])
    assert count == 1


def test_an_unknown_label_is_named_unless_the_dictionary_has_unk(toy_document):
    text = [labelled("where is paris", "LOC")]
    with pytest.raises(KeyError, match="label 'LOC' of sentence 'where is paris'"):
        TextClassifier(toy_document(), dictionary("HUM"), "class").forward_loss(text)
    loss, count = TextClassifier(toy_document(), dictionary("HUM", add_unk=True),
                                 "class").forward_loss(text)
    assert count == 1 and math.isfinite(loss.item())


def test_bad_arguments_are_refused(toy_document):
    with pytest.raises(ValueError, match="label dictionary is empty"):
        TextClassifier(toy_document(), Dictionary(add_unk=False))
    with pytest.raises(ValueError, match="loss_weights names 'NOPE'"):
        TextClassifier(toy_document(), dictionary("A"), loss_weights={"NOPE": 2.0})
    with pytest.raises(ValueError, match="multi_label_threshold"):
        TextClassifier(toy_document(), dictionary("A"), multi_label_threshold=1.5)
    with pytest.raises(TypeError, match="DocumentEmbeddings"):
        TextClassifier(torch.nn.Linear(2, 2), dictionary("A"))
    # Flair 0.15's TextClassifier(embeddings, label_type) order: a string is no dictionary
    # (it used to be taken as one, a dictionary of its characters' count).
    with pytest.raises(TypeError, match=r"label_dictionary must be a Dictionary .*got str; the "
                                        r"label type is a keyword here: .*label_type='class'"):
        TextClassifier(toy_document(), "class")


# -- losses -------------------------------------------------------------------------------------
def test_single_label_loss_is_the_summed_cross_entropy(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class")
    texts = [labelled("who is paris", "HUM"), labelled("where is paris", "LOC"),
             labelled("where is the river"),  # no label: left out of the loss
             Sentence([])]  # empty: left out
    loss, count = classifier.forward_loss(texts)
    scores = scores_of(classifier, texts[:2])
    by_hand = -(scores[0].log_softmax(0)[1] + scores[1].log_softmax(0)[2])
    assert count == 2 and loss.item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_loss_weights_weigh_each_class(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class",
                                loss_weights={"HUM": 3.0})
    texts = [labelled("who is paris", "HUM"), labelled("where is paris", "LOC")]
    loss, _ = classifier.forward_loss(texts)
    scores = scores_of(classifier, texts)
    by_hand = -(3.0 * scores[0].log_softmax(0)[1] + scores[1].log_softmax(0)[2])
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_multi_label_loss_is_the_summed_binary_cross_entropy(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("A", "B", "C"), "class",
                                multi_label=True, loss_weights={"C": 2.0})
    texts = [labelled("who is paris", "A", "C"), labelled("where is paris")]  # none: all negative
    loss, count = classifier.forward_loss(texts)
    p = torch.sigmoid(scores_of(classifier, texts))
    targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    weights = torch.tensor([1.0, 1.0, 2.0])
    by_hand = -(weights * (targets * p.log() + (1 - targets) * (1 - p).log())).sum()
    assert count == 2 and loss.item() == pytest.approx(by_hand.item(), rel=1e-5)


# -- prediction ---------------------------------------------------------------------------------
def test_predict_writes_the_most_probable_class_with_its_probability(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class")
    texts = [labelled("who is paris", "OLD"), Sentence("where is it"), Sentence([])]
    probabilities = scores_of(classifier, texts[:2]).softmax(1)
    classifier.predict(texts)
    for sentence, row in zip(texts, probabilities):
        (label,) = sentence.get_labels("class")  # the old label is replaced
        best = int(row.argmax())
        assert label.value == classifier.label_dictionary.get_item_for_index(best)
        assert label.score == pytest.approx(row[best].item(), rel=1e-5)
    assert texts[2].get_labels("class") == []


def test_prediction_keeps_freed_memory_for_reuse_and_hands_it_back(toy_document,
                                                                   monkeypatch):
    """A transformer's batches allocate the same large buffers, more so in int8: reused,
    not faulted in anew (int8 prediction 11 to 18% faster, docs/benchmarks.md section T)."""
    import contextlib

    import tagkit_classifiers.classifier as classifier_module

    calls = []

    @contextlib.contextmanager
    def kept():
        calls.append("keep")
        yield True
        calls.append("release")

    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM"), "class")
    real_forward = classifier.forward
    monkeypatch.setattr(classifier, "forward",
                        lambda *a, **k: calls.append("batch") or real_forward(*a, **k))
    monkeypatch.setattr(classifier_module, "freed_memory_kept", kept)
    classifier.predict([Sentence("who is it"), Sentence("where")], mini_batch_size=1)
    assert calls == ["keep", "batch", "batch", "release"]


def test_bfloat16_prediction_gives_close_probabilities(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class")
    texts = [Sentence("who is paris"), Sentence("where is it"), Sentence("how many")]
    full = scores_of(classifier, texts).softmax(1)
    classifier.predict(texts, precision="bfloat16")
    for sentence, row in zip(texts, full):
        (label,) = sentence.get_labels("class")
        assert label.score == pytest.approx(row.max().item(), abs=0.02)
        assert isinstance(label.score, float)
    with pytest.raises(ValueError, match="precision must be"):
        classifier.predict(texts, precision="float16")


@pytest.mark.parametrize("precision", ["int8"])
def test_int8_prediction_is_close_restores_the_layers_and_follows_weight_changes(
        toy_document, precision):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class")
    texts = [Sentence("who is paris"), Sentence("where is it"), Sentence("how many")]
    full = scores_of(classifier, texts).softmax(1)
    classifier.predict(texts, precision=precision)
    for sentence, row in zip(texts, full):
        (label,) = sentence.get_labels("class")
        assert label.score == pytest.approx(row.max().item(), abs=0.05)
    assert type(classifier.decoder) is torch.nn.Linear  # swapped back after the call
    assert all(not k.startswith("_") for k in classifier.state_dict())
    twins = dict(classifier.__dict__["_int8_linears"])
    classifier.predict(texts, precision=precision)  # the twins are kept, not rebuilt
    assert all(classifier.__dict__["_int8_linears"][k][1] is twins[k][1] for k in twins)
    with torch.no_grad():  # an in-place change (as an optimizer step): the twin is rebuilt
        classifier.decoder.weight.zero_()
        classifier.decoder.bias.copy_(torch.tensor([0.0, 5.0, 0.0]))
    classifier.predict(texts, precision=precision)
    assert [s.get_labels("class")[0].value for s in texts] == ["HUM"] * 3


def test_int8_prediction_is_refused_off_the_cpu(toy_document):
    from tagkit_classifiers.precision import check_precision

    with pytest.raises(ValueError, match="CPU only"):
        check_precision("int8", torch.device("cuda"))


def test_all_class_probabilities_come_predicted_first(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class")
    sentence = Sentence("how many rivers")
    classifier.predict(sentence, return_probabilities_for_all_classes=True, label_name="guess")
    labels = sentence.get_labels("guess")
    assert sorted(label.value for label in labels) == ["HUM", "LOC", "NUM"]
    assert sum(label.score for label in labels) == pytest.approx(1.0)
    assert [label.score for label in labels] == sorted((lb.score for lb in labels), reverse=True)
    assert sentence.get_labels("class") == []


def test_multi_label_predict_keeps_the_classes_over_the_threshold(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("A", "B", "C"), "class",
                                multi_label=True, multi_label_threshold=0.5)
    with torch.no_grad():
        classifier.decoder.weight.zero_()
        classifier.decoder.bias.copy_(torch.tensor([2.0, -2.0, 0.5]))
    sentence = Sentence("who is paris")
    classifier.predict(sentence)
    assert [(lb.value, round(lb.score, 4)) for lb in sentence.get_labels("class")] == [
        ("A", round(1 / (1 + math.exp(-2.0)), 4)), ("C", round(1 / (1 + math.exp(-0.5)), 4))]


def test_predict_returns_the_loss_of_the_labelled_texts(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class")
    texts = [labelled("who is paris", "HUM"), labelled("where is paris", "LOC")]
    expected, _ = classifier.forward_loss(texts)
    loss_sum, count = classifier.predict(texts, label_name="p", return_loss=True,
                                         mini_batch_size=1)
    assert count == 2 and loss_sum == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="mini_batch_size must be a positive integer"):
        classifier.predict(texts, mini_batch_size=0)


# -- evaluation ---------------------------------------------------------------------------------
def fixed_classifier(toy_document, multi_label=False) -> TextClassifier:
    """A classifier that always predicts from its bias: HUM (single) or {HUM, LOC} (multi)."""
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class",
                                multi_label=multi_label)
    with torch.no_grad():
        classifier.decoder.weight.zero_()
        classifier.decoder.bias.copy_(torch.tensor([-3.0, 3.0, 1.0 if multi_label else 0.0]))
    return classifier


def test_evaluate_scores_single_label_predictions(toy_document, tmp_path):
    classifier = fixed_classifier(toy_document)
    texts = [labelled("who is paris", "HUM"), labelled("who wrote a song", "HUM"),
             labelled("where is paris", "LOC"), labelled("how many rivers", "NUM")]
    result = classifier.evaluate(texts, out_path=tmp_path / "predictions.tsv")
    # every text predicted HUM: 2 of 4 right; F1 HUM 2/3 (P 1/2, R 1), LOC 0, NUM 0.
    assert result.main_score == pytest.approx(0.5) and result.scores["micro_f1"] == 0.5
    assert result.scores["macro_f1"] == pytest.approx((2 / 3) / 3)
    assert result.classification_report["HUM"]["precision"] == pytest.approx(0.5)
    p = torch.tensor([-3.0, 3.0, 0.0]).softmax(0)
    expected_loss = -(2 * p[1].log() + p[2].log() + p[0].log()).item() / 4
    assert result.loss == pytest.approx(expected_loss, rel=1e-5)
    # the gold labels are untouched and no temporary label is left behind
    assert [s.get_labels("class")[0].value for s in texts] == ["HUM", "HUM", "LOC", "NUM"]
    assert all(s.label_types == {"class"} for s in texts)
    lines = (tmp_path / "predictions.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[2] == "where is paris\tLOC\tHUM"


def test_evaluate_scores_multi_label_predictions(toy_document):
    classifier = fixed_classifier(toy_document, multi_label=True)  # always {HUM, LOC}
    texts = [labelled("who is paris", "HUM", "LOC"), labelled("how many", "NUM"),
             labelled("who wrote it", "HUM")]
    result = classifier.evaluate(texts)
    # tp 3 (HUM twice, LOC once), fp 3 (HUM, LOC; LOC), fn 1 (NUM): P 1/2, R 3/4, F1 3/5
    assert result.main_score_name == "micro_f1" and result.main_score == pytest.approx(0.6)
    assert result.scores["sample_f1"] == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert result.scores["accuracy"] == pytest.approx(1 / 3)


def test_evaluate_reads_another_gold_label_type(toy_document):
    classifier = fixed_classifier(toy_document)
    texts = [labelled("who is paris", "HUM", label_type="gold"),
             labelled("where is it", "LOC", label_type="gold")]
    assert classifier.evaluate(texts, gold_label_type="gold").main_score == 0.5


# -- files and registry -------------------------------------------------------------------------
def test_a_saved_classifier_predicts_the_same(toy_document, tmp_path):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class",
                                multi_label=True, multi_label_threshold=0.3,
                                loss_weights={"LOC": 0.5})
    classifier.save(tmp_path / "m.pt")
    loaded = TextClassifier.load(tmp_path / "m.pt", device="cpu")
    assert loaded.get_config()["loss_weights"] == {"LOC": 0.5}
    assert loaded.multi_label and loaded.multi_label_threshold == 0.3
    texts = make_texts(6, 5)
    assert torch.equal(scores_of(classifier, texts), scores_of(loaded, texts))
    assert torch.equal(loaded.class_weights, torch.tensor([1.0, 1.0, 0.5]))


def test_the_plugin_registers_text_classifier():
    assert get_registry().resolve("model", "text_classifier") is TextClassifier


# -- training -----------------------------------------------------------------------------------
def train(corpus: Corpus, classifier: TextClassifier, path, optimizer=torch.optim.Adam,
          **options):
    trainer = ModelTrainer(classifier, corpus, optimizer=optimizer)
    return trainer.train(path, **{"learning_rate": 0.05, "mini_batch_size": 8,
                                  "max_epochs": 6, "show_progress": False, **options})


def test_training_learns_the_toy_questions(toy_document, toy_corpus, tmp_path):
    set_seed(3)
    classifier = TextClassifier(toy_document(), toy_corpus.make_label_dictionary())
    result = train(toy_corpus, classifier, tmp_path / "run")
    assert result["test_score"] == 1.0
    loaded = TextClassifier.load(tmp_path / "run" / "final-model.pt", device="cpu")
    sentence = Sentence("where was the computer born")
    loaded.predict(sentence)
    assert sentence.get_labels("class")[0].value == "LOC"


def test_a_classifier_trains_with_its_embeddings_defaults_unless_told(toy_document, toy_corpus,
                                                                      tmp_path):
    classifier = TextClassifier(toy_document(), toy_corpus.make_label_dictionary(), "class")
    trainer = ModelTrainer(classifier, toy_corpus)
    trainer.train(tmp_path / "plain", max_epochs=1, show_progress=False)
    assert trainer.config.length_groups_per_batch == 2  # the trainer's own default
    classifier.document_embeddings.training_defaults = {"length_groups_per_batch": 1}
    trainer = ModelTrainer(classifier, toy_corpus)
    trainer.train(tmp_path / "default", max_epochs=1, show_progress=False)
    assert trainer.config.length_groups_per_batch == 1
    trainer = ModelTrainer(classifier, toy_corpus)
    trainer.train(tmp_path / "two", max_epochs=1, show_progress=False,
                  length_groups_per_batch=2)
    assert trainer.config.length_groups_per_batch == 2


def test_chunked_batches_give_the_whole_batches_weights(toy_document, toy_corpus, tmp_path):
    weights = []
    for chunk in (None, 3):
        set_seed(7)  # the same initial weights for both models
        classifier = TextClassifier(toy_document(), toy_corpus.make_label_dictionary(), "class")
        train(toy_corpus, classifier, tmp_path / f"chunk-{chunk}", optimizer=torch.optim.SGD,
              learning_rate=0.1, max_epochs=2, length_bucketing=False,
              mini_batch_chunk_size=chunk)
        weights.append({k: v.clone() for k, v in classifier.state_dict().items()})
    for name, value in weights[0].items():
        assert torch.allclose(value, weights[1][name], atol=1e-6), name


def test_evaluate_runs_in_predicts_precision(toy_document):
    classifier = TextClassifier(toy_document(), dictionary("NUM", "HUM", "LOC"), "class")
    texts = [Sentence("who is paris"), Sentence("where is it"), Sentence("how many")]
    for sentence, gold in zip(texts, ("HUM", "LOC", "NUM")):
        sentence.set_label("class", gold)
    guesses = [Sentence(s.to_plain_string()) for s in texts]
    classifier.predict(guesses, precision="int8")
    expected = sum(g.get_labels("class")[0].value == s.get_labels("class")[0].value
                   for g, s in zip(guesses, texts)) / 3
    assert classifier.evaluate(texts, precision="int8").main_score == pytest.approx(expected)
    with pytest.raises(ValueError, match="precision must be"):
        classifier.evaluate(texts, precision="float16")
