"""LanguageModelTrainer: train a character LM with truncated backpropagation through time.

As Flair's ``LanguageModelTrainer``: plain SGD with a high learning rate (20) and gradient
clipping (0.25); each epoch goes through the train splits (files of ``train/``) in an order
drawn per epoch; each split is one id tensor cut into ``mini_batch_size`` parallel streams
(``(steps, batch)``) and read ``sequence_length`` characters at a time, the LSTM state carried
from one window to the next (detached). After each split the validation loss decides: a better
one writes ``best-lm.pt``; ``patience`` splits without one multiply the learning rate by
``anneal_factor``. The test perplexity is that of the best model.

Exact resume. A checkpoint is written atomically after every split (model, learning rate,
annealing state, position, every generator's state). The split order of an epoch comes from a
generator seeded with ``(seed, epoch)`` and the LSTM state starts at zero in every split, so a
run resumed from a checkpoint continues exactly as the uninterrupted one would have.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tagkit_core.allocator import freed_memory_kept
from tagkit_core.files import remove_stale_temp_files
from tagkit_core.product_rates import warn_if_bfloat16_is_slow
from tagkit_core.seeding import seed_generators
from tagkit_core.trainer.checkpoint import restore_rng_state
from tagkit_flair_embeddings.corpus import TextCorpus
from tagkit_flair_embeddings.language_model import LanguageModel, check_precision
from tagkit_flair_embeddings.lm_checkpoint import read_lm_checkpoint, save_lm_checkpoint
from tagkit_flair_embeddings.lm_file import load_language_model, save_language_model
from tagkit_flair_embeddings.lm_threads import GroupedWindows, check_batch_threads

__all__ = ["LanguageModelTrainer"]

log = logging.getLogger("tagkit.flair_embeddings.training")

DEFAULTS: dict[str, Any] = {"sequence_length": 250, "mini_batch_size": 100,
                            "learning_rate": 20.0, "max_epochs": 1000, "patience": 10,
                            "anneal_factor": 0.25, "clip": 0.25, "checkpoint": True, "seed": 1,
                            "min_learning_rate": 1e-3, "log_every": 100,
                            "precision": "float32", "batch_threads": 1}


def perplexity(loss: float) -> float:
    """``exp(loss)``, infinite rather than an OverflowError for a diverged run."""
    return math.exp(loss) if loss < 700 else math.inf


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """``ids`` cut into ``batch_size`` equal streams, as ``(steps, batch_size)`` (the tail that
    does not fill a row is dropped, as in Flair)."""
    steps = ids.shape[0] // batch_size
    return ids[: steps * batch_size].view(batch_size, steps).t().contiguous()


class LanguageModelTrainer:
    """Trains ``model`` on ``corpus`` (a :class:`TextCorpus` in the model's direction)."""

    def __init__(self, model: LanguageModel, corpus: TextCorpus) -> None:
        if corpus.forward != model.is_forward_lm:
            raise ValueError(f"the corpus reads {'forward' if corpus.forward else 'backward'} "
                             "but the language model is "
                             f"{'forward' if model.is_forward_lm else 'backward'}")
        if corpus.dictionary != model.dictionary:
            raise ValueError("the corpus and the language model have different dictionaries")
        self.model, self.corpus = model, corpus
        self._resume: dict[str, Any] | None = None

    @classmethod
    def load_checkpoint(cls, path: str | Path, corpus: TextCorpus) -> LanguageModelTrainer:
        """A trainer that continues the checkpointed run when :meth:`train` is called."""
        model, state = read_lm_checkpoint(path)
        trainer = cls(model, corpus)
        trainer._resume = state
        log.info("loaded %s: epoch %d, next split %d", path, state["epoch"] + 1, state["split"])
        return trainer

    def train(self, base_path: str | Path, sequence_length: int | None = None,
              mini_batch_size: int | None = None, learning_rate: float | None = None,
              max_epochs: int | None = None, patience: int | None = None,
              anneal_factor: float | None = None, clip: float | None = None,
              checkpoint: bool | None = None, seed: int | None = None,
              min_learning_rate: float | None = None, log_every: int | None = None,
              precision: str | None = None, batch_threads: int | None = None
              ) -> dict[str, Any]:
        """Train; write ``best-lm.pt`` (and ``checkpoint.pt``) to ``base_path``.

        An option left as None takes its default (:data:`DEFAULTS`: Flair's values), or, in a
        run from :meth:`load_checkpoint`, the checkpointed run's value. Training stops after
        ``max_epochs`` or when the learning rate falls below ``min_learning_rate``.

        Returns ``best_valid_perplexity``, ``test_perplexity`` (of the best model),
        ``history`` (per split: epoch, split, train/valid loss and perplexity, learning rate,
        characters per second) and ``epochs``.

        ``precision="bfloat16"`` runs the training passes under ``torch.autocast`` (the LSTM
        and the decoder in bfloat16, and so do the validation passes; the weights, the loss,
        the optimizer and the final test pass stay float32): about 1.3x the characters per
        second on a CPU with native bfloat16 (AVX512-BF16, AMX) or a GPU, slower on a CPU
        without it.

        ``batch_threads=k`` (CPU only) runs each window as ``k`` groups of streams, each in its
        own thread on one core (:mod:`tagkit_flair_embeddings.lm_threads`); on two cores it
        ran level with one call on both once freed memory was kept for reuse
        (:mod:`tagkit_core.allocator`), and 2 to 15% faster before. The gradient is the same
        batch's; the dropout masks come from per-group generators, so a run is repeatable for a
        given ``k`` but draws other masks than with ``k=1``.
        """
        given = {k: v for k, v in locals().items()
                 if k in DEFAULTS and v is not None}
        resume = self._resume
        options = {**DEFAULTS, **(resume["options"] if resume else {}), **given}
        check_precision(options["precision"])
        model, device = self.model, self.model.encoder.weight.device
        check_batch_threads(model, options["batch_threads"], int(options["mini_batch_size"]),
                            device)
        base_path = Path(base_path)
        base_path.mkdir(parents=True, exist_ok=True)
        # Each window's buffers reused, not faulted in anew (tagkit_core.allocator).
        with freed_memory_kept():
            return self._train(base_path, resume, options)

    def _train(self, base_path: Path, resume: dict[str, Any] | None, options: dict[str, Any]
               ) -> dict[str, Any]:
        model, device = self.model, self.model.encoder.weight.device
        remove_stale_temp_files(base_path, ["best-lm.pt", "checkpoint.pt"])
        if resume is None:
            seed_generators(int(options["seed"]))
            state = {"epoch": 0, "split": 0, "learning_rate": float(options["learning_rate"]),
                     "best_loss": math.inf, "bad_splits": 0, "history": []}
        else:
            restore_rng_state(resume["rng"])
            state = {k: resume[k] for k in ("epoch", "split", "learning_rate", "best_loss",
                                            "bad_splits", "history")}
            self._resume = None
        optimizer = torch.optim.SGD(model.parameters(), lr=state["learning_rate"])
        valid = self.corpus.valid.to(device)
        splits = len(self.corpus.train_files)
        while state["epoch"] < options["max_epochs"]:
            order = torch.randperm(splits, generator=torch.Generator().manual_seed(
                int(options["seed"]) * 1_000_003 + state["epoch"])).tolist()
            while state["split"] < splits:
                file = self.corpus.train_files[order[state["split"]]]
                train_loss, speed = self._train_split(file, optimizer, state, options, device)
                valid_loss = self.evaluate(valid, options["mini_batch_size"],
                                           options["sequence_length"], options["precision"],
                                           options["batch_threads"])
                self._anneal(valid_loss, state, options, optimizer, base_path)
                state["history"].append({
                    "epoch": state["epoch"] + 1, "split": state["split"] + 1,
                    "train_loss": train_loss, "valid_loss": valid_loss,
                    "valid_perplexity": perplexity(valid_loss),
                    "learning_rate": state["learning_rate"], "chars_per_second": speed})
                log.info("epoch %d split %d/%d: valid loss %.4f, perplexity %.3f, lr %g",
                         state["epoch"] + 1, state["split"] + 1, splits, valid_loss,
                         perplexity(valid_loss), state["learning_rate"])
                state["split"] += 1
                if state["split"] == splits:
                    state["epoch"], state["split"] = state["epoch"] + 1, 0
                    if options["checkpoint"]:
                        save_lm_checkpoint(base_path / "checkpoint.pt", model,
                                           {**state, "options": options})
                    break
                if options["checkpoint"]:
                    save_lm_checkpoint(base_path / "checkpoint.pt", model,
                                       {**state, "options": options})
            if state["learning_rate"] < options["min_learning_rate"]:
                log.info("learning rate %g below %g: stopping", state["learning_rate"],
                         options["min_learning_rate"])
                break
        return self._finish(base_path, state, options, device)

    def _train_split(self, file: Path, optimizer: torch.optim.Optimizer, state: dict,
                     options: dict, device: torch.device) -> tuple[float, float]:
        model, batch_size = self.model, int(options["mini_batch_size"])
        length = int(options["sequence_length"])
        ids = self.corpus.ids_of(file)
        data = batchify(ids, batch_size).to(device)
        if data.shape[0] < 2:
            raise ValueError(f"{file} has {ids.shape[0]} characters, too few for "
                             f"{batch_size} streams (mini_batch_size) of at least 2")
        model.train()
        low_precision = options["precision"] == "bfloat16"
        if low_precision:
            warn_if_bfloat16_is_slow(device, "LanguageModelTrainer.train(precision='bfloat16')")
        windows = range(0, data.shape[0] - 1, length)
        total, count, started = 0.0, 0, time.perf_counter()
        # One group (the default) runs in this thread; more run side by side (lm_threads).
        grouped = GroupedWindows(model, batch_size, int(options["batch_threads"]),
                                 low_precision)
        for number, start in enumerate(windows, 1):
            inputs = data[start: start + length]
            targets = data[start + 1: start + 1 + length]
            inputs = inputs[: targets.shape[0]]
            optimizer.zero_grad(set_to_none=True)
            window_sum = grouped.step(inputs, targets)
            nn.utils.clip_grad_norm_(model.parameters(), float(options["clip"]))
            optimizer.step()
            total += window_sum
            count += targets.numel()
            if number % int(options["log_every"]) == 0 or number == len(windows):
                speed = count / max(time.perf_counter() - started, 1e-9)
                log.info("epoch %d split %d: batch %d/%d, loss %.4f, perplexity %.3f, "
                         "%.0f chars/s", state["epoch"] + 1, state["split"] + 1, number,
                         len(windows), total / count, perplexity(total / count), speed)
        return total / count, count / max(time.perf_counter() - started, 1e-9)

    def _anneal(self, valid_loss: float, state: dict, options: dict,
                optimizer: torch.optim.Optimizer, base_path: Path) -> None:
        """Keep the best model; after ``patience`` splits without a better validation loss,
        multiply the learning rate by ``anneal_factor`` (Flair's ReduceLROnPlateau)."""
        if valid_loss < state["best_loss"] * (1 - 1e-4):
            state["best_loss"], state["bad_splits"] = valid_loss, 0
            save_language_model(self.model, base_path / "best-lm.pt")
            return
        state["bad_splits"] += 1
        if state["bad_splits"] > options["patience"]:
            state["learning_rate"] *= float(options["anneal_factor"])
            state["bad_splits"] = 0
            for group in optimizer.param_groups:
                group["lr"] = state["learning_rate"]
            log.info("annealing the learning rate to %g", state["learning_rate"])

    @torch.no_grad()
    def evaluate(self, ids: torch.Tensor, mini_batch_size: int, sequence_length: int,
                 precision: str = "float32", batch_threads: int = 1) -> float:
        """Mean cross-entropy per character (nats) of the model on ``ids``; perplexity is its
        exponential. Streams: ``mini_batch_size``, fewer for a short text; ``precision`` and
        ``batch_threads`` as in :meth:`train` (the groups' sums are added in a fixed order)."""
        model = self.model
        was_training = model.training
        model.eval()
        batch_size = max(1, min(int(mini_batch_size), (ids.shape[0] - 1) // 2))
        data = batchify(ids, batch_size)
        grouped = GroupedWindows(model, batch_size, min(int(batch_threads), batch_size),
                                 check_precision(precision) == "bfloat16")
        total, count = 0.0, 0
        for start in range(0, data.shape[0] - 1, int(sequence_length)):
            inputs = data[start: start + sequence_length]
            targets = data[start + 1: start + 1 + sequence_length]
            total += grouped.loss_sum(inputs[: targets.shape[0]], targets)
            count += targets.numel()
        model.train(was_training)
        return total / max(count, 1)

    def _finish(self, base_path: Path, state: dict, options: dict,
                device: torch.device) -> dict[str, Any]:
        best = base_path / "best-lm.pt"
        scorer = self
        if best.exists():
            scorer = LanguageModelTrainer(load_language_model(best, device=device), self.corpus)
        # The test pass (the reported perplexity) always in float32.
        test_loss = scorer.evaluate(self.corpus.test.to(device), options["mini_batch_size"],
                                    options["sequence_length"], "float32",
                                    options["batch_threads"])
        log.info("test perplexity %.3f (best model)", perplexity(test_loss))
        return {"best_valid_perplexity": perplexity(state["best_loss"]),
                "test_perplexity": perplexity(test_loss), "history": state["history"],
                "epochs": state["epoch"]}
