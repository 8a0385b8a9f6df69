"""The arithmetic ``TextClassifier.predict`` runs in: ``precision="float32"|"bfloat16"|"int8"``.

Prediction with a fine-tuned transformer is almost all matrix products in its linear layers,
and a CPU reaches a few times its float32 rate in narrower types:

* ``bfloat16``: the forward pass under ``torch.autocast`` (products in bfloat16, normalisations
  and the scores in float32); fast where the CPU has native bfloat16 (AVX512-BF16, AMX) and on
  GPUs. Elsewhere it is slower than float32 (9 times, on an AVX2-only Zen 3), and says so in a
  warning, measured once per process (:mod:`tagkit_core.product_rates`). Where the CPU has it,
  the linear layers run from weights cast and packed for oneDNN once
  (:mod:`tagkit_classifiers.bfloat16_linear`) instead of on every call.
* ``int8``: every ``nn.Linear`` runs its product in int8 (:class:`Int8Linear`): the weights
  quantized once, one scale per output channel, and each input row (a token) quantized on the
  fly with its own scale, then an int8 product (``torch._int_mm`` where the CPU has
  AVX512-VNNI, oneDNN's AVX2 kernel elsewhere: :mod:`tagkit_classifiers.int8_kernels`) and
  the two scales applied to the result. CPU only. The int8 layers are swapped in for the
  call and out afterwards (:mod:`tagkit_classifiers.linear_swap`), so the model itself
  (training, saving) never changes.

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

from tagkit_classifiers.bfloat16_linear import PackedBfloat16Linear, packed_bfloat16_available
from tagkit_classifiers.int8_kernels import Int8Weight, int8_kernel
from tagkit_classifiers.linear_swap import LinearTwin, SharedInput, swapped_linears
from tagkit_core.product_rates import warn_if_bfloat16_is_slow

__all__ = ["PRECISIONS", "Int8Linear", "check_precision", "precision_context", "model_precision",
           "thread_precision"]

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
    """Run the block's forward passes of ``model`` in ``precision`` (see the module doc), in
    this thread: :func:`model_precision` and :func:`thread_precision` together."""
    device = _device(model)  # asked first: inside the swap a model of linears has no parameter
    with model_precision(model, precision), thread_precision(device, precision):
        yield


def model_precision(model: nn.Module, precision: str) -> contextlib.AbstractContextManager:
    """The part of ``precision`` that is set on the model, for every thread that runs it
    within the block: its linear layers swapped for int8 or packed bfloat16 twins."""
    if precision == "int8":
        return _int8_linears(model)
    if precision == "bfloat16" and _device(model).type == "cpu" and packed_bfloat16_available():
        return swapped_linears(model, "_bfloat16", PackedBfloat16Linear)
    return contextlib.nullcontext()


def thread_precision(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The part of ``precision`` that torch keeps per thread, to enter in each thread that
    runs the model (on ``device``): bfloat16's autocast."""
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


class Int8Linear(LinearTwin):
    """``linear``'s forward with an int8 product; built from (and a frozen copy of) ``linear``.

    The weight becomes int8 with one scale per output channel, prepared for this CPU's
    kernel (:mod:`tagkit_classifiers.int8_kernels`); each call quantizes each input row with
    its own scale. The result is ``int product x channel scale x row scale + bias``, in
    float32, then the input's dtype. The extra passes over the output cost about a sixth of
    the product itself, less than the int8 product saves over bfloat16 (about half).
    ``shared_input``, shared by a model's int8 layers, lets layers reading the same tensor
    quantize it once (:class:`tagkit_classifiers.linear_swap.SharedInput`).
    """

    def __init__(self, linear: nn.Linear, shared_input: SharedInput | None = None,
                 kernel: str | None = None) -> None:
        super().__init__(linear, shared_input, torch.float32)
        self.prepared = Int8Weight(linear.weight, kernel or int8_kernel())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        quantized = self.shared_input.get(inputs)
        if quantized is None:
            quantized = self.prepared.quantize(inputs.reshape(-1, self.in_features).float())
            self.shared_input.put(inputs, quantized)
        rows, row_scale = quantized
        out = self.prepared.product(rows)
        if self.bias is None:
            out.mul_(row_scale)
        else:  # bias + out * row scale, written over out: one pass instead of two
            torch.addcmul(self.bias, out, row_scale, out=out)
        return out.view(*inputs.shape[:-1], self.out_features).to(inputs.dtype)


def _int8_linears(model: nn.Module) -> contextlib.AbstractContextManager[None]:
    """Each plain ``nn.Linear`` of ``model`` swapped for its cached int8 twin for the block."""
    return swapped_linears(model, "_int8", Int8Linear)
