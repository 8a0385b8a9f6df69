"""A trained classifier's model card: the label type it inferred from the corpus, its classes,
its optimizer and per-class test report, and a README tagged for text classification."""

from __future__ import annotations

import torch

from tagkit_classifiers import TextClassifier
from tagkit_core.model_card import read_model_card, read_model_header
from tagkit_core.model_card_text import card_readme
from tagkit_core.trainer import ModelTrainer


def test_a_trained_classifier_carries_its_card(toy_document, toy_corpus, tmp_path):
    label_dictionary = toy_corpus.make_label_dictionary()
    classifier = TextClassifier(toy_document(), label_dictionary)  # label type inferred
    result = ModelTrainer(classifier, toy_corpus, optimizer=torch.optim.Adam).train(
        tmp_path, learning_rate=0.05, mini_batch_size=8, max_epochs=1, show_progress=False)
    card = read_model_card(tmp_path / "final-model.pt")
    assert card["model"]["class"] == "TextClassifier"
    assert card["model"]["label_type"] == classifier.label_type == "class"
    assert card["model"]["labels"] == label_dictionary.get_items()
    assert card["training"]["optimizer"] == "torch.optim.adam.Adam"
    assert card["test"]["main_score"] == result["test_score"]
    assert set(card["test"]["classification_report"]) >= {"LOC"}
    readme = card_readme(read_model_header(tmp_path / "final-model.pt"), "final-model.pt")
    assert '- "text-classification"' in readme and '- "class"' in readme
