"""When a cache of converted weights must be rebuilt: :func:`weights_version`.

Prediction often runs from a converted copy of a model's weights, made once and kept: the
tagger's BiLSTM in bfloat16, a frozen character LM in bfloat16, a classifier's int8 and packed
bfloat16 linears. Each copy is keyed on :func:`weights_version` of the weights it came from,
so training between two predictions (an optimizer step, ``load_state_dict``), or a weight
replaced by another tensor, rebuilds it at the next call. One definition, so the plugins'
caches agree on what "changed" means.

Such a cache is kept on the model, so ``copy.deepcopy`` and ``pickle`` of the model meet it; a
copy gets it anew and empty (:class:`CopiedAnew`).
"""

from __future__ import annotations

from typing import Iterable

import torch

__all__ = ["CopiedAnew", "weights_version"]


def weights_version(parameters: Iterable[torch.Tensor]) -> tuple[tuple[int, int], ...]:
    """A key that changes when any of ``parameters`` is replaced (its storage moves) or
    changed in place (its ``_version`` counter grows with every in-place operation)."""
    return tuple((p.data_ptr(), p._version) for p in parameters)


class CopiedAnew:
    """A mixin for what a model keeps for its own calls and a copy must not share: caches of
    converted weights, the input a model's layers converted last, a lock. ``copy.deepcopy``
    and ``pickle`` give a new, empty one (``type(self)()``). A converted weight may be
    oneDNN's packed tensor, which has no storage to copy ("Cannot access storage of
    OpaqueTensorImpl", which made copying a model fail after a bfloat16 or int8 call), and a
    lock cannot be pickled; a copy's own weights are other tensors anyway, and it builds its
    own."""

    def __deepcopy__(self, memo: dict) -> CopiedAnew:
        return type(self)()

    def __reduce__(self) -> tuple:
        return type(self), ()
