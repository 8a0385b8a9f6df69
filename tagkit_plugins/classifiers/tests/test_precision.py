"""``precision="int8"``'s layers: close to float32, each row's result its own whatever shares
its batch, and an input quantized once for the layers that read it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import tagkit_classifiers.int8_kernels as int8_kernels
import tagkit_classifiers.precision as precision
from tagkit_classifiers.precision import Int8Linear

KERNELS = int8_kernels.available_kernels()


def linear(inputs: int = 48, outputs: int = 40, bias: bool = True) -> nn.Linear:
    torch.manual_seed(0)
    return nn.Linear(inputs, outputs, bias=bias)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("bias", [True, False])
def test_it_stays_close_to_float32(bias, kernel):
    layer = linear(bias=bias)
    inputs = torch.randn(3, 7, 48)
    expected = layer(inputs).detach()
    out = Int8Linear(layer, kernel=kernel)(inputs)
    assert out.shape == expected.shape and out.dtype == torch.float32
    # int8 on both sides: about 1% of the output's spread
    assert (out - expected).abs().max() < 0.02 * expected.abs().max()


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_rows_result_does_not_depend_on_the_other_rows(kernel):
    """The reason for a scale per row: with one scale per batch (torch.ao's dynamic
    quantization), a row with large values coarsened every other row of its batch."""
    layer = Int8Linear(linear(), kernel=kernel)
    torch.manual_seed(1)
    row = torch.randn(1, 48)
    loud = torch.randn(5, 48) * 1000.0
    alone = layer(row)
    together = layer(torch.cat([loud[:2], row, loud[2:]]))[2:3]
    assert torch.equal(alone, together)
    per_batch_scale = row.abs().max() / loud.abs().max()  # what one scale would leave it
    assert per_batch_scale < 0.01


def test_it_shows_the_float_weight_and_registers_no_copy_of_the_linear():
    layer = linear()
    twin = Int8Linear(layer)
    assert twin.weight is layer.weight  # model code may read weight.dtype or .device
    assert not list(twin.children()) and not list(twin.parameters())
    assert set(dict(twin.named_buffers())) == {"bias"}  # the int8 weight is a cache, not state


def test_bfloat16_inputs_come_back_as_bfloat16_and_zero_rows_as_the_bias():
    layer = linear()
    out = Int8Linear(layer)(torch.zeros(2, 48, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16
    assert torch.allclose(out.float(), layer.bias.detach().expand(2, -1), atol=0.01)


def test_layers_reading_one_tensor_quantize_it_once(monkeypatch):
    counted = []
    real = int8_kernels.quantize_rows
    monkeypatch.setattr(int8_kernels, "quantize_rows",
                        lambda matrix, **kw: counted.append(matrix.shape) or real(matrix, **kw))
    model = nn.ModuleDict({"query": linear(), "key": linear(), "value": linear()})
    with torch.no_grad(), precision._int8_linears(model):
        counted.clear()  # the weights' quantization, when the twins were built
        inputs = torch.randn(4, 48)
        query, key = model["query"](inputs), model["key"](inputs)
        assert len(counted) == 1
        inputs.mul_(2.0)  # changed in place: quantized again, and the result follows
        value = model["value"](inputs)
        assert len(counted) == 2
        model["query"](inputs.clone())  # another tensor: its own quantization
        assert len(counted) == 3
        assert torch.equal(value, Int8Linear(linear())(inputs))  # the same weights, fresh
    assert all(type(layer) is nn.Linear for layer in model.values())
    last = model.__dict__["_int8_shared_input"]
    assert last.tensor is None and last.converted is None  # nothing kept alive
    assert query.shape == key.shape == (4, 40)


def test_inference_tensors_are_quantized_every_time(monkeypatch):
    counted = []
    real = int8_kernels.quantize_rows
    monkeypatch.setattr(int8_kernels, "quantize_rows",
                        lambda matrix, **kw: counted.append(1) or real(matrix, **kw))
    model = nn.ModuleDict({"a": linear(), "b": linear()})
    with torch.inference_mode(), precision._int8_linears(model):
        counted.clear()
        inputs = torch.randn(4, 48)
        model["a"](inputs)
        model["b"](inputs)
    assert len(counted) == 2  # no version counter to trust: no sharing


def test_a_torch_without_int8_kernels_is_refused_up_front(monkeypatch):
    """Checked with the precision itself, before any layer is built, as a ValueError: the
    commands' up-front check turns that into a usage error naming --precision."""
    monkeypatch.setattr(int8_kernels, "available_kernels", lambda: [])
    int8_kernels.int8_kernel.cache_clear()
    try:
        with pytest.raises(ValueError, match="_int_mm or oneDNN.s quantized linear"):
            precision.check_precision("int8", torch.device("cpu"))
        precision.check_precision("float32", torch.device("cpu"))  # the others are unaffected
    finally:
        int8_kernels.int8_kernel.cache_clear()


NARROW_SETTINGS = [("int8", kernel) for kernel in KERNELS] + [("bfloat16", None)]


@pytest.mark.parametrize(("setting", "kernel"), NARROW_SETTINGS)
def test_a_model_copies_and_pickles_after_a_narrow_call(monkeypatch, setting, kernel):
    """oneDNN's packed weights (int8 on its kernel, bfloat16 where the CPU has it natively)
    are opaque tensors with no storage: kept on the model, they made ``copy.deepcopy`` and
    ``pickle`` fail ("Cannot access storage of OpaqueTensorImpl"). The copy builds its own."""
    import copy
    import pickle

    if kernel is not None:
        monkeypatch.setattr(precision, "int8_kernel", lambda: kernel)
    model = nn.Sequential(linear(), nn.ReLU(), linear(40, 6))
    inputs = torch.randn(5, 48)
    with torch.no_grad(), precision.precision_context(model, setting):
        expected = model(inputs)
    assert model.__dict__[f"_{setting}_linears"]  # the twins are kept on the model
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert not twin.__dict__[f"_{setting}_linears"]
        with torch.no_grad(), precision.precision_context(twin, setting):
            assert torch.equal(twin(inputs), expected)
        assert all(type(layer) is nn.Linear for layer in (twin[0], twin[2]))


def test_the_shared_input_is_each_threads_own():
    """Prediction streams share a model's twins: one thread's converted input is never
    handed to another's layer."""
    import threading

    from tagkit_classifiers.linear_swap import SharedInput

    shared = SharedInput()
    inputs = torch.randn(3, 4)
    shared.put(inputs, "converted here")
    assert shared.get(inputs) == "converted here"
    seen = []
    thread = threading.Thread(target=lambda: seen.append(shared.get(inputs)))
    thread.start()
    thread.join()
    assert seen == [None]
    assert shared.get(inputs) == "converted here"
