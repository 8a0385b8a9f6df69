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

from tagkit_core.model import Result

__all__ = ["classification_result", "format_report"]


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def format_report(report: dict[str, dict[str, float]], scores: dict[str, float]) -> str:
    """A printable per-class table (as scikit-learn's ``classification_report``), then scores."""
    width = max([16] + [len(name) for name in report])
    lines = [f"{'':>{width}} {'precision':>10} {'recall':>10} {'f1-score':>10} {'support':>10}"]
    for name, row in report.items():
        lines.append(f"{name:>{width}} {row['precision']:>10.4f} {row['recall']:>10.4f} "
                     f"{row['f1']:>10.4f} {int(row['support']):>10d}")
    lines.append("")
    lines.extend(f"{name:>{width}} {value:.4f}" for name, value in scores.items())
    return "\n".join(lines)


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
        precision, recall, f1 = _prf(tp[label], fp[label], fn[label])
        report[label] = {"precision": precision, "recall": recall, "f1": f1,
                         "support": tp[label] + fn[label]}
    micro_p, micro_r, micro_f1 = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
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
