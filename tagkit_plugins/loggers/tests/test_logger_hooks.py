"""The core's side of loggers, through a real run: choosing them by name, isolating their
failures, the per-batch hook, and clear errors for unknown names and missing extras."""

from __future__ import annotations

import importlib.util
import logging

import pytest

from tagkit_core import hookimpl
from tagkit_core.registry import ComponentNotFound, get_registry
from tagkit_core.training_logger import BatchHook, TrainingLogger
from tagkit_loggers import MissingExtraError, MLflowLogger, TensorBoardLogger


class Recorder(TrainingLogger):
    """Records every hook call; with ``fail_at`` its on_epoch_end raises."""

    registry_name = "test_recorder"

    def __init__(self, step_level: bool = True, fail_at: int | None = None) -> None:
        self.calls: list[tuple] = []
        self.step_level, self.fail_at = step_level, fail_at

    def hook_objects(self):
        return [self, BatchHook(self.log_batch, "recorder.batches")] if self.step_level \
            else [self]

    @hookimpl
    def on_train_start(self, trainer, base_path):
        self.calls.append(("start",))

    @hookimpl
    def on_epoch_end(self, trainer, epoch, metrics):
        self.calls.append(("epoch", epoch, metrics.train_loss))
        if epoch == self.fail_at:
            raise RuntimeError("disk full")

    def log_batch(self, trainer, epoch, batch_index, step, loss, learning_rate):
        self.calls.append(("batch", epoch, batch_index, step, loss, learning_rate))

    @hookimpl
    def on_train_end(self, trainer, base_path, result):
        self.calls.append(("end", result.get("test_score")))


def test_batch_hook_gets_one_call_per_batch_with_the_batch_loss(train_toy, loss_rows):
    recorder = Recorder()
    _, base_path, trainer = train_toy(loggers=[recorder])
    batches = [call[1:] for call in recorder.calls if call[0] == "batch"]
    # 10 sentences, batches of 4, 4 and 2 (corpus order), two epochs.
    assert [(epoch, index, step) for epoch, index, step, _, _ in batches] == [
        (1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 4), (2, 2, 5), (2, 3, 6)]
    assert all(lr == 0.5 for *_, lr in batches)
    # Every sentence has 3 tokens, so the epoch's loss is the batch losses weighted 4:4:2.
    for epoch, row in zip((1, 2), loss_rows(base_path)):
        losses = [loss for e, _, _, loss, _ in batches if e == epoch]
        weighted = (4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10
        assert weighted == pytest.approx(float(row["TRAIN_LOSS"]), abs=1e-6)
    # Batches come between the epoch ends, in order.
    kinds = [call[0] for call in recorder.calls]
    assert kinds == ["start"] + ["batch"] * 3 + ["epoch"] + ["batch"] * 3 + ["epoch", "end"]


def test_no_per_batch_calls_without_an_implementation(train_toy):
    recorder = Recorder(step_level=False)
    _, _, trainer = train_toy(loggers=[recorder, TensorBoardLogger(step_level=False)])
    assert trainer._on_batch_end is None
    assert [call[0] for call in recorder.calls] == ["start", "epoch", "epoch", "end"]
    # and the loggers were unregistered after the run
    assert not get_registry().pm.is_registered(recorder)


def test_a_failing_logger_does_not_stop_training(train_toy, loss_rows, caplog):
    failing, steady = Recorder(fail_at=1), Recorder()
    with caplog.at_level(logging.WARNING, logger="tagkit.trainer"):
        result, base_path, _ = train_toy(loggers=[failing, steady, "tensorboard"])
    assert len(loss_rows(base_path)) == 2 and result["epochs"] == 2
    assert result["plugin_errors"] == [
        "Recorder failed in on_epoch_end: RuntimeError: disk full"]
    assert any("disk full" in r.getMessage() for r in caplog.records)
    # Disabled after its failure: no more epochs, but still on_train_end; its batch hook is a
    # plugin of its own and goes on.
    assert [c[0] for c in failing.calls if c[0] != "batch"] == ["start", "epoch", "end"]
    assert sum(c[0] == "batch" for c in failing.calls) == 6
    assert [c[0] for c in steady.calls if c[0] != "batch"] == ["start", "epoch", "epoch", "end"]
    assert (base_path / "tensorboard").is_dir()


def test_unknown_logger_name_lists_the_known_ones(train_toy, tmp_path):
    known = [c.name for c in get_registry().components("logger")]
    assert {"tensorboard", "mlflow"} <= set(known)
    with pytest.raises(ComponentNotFound) as error:
        train_toy(loggers=["nonexistent"])
    assert f"no logger named 'nonexistent' is registered (available: {', '.join(known)})" \
        in str(error.value)
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_loggers_option_must_be_a_list(train_toy):
    with pytest.raises(TypeError, match="option loggers must be a list"):
        train_toy(loggers="tensorboard")
    with pytest.raises(TypeError, match="42 is neither a logger name"):
        train_toy(loggers=[42])


@pytest.mark.parametrize("logger, package, extra", [
    (TensorBoardLogger, "tensorboard", "tagkit-loggers[tensorboard]"),
    (MLflowLogger, "mlflow", "tagkit-loggers[mlflow]"),
])
def test_missing_library_names_the_extra(train_toy, monkeypatch, logger, package, extra):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == package else real(name, *a))
    with pytest.raises(MissingExtraError, match=rf"pip install '{extra}'".replace("[", r"\[")):
        logger()
    with pytest.raises(MissingExtraError, match=package):
        train_toy(loggers=[logger.registry_name])


def test_a_known_logger_without_its_plugin_says_what_to_install(train_toy, monkeypatch):
    monkeypatch.setenv("TAGKIT_LOAD_PLUGINS", "")  # no entry-point plugin: tagkit-loggers off
    with pytest.raises(ComponentNotFound, match=r"provided by tagkit-loggers\[tensorboard\]"):
        train_toy(loggers=["tensorboard"])
