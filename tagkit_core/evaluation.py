"""Scores for sequence labelling: token accuracy and span-level precision, recall and F1.

Why not seqeval or scikit-learn: seqeval pulls in scikit-learn (and scipy) for a few counts, and
its span reading has to match ours anyway, since predictions become spans through
:func:`tagkit_core.data.decode_spans`. These functions count exact ``(start, end, type)`` matches,
as conlleval does; the test suite cross-checks them against seqeval on real WNUT-17 predictions.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from tagkit_core.model import Result
from tagkit_core.spans import decode_spans

__all__ = ["is_span_scheme", "token_accuracy", "span_scores", "sequence_labelling_result",
           "precision_recall_f1", "format_report"]


def is_span_scheme(tags: Iterable[str]) -> bool:
    """True when the tag set is BIO/BIOES-like (``B-PER``, ``I-LOC``...), i.e. scored by spans."""
    return any(t[:2] in ("B-", "I-", "E-", "S-") for t in tags)


def token_accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    total = sum(len(g) for g in gold)
    correct = sum(g == p for gs, ps in zip(gold, predicted) for g, p in zip(gs, ps))
    return correct / total if total else 0.0


def precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from true positive, false positive and false negative counts."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def span_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
                ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Micro and macro span scores, and a per-type report (precision, recall, f1, support)."""
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for gold_tags, predicted_tags in zip(gold, predicted):
        gold_spans = set(decode_spans(gold_tags))
        predicted_spans = set(decode_spans(predicted_tags))
        for span in gold_spans & predicted_spans:
            tp[span[2]] += 1
        for span in predicted_spans - gold_spans:
            fp[span[2]] += 1
        for span in gold_spans - predicted_spans:
            fn[span[2]] += 1
    report: dict[str, dict[str, float]] = {}
    for kind in sorted(set(tp) | set(fp) | set(fn)):
        p, r, f = precision_recall_f1(tp[kind], fp[kind], fn[kind])
        report[kind] = {"precision": p, "recall": r, "f1": f, "support": tp[kind] + fn[kind]}
    micro_p, micro_r, micro_f = precision_recall_f1(sum(tp.values()), sum(fp.values()),
                                                    sum(fn.values()))
    with_support = [r for r in report.values() if r["support"]] or list(report.values())
    macro_f = sum(r["f1"] for r in with_support) / len(with_support) if with_support else 0.0
    scores = {"micro_f1": micro_f, "micro_precision": micro_p, "micro_recall": micro_r,
              "macro_f1": macro_f}
    return scores, report


def _per_tag_report(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
                    ) -> dict[str, dict[str, float]]:
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for gs, ps in zip(gold, predicted):
        for g, p in zip(gs, ps):
            if g == p:
                tp[g] += 1
            else:
                fp[p] += 1
                fn[g] += 1
    report = {}
    for tag in sorted(set(tp) | set(fp) | set(fn)):
        p, r, f = precision_recall_f1(tp[tag], fp[tag], fn[tag])
        report[tag] = {"precision": p, "recall": r, "f1": f, "support": tp[tag] + fn[tag]}
    return report


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


def sequence_labelling_result(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]],
                              loss: float | None = None) -> Result:
    """A Result: span micro-F1 as main score for BIO/BIOES tags, token accuracy otherwise."""
    accuracy = token_accuracy(gold, predicted)
    all_tags = {t for tags in gold for t in tags}
    if is_span_scheme(all_tags):
        scores, report = span_scores(gold, predicted)
        scores["accuracy"] = accuracy
        main, main_name = scores["micro_f1"], "micro_f1"
    else:
        report = _per_tag_report(gold, predicted)
        with_support = [r for r in report.values() if r["support"]]
        macro = sum(r["f1"] for r in with_support) / len(with_support) if with_support else 0.0
        scores = {"accuracy": accuracy, "macro_f1": macro}
        main, main_name = accuracy, "accuracy"
    if loss is not None:
        scores["loss"] = loss
    return Result(main_score=main, scores=scores, main_score_name=main_name,
                  classification_report=report,
                  detailed_results=format_report(report, scores))
