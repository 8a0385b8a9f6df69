"""Swapping a model's ``nn.Linear`` layers for faster twins while it predicts, and back.

``precision="int8"`` and, on CPUs with native bfloat16, ``precision="bfloat16"`` run each
linear layer through a twin built from it: its weight converted once (quantized, or cast and
packed for oneDNN) instead of on every call. The twins are swapped in for the call and out
afterwards, so the model itself (training, saving) never changes; they are kept between calls
and rebuilt when a weight changes (its storage or in-place version counter moves).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

import torch
from torch import nn

from tagkit_core.converted_weights import CopiedAnew, weights_version

__all__ = ["LinearTwin", "SharedInput", "TwinCache", "swapped_linears"]


class TwinCache(CopiedAnew, dict):
    """A model's twins by the id of the linear they stand for, with the weight versions they
    were built from. Copied and pickled empty (a twin may hold oneDNN's packed weights, which
    cannot be copied; a copy's own linears have other ids anyway, so it builds its own twins)."""


class SharedInput(CopiedAnew, threading.local):
    """The input a model's twins converted last, for its siblings (copied and pickled empty;
    one per thread, so that prediction streams sharing the model never take each other's).

    A transformer's query, key and value projections read the same tensor; the first converts
    it (quantizes it, or casts it to bfloat16) and the other two take the result as it is (3%
    of int8 prediction's time, saved). Recognised by identity and by its in-place version, so
    an input changed in between is converted again. Emptied when the swap ends, keeping no
    tensor alive."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.tensor: torch.Tensor | None = None
        self.version = -1
        self.converted: Any = None

    def get(self, inputs: torch.Tensor) -> Any:
        if self.tensor is inputs and self.version == inputs._version:
            return self.converted
        return None

    def put(self, inputs: torch.Tensor, converted: Any) -> None:
        if not inputs.is_inference():  # inference tensors keep no version: never shared
            self.tensor, self.version, self.converted = inputs, inputs._version, converted


class LinearTwin(nn.Module):
    """What every twin keeps of the linear it stands for: its sizes, its bias (in
    ``bias_dtype``, the only buffer: the converted weight is a cache, not state), the model's
    :class:`SharedInput`, and the float weight itself, for model code that reads a linear's
    weight (its dtype or device, as some Hugging Face models do before a product)."""

    def __init__(self, linear: nn.Linear, shared_input: SharedInput | None,
                 bias_dtype: torch.dtype) -> None:
        super().__init__()
        bias = None if linear.bias is None else linear.bias.detach().to(bias_dtype)
        self.register_buffer("bias", bias)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.shared_input = shared_input if shared_input is not None else SharedInput()
        self._source = (linear,)  # a tuple: not registered as a submodule

    @property
    def weight(self) -> torch.Tensor:
        return self._source[0].weight


@contextlib.contextmanager
def swapped_linears(model: nn.Module, name: str,
                    build: Callable[[nn.Linear, SharedInput], nn.Module]) -> Iterator[None]:
    """Swap each plain ``nn.Linear`` of ``model`` for ``build(linear, shared_input)``, cached
    on the model under ``name``, and back when the block ends."""
    cache = model.__dict__.setdefault(f"{name}_linears", TwinCache())
    shared_input = model.__dict__.setdefault(f"{name}_shared_input", SharedInput())
    swapped = []
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if type(child) is not nn.Linear:
                continue
            key = weights_version(child.parameters())
            kept = cache.get(id(child))
            if kept is None or kept[0] != key:
                kept = cache[id(child)] = (key, build(child, shared_input))
            parent._modules[child_name] = kept[1]
            swapped.append((parent, child_name, child))
    try:
        yield
    finally:
        shared_input.clear()
        for parent, child_name, child in swapped:
            parent._modules[child_name] = child
