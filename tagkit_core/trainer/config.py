"""The options of one training run, and the metrics reported after each epoch.

Option names and defaults follow Flair's ``ModelTrainer.train`` (the tutorial's code ports by
changing imports), collected in a small attrs class instead of a 33-argument function. The class
is the one source of the options: each field carries its help text in ``metadata["doc"]``, and
:func:`train_signature` / :func:`options_doc` turn the fields into ``ModelTrainer.train``'s
signature and docstring, so ``help()``, ``inspect.signature`` and IDEs that read them always
agree with what is accepted. :meth:`TrainingConfig.from_options` rejects an unknown option
with the closest known one.
"""

from __future__ import annotations

import difflib
import inspect
import math
import typing
from collections.abc import Sequence
from typing import Any

import attrs

from tagkit_core.training_logger import TrainingLogger, check_logger_specs, logger_names

if typing.TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.storage import StorageMode

__all__ = ["TrainingConfig", "EpochMetrics", "checked_optimizer", "train_signature",
           "options_doc"]


def _check(kind: type, positive: bool = False, optional: bool = False,
           non_negative: bool = False):
    """An attrs validator: the value is a ``kind`` (ints accepted for floats, bools never for
    numbers), finite, positive or non-negative when asked, None only when ``optional``."""

    def validate(instance, attribute, value) -> None:
        if value is None and optional:
            return
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise TypeError(f"option {attribute.name} must be {kind.__name__}"
                            f"{' or None' if optional else ''}, got {value!r}")
        if kind in (int, float) and not math.isfinite(value):
            raise ValueError(f"option {attribute.name} must be finite, got {value!r}")
        if positive and value <= 0:
            raise ValueError(f"option {attribute.name} must be positive, got {value!r}")
        if non_negative and value < 0:
            raise ValueError(f"option {attribute.name} must be >= 0, got {value!r}")

    return validate


def _option(default: Any, kind: type, doc: str, positive: bool = False,
            optional: bool = False, non_negative: bool = False) -> Any:
    return attrs.field(default=default,
                       validator=_check(kind, positive, optional, non_negative),
                       metadata={"doc": doc})


@attrs.define(kw_only=True)
class TrainingConfig:
    """Everything ``ModelTrainer.train`` accepts besides ``base_path``.

    Differences from Flair:

    * ``length_bucketing`` (default on): each batch joins ``length_groups_per_batch`` (default
      2) runs of sentences of similar length, from random places of a length-sorted pool, and
      each run goes through the model as its own chunk: almost no padding (epochs 2 to 2.5x
      shorter on UD English), while every step still mixes lengths. With one group per batch
      (plain "sortish" bucketing, a little faster) accuracy trailed Flair's by 0.2 points after
      3 glove epochs; with two it is 0.2 points ahead (eight seeds, docs/benchmarks.md). Set
      ``length_bucketing`` off to get Flair's plain shuffled batches.
    * ``eval_mini_batch_size`` defaults to ``4 * mini_batch_size``: evaluation needs no
      gradients, so larger batches are faster.
    """

    learning_rate: float = _option(0.1, float, "initial learning rate", positive=True)
    mini_batch_size: int = _option(32, int, "sentences per optimizer step", positive=True)
    mini_batch_chunk_size: int | None = _option(
        None, int, "split each batch into chunks of this many sentences and accumulate their "
        "gradients (same gradient, less memory)", positive=True, optional=True)
    eval_mini_batch_size: int | None = _option(
        None, int, "batch size for dev/test evaluation (default 4 x mini_batch_size)",
        positive=True, optional=True)
    max_epochs: int = _option(100, int, "stop after this epoch", positive=True)
    anneal_factor: float = _option(
        0.5, float, "multiply the learning rate by this after `patience` epochs without a "
        "better dev score (or train loss without dev)", positive=True)
    patience: int = _option(3, int, "epochs without improvement before annealing")
    min_learning_rate: float = _option(
        0.0001, float, "stop once the learning rate falls below this")
    scheduler: str = attrs.field(default="anneal", validator=attrs.validators.in_(
        ("anneal", "linear")), metadata={"doc": "'anneal': anneal on a dev plateau (the "
        "tutorial's); 'linear': warm up over warmup_fraction of all steps, then decay linearly "
        "to 0 (for fine-tuning transformers, as Flair's fine_tune)"})
    warmup_fraction: float = _option(
        0.1, float, "with scheduler='linear': the fraction of all steps spent warming up")
    anneal_with_restarts: bool = _option(
        False, bool, "when the learning rate is annealed, reload the best model's weights "
        "(best-model.pt) and go on from there, as Flair does")
    train_with_dev: bool = _option(False, bool, "train on train + dev (no dev scores)")
    train_with_test: bool = _option(False, bool, "train on the test split too")
    checkpoint: bool = _option(
        False, bool, "write checkpoint.pt after every epoch, for ModelTrainer.load_checkpoint")
    save_final_model: bool = _option(True, bool, "write final-model.pt at the end")
    save_best_model: bool = _option(
        True, bool, "write best-model.pt whenever the dev score improves")
    embeddings_storage_mode: str | StorageMode = _option(
        "cpu", object, "what static embeddings keep between batches: 'none', 'cpu', 'gpu' "
        "(a registered storage mode name, or a StorageMode instance)")
    shuffle: bool = _option(True, bool, "shuffle the training sentences every epoch")
    length_bucketing: bool = _option(
        True, bool, "batch sentences of similar length together (see TrainingConfig)")
    length_groups_per_batch: int = _option(
        2, int, "runs of similar length joined into each bucketed batch", positive=True)
    seed: int = _option(
        1, int, "seeds every random draw of the run (shuffling, dropout); the initial weights "
        "come from tagkit_core.set_seed (default seed 1) when the model is built")
    max_grad_norm: float | None = _option(
        5.0, float, "clip the gradient norm to this (None: no clipping)", positive=True,
        optional=True)
    weight_decay: float | None = _option(
        None, float, "the optimizer's weight decay (None: the optimizer class's own default, "
        "as when Flair builds it: 0 for SGD and Adam, 0.01 for AdamW)", optional=True,
        non_negative=True)
    use_amp: bool = _option(
        False, bool, "mixed precision on CUDA: forward passes under torch.autocast in bfloat16 "
        "(ignored on the CPU)")
    deterministic: bool = _option(
        False, bool, "use only deterministic kernels (torch.use_deterministic_algorithms): the "
        "same seed then gives the same run on a GPU too, somewhat slower; on the CPU runs are "
        "reproducible without it")
    device: str | None = _option(
        None, str, "'cpu', 'cuda', 'cuda:1'... (default: cuda if available)", optional=True)
    num_threads: int | None = _option(
        None, int, "torch CPU threads (default: torch's own)", positive=True, optional=True)
    show_progress: bool | None = _option(
        None, bool, "a progress bar per epoch (default: when stderr is a terminal); True "
        "with stderr not a terminal: a plain line every tenth of an epoch", optional=True)
    loggers: Sequence[str | TrainingLogger] = attrs.field(
        default=(), validator=lambda _i, _a, value: check_logger_specs(value),
        metadata={"doc": "experiment loggers active for this run: registered logger names "
                  "('tensorboard', 'mlflow' from tagkit-loggers) or TrainingLogger instances"})

    def __attrs_post_init__(self) -> None:
        if not 0.0 < self.anneal_factor <= 1.0:
            raise ValueError(f"option anneal_factor must be in (0, 1], got {self.anneal_factor}")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError("option warmup_fraction must be in [0, 1), got "
                             f"{self.warmup_fraction}")
        if self.patience < 0:
            raise ValueError(f"option patience must be >= 0, got {self.patience}")
        if self.eval_mini_batch_size is None:
            self.eval_mini_batch_size = 4 * self.mini_batch_size

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> TrainingConfig:
        """A config from ``train``'s keyword options; an unknown one gets a suggestion."""
        known = [field.name for field in attrs.fields(cls)]
        for name in options:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else \
                    f"; the options are: {', '.join(known)}"
                raise TypeError(f"unknown option {name!r}{hint}")
        return cls(**options)

    def to_json(self) -> dict:
        data = attrs.asdict(self)
        mode = data["embeddings_storage_mode"]
        if not isinstance(mode, str):  # an instance: record its registry name
            data["embeddings_storage_mode"] = getattr(mode, "registry_name", repr(mode))
        data["loggers"] = logger_names(self.loggers)
        return data


def checked_optimizer(optimizer: Any) -> type:
    """``optimizer`` if it is a ``torch.optim.Optimizer`` class, else a TypeError saying so
    (an instance is the usual slip: the trainer builds it, with the run's learning rate)."""
    import torch

    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    what = "an optimizer instance" if isinstance(optimizer, torch.optim.Optimizer) \
        else f"{type(optimizer).__name__} {optimizer!r:.60}"
    raise TypeError(f"optimizer must be a torch.optim.Optimizer class such as torch.optim.AdamW "
                    f"(the trainer builds it with the run's learning rate), got {what}")


def train_signature(method) -> inspect.Signature:
    """``method``'s own parameters (``self, base_path, *, optimizer``) followed by every
    option, keyword-only, typed."""
    first = [parameter for parameter in inspect.signature(method).parameters.values()
             if parameter.kind is not inspect.Parameter.VAR_KEYWORD]
    from tagkit_core.storage import StorageMode

    hints = typing.get_type_hints(TrainingConfig, localns={"StorageMode": StorageMode,
                                                           "TrainingLogger": TrainingLogger})
    options = [inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY,
                                 default=field.default, annotation=hints[field.name])
               for field in attrs.fields(TrainingConfig)]
    return inspect.Signature(first + options, return_annotation=dict)


def options_doc() -> str:
    """One ``:param name: help (default ...)`` line per option, for ``train``'s docstring."""
    return "\n".join(f"        :param {field.name}: {field.metadata['doc']} "
                     f"(default {field.default!r})" for field in attrs.fields(TrainingConfig))


@attrs.define
class EpochMetrics:
    """What ``on_epoch_end`` hooks receive after each epoch."""

    epoch: int
    learning_rate: float
    train_loss: float
    seconds: float
    train_sentences_per_second: float
    dev_loss: float | None = None
    dev_score: float | None = None
    dev_scores: dict[str, float] = attrs.field(factory=dict)
    improved: bool = False
    bad_epochs: int = 0
