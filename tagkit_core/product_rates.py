"""Whether this CPU runs matrix products in bfloat16 faster than in float32, measured once.

bfloat16 is fast only where the CPU has it natively (AVX512-BF16, AMX): on a 2-core AMD Zen 4
torch's bfloat16 products ran about 1.3 times float32's rate, on a 2-core AMD Zen 3 (AVX2)
about 9 times *slower* (docs/benchmarks.md, issue 18, section T). The options that ask for
bfloat16 on the CPU (a classifier's ``precision``, FlairEmbeddings' and the language-model
trainer's) call :func:`warn_if_bfloat16_is_slow`, so a user learns it from a warning and not
from a run nine times as long. Measured rather than read from CPU flags: torch exposes only a
coarse capability string ("AVX2", "AVX512"), which does not say whether its bfloat16 kernels
are native; the cases lie far apart, so the measurement cannot flip between runs.
"""

from __future__ import annotations

import functools
import time
import warnings
from typing import Callable

import torch

__all__ = ["PROBE_SHAPE", "bfloat16_speedup", "best_seconds", "native_bfloat16_cpu",
           "probe_operands", "warn_if_bfloat16_is_slow"]

#: The product measured: a batch of 256 rows through a 384 x 384 layer (a small BERT's).
PROBE_SHAPE = (256, 384, 384)


def best_seconds(run: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` timed calls of ``run``, after one untimed call (which
    allocates, and builds a oneDNN kernel where one is used)."""
    # outside any autocast of the caller's, which would turn the float32 product into bfloat16
    with torch.autocast("cpu", enabled=False), torch.no_grad():
        run()
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
    return best


def probe_operands(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    rows, inputs, outputs = PROBE_SHAPE
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(rows, inputs, generator=generator).to(dtype),
            torch.randn(outputs, inputs, generator=generator).to(dtype))


@functools.cache
def bfloat16_speedup() -> float:
    """float32's time over bfloat16's for :data:`PROBE_SHAPE` on the CPU (above 1: faster)."""
    float_inputs, float_weight = probe_operands()
    inputs, weight = probe_operands(torch.bfloat16)
    float32 = best_seconds(lambda: torch.nn.functional.linear(float_inputs, float_weight))
    return float32 / best_seconds(lambda: torch.nn.functional.linear(inputs, weight))


@functools.cache
def native_bfloat16_cpu() -> bool:
    """Whether torch's oneDNN has bfloat16 kernels for this CPU (AVX512-BF16, AMX).

    Where it has not (the AVX2-only Zen 3 of section T), torch 2.13 under CPU bfloat16
    autocast still sends an LSTM to oneDNN with bfloat16 weights, which fails ("could not
    create a primitive descriptor for the LSTM forward propagation primitive"). The character
    language model runs its LSTM in float32 there, outside autocast: bfloat16 would be slower
    on such a CPU anyway, and :func:`warn_if_bfloat16_is_slow` says so."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return True if check is None else bool(check())


def warn_if_bfloat16_is_slow(device: torch.device | str, what: str) -> None:
    """Warn (once per call site) that ``what`` runs slower in bfloat16 than in float32 here."""
    if torch.device(device).type != "cpu":
        return
    speedup = bfloat16_speedup()
    if speedup < 1.0:
        warnings.warn(
            f"{what}: bfloat16 products run {1 / speedup:.1f} times slower than float32 on "
            f"this CPU (torch reports {torch.backends.cpu.get_cpu_capability()}; bfloat16 is "
            "fast with AVX512-BF16 or AMX, and on GPUs): use float32 here",
            RuntimeWarning, stacklevel=3)
