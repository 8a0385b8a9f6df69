"""Filling in a training run's model card (:mod:`tagkit_core.model_card`) as the run goes.

The card lives on the model (``model.model_card``), so every file the trainer writes carries
the card as it stands: ``best-model.pt`` the one of its epoch (that epoch's dev scores), a
checkpoint the run's so far (a resumed run goes on from it: same start date, training time
added up), ``final-model.pt`` the last epoch's. The test score comes after both models are
written, so :meth:`TrainingCard.finish` then rewrites the header of the files concerned
(:func:`~tagkit_core.persistence.write_model_card`; the tensors are copied unchanged).

A card is a record, not the model: a failure to make or write one is logged as a warning and
the run goes on with the files it has.
"""

from __future__ import annotations

import datetime
import functools
import logging
import platform
import time
from pathlib import Path
from typing import Any, Callable

import torch

from tagkit_core.dictionary import Dictionary
from tagkit_core.model_card import CARD_VERSION, MAX_LABELS, check_card, plain_card
from tagkit_core.model_schema import ModelFileError, is_spec
from tagkit_core.persistence import component_spec, write_model_card

__all__ = ["TrainingCard"]

log = logging.getLogger("tagkit.trainer")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _guarded(step: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Log a failure of the decorated method as "the model card could not be <step>"."""

    def decorate(method: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(method)
        def run(self: TrainingCard, *args: Any, **kwargs: Any) -> None:
            try:
                method(self, *args, **kwargs)
            except Exception as error:  # a record must never cost the trained model
                log.warning("the model card could not be %s: %s: %s", step,
                            type(error).__name__, error)
        return run

    return decorate


def model_section(model: Any) -> dict[str, Any]:
    """Class, registry name, label type, labels and size of ``model``."""
    labels = next((d for d in (getattr(model, "label_dictionary", None),
                               getattr(model, "tag_dictionary", None))
                   if isinstance(d, Dictionary)), None)
    items = labels.get_items() if labels is not None else []
    return {"class": type(model).__name__, "type": getattr(type(model), "registry_name", None),
            "label_type": getattr(model, "label_type", None) or None,
            "labels": items[:MAX_LABELS], "dictionary_size": len(items) if labels else None,
            "parameters": sum(p.numel() for p in model.parameters())}


def corpus_section(corpus: Any) -> dict[str, Any]:
    """Name and split sizes (sentences) of ``corpus``, and of each part of a MultiCorpus."""

    def sizes(one: Any) -> dict[str, Any]:
        return {"name": getattr(one, "name", None), "class": type(one).__name__,
                "train": len(one.train), "dev": len(one.dev), "test": len(one.test)}

    section = sizes(corpus)
    parts = getattr(corpus, "corpora", None)
    if parts:
        section["corpora"] = [sizes(part) for part in parts]
    return section


def versions_section(model: Any, corpus: Any) -> dict[str, Any]:
    """Python, torch, tagkit-core and the distribution of every component involved: the
    model's and its embeddings' (from the model's spec) and the corpus's (when registered)."""
    import tagkit_core
    from tagkit_core.registry import get_registry

    found: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                             "tagkit-core": tagkit_core.__version__}
    todo = [component_spec("model", model)]
    while todo:
        item = todo.pop()
        if is_spec(item) and item["distribution"]:
            found.setdefault(item["distribution"], item["version"])
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    for part in [corpus, *getattr(corpus, "corpora", ())]:
        provider = get_registry().provider_of(type(part))
        if provider is not None and provider.distribution:
            found.setdefault(provider.distribution, provider.version)
    return found


class TrainingCard:
    """The card of one training run (one call of ``ModelTrainer.train``)."""

    def __init__(self, trainer: Any, config: Any) -> None:
        from tagkit_core.trainer.checkpoint import optimizer_path

        self.trainer, self.config = trainer, config
        previous = (trainer.model.model_card or {}) if trainer.epoch > 0 else {}
        training = previous.get("training") or {}
        self.clock = time.perf_counter()
        self.seconds_before = training.get("training_seconds") or 0.0
        self.started = training.get("started") or _now()
        self.best_epoch = training.get("best_epoch")
        self.dev = previous.get("dev")
        self.train_loss = training.get("train_loss")
        self.learning_rate = training.get("learning_rate")
        self.optimizer = optimizer_path(trainer.optimizer_class)
        self.versions: dict[str, Any] = {}

    @classmethod
    def start(cls, trainer: Any, config: Any) -> TrainingCard:
        """Begin the card of a run; the model carries it from now on."""
        card = cls(trainer, config)
        card.begin()
        return card

    @_guarded("started")
    def begin(self) -> None:
        self.versions = versions_section(self.trainer.model, self.trainer.corpus)
        self._put(self.trainer.epoch)

    @_guarded("updated after an epoch")
    def record_epoch(self, epoch: int, metrics: Any) -> None:
        """Note an epoch's figures; call it before best-model.pt is written."""
        self.train_loss, self.learning_rate = metrics.train_loss, metrics.learning_rate
        if metrics.dev_score is not None:
            self.dev = {"main_score": metrics.dev_score, "scores": dict(metrics.dev_scores),
                        "epoch": epoch}
            if metrics.improved:
                self.best_epoch = epoch
        self._put(epoch)

    @_guarded("given the test scores")
    def finish(self, base_path: Path, test_score: float | None) -> None:
        """Add the test scores to the card, final-model.pt and the tested best-model.pt."""
        result = getattr(self.trainer, "test_result", None)
        if test_score is None or result is None:
            return
        best = base_path / "best-model.pt"
        tested = best if best.exists() and not self.config.train_with_dev else \
            base_path / "final-model.pt"
        test = {"main_score": result.main_score, "main_score_name": result.main_score_name,
                "scores": dict(result.scores),
                "classification_report": dict(result.classification_report),
                "model_file": tested.name if tested.exists() else None}
        self._put(self.trainer.epoch, test=test)
        if self.config.save_final_model and (base_path / "final-model.pt").exists():
            write_model_card(base_path / "final-model.pt", self.trainer.model.model_card)
        if tested == best:
            from tagkit_core.model_card import read_model_card

            own = read_model_card(best)
            if own is not None:
                write_model_card(best, self._checked({**own, "test": plain_card(test),
                                                      "date": _now()}))

    def _put(self, epoch: int, **extra: Any) -> None:
        trainer = self.trainer
        card = {
            "card_version": CARD_VERSION,
            "model": model_section(trainer.model),
            "corpus": corpus_section(trainer.corpus),
            "training": {
                "options": self.config.to_json(), "seed": self.config.seed,
                "optimizer": self.optimizer, "epoch": epoch, "best_epoch": self.best_epoch,
                "train_loss": self.train_loss, "learning_rate": self.learning_rate,
                "training_seconds": round(self.seconds_before + time.perf_counter()
                                          - self.clock, 3),
                "started": self.started, "date": _now()},
            "dev": self.dev,
            "versions": self.versions,
            **extra,
        }
        trainer.model.model_card = self._checked(plain_card(card))

    @staticmethod
    def _checked(card: dict[str, Any]) -> dict[str, Any]:
        try:
            return check_card(card, "the model card being written")
        except ModelFileError as error:  # a bug here; a file without a card still loads
            raise ValueError(str(error)) from None
