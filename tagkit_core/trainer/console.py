"""What a training run shows on the console: the log lines' handler, the progress bar, and
how a missing score is written.

Progress goes to stderr: a tqdm bar when stderr is a terminal; when it is not (a log file, CI,
``tagkit train ... 2> log``) a bar's carriage returns would make a mess, so ``show_progress=True``
prints a plain line about every tenth of an epoch instead.
"""

from __future__ import annotations

import logging
import math
import sys
import time

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


class LineProgress:
    """Progress as plain lines on stderr, one every ``every`` batches and one at the end; it
    takes ``set_postfix`` like a tqdm bar, so the trainer treats both alike."""

    def __init__(self, batches, epoch: int, every: int | None = None, stream=None) -> None:
        self.batches, self.epoch = batches, epoch
        self.total = len(batches)
        self.every = every or max(1, math.ceil(self.total / 10))
        self.stream = stream or sys.stderr
        self.postfix: dict[str, str] = {}

    def set_postfix(self, **values) -> None:
        self.postfix = {key: str(value) for key, value in values.items()}

    def __iter__(self):
        started = time.perf_counter()
        for number, batch in enumerate(self.batches, start=1):
            yield batch
            if number % self.every == 0 or number == self.total:
                extra = "".join(f" - {key} {value}" for key, value in self.postfix.items())
                print(f"epoch {self.epoch}: batch {number}/{self.total} - "
                      f"{time.perf_counter() - started:.1f}s{extra}", file=self.stream,
                      flush=True)


def progress_bar(batches, epoch: int, show: bool):
    if not show:
        return batches
    if not sys.stderr.isatty():
        return LineProgress(batches, epoch)
    from tqdm import tqdm

    return tqdm(batches, desc=f"epoch {epoch}", unit="batch", leave=False, dynamic_ncols=True)
