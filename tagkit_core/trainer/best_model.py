"""What a run does with its best-model.pt besides writing it.

Two steps read the file back: ``anneal_with_restarts`` goes on from the best weights when the
learning rate drops, and the final test scores the best model (the final one when there is no
best, or when it trained on dev too), as Flair's trainer does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tagkit_core.model import Model, Result
from tagkit_core.trainer.per_corpus import evaluate_split

__all__ = ["restart_from_best", "final_test"]

log = logging.getLogger("tagkit.trainer")


def restart_from_best(model: Model, base_path: Path) -> None:
    """``anneal_with_restarts``: go on from the best model's weights (Flair's rule: the
    optimizer keeps its state and the new, lower learning rate)."""
    best = base_path / "best-model.pt"
    if not best.exists():
        return
    model.load_state_dict(type(model).load(best).state_dict())
    log.info("learning rate annealed: restarting from the best model (%s)", best)


def final_test(model: Model, corpus: Any, base_path: Path, config: Any) -> Result | None:
    """The test split's result, for best-model.pt unless the run trained with dev or wrote
    none; None without a test split."""
    if not corpus.test:
        log.info("no test split: no final test score")
        return None
    best = base_path / "best-model.pt"
    tested = type(model).load(best).to(model.device) if best.exists() and \
        not config.train_with_dev else model
    result = evaluate_split(tested, corpus, "test", mini_batch_size=config.eval_mini_batch_size,
                            embedding_storage_mode="none")
    log.info("test score (%s): %.4f\n%s", "best model" if tested is not model else
             "final model", result.main_score, result.detailed_results)
    return result
