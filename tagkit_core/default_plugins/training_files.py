"""Writes a training run's files through the lifecycle hooks: the core's own logger plugin.

* ``training.log``: the trainer's log lines (options, epoch summaries, test report).
* ``loss.tsv``: one row per epoch (epoch, time, learning rate, train loss, dev loss, dev
  scores), the file Flair's plotter reads; a resumed run appends to it.
* ``weights.txt``: ten fixed entries of every trainable weight tensor after each epoch
  (``epoch<TAB>parameter<TAB>index<TAB>value``), for plotting how weights move.

Being a plugin, it can be replaced (``TAGKIT_LOAD_PLUGINS`` does not touch it, but a plugin can
add its own files the same way) and serves as the example for third-party loggers.
"""

from __future__ import annotations

import datetime
import logging
import random
from pathlib import Path
from typing import Any

from tagkit_core.hookspecs import hookimpl

WEIGHTS_PER_TENSOR = 10
_runs: dict[int, dict[str, Any]] = {}


@hookimpl
def on_train_start(trainer, base_path: Path) -> None:
    handler = logging.FileHandler(base_path / "training.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("tagkit")
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    resumed = trainer.epoch > 0
    if resumed:  # a run killed after writing an epoch's rows but before its checkpoint
        for name in ("loss.tsv", "weights.txt"):
            _drop_rows_after(base_path / name, trainer.epoch, header=name == "loss.tsv")
    _runs[id(trainer)] = {"handler": handler, "base_path": base_path, "resumed": resumed,
                          "indices": {}}
    logger.info("%s training %s on %s (%d train / %d dev / %d test sentences)",
                f"resuming after epoch {trainer.epoch}:" if resumed else "start:",
                type(trainer.model).__name__, trainer.corpus.name, len(trainer.corpus.train),
                len(trainer.corpus.dev), len(trainer.corpus.test))
    logger.info("options: %s", trainer.config.to_json())


@hookimpl
def on_epoch_end(trainer, epoch: int, metrics) -> None:
    run = _runs.get(id(trainer))
    if run is None:
        return
    _append_loss_row(run, metrics)
    _append_weights(run, trainer.model, epoch)


def _drop_rows_after(path: Path, epoch: int, header: bool) -> None:
    """Keep only the rows of epochs up to ``epoch`` (the first column), so that the epochs a
    resumed run repeats are not listed twice."""
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = lines[:1] if header else []
    for line in lines[1:] if header else lines:
        first = line.split("\t", 1)[0]
        if first.isdigit() and int(first) <= epoch:
            kept.append(line)
    if len(kept) != len(lines):
        path.write_text("".join(kept), encoding="utf-8")


def _append_loss_row(run: dict[str, Any], metrics) -> None:
    path = run["base_path"] / "loss.tsv"
    dev_names = [k for k in metrics.dev_scores if k != "loss"]
    columns = ["EPOCH", "TIMESTAMP", "SECONDS", "LEARNING_RATE", "TRAIN_LOSS", "DEV_LOSS",
               "DEV_SCORE"] + [f"DEV_{k.upper()}" for k in dev_names]
    values = [str(metrics.epoch), datetime.datetime.now().strftime("%H:%M:%S"),
              f"{metrics.seconds:.2f}", f"{metrics.learning_rate:.6f}",
              f"{metrics.train_loss:.6f}", _fmt(metrics.dev_loss), _fmt(metrics.dev_score)]
    values += [_fmt(metrics.dev_scores[k]) for k in dev_names]
    write_header = not path.exists() or (metrics.epoch == 1 and not run["resumed"])
    mode = "w" if write_header else "a"
    with open(path, mode, encoding="utf-8") as handle:
        if write_header:
            handle.write("\t".join(columns) + "\n")
        handle.write("\t".join(values) + "\n")


def _append_weights(run: dict[str, Any], model, epoch: int) -> None:
    path = run["base_path"] / "weights.txt"
    if epoch == 1 and not run["resumed"] and path.exists():
        path.unlink()
    lines = []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        tensor = parameter.detach()
        indices = run["indices"].get(name)
        if indices is None:
            rng = random.Random(name)
            indices = sorted(rng.sample(range(tensor.numel()), min(WEIGHTS_PER_TENSOR,
                                                                   tensor.numel())))
            run["indices"][name] = indices
        flat = tensor.reshape(-1)
        lines.extend(f"{epoch}\t{name}\t{i}\t{float(flat[i]):.6f}" for i in indices)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


@hookimpl
def on_train_end(trainer, base_path: Path, result: dict[str, Any]) -> None:
    run = _runs.pop(id(trainer), None)
    if run is None:
        return
    logger = logging.getLogger("tagkit")
    logger.info("done: %s", {k: v for k, v in result.items() if not k.endswith("history")})
    logger.removeHandler(run["handler"])
    run["handler"].close()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"
