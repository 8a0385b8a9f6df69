"""The classification scores against values worked out by hand (scikit-learn's definitions)."""

from __future__ import annotations

import pytest

from tagkit_classifiers.metrics import classification_result


def test_single_label_scores_by_hand():
    gold = [["A"], ["A"], ["B"], ["C"], ["B"]]
    predicted = [["A"], ["B"], ["B"], ["A"], ["D"]]
    result = classification_result(gold, predicted, multi_label=False, loss=1.25)
    # A: tp 1, fp 1, fn 1; B: tp 1, fp 1, fn 1; C: fn 1; D: fp 1 (predicted, never gold).
    assert result.main_score_name == "accuracy" and result.main_score == pytest.approx(0.4)
    assert result.scores["micro_f1"] == pytest.approx(0.4)
    # macro over every class seen in gold or predictions: (0.5 + 0.5 + 0 + 0) / 4
    assert result.scores["macro_f1"] == pytest.approx(0.25)
    assert result.scores["loss"] == 1.25 and result.loss == 1.25
    assert result.classification_report["A"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert result.classification_report["D"]["support"] == 0
    assert result.classification_report["C"]["f1"] == 0.0
    assert "sample_f1" not in result.scores
    assert "precision" in result.detailed_results and "D" in result.detailed_results


def test_a_perfect_single_label_prediction_scores_one():
    gold = [["X"], ["Y"], ["X"]]
    result = classification_result(gold, gold, multi_label=False)
    assert result.main_score == result.scores["macro_f1"] == 1.0 and "loss" not in result.scores


def test_multi_label_scores_by_hand():
    gold = [["A", "B"], ["A"], [], ["C"]]
    predicted = [["A"], ["A", "C"], [], []]
    result = classification_result(gold, predicted, multi_label=True)
    # micro: tp 2 (A twice), fp 1 (C), fn 2 (B, C): P 2/3, R 1/2, F1 4/7.
    assert result.main_score_name == "micro_f1"
    assert result.main_score == pytest.approx(4 / 7)
    assert result.scores["micro_precision"] == pytest.approx(2 / 3)
    assert result.scores["micro_recall"] == pytest.approx(1 / 2)
    # per text 2|G&P|/(|G|+|P|): 2/3, 2/3, 0 (both empty, as scikit-learn), 0
    assert result.scores["sample_f1"] == pytest.approx(1 / 3)
    assert result.scores["accuracy"] == pytest.approx(1 / 4)  # exact matches: the empty one
    assert result.scores["macro_f1"] == pytest.approx(1 / 3)  # A 1, B 0, C 0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 gold label sets but 1 predicted"):
        classification_result([["A"], ["B"]], [["A"]], multi_label=False)
