"""TensorBoardLogger: a training run's curves as TensorBoard event files.

Scalars per epoch (step = epoch number, the same numbers as the run's ``loss.tsv``):
``train/loss``, ``train/learning_rate``, ``train/sentences_per_second``, ``dev/loss``,
``dev/score`` and one ``dev/<metric>`` per further dev figure; at the end ``test/score`` and
``test/<metric>`` at the last epoch. With ``step_level=True`` also ``batch/loss`` and
``batch/learning_rate`` per optimizer step, in a ``batches`` subfolder: TensorBoard shows it as
a run of its own, so per-step and per-epoch curves never share an x axis.

The writer is ``torch.utils.tensorboard.SummaryWriter`` (torch is the core's dependency; it
needs the ``tensorboard`` package, the ``tensorboard`` extra). A resumed run writes into the
same folder with ``purge_step`` set, so epochs that the interrupted run logged after its last
checkpoint are replaced, not drawn twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tagkit_core.hookspecs import hookimpl
from tagkit_core.training_logger import TrainingLogger
from tagkit_loggers.extras import load, require

__all__ = ["TensorBoardLogger"]

EXTRA = "tensorboard"


class TensorBoardLogger(TrainingLogger):
    """Write a run's metrics as TensorBoard event files.

    :param log_dir: the folder for the event files (default: ``base_path/tensorboard``).
    :param step_level: also log the loss and learning rate of every optimizer step.
    :param flush_secs: how often the writer flushes to disk while training.
    """

    registry_name = "tensorboard"

    def __init__(self, log_dir: str | Path | None = None, step_level: bool = False,
                 flush_secs: int = 30) -> None:
        require("tensorboard", EXTRA, self.registry_name)
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.step_level = step_level
        self.flush_secs = flush_secs
        self.run_dir: Path | None = None
        self._writer: Any = None
        self._batch_writer: Any = None
        self._resumed_after = 0

    def __repr__(self) -> str:
        return f"TensorBoardLogger(log_dir={self.log_dir!r}, step_level={self.step_level})"

    # -- hooks ----------------------------------------------------------------------------------
    @hookimpl
    def on_train_start(self, trainer, base_path: Path) -> None:
        self._close()
        self.run_dir = self.log_dir or Path(base_path) / "tensorboard"
        self._resumed_after = trainer.epoch
        self._writer = self._new_writer(self.run_dir, purge_step=trainer.epoch + 1)
        options = json.dumps(trainer.config.to_json(), indent=2, default=str)
        # Markdown code block: TensorBoard's text plugin renders markdown.
        self._writer.add_text("options", "```\n" + options + "\n```", global_step=trainer.epoch)

    @hookimpl
    def on_epoch_end(self, trainer, epoch: int, metrics) -> None:
        if self._writer is None:
            return
        scalars = {"train/loss": metrics.train_loss,
                   "train/learning_rate": metrics.learning_rate,
                   "train/sentences_per_second": metrics.train_sentences_per_second,
                   "dev/loss": metrics.dev_loss, "dev/score": metrics.dev_score}
        scalars.update({f"dev/{name}": value for name, value in metrics.dev_scores.items()
                        if name != "loss"})
        for tag, value in scalars.items():
            if value is not None:
                self._writer.add_scalar(tag, value, global_step=epoch)
        self._writer.flush()

    def log_batch(self, trainer, epoch: int, batch_index: int, step: int, loss: float,
                  learning_rate: float) -> None:
        """The ``on_batch_end`` hook's work (through :class:`BatchHook` when step-level)."""
        if self.run_dir is None:
            return
        if self._batch_writer is None:
            # Made on the first step, whose number tells where a resumed run starts again.
            self._batch_writer = self._new_writer(
                self.run_dir / "batches", purge_step=step if self._resumed_after else None)
        self._batch_writer.add_scalar("batch/loss", loss, global_step=step)
        self._batch_writer.add_scalar("batch/learning_rate", learning_rate, global_step=step)

    @hookimpl
    def on_train_end(self, trainer, base_path: Path, result: dict[str, Any]) -> None:
        if self._writer is not None and result.get("test_score") is not None:
            self._writer.add_scalar("test/score", result["test_score"],
                                    global_step=trainer.epoch)
            for name, value in (result.get("test_scores") or {}).items():
                if name != "loss" and value is not None:
                    self._writer.add_scalar(f"test/{name}", value, global_step=trainer.epoch)
        self._close()

    # -- helpers --------------------------------------------------------------------------------
    def _new_writer(self, folder: Path, purge_step: int | None) -> Any:
        tensorboard = load("torch.utils.tensorboard", "tensorboard", EXTRA, self.registry_name)
        # purge_step only matters for a resumed run; on a fresh one there is nothing to purge.
        return tensorboard.SummaryWriter(log_dir=str(folder), flush_secs=self.flush_secs,
                                         purge_step=purge_step if self._resumed_after else None)

    def _close(self) -> None:
        for writer in (self._writer, self._batch_writer):
            if writer is not None:
                writer.close()
        self._writer = self._batch_writer = None
