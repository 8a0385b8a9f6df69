"""The arithmetic ``TextClassifier.predict`` runs in: ``precision="float32"|"bfloat16"|"int8"``.

Prediction with a fine-tuned transformer is almost all matrix products in its linear layers,
and a CPU reaches a few times its float32 rate in narrower types:

* ``bfloat16``: the forward pass under ``torch.autocast`` (products in bfloat16, normalisations
  and the scores in float32); fast where the CPU has native bfloat16 (AVX512-BF16, AMX) and on
  GPUs.
* ``int8``: every ``nn.Linear`` runs as a dynamically quantized one (int8 weights, each
  batch's activations quantized on the fly: ``torch.ao.nn.quantized.dynamic.Linear``), fast on
  x86 CPUs with AVX512-VNNI. CPU only. The quantized layers are swapped in for the call and
  swapped out afterwards, so the model itself (training, saving) never changes; they are kept
  between calls and rebuilt when a weight changes (its in-place version counter moves).
  PyTorch marks these quantized-tensor operations as deprecated (to move to ``torchao``): the
  option works with the pinned torch, and says so clearly where a later torch lacks them.

Training always runs in float32; docs/benchmarks.md has each setting's speed and accuracy.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import torch
from torch import nn

__all__ = ["PRECISIONS", "check_precision", "precision_context"]

PRECISIONS = ("float32", "bfloat16", "int8")


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, "
                         f"got {precision!r}")
    if precision == "int8" and device.type != "cpu":
        raise ValueError(f"precision='int8' runs on the CPU only; the model is on {device}: "
                         "use 'bfloat16' there")


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


def _quantized(linear: nn.Linear) -> nn.Module:
    try:
        from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
        from torch.ao.quantization import default_dynamic_qconfig
    except ImportError as error:  # a torch without the deprecated quantized modules
        raise RuntimeError(f"precision='int8' needs torch.ao's dynamic quantization, which "
                           f"this torch ({torch.__version__}) lacks: {error}") from None
    linear.qconfig = default_dynamic_qconfig
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecation notice, once per layer
            return DynamicLinear.from_float(linear)
    finally:
        del linear.qconfig


@contextlib.contextmanager
def _int8_linears(model: nn.Module) -> Iterator[None]:
    """Swap each plain ``nn.Linear`` of ``model`` for its cached int8 twin, and back."""
    cache: dict[int, tuple[tuple, nn.Module]] = model.__dict__.setdefault("_int8_linears", {})
    swapped = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is not nn.Linear:
                continue
            key = _version(child)
            kept = cache.get(id(child))
            if kept is None or kept[0] != key:
                kept = cache[id(child)] = (key, _quantized(child))
            parent._modules[name] = kept[1]
            swapped.append((parent, name, child))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            parent._modules[name] = child
