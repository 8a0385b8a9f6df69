"""Sequence dropouts and within-length reversal, shared by models and embeddings, on
``(batch, length, dim)`` tensors.

Plain dropout drops single numbers; these drop structure, which regularises a sequence model
better: :class:`WordDropout` drops whole words (every dimension of a token), and
:class:`LockedDropout` drops the same dimensions at every position of a sentence (variational
dropout, Gal and Ghahramani 2016). Both are identity in eval mode. The reversal helpers let a
bidirectional RNN run over right-padded batches without packing.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["WordDropout", "LockedDropout", "reverse_within_length", "reversal_rows",
           "reverse_rows"]


class WordDropout(nn.Module):
    """Zero each token's whole vector with probability ``p`` (not rescaled, as in Flair)."""

    def __init__(self, p: float = 0.05) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty(x.shape[0], x.shape[1], 1, device=x.device).bernoulli_(1 - self.p)
        return x * keep.to(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LockedDropout(nn.Module):
    """Drop the same dimensions at every position of a sequence, rescaling what is kept."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty(x.shape[0], 1, x.shape[2], device=x.device).bernoulli_(1 - self.p)
        return x * (keep / (1 - self.p)).to(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def reverse_within_length(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Index ``(batch, max_len)`` that reverses each row's first ``length`` positions.

    Positions past a row's length map to themselves; applying the index twice is the identity.
    """
    positions = torch.arange(max_len, device=lengths.device).unsqueeze(0)
    reversed_ = lengths.unsqueeze(1) - 1 - positions
    return torch.where(reversed_ >= 0, reversed_, positions)


def reversal_rows(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """:func:`reverse_within_length` as rows of the flat ``(batch * max_len, dim)`` view.

    With it, :func:`reverse_rows` reverses a batch with one ``index_select``: a tenth of the time
    of ``gather`` with the index expanded over the feature dimension (on CPU at ``(32, 20,
    256)``: 17 against 143 microseconds, ``benchmarks/crf_speed.py``).
    """
    offsets = torch.arange(lengths.shape[0], device=lengths.device).unsqueeze(1) * max_len
    return (reverse_within_length(lengths, max_len) + offsets).view(-1)


def reverse_rows(tensor: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``tensor`` ``(batch, max_len, dim)`` with each row reversed within its length, ``rows``
    being :func:`reversal_rows` of those lengths."""
    return tensor.reshape(-1, tensor.shape[-1]).index_select(0, rows).view(tensor.shape)
