"""ModelTrainer: the training loop shared by every model.

One epoch: draw batches (length-bucketed by default, see :mod:`.batching`), compute the summed
loss of each batch (in chunks when ``mini_batch_chunk_size`` is set), clip gradients, step the
optimizer, and let the storage mode decide which embeddings stay stored. After the epoch the
model is scored on dev, the learning rate is annealed on plateau (torch's ReduceLROnPlateau,
stopping once it falls below ``min_learning_rate``), the best model and a checkpoint are
written, and the lifecycle hooks report the epoch (the files in the output folder come from
those hooks, see :mod:`tagkit_core.default_plugins.training_files`).

Nothing is lost on a stop: Ctrl-C saves the model and returns; a non-finite loss stops with a
message naming the epoch and batch and never overwrites the last good files; checkpoints are
written atomically, so a SIGKILL leaves the previous one readable.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import torch

from tagkit_core.allocator import freed_memory_kept
from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.gc_control import existing_objects_frozen
from tagkit_core.lifecycle import LifecycleHooks
from tagkit_core.model import Model
from tagkit_core.registry import get_registry
from tagkit_core.seeding import seed_generators
from tagkit_core.storage import StorageMode, resolve_storage_mode
from tagkit_core.trainer.batching import by_length, chunk, group_chunk_size, make_batches
from tagkit_core.trainer.best_model import final_test, restart_from_best
from tagkit_core.trainer.card import TrainingCard
from tagkit_core.trainer.checkpoint import (
    checkpoint_model,
    optimizer_class,
    read_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from tagkit_core.trainer.config import (
    EpochMetrics,
    TrainingConfig,
    checked_optimizer,
    options_doc,
    train_signature,
)
from tagkit_core.trainer.console import console_handler, fmt_score, progress_bar
from tagkit_core.trainer.per_corpus import evaluate_split
from tagkit_core.trainer.safeguards import (
    LossWatch,
    NonFiniteLossError,
    check_trainable,
    corpus_fingerprint,
    prepare_run_folder,
    stop_on_bad_loss,
    warn_if_other_corpus,
)
from tagkit_core.trainer.schedules import make_schedule
from tagkit_core.training_logger import resolve_loggers

__all__ = ["ModelTrainer", "NonFiniteLossError"]

log = logging.getLogger("tagkit.trainer")


class ModelTrainer:
    """Trains a :class:`~tagkit_core.model.Model` on a :class:`~tagkit_core.corpus.Corpus`.

    :param optimizer: a ``torch.optim.Optimizer`` class (SGD by default, as in Flair);
        it is built in :meth:`train` with the learning rate given there.
    :param plugins: extra hook implementations (objects or modules with ``@hookimpl``
        functions) active only during this trainer's runs, e.g. a custom logger.
    """

    def __init__(self, model: Model, corpus: Corpus,
                 optimizer: type[torch.optim.Optimizer] | None = None,
                 plugins: Sequence[Any] = ()) -> None:
        self.model = model
        self.corpus = corpus
        self.optimizer_class = checked_optimizer(optimizer or torch.optim.SGD)
        self._optimizer_chosen = optimizer is not None
        self.plugins = list(plugins)
        self.config = TrainingConfig()
        self.epoch = 0
        self.history: dict[str, list] = {"train_loss": [], "dev_loss": [], "dev_score": [],
                                         "learning_rate": []}
        self.best_score: float | None = None
        self._resume: dict[str, Any] | None = None

    # -- resuming -------------------------------------------------------------------------------
    @classmethod
    def load_checkpoint(cls, path: str | Path, corpus: Corpus,
                        optimizer: type[torch.optim.Optimizer] | None = None) -> ModelTrainer:
        """A trainer that continues the checkpointed run when :meth:`train` is called
        (``optimizer``: the run's class, needed when it is not a torch.optim one).

        The checkpoint is checked (schema, checksum) and its model built under the same guards
        as a model file; any fault is a ``CheckpointError`` naming the file and the field.
        """
        payload = read_checkpoint(path, optimizer)
        model = checkpoint_model(payload, path)
        trainer = cls(model, corpus,
                      optimizer=optimizer_class(payload["optimizer_class"], optimizer))
        trainer.epoch = payload["epoch"]
        trainer.history = payload["history"]
        trainer.best_score = payload["best_score"]
        trainer._resume = payload
        log.info("loaded checkpoint %s: epoch %d done", path, trainer.epoch)
        return trainer

    # -- training -------------------------------------------------------------------------------
    def train(self, base_path: str | Path, *,
              optimizer: type[torch.optim.Optimizer] | None = None, **options: Any
              ) -> dict[str, Any]:
        """Train and return ``{"test_score", "dev_score_history", "train_loss_history", ...}``.

        The options are the fields of :class:`TrainingConfig` (this signature and the list
        below are generated from it); an unknown one is a ``TypeError`` naming the closest.
        Options not given take the model's ``training_defaults`` first (a text classifier
        over ``DocumentRNNEmbeddings``: one length group per batch), then the listed defaults.
        A fresh run seeds its draws with ``seed``; one from :meth:`load_checkpoint` continues
        the checkpointed run's random state instead.

        :param base_path: the run's folder: final-model.pt, best-model.pt, checkpoint.pt,
            training.log, loss.tsv and weights.txt go there.
        :param optimizer: a ``torch.optim.Optimizer`` class for this and later runs (where
            Flair 0.15 takes it); the one given to the trainer, or SGD, when None.
{options}
        """
        if optimizer is not None:
            self._choose_optimizer(checked_optimizer(optimizer))
        self.config = config = TrainingConfig.from_options(
            {**self.model.training_defaults, **options})
        plugins = [*self.plugins, *resolve_loggers(get_registry(), config.loggers)]
        base_path = Path(base_path)
        base_path.mkdir(parents=True, exist_ok=True)
        console = console_handler()
        deterministic = torch.are_deterministic_algorithms_enabled()
        if config.deterministic:
            # cuBLAS needs a fixed workspace to be deterministic; it must be set before CUDA
            # starts (a no-op for CPU-only runs).
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
        try:
            # Each plugin's hooks run isolated: a failing logger is reported and disabled for
            # the run, and every plugin still gets on_train_end (tagkit_core.lifecycle).
            # freed_memory_kept: a step's buffers reused, not faulted in anew (allocator.py).
            with existing_objects_frozen(), freed_memory_kept(), \
                    LifecycleHooks(get_registry(), extra_plugins=plugins) as hooks:
                return self._train(base_path, config, hooks)
        finally:
            torch.use_deterministic_algorithms(deterministic)
            if console is not None:
                logging.getLogger("tagkit").removeHandler(console)

    def _choose_optimizer(self, optimizer: type) -> None:
        if self._resume is not None and optimizer is not self.optimizer_class:
            raise ValueError(f"the checkpoint's run trained with {self.optimizer_class.__name__}"
                             f", whose state it holds; resume it without optimizer=")
        self.optimizer_class, self._optimizer_chosen = optimizer, True

    def fine_tune(self, base_path: str | Path, **options: Any) -> dict[str, Any]:
        """Fine-tune a transformer-based model with Flair's ``fine_tune`` defaults: AdamW
        (unless the trainer was given an optimizer), learning rate 5e-5, warm-up over the
        first 10% of the steps then linear decay, batches of 4, 10 epochs, nothing stored.
        Every option of :meth:`train` may be given and overrides these."""
        if not self._optimizer_chosen:
            self.optimizer_class = torch.optim.AdamW
        defaults = {"learning_rate": 5e-5, "max_epochs": 10, "mini_batch_size": 4,
                    "scheduler": "linear", "warmup_fraction": 0.1,
                    "embeddings_storage_mode": "none"}
        return self.train(base_path, **{**defaults, **options})

    def _setup(self, config: TrainingConfig, steps_per_epoch: int):
        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        device = torch.device(config.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(device)
        extra = {} if config.weight_decay is None else {"weight_decay": config.weight_decay}
        optimizer = self.optimizer_class(self.model.parameters(), lr=config.learning_rate, **extra)
        has_dev = bool(self.corpus.dev) and not config.train_with_dev
        scheduler = make_schedule(config.scheduler, optimizer, anneal_factor=config.anneal_factor,
                                  patience=config.patience,
                                  warmup_fraction=config.warmup_fraction,
                                  steps_per_epoch=steps_per_epoch, max_epochs=config.max_epochs)
        if self._resume is not None:
            optimizer.load_state_dict(self._resume["optimizer_state"])
            scheduler.load_state_dict(self._resume["scheduler_state"])
            restore_rng_state(self._resume["rng_state"])
            warn_if_other_corpus((self._resume.get("extra") or {}).get("corpus"), self.corpus)
            self._resume = None
        else:
            seed_generators(config.seed)
        return device, optimizer, scheduler, has_dev

    def _train(self, base_path: Path, config: TrainingConfig, hooks: LifecycleHooks
               ) -> dict[str, Any]:
        train_data = list(self.corpus.train)
        if config.train_with_dev:
            train_data += self.corpus.dev
        if config.train_with_test:
            train_data += self.corpus.test
        check_trainable(self.corpus.name, train_data)
        prepare_run_folder(base_path, resuming=self.epoch > 0)
        lengths = [len(s) for s in train_data]
        steps = len(self._batches(train_data, lengths, epoch=1))
        device, optimizer, scheduler, has_dev = self._setup(config, steps)
        self._card = TrainingCard.start(self, config)  # model.model_card, saved with the model
        if config.use_amp and device.type != "cuda":
            log.info("use_amp is for CUDA; training on %s in float32", device)
        storage = resolve_storage_mode(config.embeddings_storage_mode, device)
        if not has_dev:
            log.warning("no dev split%s: training without dev scores; the learning rate anneals "
                        "on the train loss and no best-model.pt is written",
                        " (train_with_dev)" if config.train_with_dev else "")
        self._loss_watch = LossWatch(self.history["train_loss"][0]
                                     if self.history["train_loss"] else None)
        hooks.call("on_train_start", trainer=self, base_path=base_path)
        self._on_batch_end = hooks.batch_hook()  # None unless a plugin wants per-batch calls
        result = self._result(None, base_path)
        try:
            stopped = self._epochs(config, train_data, lengths, optimizer, scheduler, storage,
                                   has_dev, base_path, hooks)
            if stopped is None and config.save_final_model:
                self.model.save(base_path / "final-model.pt")
            test_score = None if stopped else self._final_test(base_path, config)
            self._card.finish(base_path, test_score)
            result = self._result(test_score, base_path)
        finally:
            # Also after an error: the hooks close what on_train_start opened (log handlers).
            hooks.call("on_train_end", trainer=self, base_path=base_path, result=result)
        if hooks.failures:
            result["plugin_errors"] = [f"{f.plugin} failed in {f.hook}: {f.error}"
                                       for f in hooks.failures]
        return result

    def _epochs(self, config: TrainingConfig, train_data: list[Sentence], lengths: list[int],
                optimizer, scheduler, storage: StorageMode, has_dev: bool, base_path: Path,
                hooks: LifecycleHooks) -> str | None:
        """Run the epochs; returns why training stopped early (Ctrl-C), or None."""
        try:
            for epoch in range(self.epoch + 1, config.max_epochs + 1):
                lr = optimizer.param_groups[0]["lr"]
                if scheduler.stops(lr, config.min_learning_rate):
                    log.info("learning rate %.6f fell below %.6f: training stops", lr,
                             config.min_learning_rate)
                    break
                hooks.call("on_epoch_start", trainer=self, epoch=epoch, learning_rate=lr)
                metrics = self._run_epoch(epoch, train_data, lengths, optimizer, scheduler,
                                          storage, base_path)
                self._after_epoch(epoch, metrics, has_dev, optimizer, scheduler, storage,
                                  base_path)
                self.epoch = epoch
                hooks.call("on_epoch_end", trainer=self, epoch=epoch, metrics=metrics)
                if config.checkpoint:
                    save_checkpoint(base_path / "checkpoint.pt", model=self.model,
                                    optimizer=optimizer, scheduler=scheduler, epoch=epoch,
                                    config=config.to_json(), history=self.history,
                                    best_score=self.best_score,
                                    extra={"corpus": corpus_fingerprint(self.corpus)})
        except KeyboardInterrupt:
            stopped = f"interrupted by the user in epoch {self.epoch + 1}"
            log.warning("%s: saving the model to %s", stopped, base_path / "final-model.pt")
            self.model.save(base_path / "final-model.pt")
            hooks.call("on_train_interrupted", trainer=self, epoch=self.epoch + 1,
                       reason=stopped)
            return stopped
        except NonFiniteLossError as error:
            hooks.call("on_train_interrupted", trainer=self, epoch=self.epoch + 1,
                       reason=str(error))
            raise
        return None

    def _batches(self, train_data: list[Sentence], lengths: list[int], epoch: int
                 ) -> list[list[Sentence]]:
        config = self.config
        return make_batches(train_data, lengths, config.mini_batch_size, shuffle=config.shuffle,
                            bucketing=config.length_bucketing, seed=config.seed, epoch=epoch,
                            groups=config.length_groups_per_batch)

    def _run_epoch(self, epoch: int, train_data: list[Sentence], lengths: list[int], optimizer,
                   schedule, storage, base_path: Path) -> EpochMetrics:
        config = self.config
        self.model.train()
        batches = self._batches(train_data, lengths, epoch)
        amp = config.use_amp and self.model.device.type == "cuda"
        autocast = functools.partial(torch.autocast, "cuda", dtype=torch.bfloat16)
        size = config.mini_batch_chunk_size
        if size is None and config.length_bucketing:
            size = group_chunk_size(config.mini_batch_size, config.length_groups_per_batch)
        show = config.show_progress if config.show_progress is not None else sys.stderr.isatty()
        progress = progress_bar(batches, epoch, show)
        # The optimizer's parameters (the model's, frozen ones included: clipping skips those
        # without a gradient, and one unfrozen by a hook mid-epoch is clipped at once), listed
        # once per epoch rather than walked per batch: on TREC-6's tutorial recipe the walk
        # took as long as the clipping itself.
        clipped = [p for group in optimizer.param_groups for p in group["params"]]
        total_loss, total_count, seen, started = 0.0, 0, 0, time.perf_counter()
        for batch_no, batch in enumerate(progress, start=1):
            optimizer.zero_grad(set_to_none=True)
            batch_loss, batch_count = 0.0, 0
            # Sorted only when chunked: the order inside a batch decides which sentence draws
            # which dropout mask, so unchunked runs keep their batches' own order.
            for part in chunk(by_length(batch), size) if size else [batch]:
                with autocast() if amp else contextlib.nullcontext():
                    loss, count = self.model.forward_loss(part, storage=storage)
                value = loss.item()
                if not math.isfinite(value):
                    stop_on_bad_loss(self.model, epoch, batch_no, value, base_path)
                loss.backward()
                total_loss += value
                total_count += count
                batch_loss, batch_count = batch_loss + value, batch_count + count
                self._loss_watch.see(value / max(count, 1), epoch, batch_no)
            if config.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(clipped, config.max_grad_norm)
            step_lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            schedule.after_batch()
            storage.after_batch(batch)
            if self._on_batch_end is not None:
                self._on_batch_end(trainer=self, epoch=epoch, batch_index=batch_no,
                                   step=(epoch - 1) * len(batches) + batch_no,
                                   loss=batch_loss / max(batch_count, 1),
                                   learning_rate=step_lr)
            seen += len(batch)
            if show and batch_no % 10 == 0:
                elapsed = time.perf_counter() - started
                progress.set_postfix(loss=f"{total_loss / max(total_count, 1):.4f}",
                                     sents_per_s=f"{seen / elapsed:.0f}")
        seconds = time.perf_counter() - started
        return EpochMetrics(epoch=epoch, learning_rate=optimizer.param_groups[0]["lr"],
                            train_loss=total_loss / max(total_count, 1), seconds=seconds,
                            train_sentences_per_second=seen / seconds if seconds else 0.0)

    def _after_epoch(self, epoch: int, metrics: EpochMetrics, has_dev: bool, optimizer, scheduler,
                     storage: StorageMode, base_path: Path) -> None:
        config = self.config
        lr_before = optimizer.param_groups[0]["lr"]
        if has_dev:
            result = evaluate_split(self.model, self.corpus, "dev",
                                    mini_batch_size=config.eval_mini_batch_size,
                                    embedding_storage_mode=storage)
            metrics.dev_score, metrics.dev_loss = result.main_score, result.scores.get("loss")
            metrics.dev_scores = dict(result.scores)
            metrics.improved = self.best_score is None or result.main_score > self.best_score
            metrics.bad_epochs = scheduler.after_epoch(result.main_score)
        else:
            metrics.improved = True
            metrics.bad_epochs = scheduler.after_epoch(-metrics.train_loss)
        self._card.record_epoch(epoch, metrics)
        if metrics.improved and has_dev:
            self.best_score = metrics.dev_score
            if config.save_best_model:
                self.model.save(base_path / "best-model.pt")
        if config.anneal_with_restarts and optimizer.param_groups[0]["lr"] < lr_before:
            restart_from_best(self.model, base_path)
        self.history["train_loss"].append(metrics.train_loss)
        self.history["dev_loss"].append(metrics.dev_loss)
        self.history["dev_score"].append(metrics.dev_score)
        self.history["learning_rate"].append(metrics.learning_rate)
        dev = (f" - dev loss {fmt_score(metrics.dev_loss)} - dev score "
               f"{fmt_score(metrics.dev_score)}" if has_dev else "")
        log.info("epoch %d - lr %.4g - train loss %.4f - %.1fs (%.0f sents/s)%s%s", epoch,
                 metrics.learning_rate, metrics.train_loss, metrics.seconds,
                 metrics.train_sentences_per_second, dev, " - new best" if
                 metrics.improved and has_dev else "")

    def _final_test(self, base_path: Path, config: TrainingConfig) -> float | None:
        self.test_result = final_test(self.model, self.corpus, base_path, config)
        return None if self.test_result is None else self.test_result.main_score

    def _result(self, test_score: float | None, base_path: Path) -> dict[str, Any]:
        test = getattr(self, "test_result", None) if test_score is not None else None
        return {"test_score": test_score, "test_scores": dict(test.scores) if test else {},
                "dev_score_history": list(self.history["dev_score"]),
                "train_loss_history": list(self.history["train_loss"]),
                "dev_loss_history": list(self.history["dev_loss"]), "base_path": str(base_path),
                "epochs": self.epoch}


ModelTrainer.train.__signature__ = train_signature(ModelTrainer.train)  # type: ignore[attr-defined]
ModelTrainer.train.__doc__ = ModelTrainer.train.__doc__.replace("{options}", options_doc())
