"""Checks around a training run that turn silent mistakes into errors or warnings.

Each one answers a failure seen in practice: a corpus with no tokens "trained" to a loss of 0;
a learning rate of 1e6 trained to losses of 5e6 and overwrote a good ``best-model.pt`` of an
earlier run in the same folder without a word; a SIGKILL during a checkpoint write left its
temporary file forever; a checkpoint resumed on another corpus gave no warning.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any, Sequence

import torch

from tagkit_core.data import Sentence
from tagkit_core.files import remove_stale_temp_files

__all__ = ["check_trainable", "prepare_run_folder", "corpus_fingerprint",
           "warn_if_other_corpus", "LossWatch", "RUN_FILES", "NonFiniteLossError",
           "stop_on_bad_loss"]

log = logging.getLogger("tagkit.trainer")

#: The files a run writes atomically (through a temporary file renamed into place).
RUN_FILES = ("checkpoint.pt", "final-model.pt", "best-model.pt")
#: A batch loss this many times the run's first one means training diverges.
LOSS_GROWTH_LIMIT = 1e4


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training stopped and kept the last good model."""


def stop_on_bad_loss(model: Any, epoch: int, batch_no: int, value: float,
                     base_path: Path) -> None:
    """Raise NonFiniteLossError for a NaN or infinite loss, after saving the model as
    final-model.pt if its weights are still finite (the batch's update has not run)."""
    params_ok = all(torch.isfinite(p).all() for p in model.parameters())
    kept = []
    if params_ok:
        model.save(base_path / "final-model.pt")
        kept.append("final-model.pt (the weights before this batch)")
    kept += [n for n in ("best-model.pt", "checkpoint.pt") if (base_path / n).exists()]
    raise NonFiniteLossError(
        f"the training loss became {value} in epoch {epoch}, batch {batch_no}; training "
        f"stopped. Last good files in {base_path}: {', '.join(kept) or 'none'}. "
        "Try a lower learning rate or gradient clipping (max_grad_norm).")


def check_trainable(corpus_name: str, sentences: Sequence[Sentence]) -> None:
    """Refuse a training set with no sentence or no token: it would 'train' to a loss of 0."""
    if not sentences:
        raise ValueError(f"corpus {corpus_name!r} has no training sentences")
    if not any(len(sentence) for sentence in sentences):
        raise ValueError(f"corpus {corpus_name!r} has {len(sentences)} training sentences but "
                         "none of them has a token: there is nothing to train on")


def prepare_run_folder(base_path: Path, resuming: bool) -> None:
    """Remove temporary files a killed run left, and warn before overwriting an earlier run's
    models (a fresh run writes best-model.pt after its first epoch, good or not)."""
    removed = remove_stale_temp_files(base_path, RUN_FILES)
    if removed:
        log.info("removed %d temporary file(s) a stopped run left in %s: %s", len(removed),
                 base_path, ", ".join(p.name for p in removed))
    if resuming:
        return
    earlier = [name for name in ("final-model.pt", "best-model.pt")
               if (base_path / name).exists()]
    if earlier:
        log.warning("%s already holds %s from an earlier run; this run overwrites %s. Use "
                    "another folder to keep them.", base_path, " and ".join(earlier),
                    "it" if len(earlier) == 1 else "them")


def corpus_fingerprint(corpus: Any) -> dict[str, Any]:
    """Name, split sizes and a hash of the training tokens: enough to tell corpora apart."""
    digest = hashlib.sha256()
    for sentence in corpus.train:
        digest.update("\x1f".join(token.text for token in sentence).encode("utf-8", "replace"))
        digest.update(b"\x1e")
    return {"name": corpus.name, "sizes": [len(corpus.train), len(corpus.dev), len(corpus.test)],
            "train_sha256": digest.hexdigest()}


def warn_if_other_corpus(saved: dict[str, Any] | None, corpus: Any) -> None:
    """Warn when a checkpoint is resumed on a corpus other than the one it was trained on."""
    if not saved:
        return
    now = corpus_fingerprint(corpus)
    if now == saved:
        return
    log.warning("this checkpoint was trained on corpus %r (%s train/dev/test sentences) and is "
                "resumed on %r (%s)%s: the run will not continue exactly", saved.get("name"),
                "/".join(map(str, saved.get("sizes", []))), now["name"],
                "/".join(map(str, now["sizes"])),
                "" if now["sizes"] != saved.get("sizes") else " with other training text")


class LossWatch:
    """Warns once when a batch's mean loss grows past :data:`LOSS_GROWTH_LIMIT` times the
    run's first one (a learning rate far too high, say), while the loss is still finite."""

    def __init__(self, first: float | None = None) -> None:
        self.first = first
        self.warned = False

    def see(self, mean_loss: float, epoch: int, batch_no: int) -> None:
        if not math.isfinite(mean_loss):
            return
        if self.first is None:
            self.first = abs(mean_loss)
            return
        if not self.warned and self.first > 0 and abs(mean_loss) > LOSS_GROWTH_LIMIT * self.first:
            self.warned = True
            log.warning("the training loss grew from %.4g to %.4g (epoch %d, batch %d): "
                        "training is diverging; try a lower learning_rate", self.first,
                        mean_loss, epoch, batch_no)
