"""Sliding windows: sentences longer than the model's maximum input, without truncation.

A sentence whose pieces fit (``capacity`` = the model's maximum length minus its special
tokens) is one window, exactly the input it would get alone. A longer one is cut into windows
of ``capacity`` pieces that overlap by half (stride ``ceil(capacity / 2)``), the last window
ending at the sentence's last piece. Every piece is then read from the window in which it has
the most context, i.e. the largest ``min(pieces before it, pieces after it)`` inside the
window (the first such window on a tie), so each piece sees at least a quarter window of
context on each side where the sentence allows it.

All windows of a batch, from all its sentences, go through the model as one padded input with
an attention mask: one forward per mini-batch (a batch of more windows than
``encoder.WINDOWS_PER_PASS`` runs in groups of similar length).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch

from tagkit_core.embeddings import pad_ids

__all__ = ["WindowPlan", "plan_windows", "window_starts"]


class WindowPlan(NamedTuple):
    """The model input for a batch and where each kept piece's vector is read from."""

    input_ids: torch.Tensor  # (windows, longest window incl. special tokens)
    attention_mask: torch.Tensor  # same shape, 1 on real positions
    piece_window: torch.Tensor  # (kept pieces,) the window row each piece is read from
    piece_position: torch.Tensor  # (kept pieces,) its column in that row
    kept: list[int]  # per sentence, how many of its pieces are kept (all unless truncated)
    first_window: torch.Tensor  # (sentences,) the row of each sentence's first window


def window_starts(length: int, capacity: int) -> list[int]:
    """Start offsets of the overlapping windows covering ``length`` pieces."""
    if length <= capacity:
        return [0]
    stride = capacity - capacity // 2
    return list(range(0, length - capacity, stride)) + [length - capacity]


def _best_windows(length: int, starts: list[int], capacity: int) -> tuple[torch.Tensor,
                                                                          torch.Tensor]:
    """For each piece: which of the sentence's windows it is read from, and its offset there."""
    position = torch.arange(length).unsqueeze(1)
    start = torch.tensor(starts).unsqueeze(0)
    context = torch.minimum(position - start, start + capacity - 1 - position)
    best = context.argmax(dim=1)  # outside a window, context < 0; inside it is >= 0
    return best, position.squeeze(1) - start.squeeze(0)[best]


def plan_windows(pieces: Sequence[list[int]], capacity: int, prefix: list[int],
                 suffix: list[int], pad_id: int, allow_long: bool) -> WindowPlan:
    """Windows for each sentence's piece ids (see the module doc).

    With ``allow_long=False`` a long sentence is truncated to its first ``capacity`` pieces
    instead; the pieces cut off are not kept (their words get zero vectors).
    """
    if capacity < 1:
        raise ValueError(f"the model's maximum length leaves {capacity} pieces per window")
    rows: list[list[int]] = []
    # flat lists, one tensor each at the end: two small tensors per sentence, and the mask
    # padded as ids, made a batch of 32 short sentences' plan 2.4 times as long (408 µs
    # against 167 here; /tmp/s36/planbench.py)
    windows: list[int] = []
    positions: list[int] = []
    kept, first = [], []
    for ids in pieces:
        length = len(ids) if allow_long else min(len(ids), capacity)
        starts = window_starts(length, capacity)
        first.append(len(rows))
        for start in starts:
            rows.append(prefix + ids[start: start + min(capacity, length)] + suffix)
        if len(starts) == 1:
            windows.extend([first[-1]] * length)
            positions.extend(range(len(prefix), len(prefix) + length))
        else:
            best, offset = _best_windows(length, starts, capacity)
            windows.extend((best + first[-1]).tolist())
            positions.extend((offset + len(prefix)).tolist())
        kept.append(length)
    input_ids = pad_ids(rows, pad=pad_id)
    row_lengths = torch.tensor([len(row) for row in rows], dtype=torch.long)
    # from the lengths, not input_ids != pad_id: a text may hold the pad token itself
    mask = (torch.arange(input_ids.shape[1]) < row_lengths.unsqueeze(1)).long()
    return WindowPlan(input_ids, mask, torch.tensor(windows, dtype=torch.long),
                      torch.tensor(positions, dtype=torch.long), kept,
                      torch.tensor(first, dtype=torch.long))
