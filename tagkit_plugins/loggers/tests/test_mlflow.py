"""MLflowLogger: the run in the store holds the options, loss.tsv's numbers, the test score."""

from __future__ import annotations

import os

import pytest
from mlflow import MlflowClient

from tagkit_core import hookimpl
from tagkit_loggers import MLflowLogger


@pytest.fixture
def read_store(monkeypatch):
    """``read_store(uri) -> MlflowClient`` for a file store (which MLflow 3 refuses without
    the opt-out variable)."""

    def read(uri: str) -> MlflowClient:
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        return MlflowClient(tracking_uri=uri)

    return read


def history(client, run_id, key) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def test_run_holds_options_epoch_metrics_and_test_score(train_toy, loss_rows, read_store,
                                                        monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    result, base_path, _ = train_toy(loggers=["mlflow"])
    # The logger allowed the file store only around its own calls.
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ
    client = read_store((base_path / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("tagkit")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "run"
    params = run.data.params
    assert params["learning_rate"] == "0.5" and params["mini_batch_size"] == "4"
    assert params["max_epochs"] == "2" and params["corpus"] == "toy"
    assert params["model"] == "ToyTagger" and params["loggers"] == "['mlflow']"

    rows = loss_rows(base_path)
    for key, name in [("train_loss", "TRAIN_LOSS"), ("dev_loss", "DEV_LOSS"),
                      ("dev_score", "DEV_SCORE"), ("learning_rate", "LEARNING_RATE"),
                      ("dev_accuracy", "DEV_ACCURACY")]:
        logged = history(client, run.info.run_id, key)
        assert [step for step, _ in logged] == [1, 2], key
        assert [value for _, value in logged] == pytest.approx(
            [float(row[name]) for row in rows], abs=1e-6), key
    assert history(client, run.info.run_id, "test_score") == [(2, result["test_score"])]
    assert not history(client, run.info.run_id, "batch_loss")


def test_step_level_and_chosen_store(train_toy, tmp_path, read_store):
    store = tmp_path / "elsewhere"
    logger = MLflowLogger(tracking_uri=str(store), experiment="toys", run_name="first",
                          step_level=True)
    train_toy(loggers=[logger])
    client = read_store(store.resolve().as_uri())
    (run,) = client.search_runs([client.get_experiment_by_name("toys").experiment_id])
    assert run.info.run_name == "first" and run.info.run_id == logger.run_id
    steps = history(client, run.info.run_id, "batch_loss")
    assert [step for step, _ in steps] == [1, 2, 3, 4, 5, 6]
    assert [value for _, value in history(client, run.info.run_id, "batch_learning_rate")] \
        == pytest.approx([0.5] * 6)


class BreakModelAtEpoch2:
    """A trainer plugin making the model's forward pass raise from epoch 2 on."""

    @staticmethod
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    @hookimpl
    def on_epoch_start(self, trainer, epoch):
        if epoch == 2:
            trainer.model.forward_loss = self.broken


def test_a_crashed_run_is_marked_failed_with_the_epochs_it_finished(train_toy, tmp_path,
                                                                    read_store):
    logger = MLflowLogger(tracking_uri=str(tmp_path / "store"))
    with pytest.raises(RuntimeError, match="out of memory"):
        train_toy(loggers=[logger], plugins=[BreakModelAtEpoch2()])
    client = read_store((tmp_path / "store").resolve().as_uri())
    run = client.get_run(logger.run_id)
    assert run.info.status == "FAILED"
    assert [step for step, _ in history(client, logger.run_id, "train_loss")] == [1]
