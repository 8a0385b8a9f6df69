"""The arithmetic ``TextClassifier.predict`` runs in: ``precision="float32"|"bfloat16"|"int8"``.

Prediction with a fine-tuned transformer is almost all matrix products in its linear layers,
and a CPU reaches a few times its float32 rate in narrower types:

* ``bfloat16``: the forward pass under ``torch.autocast`` (products in bfloat16, normalisations
  and the scores in float32); fast where the CPU has native bfloat16 (AVX512-BF16, AMX) and on
  GPUs. Elsewhere it is slower than float32 (9 times, on an AVX2-only Zen 3), and says so in a
  warning, measured once per process (:mod:`tagkit_core.product_rates`).
* ``int8``: every ``nn.Linear`` runs its product in int8 (:class:`Int8Linear`): the weights
  quantized once, one scale per output channel, and each input row (a token) quantized on the
  fly with its own scale, then an int8 product (``torch._int_mm`` where the CPU has
  AVX512-VNNI, oneDNN's AVX2 kernel elsewhere: :mod:`tagkit_classifiers.int8_kernels`) and
  the two scales applied to the result. CPU only. The int8 layers are swapped in for the
  call and swapped out afterwards, so the model itself (training, saving) never changes; they
  are kept between calls and rebuilt when a weight changes (its in-place version counter
  moves).

  Why a scale per row and not PyTorch's dynamic quantization (``torch.ao``, used here before):
  that quantizes a whole batch's activations with one scale, so one token with large values
  coarsens every other token's, and a text's label depended on which texts shared its batch.
  On ten MiniLM models fine-tuned on TREC-6 it changed 4 to 10 of the 500 test labels and
  cost 0.4 to 1.6 points of accuracy; with a scale per row each text's result is its own,
  whatever the batch, 0 to 2 labels change and the mean accuracy is float32's
  (docs/benchmarks.md, issue 18, section P). ``torch.ao``'s quantized modules are also
  deprecated; ``torch._int_mm`` is the product torchao's int8 schemes use.

Training always runs in float32; docs/benchmarks.md has each setting's speed and accuracy.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

from tagkit_classifiers.int8_kernels import Int8Weight, int8_kernel
from tagkit_core.product_rates import warn_if_bfloat16_is_slow

__all__ = ["PRECISIONS", "Int8Linear", "check_precision", "precision_context"]

PRECISIONS = ("float32", "bfloat16", "int8")


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, "
                         f"got {precision!r}")
    if precision == "int8" and device.type != "cpu":
        raise ValueError(f"precision='int8' runs on the CPU only; the model is on {device}: "
                         "use 'bfloat16' there")
    if precision == "int8":
        int8_kernel()  # measured once: refuses a torch without int8 kernels, warns if slow
    if precision == "bfloat16":
        warn_if_bfloat16_is_slow(device, "precision='bfloat16'")


@contextlib.contextmanager
def precision_context(model: nn.Module, precision: str) -> Iterator[None]:
    """Run the block's forward passes of ``model`` in ``precision`` (see the module doc)."""
    if precision == "bfloat16":
        with torch.autocast(next(model.parameters()).device.type, dtype=torch.bfloat16):
            yield
    elif precision == "int8":
        with _int8_linears(model):
            yield
    else:
        yield


def _version(linear: nn.Linear) -> tuple:
    return tuple((p.data_ptr(), p._version) for p in (linear.weight, linear.bias)
                 if p is not None)


class _LastInput:
    """The input a model's int8 layers quantized last, for its siblings.

    A transformer's query, key and value projections read the same tensor; the first
    quantizes it and the other two take its rows as they are (3% of prediction's
    time, saved). Recognised by identity and by its in-place version, so an input changed in
    between is quantized again. Emptied when the swap ends, keeping no tensor alive."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.tensor: torch.Tensor | None = None
        self.version = -1
        self.quantized: tuple[torch.Tensor, torch.Tensor] | None = None

    def get(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        if self.tensor is inputs and self.version == inputs._version:
            return self.quantized
        return None

    def put(self, inputs: torch.Tensor, quantized: tuple[torch.Tensor, torch.Tensor]) -> None:
        if not inputs.is_inference():  # inference tensors keep no version: never shared
            self.tensor, self.version, self.quantized = inputs, inputs._version, quantized


class Int8Linear(nn.Module):
    """``linear``'s forward with an int8 product; built from (and a frozen copy of) ``linear``.

    The weight becomes int8 with one scale per output channel, prepared for this CPU's
    kernel (:mod:`tagkit_classifiers.int8_kernels`); each call quantizes each input row with
    its own scale. The result is ``int product x channel scale x row scale + bias``, in
    float32, then the input's dtype. The extra passes over the output cost about a sixth of
    the product itself, less than the int8 product saves over bfloat16 (about half).
    ``last_input``, shared by a model's int8 layers, lets layers reading the same tensor
    quantize it once.
    """

    def __init__(self, linear: nn.Linear, last_input: _LastInput | None = None,
                 kernel: str | None = None) -> None:
        super().__init__()
        self.prepared = Int8Weight(linear.weight, kernel or int8_kernel())
        bias = None if linear.bias is None else linear.bias.detach().float()
        self.register_buffer("bias", bias)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.last_input = last_input if last_input is not None else _LastInput()
        self._source = (linear,)  # a tuple: not registered as a submodule

    @property
    def weight(self) -> torch.Tensor:
        """The float weight it was built from, for model code that reads a linear's weight
        (its dtype or device, as some Hugging Face models do before a product)."""
        return self._source[0].weight

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        quantized = self.last_input.get(inputs)
        if quantized is None:
            quantized = self.prepared.quantize(inputs.reshape(-1, self.in_features).float())
            self.last_input.put(inputs, quantized)
        rows, row_scale = quantized
        out = self.prepared.product(rows)
        if self.bias is None:
            out.mul_(row_scale)
        else:  # bias + out * row scale, written over out: one pass instead of two
            torch.addcmul(self.bias, out, row_scale, out=out)
        return out.view(*inputs.shape[:-1], self.out_features).to(inputs.dtype)


@contextlib.contextmanager
def _int8_linears(model: nn.Module) -> Iterator[None]:
    """Swap each plain ``nn.Linear`` of ``model`` for its cached int8 twin, and back."""
    cache: dict[int, tuple[tuple, nn.Module]] = model.__dict__.setdefault("_int8_linears", {})
    last_input = model.__dict__.setdefault("_int8_last_input", _LastInput())
    swapped = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is not nn.Linear:
                continue
            key = _version(child)
            kept = cache.get(id(child))
            if kept is None or kept[0] != key:
                kept = cache[id(child)] = (key, Int8Linear(child, last_input))
            parent._modules[name] = kept[1]
            swapped.append((parent, name, child))
    try:
        yield
    finally:
        last_input.clear()
        for parent, name, child in swapped:
            parent._modules[name] = child
