"""The options of one training run, and the metrics reported after each epoch.

Option names and defaults follow Flair's ``ModelTrainer.train`` (the tutorial's code ports by
changing imports), collected in a small attrs class instead of a 33-argument function, so an
unknown option is an immediate ``TypeError`` and a checkpoint can store the run's options as JSON.
"""

from __future__ import annotations

import attrs

__all__ = ["TrainingConfig", "EpochMetrics"]


def _positive(instance, attribute, value) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


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

    learning_rate: float = attrs.field(default=0.1, validator=_positive)
    mini_batch_size: int = attrs.field(default=32, validator=_positive)
    mini_batch_chunk_size: int | None = attrs.field(default=None, validator=_positive)
    eval_mini_batch_size: int | None = attrs.field(default=None, validator=_positive)
    max_epochs: int = attrs.field(default=100, validator=_positive)
    anneal_factor: float = 0.5
    patience: int = 3
    min_learning_rate: float = 0.0001
    anneal_with_restarts: bool = False
    train_with_dev: bool = False
    train_with_test: bool = False
    checkpoint: bool = False
    save_final_model: bool = True
    save_best_model: bool = True
    embeddings_storage_mode: str = "cpu"
    shuffle: bool = True
    length_bucketing: bool = True
    length_groups_per_batch: int = attrs.field(default=2, validator=_positive)
    seed: int = 1
    max_grad_norm: float | None = 5.0
    weight_decay: float = 0.0
    device: str | None = None
    num_threads: int | None = None
    show_progress: bool | None = None

    def __attrs_post_init__(self) -> None:
        if not 0.0 < self.anneal_factor <= 1.0:
            raise ValueError(f"anneal_factor must be in (0, 1], got {self.anneal_factor}")
        if self.eval_mini_batch_size is None:
            self.eval_mini_batch_size = 4 * self.mini_batch_size

    def to_json(self) -> dict:
        return attrs.asdict(self)


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
