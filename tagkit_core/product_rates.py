"""Whether this CPU runs matrix products in bfloat16 faster than in float32, measured once.

bfloat16 is fast only where the CPU has it natively (AVX512-BF16, AMX): on a 2-core AMD Zen 4
torch's bfloat16 products ran about 1.3 times float32's rate, on a 2-core AMD Zen 3 (AVX2)
about 9 times *slower* (docs/benchmarks.md, issue 18, section T). The options that ask for
bfloat16 on the CPU (a classifier's ``precision``, FlairEmbeddings' and the language-model
trainer's) call :func:`warn_if_bfloat16_is_slow`, so a user learns it from a warning and not
from a run nine times as long. Measured rather than read from CPU flags: torch exposes only a
coarse capability string ("AVX2", "AVX512"), which does not say whether its bfloat16 kernels
are native. The cases lie far apart, and :func:`fastest_seconds` measures so that a busy
machine does not flip the answer.
"""

from __future__ import annotations

import functools
import time
import warnings
from typing import Callable

import torch

__all__ = ["PROBE_SHAPE", "ROUNDS", "bfloat16_speedup", "fastest_seconds", "native_bfloat16_cpu",
           "probe_operands", "warn_if_bfloat16_is_slow"]

#: The product measured: a batch of 256 rows through a 384 x 384 layer (a small BERT's).
PROBE_SHAPE = (256, 384, 384)


#: Rounds of :func:`fastest_seconds`: each times every candidate once.
ROUNDS = 12


def fastest_seconds(runs: dict[str, Callable[[], object]], rounds: int = ROUNDS
                    ) -> dict[str, float]:
    """Each run's fastest call, from ``rounds`` rounds that time every run once in turn, on
    one torch thread, after one untimed call of each (which allocates, and builds a oneDNN
    kernel where one is used).

    Why so. The choices made from these times (int8's kernel, which changes the labels; the
    bfloat16 warning) must not depend on what else the machine runs. Measured one after the
    other on two threads, three calls each, a process started while the test suite ran on both
    cores timed the probe's float32 product at 7.9 ms against 0.27 ms on the quiet machine, and
    ``_int_mm`` at 8.5 to 24 ms against 0.1: of six processes, three chose the other int8
    kernel, and their labels differed. On one thread no product waits for a second thread
    the other load holds up, and in rounds a burst of load slows a round of every run rather
    than all of one run's calls, so each run's fastest call is a quiet one."""
    before = torch.get_num_threads()
    fastest = dict.fromkeys(runs, float("inf"))
    # outside any autocast of the caller's, which would turn the float32 product into bfloat16
    try:
        torch.set_num_threads(1)
        with torch.autocast("cpu", enabled=False), torch.no_grad():
            for run in runs.values():
                run()
            for _ in range(rounds):
                for name, run in runs.items():
                    started = time.perf_counter()
                    run()
                    fastest[name] = min(fastest[name], time.perf_counter() - started)
    finally:
        torch.set_num_threads(before)
    return fastest


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
    seconds = fastest_seconds({
        "float32": lambda: torch.nn.functional.linear(float_inputs, float_weight),
        "bfloat16": lambda: torch.nn.functional.linear(inputs, weight)})
    return seconds["float32"] / seconds["bfloat16"]


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
