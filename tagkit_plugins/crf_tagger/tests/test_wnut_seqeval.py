"""Span scores on real WNUT-17 predictions agree with seqeval (conlleval's reading of BIO)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.trainer import ModelTrainer
from tagkit_crf_tagger import SequenceTagger


def _read_wnut(path: Path, limit: int) -> list[Sentence]:
    sentences, words, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            word, tag = line.split("\t")[:2]
            words.append(word)
            tags.append(tag.strip())
        elif words:
            sentence = Sentence(words)
            for token, tag in zip(sentence, tags):
                token.add_label("ner", tag)
            sentences.append(sentence)
            words, tags = [], []
            if len(sentences) == limit:
                break
    return sentences


@pytest.mark.integration
def test_span_f1_on_wnut17_predictions_matches_seqeval(tmp_path, toy_embeddings_cls):
    metrics = pytest.importorskip("seqeval.metrics")
    mirror = Path(os.environ.get("TAGKIT_DATASETS_MIRROR",
                                 Path(__file__).resolve().parents[4] / "shared" / "datasets"))
    folder = mirror / "wnut_17"
    # Sentences with entities only, so a briefly trained model predicts some (right or wrong).
    sentences = _read_wnut(folder / "wnut17train.conll", 3394)
    train = [s for s in sentences[:2500] if any(t.get_tag("ner") != "O" for t in s)]
    test = sentences[2500:2900] + _read_wnut(folder / "emerging.test.annotated", 200)
    corpus = Corpus(train, [], test, name="wnut_17_sample")
    vocab = sorted({t.text for s in train for t in s})
    torch.manual_seed(0)
    tagger = SequenceTagger(toy_embeddings_cls(vocab, dim=16), corpus.make_tag_dictionary("ner"),
                            "ner", hidden_size=32, locked_dropout=0.0)
    ModelTrainer(tagger, corpus).train(tmp_path, max_epochs=15, learning_rate=0.5,
                                       save_final_model=False,
                                       show_progress=False)
    tagger.predict(test, label_name="predicted")
    gold = [[t.get_tag("ner") for t in s] for s in test]
    predicted = [[t.get_tag("predicted") for t in s] for s in test]
    assert sum(tag != "O" for tags in predicted for tag in tags) > 0, "no entity predicted"
    for sentence in test:
        for token in sentence:
            token.remove_label("predicted")
    result = tagger.evaluate(test)
    assert result.scores["micro_f1"] == pytest.approx(metrics.f1_score(gold, predicted))
    assert result.scores["micro_precision"] == pytest.approx(
        metrics.precision_score(gold, predicted))
    assert result.scores["micro_recall"] == pytest.approx(metrics.recall_score(gold, predicted))
    assert result.scores["macro_f1"] == pytest.approx(
        metrics.f1_score(gold, predicted, average="macro"))
