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
model's ``sdpa`` for :func:`attention`: the two products, the mask, and the softmax written out
for rows shorter than :data:`SHORT_ROWS` and ``torch.softmax`` otherwise. The scores and the
softmax are float32 also under bfloat16 autocast. It is registered with transformers'
``AttentionInterface`` (its extension point for attention functions) under :data:`NAME`, with
the boolean masks ``sdpa`` uses. What it does not write out it hands to transformers' own
``sdpa`` function, unchanged: batches of :data:`LONG_ROWS` positions or more (where sdpa's
fused kernel is the faster), causal attention without a mask (a decoder's), grouped key-value
heads, a position bias, soft-capping. A model set to another kernel (``eager``, flash, flex)
and training keep their kernel. docs/benchmarks.md (issue 18, section P) has the measurements.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
from torch import nn
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

__all__ = ["NAME", "SHORT_ROWS", "LONG_ROWS", "attention", "cpu_attention"]

NAME = "tagkit_cpu_inference"
#: Rows shorter than this get the written-out softmax (see the module doc).
SHORT_ROWS = 16
#: From this many key positions on, sdpa's fused kernel is the faster on one thread (32 x 12
#: heads: 0.79x at 32 positions, 0.33x at 64; on two threads the written-out one stays ahead
#: up to 96), so longer batches go to sdpa.
LONG_ROWS = 32
#: The model kernel this one stands in for (and hands what it does not write out to).
_REPLACES = ("sdpa",)


def _softmax(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension, in place for short rows."""
    if scores.shape[-1] >= SHORT_ROWS:
        return torch.softmax(scores, dim=-1)
    scores.sub_(scores.amax(dim=-1, keepdim=True)).exp_()
    return scores.div_(scores.sum(dim=-1, keepdim=True))


def _written_out(module: nn.Module, query: torch.Tensor, key: torch.Tensor,
                 attention_mask: torch.Tensor | None, kwargs: dict[str, Any]) -> bool:
    """Whether :func:`attention` computes what ``sdpa_attention_forward`` would (plain
    attention over the given mask, as in BERT-style encoders) and faster (short batches)."""
    causal = kwargs.get("is_causal")
    causal = getattr(module, "is_causal", True) if causal is None else causal
    return not (key.shape[2] >= LONG_ROWS
                or (causal and attention_mask is None and query.shape[2] > 1)
                or getattr(module, "num_key_value_groups", 1) > 1
                or key.shape[1] != query.shape[1]
                or kwargs.get("position_bias") is not None
                or kwargs.get("softcap") is not None)


def attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
              attention_mask: torch.Tensor | None, scaling: float | None = None,
              dropout: float = 0.0, **kwargs: Any) -> tuple[torch.Tensor, None]:
    """transformers' attention-function signature: ``(batch, heads, positions, size)`` in,
    ``(batch, positions, heads, size)`` out. No dropout: it runs in eval mode only."""
    if not _written_out(module, query, key, attention_mask, kwargs):
        return sdpa_attention_forward(module, query, key, value, attention_mask,
                                      dropout=dropout, scaling=scaling, **kwargs)
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
    function and faster: on the CPU, in eval mode, without gradients, in place of ``sdpa``.
    Anything else (a GPU, training, another kernel) runs unchanged."""
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
