"""What a training run shows on the console: the log lines' handler, the progress bar, and
how a missing score is written."""

from __future__ import annotations

import logging
import sys

__all__ = ["console_handler", "progress_bar", "fmt_score"]


def fmt_score(value: float | None) -> str:
    """A score or loss for the log; ``-`` when there is none (e.g. a dev loss that could not be
    computed because dev has tags the dictionary lacks)."""
    return "-" if value is None else f"{value:.4f}"


def console_handler() -> logging.Handler | None:
    """Print progress lines to stdout, as Flair does, unless the user configured logging."""
    logger = logging.getLogger("tagkit")
    if logger.handlers or logging.getLogger().handlers:
        return None
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def progress_bar(batches, epoch: int, show: bool):
    if not show:
        return batches
    from tqdm import tqdm

    return tqdm(batches, desc=f"epoch {epoch}", unit="batch", leave=False, dynamic_ncols=True)
