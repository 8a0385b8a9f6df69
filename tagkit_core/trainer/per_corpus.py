"""Scores per corpus when one model trains on several (a MultiCorpus).

The tutorial's multi-dataset block trains one tagger on English and German; a user wants to see
how each language does, not only the mix. The split is scored as a whole (the figure that
selects the best model and anneals the learning rate), then each corpus's part of it alone;
each part's main score joins ``Result.scores`` as ``<corpus name>_<score name>``, so it reaches
the log, the ``on_epoch_end`` metrics and a ``DEV_<NAME>`` column of loss.tsv.
"""

from __future__ import annotations

from typing import Any

from tagkit_core.model import Model, Result

__all__ = ["evaluate_split"]


def evaluate_split(model: Model, corpus: Any, split: str, **options: Any) -> Result:
    """``model.evaluate`` on ``corpus``'s ``split`` ("dev" or "test"), plus one main score per
    corpus of a MultiCorpus (parts with an empty split are skipped)."""
    result = model.evaluate(getattr(corpus, split), **options)
    parts = [part for part in getattr(corpus, "corpora", ()) if getattr(part, split)]
    if len(parts) < 2:
        return result
    lines = []
    for part in parts:
        own = model.evaluate(getattr(part, split), **options)
        result.scores[f"{part.name}_{own.main_score_name}"] = own.main_score
        lines.append(f"{part.name}: {own.main_score_name} {own.main_score:.4f}")
    result.detailed_results += "\nper corpus: " + "; ".join(lines)
    return result
