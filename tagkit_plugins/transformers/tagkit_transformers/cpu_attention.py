"""Attention for prediction on the CPU: written out, with a softmax that stays fast on short rows.

Sentences and questions are short: TREC-6's test questions batch to 6 to 24 pieces, most under
16. On such shapes both of the attention kernels a BERT-style model picks from are slow on the
CPU with PyTorch 2.13:

* ``sdpa`` (``scaled_dot_product_attention``'s flash kernel for the CPU) spends about a
  millisecond per call on MiniLM's 32 x 12 heads of 16 positions, for 3 MFLOP of arithmetic,
  and runs slower on two threads than on one in float32;
* ``eager`` calls ``torch.softmax``, whose CPU kernel takes a scalar path when the last
  dimension is shorter than 16: 6.5 ns per element against 0.8 ns for the same softmax
  written as max, exp, sum and divide, 5 to 6 times slower for rows of 8 to 15 (and 16 or
  longer rows are fast again, faster than written out).

So while a model predicts on the CPU (no gradients, eval mode), :func:`cpu_attention` swaps the
model's attention for :func:`attention`: the two products, the mask, and the softmax written
out for rows shorter than :data:`SHORT_ROWS` and ``torch.softmax`` otherwise. The scores and the
softmax are float32 also under bfloat16 autocast. It is registered with transformers'
``AttentionInterface`` (its extension point for attention functions) under :data:`NAME`, with
the boolean masks ``sdpa`` uses. Training keeps the model's own kernel: its backward is
``sdpa``'s. docs/benchmarks.md (issue 18, section P) has the measurements.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
from torch import nn
from transformers import AttentionInterface
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

__all__ = ["NAME", "SHORT_ROWS", "attention", "cpu_attention"]

NAME = "tagkit_cpu_inference"
#: Rows shorter than this get the written-out softmax (see the module doc).
SHORT_ROWS = 16
#: The model kernels this one may stand in for: both compute the same function.
_REPLACES = ("sdpa", "eager")


def _softmax(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension, in place for short rows."""
    if scores.shape[-1] >= SHORT_ROWS:
        return torch.softmax(scores, dim=-1)
    scores.sub_(scores.amax(dim=-1, keepdim=True)).exp_()
    return scores.div_(scores.sum(dim=-1, keepdim=True))


def attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
              attention_mask: torch.Tensor | None, scaling: float | None = None,
              dropout: float = 0.0, **kwargs: Any) -> tuple[torch.Tensor, None]:
    """transformers' attention-function signature: ``(batch, heads, positions, size)`` in,
    ``(batch, positions, heads, size)`` out. No dropout: it runs in eval mode only."""
    if scaling is None:
        scaling = query.shape[-1] ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)).float().mul_(scaling)
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:  # True: attend
            scores.masked_fill_(~attention_mask, torch.finfo(scores.dtype).min)
        else:  # additive
            scores.add_(attention_mask)
    probabilities = _softmax(scores).to(value.dtype)
    return torch.matmul(probabilities, value).transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, attention)
ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)


@contextlib.contextmanager
def cpu_attention(model: nn.Module, device: torch.device) -> Iterator[None]:
    """Within the block, ``model`` attends with :func:`attention` where that is the same
    function and faster: on the CPU, in eval mode, without gradients, in place of ``sdpa`` or
    ``eager``. Anything else (a GPU, training, another kernel) runs unchanged."""
    config = getattr(model, "config", None)
    current = getattr(config, "_attn_implementation", None)
    if (device.type != "cpu" or model.training or torch.is_grad_enabled()
            or current not in _REPLACES):
        yield
        return
    config._attn_implementation = NAME
    try:
        yield
    finally:
        config._attn_implementation = current
