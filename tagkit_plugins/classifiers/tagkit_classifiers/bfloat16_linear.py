"""bfloat16 linear layers with their weights packed once for oneDNN: ``precision="bfloat16"``
on CPUs with native bfloat16 (AVX512-BF16, AMX).

Under plain ``torch.autocast`` each linear casts its float32 input to bfloat16, and oneDNN
reorders the bfloat16 weight into its blocked layout (AMX tiles, AVX512-BF16 lanes) on every
call. :class:`PackedBfloat16Linear` does that reorder once, when it is built
(``torch.ops.mkldnn._reorder_linear_weight``, the packing ``torch.compile``'s CPU backend uses
for frozen weights), and a model's layers reading one tensor cast it once. On a 2-core Intel
Xeon with AMX a 352 x 384 x 384 product ran at 1,294 GOP/s packed against 883 from a plain
bfloat16 ``linear`` on one thread, and a fine-tuned MiniLM predicted 8 to 19% more sentences
per second, with the same labels (docs/benchmarks.md, issue 18, section U).

Packed only where torch's oneDNN has native bfloat16 and a probe product agrees with
``linear``'s (:func:`packed_bfloat16_available`): the reorder has no kernel elsewhere, the ops
are torch-internal and may move between versions, and bfloat16 is slow without native support
anyway (:mod:`tagkit_core.product_rates` warns). Elsewhere autocast's own linears run. The
packed copy holds the weights again in bfloat16 (half their float32 size) while it is cached.
"""

from __future__ import annotations

import functools
import logging

import torch
from torch import nn

from tagkit_classifiers.linear_swap import LinearTwin, SharedInput
from tagkit_core.product_rates import native_bfloat16_cpu, probe_operands

__all__ = ["PackedBfloat16Linear", "packed_bfloat16_available"]

log = logging.getLogger("tagkit.classifiers")


def pack_weight(weight: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach().to(torch.bfloat16), None)


def packed_product(rows: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None,
                   post_op: str = "none") -> torch.Tensor:
    """``rows @ weight.T + bias``, then ``post_op`` (``"none"``, or ``"gelu"``: exact, erf's)
    fused into the same kernel."""
    algorithm = "none" if post_op == "gelu" else ""  # oneDNN's name for the exact GELU
    return torch.ops.mkldnn._linear_pointwise(rows, packed, bias, post_op, [], algorithm)


class PackedBfloat16Linear(LinearTwin):
    """``linear``'s forward in bfloat16 from a weight packed once; returns bfloat16, as
    ``linear`` under autocast does. ``shared_input`` lets layers reading one tensor cast it
    once (:class:`tagkit_classifiers.linear_swap.SharedInput`)."""

    def __init__(self, linear: nn.Linear, shared_input: SharedInput | None = None) -> None:
        super().__init__(linear, shared_input, torch.bfloat16)
        self.packed_weight = pack_weight(linear.weight)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self._product(inputs, "none")

    def forward_gelu(self, inputs: torch.Tensor) -> torch.Tensor:
        """``gelu(self(inputs))`` (the exact GELU), computed in the product's kernel: a
        transformer's feed-forward block skips a pass over its widest activations
        (:mod:`tagkit_transformers.lean_forward` asks a linear for this method)."""
        return self._product(inputs, "gelu")

    def _product(self, inputs: torch.Tensor, post_op: str) -> torch.Tensor:
        rows = self.shared_input.get(inputs)
        if rows is None:
            rows = inputs.reshape(-1, self.in_features).to(torch.bfloat16).contiguous()
            self.shared_input.put(inputs, rows)
        out = packed_product(rows, self.packed_weight, self.bias, post_op)
        return out.view(*inputs.shape[:-1], self.out_features)


@functools.cache
def packed_bfloat16_available() -> bool:
    """Whether packed bfloat16 linears run here and agree with ``linear`` in bfloat16 on a
    probe product; measured once per process."""
    if not (native_bfloat16_cpu() and torch.backends.mkldnn.is_available()):
        return False
    inputs, weight = probe_operands(torch.bfloat16)
    bias = weight[0].clone()
    try:
        with torch.autocast("cpu", enabled=False), torch.no_grad():
            got = packed_product(inputs, pack_weight(weight), bias).float()
            expected = nn.functional.linear(inputs, weight, bias).float()
    except (AttributeError, RuntimeError, NotImplementedError) as error:
        log.debug("packed bfloat16 linears do not run here: %s", error)
        return False
    # the same bfloat16 products; only the order of the float32 sums may differ
    return bool(torch.allclose(got, expected, rtol=1e-2, atol=1e-2 * expected.abs().max()))
