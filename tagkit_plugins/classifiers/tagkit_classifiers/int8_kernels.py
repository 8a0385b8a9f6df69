"""The int8 matrix products behind ``precision="int8"``, and which of torch's CPU kernels runs them.

torch has two, and which is fast depends on the CPU:

* ``torch._int_mm`` (int8 x int8 -> int32) goes to oneDNN's VNNI kernel where the CPU has
  AVX512-VNNI, and to a plain loop elsewhere. On a 2-core AMD Zen 4 it ran at about 820 GOP/s
  on two threads, 2.5 times float32's rate; on a 2-core AMD Zen 3 (AVX2, no VNNI) at
  4.9 GOP/s, 33 times *slower* than float32's 160 (docs/benchmarks.md, issue 18, section T).
* oneDNN's quantized linear (``torch.ops.onednn.qlinear_pointwise``, the kernel behind
  torch's x86 quantization) also has an AVX2 kernel: 280 to 330 GOP/s on that Zen 3, 1.7 to
  1.9 times float32. AVX2's int8 instruction (``vpmaddubsw``) adds each pair of u8 x s8
  products in 16 bits with saturation, so with 8 bits on both sides the sums overflow (errors
  of 10% of the output, measured). So the activations get 7 bits there (-63 to 63, as u8
  values + 64; each row keeps its own scale), as fbgemm's ``reduce_range`` does, and the
  weights keep 8. On a MiniLM fine-tuned on TREC-6 that changed 1 of 500 test labels against
  float32; 7-bit weights instead changed 4 (section T).

Which one is measured once per process on a 256 x 384 x 384 product, not read from CPU flags:
torch exposes only a coarse capability string ("AVX2", "AVX512"), and an AVX512 CPU without
VNNI takes ``_int_mm``'s loop too. The question is whether ``_int_mm`` has a real kernel: a
kernel ran at 0.4 times float32's time, the loop at 33 times. ``_int_mm`` is kept where it
takes under 3 times float32's time (near the two cases' geometric middle), timed in
interleaved rounds on one thread (:func:`tagkit_core.product_rates.fastest_seconds`) so that a
process started on a busy machine chooses as a quiet one does, and a second run gives the same
labels; elsewhere oneDNN's kernel runs, and where the chosen kernel does not beat float32 a
warning says so. So int8 results differ slightly between the two kinds of CPU (7- against
8-bit inputs), as any quantized model's do between kernels.
"""

from __future__ import annotations

import functools
import logging
import math
import warnings

import torch

from tagkit_core.product_rates import PROBE_SHAPE, fastest_seconds, probe_operands

__all__ = ["INT_MM", "ONEDNN", "Int8Weight", "available_kernels", "int8_kernel",
           "quantize_rows"]

log = logging.getLogger("tagkit.classifiers")

INT_MM, ONEDNN = "_int_mm", "onednn"
_TINY = 1e-12  # an all-zero row or channel keeps scale > 0: its int8 values are all 0
_REAL_KERNEL = 3.0  # _int_mm under 3x float32's time has a kernel, not a loop: module doc
_ZERO_POINT = 64  # oneDNN's u8 inputs: the 7-bit value + 64, in 1..127


def quantize_rows(matrix: torch.Tensor, levels: int = 127,
                  offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric integers in ``-levels..levels`` for each row of a float ``matrix``, and each
    row's scale (a column): int8, or with an ``offset`` the values + offset as uint8."""
    # the largest magnitude as max(max, -min): two reductions and no |matrix| temporary
    scale = torch.maximum(matrix.amax(dim=1, keepdim=True), matrix.amin(dim=1, keepdim=True).neg_())
    scale.clamp_(min=_TINY).div_(levels)
    rounded = torch.mul(matrix, scale.reciprocal()).round_()
    if offset:
        return rounded.add_(offset).to(torch.uint8), scale
    return rounded.to(torch.int8), scale


def _onednn_ready() -> bool:
    try:
        return hasattr(torch.ops.onednn, "qlinear_prepack") and torch.backends.mkldnn.is_available()
    except (AttributeError, RuntimeError):
        return False


def available_kernels() -> list[str]:
    return ([INT_MM] if hasattr(torch, "_int_mm") else []) + ([ONEDNN] if _onednn_ready() else [])


class Int8Weight:
    """A linear layer's weight prepared for one kernel; ``product`` gives ``rows @ weight.T``
    in float32 with the weight's scales applied (the rows' scales and the bias not yet).
    A plain object, not a module: it is a cache of the float weight, never saved or moved."""

    def __init__(self, weight: torch.Tensor, kernel: str) -> None:
        self.kernel = kernel
        weight = weight.detach().float()
        if kernel == INT_MM:
            weight_int8, scale = quantize_rows(weight)
            self.weight_int8_t = weight_int8.t().contiguous()  # as _int_mm wants it
        elif kernel == ONEDNN:
            weight_int8, scale = quantize_rows(weight)  # 8 bits; the inputs get 7: module doc
            self.weight_packed = torch.ops.onednn.qlinear_prepack(weight_int8, None)
            self.weight_zero_points = torch.zeros(len(weight), dtype=torch.int64)
        else:
            raise ValueError(f"unknown int8 kernel {kernel!r}: "
                             f"expected one of {available_kernels()}")
        self.weight_scale = scale.view(-1)
        self.input_offset = _ZERO_POINT if kernel == ONEDNN else 0

    def quantize(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.kernel == ONEDNN:
            return quantize_rows(rows, levels=63, offset=_ZERO_POINT)
        return quantize_rows(rows)

    def product(self, rows: torch.Tensor) -> torch.Tensor:
        if self.kernel == INT_MM:
            return torch._int_mm(rows, self.weight_int8_t).float().mul_(self.weight_scale)
        return torch.ops.onednn.qlinear_pointwise(
            rows, 1.0, _ZERO_POINT, self.weight_packed, self.weight_scale,
            self.weight_zero_points, None, 1.0, 0, torch.float32, "none", [], "")


def measure_kernels() -> dict[str, float]:
    """Seconds for the probe's product (``tagkit_core.product_rates.PROBE_SHAPE``) in float32
    and in each int8 kernel that runs here: a build whose oneDNN lacks the quantized linear
    for this CPU raises on the first call, and that kernel is left out."""
    inputs, weight = probe_operands()
    runs = {"float32": lambda: torch.nn.functional.linear(inputs, weight)}
    for kernel in available_kernels():
        try:
            prepared = Int8Weight(weight, kernel)
            run = functools.partial(prepared.product, prepared.quantize(inputs)[0])
            run()
        except (RuntimeError, NotImplementedError) as error:
            log.debug("int8 kernel %s does not run here: %s", kernel, error)
            continue
        runs[kernel] = run
    return fastest_seconds(runs)


@functools.cache
def int8_kernel() -> str:
    """The kernel this process's int8 layers use (see the module doc), measured once."""
    seconds = measure_kernels()
    if len(seconds) == 1:
        raise ValueError(f"precision='int8' needs torch._int_mm or oneDNN's quantized linear, "
                         f"and neither runs with this torch ({torch.__version__}) on this "
                         f"CPU: use 'float32'")
    if seconds.get(INT_MM, float("inf")) < _REAL_KERNEL * seconds["float32"]:
        kernel = INT_MM
    else:
        kernel = ONEDNN if ONEDNN in seconds else INT_MM
    if seconds[kernel] >= seconds["float32"]:
        operations = 2 * math.prod(PROBE_SHAPE)
        rates = ", ".join(f"{name} {operations / took / 1e9:.0f}" for name, took in seconds.items())
        warnings.warn(f"precision='int8' is slower than float32 on this CPU (torch reports "
                      f"{torch.backends.cpu.get_cpu_capability()}; GOP/s: {rates}): use "
                      "precision='float32' here", RuntimeWarning, stacklevel=2)
    return kernel
