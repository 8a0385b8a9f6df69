"""Learning-rate schedules: annealing on a plateau (the tutorial's), or warm-up then linear
decay (fine-tuning transformers).

``anneal`` is Flair's default: the rate is multiplied by ``anneal_factor`` once the dev score
(the train loss without dev) has not improved for ``patience`` epochs, and training stops once
annealing brings it below ``min_learning_rate`` (a run that starts below it still trains).
``linear`` is what Flair's ``fine_tune`` and Hugging Face use for transformers: the rate rises
from 0 over the first ``warmup_fraction`` of all steps, then falls linearly to 0 at the last
step of ``max_epochs``; it steps after every batch, and never stops training early.

Both keep their state as plain data for checkpoints (``state_dict``/``load_state_dict``), so a
resumed run continues the schedule where it stopped.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["Schedule", "AnnealOnPlateau", "LinearWarmupDecay", "make_schedule", "SCHEDULES"]


class Schedule:
    """What the trainer asks of a schedule."""

    def after_batch(self) -> None:
        """Called after each optimizer step."""

    def after_epoch(self, score: float) -> int:
        """Called after each epoch with the dev score (or the negated train loss); returns the
        epochs without improvement so far."""
        return 0

    def stops(self, learning_rate: float, min_learning_rate: float) -> bool:
        """Whether training stops before an epoch at ``learning_rate``."""
        return False

    def state_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class AnnealOnPlateau(Schedule):
    """torch's ReduceLROnPlateau on a score that must rise (``threshold=0``, as Flair)."""

    def __init__(self, optimizer: torch.optim.Optimizer, factor: float, patience: int) -> None:
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=factor, patience=patience, threshold=0.0, min_lr=0.0)
        self.initial = optimizer.param_groups[0]["lr"]

    def after_epoch(self, score: float) -> int:
        self.scheduler.step(score)
        return self.scheduler.num_bad_epochs

    def stops(self, learning_rate: float, min_learning_rate: float) -> bool:
        # Only a rate that annealing brought below the floor stops: a run that starts below it
        # (5e-5 for fine-tuning a transformer, with the default floor 1e-4) still trains.
        return learning_rate < min_learning_rate and learning_rate < self.initial

    def state_dict(self) -> dict[str, Any]:
        return {**self.scheduler.state_dict(), "initial_learning_rate": self.initial}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self.initial = state.pop("initial_learning_rate", self.initial)
        self.scheduler.load_state_dict(state)


class LinearWarmupDecay(Schedule):
    """Warm-up over ``warmup_fraction`` of ``total_steps``, then linear decay to 0."""

    def __init__(self, optimizer: torch.optim.Optimizer, total_steps: int,
                 warmup_fraction: float) -> None:
        self.total_steps = max(int(total_steps), 1)
        self.warmup_steps = int(warmup_fraction * self.total_steps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self.factor)

    def factor(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        remaining = self.total_steps - step
        return max(0.0, remaining / max(1, self.total_steps - self.warmup_steps))

    def after_batch(self) -> None:
        self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        state = self.scheduler.state_dict()
        state.pop("lr_lambdas", None)  # a bound method: rebuilt from the options
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict({**state, "lr_lambdas": [None]})


SCHEDULES = ("anneal", "linear")


def make_schedule(name: str, optimizer: torch.optim.Optimizer, *, anneal_factor: float,
                  patience: int, warmup_fraction: float, steps_per_epoch: int,
                  max_epochs: int) -> Schedule:
    """The schedule called ``name`` (one of :data:`SCHEDULES`)."""
    if name == "anneal":
        return AnnealOnPlateau(optimizer, anneal_factor, patience)
    if name == "linear":
        return LinearWarmupDecay(optimizer, steps_per_epoch * max_epochs, warmup_fraction)
    raise ValueError(f"option scheduler must be one of {', '.join(SCHEDULES)}, got {name!r}")
