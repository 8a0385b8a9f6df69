"""Scores for text classification: accuracy, micro/macro F1, per-class report, sample F1.

Why not scikit-learn: it is not a dependency of tagkit, and these are a few counts. The
definitions are scikit-learn's, so figures compare with Flair's (which calls it):

* a class's precision, recall and F1 from its true positives, false positives and false
  negatives; a ratio with a zero denominator is 0 (scikit-learn's ``zero_division=0``);
* micro F1 from the counts summed over classes; for single-label data with one prediction per
  text it equals the accuracy;
* macro F1: the mean F1 over every class that occurs in the gold labels or the predictions
  (scikit-learn's default label set), so a class that is predicted but never correct counts 0;
* sample F1 (multi-label): per text ``2 |gold & predicted| / (|gold| + |predicted|)``, 0 when
  both are empty (scikit-learn's ``average='samples'``), averaged over texts;
* multi-label accuracy is the exact-match ratio (the predicted set equals the gold set).
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from tagkit_core.evaluation import format_report, precision_recall_f1
from tagkit_core.model import Result

__all__ = ["classification_result", "format_report"]


def classification_result(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]],
                          multi_label: bool, loss: float | None = None) -> Result:
    """A Result over texts whose gold and predicted labels are ``gold[i]`` and ``predicted[i]``.

    Main score: accuracy for single-label data, micro F1 for multi-label data.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold label sets but {len(predicted)} predicted ones")
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    exact, sample_f1 = 0, 0.0
    for gold_labels, predicted_labels in zip(gold, predicted):
        g, p = set(gold_labels), set(predicted_labels)
        for label in g & p:
            tp[label] += 1
        for label in p - g:
            fp[label] += 1
        for label in g - p:
            fn[label] += 1
        exact += g == p
        sample_f1 += 2 * len(g & p) / (len(g) + len(p)) if g or p else 0.0
    report: dict[str, dict[str, float]] = {}
    for label in sorted(set(tp) | set(fp) | set(fn)):
        precision, recall, f1 = precision_recall_f1(tp[label], fp[label], fn[label])
        report[label] = {"precision": precision, "recall": recall, "f1": f1,
                         "support": tp[label] + fn[label]}
    micro_p, micro_r, micro_f1 = precision_recall_f1(sum(tp.values()), sum(fp.values()),
                                                     sum(fn.values()))
    macro_f1 = sum(row["f1"] for row in report.values()) / len(report) if report else 0.0
    count = len(gold)
    scores = {"accuracy": exact / count if count else 0.0, "micro_f1": micro_f1,
              "micro_precision": micro_p, "micro_recall": micro_r, "macro_f1": macro_f1}
    if multi_label:
        scores["sample_f1"] = sample_f1 / count if count else 0.0
        main_name = "micro_f1"
    else:
        main_name = "accuracy"
    if loss is not None:
        scores["loss"] = loss
    return Result(main_score=scores[main_name], scores=scores, main_score_name=main_name,
                  classification_report=report, detailed_results=format_report(report, scores))
