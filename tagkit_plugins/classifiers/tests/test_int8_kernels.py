"""Which int8 kernel runs (measured, and stable), what each computes, and the warnings where
int8 or bfloat16 would be slower than float32 on the CPU at hand."""

from __future__ import annotations

import warnings

import pytest
import torch

import tagkit_classifiers.int8_kernels as int8_kernels
import tagkit_core.product_rates as product_rates
from tagkit_classifiers.int8_kernels import INT_MM, ONEDNN, Int8Weight
from tagkit_classifiers.precision import check_precision


@pytest.fixture
def measured(monkeypatch):
    """Set the probe's seconds; the kernel is chosen afresh from them."""
    def set_seconds(**seconds):
        monkeypatch.setattr(int8_kernels, "available_kernels",
                            lambda: [k for k in (INT_MM, ONEDNN) if k.lstrip("_") in seconds])
        monkeypatch.setattr(int8_kernels, "measure_kernels",
                            lambda: {("_" + k if k == "int_mm" else k): v
                                     for k, v in seconds.items()})
        int8_kernels.int8_kernel.cache_clear()
    yield set_seconds
    int8_kernels.int8_kernel.cache_clear()


def choose():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kernel = int8_kernels.int8_kernel()
    return kernel, [str(w.message) for w in caught if w.category is RuntimeWarning]


def test_int_mm_is_kept_wherever_it_has_a_kernel(measured):
    measured(float32=1.0, int_mm=0.4, onednn=0.3)  # a VNNI CPU: oneDNN faster still
    assert choose() == (INT_MM, [])  # 8 bits on both sides where they run fast
    measured(float32=1.0, int_mm=2.5, onednn=0.3)  # the same CPU with its timing disturbed
    kernel, messages = choose()
    assert kernel == INT_MM and len(messages) == 1  # the same labels; a warning


def test_without_vnni_onednn_runs_and_no_warning_if_it_beats_float32(measured):
    measured(float32=1.0, int_mm=33.0, onednn=0.6)  # the AVX2 Zen 3 of section T
    assert choose() == (ONEDNN, [])


def test_where_int8_is_slower_than_float32_a_warning_says_so_with_the_rates(measured):
    measured(float32=1.0, int_mm=33.0, onednn=1.5)
    kernel, messages = choose()
    assert kernel == ONEDNN and len(messages) == 1
    assert "slower than float32" in messages[0] and "precision='float32'" in messages[0]
    measured(float32=1.0, int_mm=33.0)  # a torch without oneDNN: the loop, and the warning
    kernel, messages = choose()
    assert kernel == INT_MM and len(messages) == 1


def test_a_kernel_that_raises_here_is_left_out(monkeypatch):
    """A torch whose oneDNN has no quantized linear for the CPU raises on the first call."""
    real = Int8Weight.__init__

    def refuse_onednn(self, weight, kernel):
        if kernel == ONEDNN:
            raise RuntimeError("onednn: unsupported platform")
        real(self, weight, kernel)

    monkeypatch.setattr(Int8Weight, "__init__", refuse_onednn)
    monkeypatch.setattr(int8_kernels, "available_kernels", lambda: [INT_MM, ONEDNN])
    assert set(int8_kernels.measure_kernels()) == {"float32", INT_MM}
    monkeypatch.setattr(int8_kernels, "available_kernels", lambda: [ONEDNN])
    int8_kernels.int8_kernel.cache_clear()
    try:
        with pytest.raises(ValueError, match="neither runs"):
            check_precision("int8", torch.device("cpu"))
    finally:
        int8_kernels.int8_kernel.cache_clear()


def test_the_choice_is_measured_once_per_process(measured, monkeypatch):
    measured(float32=1.0, int_mm=0.5, onednn=0.6)
    calls = []
    real = int8_kernels.measure_kernels
    monkeypatch.setattr(int8_kernels, "measure_kernels", lambda: calls.append(1) or real())
    for _ in range(3):
        check_precision("int8", torch.device("cpu"))
    assert len(calls) == 1


@pytest.mark.parametrize("kernel", int8_kernels.available_kernels())
def test_each_kernel_computes_the_exact_integer_product_times_the_channel_scales(kernel):
    """The products are exact (integers well inside float32's), so each kernel must equal
    the float64 product of the same integers. Rows at full scale against weights of full
    range are what overflowed AVX2's 16-bit pair sums with 8 bits on both sides (oneDNN's
    kernel there); its inputs' 7 bits keep them exact."""
    generator = torch.Generator().manual_seed(3)
    weight = torch.randn(96, 384, generator=generator)
    rows = torch.randn(40, 384, generator=generator).sign() * 50.0  # all at full scale
    prepared = Int8Weight(weight, kernel)
    quantized, scale = prepared.quantize(rows)
    assert quantized.dtype == (torch.uint8 if kernel == ONEDNN else torch.int8)
    values = quantized.double() - prepared.input_offset
    assert values.abs().max() == (63 if kernel == ONEDNN else 127)
    weight_int = torch.round(weight.double() / (prepared.weight_scale.double()[:, None]))
    assert weight_int.abs().max() == 127
    expected = (values @ weight_int.t()) * prepared.weight_scale.double()
    assert torch.allclose(prepared.product(quantized).double(), expected, rtol=1e-6, atol=1e-3)
    assert torch.allclose(values * scale.double(), rows.double(), atol=scale.max().item())


def test_bfloat16_warns_only_where_it_is_slower_on_the_cpu(monkeypatch):
    def warned(speedup, device="cpu"):
        monkeypatch.setattr(product_rates, "bfloat16_speedup", lambda: speedup)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_precision("bfloat16", torch.device(device))
        return [str(w.message) for w in caught if w.category is RuntimeWarning]

    assert warned(1.3) == []  # a CPU with native bfloat16
    (message,) = warned(0.11)
    assert "9.1 times slower than float32" in message and "use float32" in message
    monkeypatch.setattr(product_rates, "bfloat16_speedup", lambda: pytest.fail("measured"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        product_rates.warn_if_bfloat16_is_slow(torch.device("cuda"), "x")  # GPUs: no probe


def test_the_bfloat16_probe_measures_a_real_ratio():
    product_rates.bfloat16_speedup.cache_clear()
    speedup = product_rates.bfloat16_speedup()
    assert 0.001 < speedup < 100.0
    assert product_rates.bfloat16_speedup() == speedup  # cached: one measurement a process
