"""MLflowLogger: each training run as an MLflow run, in a local store by default.

What it records: the training options as params (plus the model class and corpus name), per
epoch the metrics ``train_loss``, ``learning_rate``, ``train_sentences_per_second``,
``dev_loss``, ``dev_score`` and ``dev_<metric>`` (step = epoch, the numbers of ``loss.tsv``),
with ``step_level=True`` also ``batch_loss`` and ``batch_learning_rate`` per optimizer step,
and at the end ``test_score`` and ``test_<metric>``. The run ends FINISHED, KILLED (Ctrl-C) or
FAILED (an exception). A resumed training is a new MLflow run tagged
``tagkit.resumed_after_epoch``.

The store. By default ``base_path/mlruns``, MLflow's file store: it needs no database and only
the ``mlflow-skinny`` client (the ``mlflow`` extra). MLflow 3 keeps the file store in
maintenance mode and refuses it unless ``MLFLOW_ALLOW_FILE_STORE=true``; this logger sets that
variable only around its own calls to a ``file:`` store (a user's explicit ``false`` is
respected, and then MLflow's own message explains). The sqlite store (``tracking_uri=
"sqlite:///runs.db"``) needs SQLAlchemy and Alembic, i.e. the full ``mlflow`` distribution; any
URI MLflow accepts, a tracking server's included, can be given.

The logger talks to the store through an ``MlflowClient`` of its own, never through the
``mlflow.start_run`` fluent API, so it neither changes nor depends on the process-wide active
run and tracking URI that user code may be using.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tagkit_core.hookspecs import hookimpl
from tagkit_core.training_logger import TrainingLogger
from tagkit_loggers.extras import load, require

__all__ = ["MLflowLogger"]

EXTRA = "mlflow"
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value


class MLflowLogger(TrainingLogger):
    """Log a training run to MLflow.

    :param tracking_uri: where runs go: any MLflow tracking URI, or a folder path for a file
        store there (default: the file store ``base_path/mlruns``).
    :param experiment: the experiment's name; created when missing.
    :param run_name: the run's name (default: the name of ``base_path``).
    :param step_level: also log the loss and learning rate of every optimizer step (one
        store write per step: noticeably slower with the file store on small batches).
    """

    registry_name = "mlflow"

    def __init__(self, tracking_uri: str | None = None, experiment: str = "tagkit",
                 run_name: str | None = None, step_level: bool = False) -> None:
        require("mlflow", EXTRA, self.registry_name)
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_name = run_name
        self.step_level = step_level
        self.run_id: str | None = None
        self.uri: str | None = None
        self._client: Any = None
        self._interrupted = False

    def __repr__(self) -> str:
        return (f"MLflowLogger(tracking_uri={self.tracking_uri!r}, "
                f"experiment={self.experiment!r}, step_level={self.step_level})")

    # -- hooks ----------------------------------------------------------------------------------
    @hookimpl
    def on_train_start(self, trainer, base_path: Path) -> None:
        mlflow = load("mlflow", "mlflow", EXTRA, self.registry_name)
        self.run_id, self._interrupted = None, False
        self.uri = self.tracking_uri or (Path(base_path) / "mlruns").resolve().as_uri()
        if ":" not in self.uri:  # a plain folder path: the file store there
            self.uri = Path(self.uri).resolve().as_uri()
        with self._store():
            self._client = mlflow.MlflowClient(tracking_uri=self.uri)
            found = self._client.get_experiment_by_name(self.experiment)
            experiment_id = (found.experiment_id if found is not None
                             else self._client.create_experiment(self.experiment))
            tags = {"tagkit.model": type(trainer.model).__name__,
                    "tagkit.corpus": str(trainer.corpus.name)}
            if trainer.epoch:
                tags["tagkit.resumed_after_epoch"] = str(trainer.epoch)
            run = self._client.create_run(experiment_id, run_name=self.run_name or
                                          Path(base_path).resolve().name, tags=tags)
            self.run_id = run.info.run_id
            params = {"model": type(trainer.model).__name__, "corpus": str(trainer.corpus.name),
                      **trainer.config.to_json()}
            entities = load("mlflow.entities", "mlflow", EXTRA, self.registry_name)
            self._client.log_batch(self.run_id, params=[
                entities.Param(key, str(value)[:MAX_PARAM_LENGTH]) for key, value in
                params.items()])

    @hookimpl
    def on_epoch_end(self, trainer, epoch: int, metrics) -> None:
        values = {"train_loss": metrics.train_loss, "learning_rate": metrics.learning_rate,
                  "train_sentences_per_second": metrics.train_sentences_per_second,
                  "dev_loss": metrics.dev_loss, "dev_score": metrics.dev_score}
        values.update({f"dev_{name}": value for name, value in metrics.dev_scores.items()
                       if name != "loss"})
        self._log_metrics(values, step=epoch)

    def log_batch(self, trainer, epoch: int, batch_index: int, step: int, loss: float,
                  learning_rate: float) -> None:
        """The ``on_batch_end`` hook's work (through :class:`BatchHook` when step-level)."""
        self._log_metrics({"batch_loss": loss, "batch_learning_rate": learning_rate}, step=step)

    @hookimpl
    def on_train_interrupted(self, trainer, epoch: int, reason: str) -> None:
        self._interrupted = True

    @hookimpl
    def on_train_end(self, trainer, base_path: Path, result: dict[str, Any]) -> None:
        if self.run_id is None:
            return
        try:
            if result.get("test_score") is not None:
                test = {"test_score": result["test_score"]}
                test.update({f"test_{name}": value for name, value in
                             (result.get("test_scores") or {}).items() if name != "loss"})
                self._log_metrics(test, step=trainer.epoch)
        finally:
            # The trainer calls on_train_end from a ``finally``: an exception on its way out of
            # training is visible here (and an error before on_train_end is in the result).
            failed = "error" in result or sys.exc_info()[0] not in (None, KeyboardInterrupt)
            status = "FAILED" if failed else "KILLED" if self._interrupted else "FINISHED"
            with self._store():
                self._client.set_terminated(self.run_id, status=status)
            self._client = None

    # -- helpers --------------------------------------------------------------------------------
    def _log_metrics(self, values: dict[str, float | None], step: int) -> None:
        if self.run_id is None:
            return
        entities = load("mlflow.entities", "mlflow", EXTRA, self.registry_name)
        now = int(time.time() * 1000)
        metrics = [entities.Metric(key, float(value), now, step)
                   for key, value in values.items() if value is not None]
        with self._store():
            self._client.log_batch(self.run_id, metrics=metrics)

    @contextlib.contextmanager
    def _store(self) -> Iterator[None]:
        """Allow MLflow's file store during this logger's own calls (module docstring)."""
        if not (self.uri or "").startswith("file:") or "MLFLOW_ALLOW_FILE_STORE" in os.environ:
            yield
            return
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        try:
            yield
        finally:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
