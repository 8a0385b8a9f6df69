"""TensorBoardLogger: the event files hold exactly the numbers the trainer wrote to loss.tsv."""

from __future__ import annotations

import shutil
import time

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tagkit_core.registry import get_registry
from tagkit_core.trainer import ModelTrainer
from tagkit_loggers import TensorBoardLogger


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    """``{tag: [(step, value), ...]}`` of the event files in ``folder``."""
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def column(rows, name) -> list[float]:
    return [float(row[name]) for row in rows]


def test_epoch_scalars_equal_loss_tsv(train_toy, loss_rows):
    result, base_path, _ = train_toy(loggers=["tensorboard"])
    rows = loss_rows(base_path)
    logged = scalars(base_path / "tensorboard")
    assert len(rows) == 2
    # loss.tsv rounds to 6 decimals; event files hold float32.
    for tag, name in [("train/loss", "TRAIN_LOSS"), ("dev/loss", "DEV_LOSS"),
                      ("dev/score", "DEV_SCORE"), ("train/learning_rate", "LEARNING_RATE"),
                      ("dev/accuracy", "DEV_ACCURACY")]:
        assert [step for step, _ in logged[tag]] == [1, 2], tag
        assert [value for _, value in logged[tag]] == pytest.approx(column(rows, name),
                                                                    abs=2e-6), tag
    assert logged["test/score"] == [(2, pytest.approx(result["test_score"], abs=1e-6))]
    # Epoch-level by default: no per-step folder.
    assert not (base_path / "tensorboard" / "batches").exists()


def test_step_level_logs_every_batch(train_toy, tmp_path):
    logger = TensorBoardLogger(log_dir=tmp_path / "tb", step_level=True)
    result, base_path, _ = train_toy(loggers=[logger])
    batch = scalars(tmp_path / "tb" / "batches")
    # 10 training sentences in batches of 4: 3 steps per epoch, 2 epochs.
    assert [step for step, _ in batch["batch/loss"]] == [1, 2, 3, 4, 5, 6]
    assert [value for _, value in batch["batch/learning_rate"]] == pytest.approx([0.5] * 6)
    # The epoch curves went to the chosen folder, not base_path/tensorboard.
    assert [step for step, _ in scalars(tmp_path / "tb")["train/loss"]] == [1, 2]
    assert not (base_path / "tensorboard").exists()


def test_resumed_run_replaces_epochs_logged_after_its_checkpoint(train_toy):
    _, base_path, trainer = train_toy(checkpoint=True, loggers=[TensorBoardLogger(
        step_level=True)])
    get_registry().add("model", type(trainer.model))
    shutil.copy(base_path / "checkpoint.pt", base_path / "after-epoch-2.pt")

    def resume(checkpoint):
        # TensorBoard orders event files by name: creation second, host, pid, then a process-wide
        # counter compared as text ("10" < "9"). Runs in one process within one second could
        # sort out of order; real resumes start seconds apart, so wait into the next second.
        time.sleep(1.05)
        resumed = ModelTrainer.load_checkpoint(base_path / checkpoint, trainer.corpus)
        resumed.train(base_path, max_epochs=3, mini_batch_size=4, learning_rate=0.5,
                      length_bucketing=False, shuffle=False, save_final_model=False,
                      save_best_model=False, show_progress=False,
                      loggers=[TensorBoardLogger(step_level=True)])

    resume("checkpoint.pt")  # epoch 3 logged...
    resume("after-epoch-2.pt")  # ...and run again, as after a kill before its checkpoint
    logged = scalars(base_path / "tensorboard")
    assert [step for step, _ in logged["train/loss"]] == [1, 2, 3]
    assert [step for step, _ in scalars(base_path / "tensorboard" / "batches")["batch/loss"]] \
        == list(range(1, 10))
