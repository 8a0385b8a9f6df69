"""``precision="bfloat16"`` on a CPU with native bfloat16: linears from weights packed once.

The swap's rules (which layers, the cache, the fallbacks) are tested on every CPU with a
stand-in for oneDNN's packing (a plain bfloat16 cast and ``linear``); oneDNN's own kernel is
tested where the CPU has it (AVX512-BF16, AMX), and its absence where it has not.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import tagkit_classifiers.bfloat16_linear as bfloat16_linear
import tagkit_classifiers.precision as precision
from tagkit_classifiers import TextClassifier
from tagkit_classifiers.bfloat16_linear import PackedBfloat16Linear, packed_bfloat16_available
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary


def linear(inputs: int = 48, outputs: int = 40, seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(inputs, outputs)


def autocast_linear(layer: nn.Linear, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        return layer(inputs)


@pytest.fixture
def stand_in(monkeypatch):
    """oneDNN's packing replaced by a bfloat16 cast, so the swap runs on any CPU; the calls
    of the product are recorded (rows, packed weight)."""
    calls = []

    def product(rows, packed, bias, post_op="none"):
        calls.append((rows, packed))
        out = nn.functional.linear(rows, packed, bias)
        return nn.functional.gelu(out) if post_op == "gelu" else out

    monkeypatch.setattr(bfloat16_linear, "pack_weight",
                        lambda weight: weight.detach().to(torch.bfloat16))
    monkeypatch.setattr(bfloat16_linear, "packed_product", product)
    monkeypatch.setattr(precision, "packed_bfloat16_available", lambda: True)
    return calls


@pytest.fixture
def fresh_probe():
    packed_bfloat16_available.cache_clear()
    yield
    packed_bfloat16_available.cache_clear()


def test_the_swap_packs_once_casts_a_shared_input_once_and_restores(stand_in):
    model = nn.ModuleDict({"query": linear(seed=1), "key": linear(seed=2),
                           "value": linear(seed=3)})
    inputs = torch.randn(2, 5, 48)
    expected = {name: autocast_linear(layer, inputs) for name, layer in model.items()}
    with torch.no_grad(), precision.precision_context(model, "bfloat16"):
        assert all(type(layer) is PackedBfloat16Linear for layer in model.values())
        got = {name: layer(inputs) for name, layer in model.items()}
    for name in model:
        assert got[name].dtype == torch.bfloat16 and got[name].shape == (2, 5, 40)
        assert torch.equal(got[name], expected[name])  # the stand-in is autocast's arithmetic
    assert stand_in[0][0] is stand_in[1][0] is stand_in[2][0]  # one cast for the three
    assert all(type(layer) is nn.Linear for layer in model.values())
    shared = model.__dict__["_bfloat16_shared_input"]
    assert shared.tensor is None and shared.converted is None  # nothing kept alive
    assert not any(name.startswith("_") for name in model.state_dict())


def test_twins_are_kept_between_calls_and_rebuilt_when_a_weight_changes(stand_in):
    model = nn.Sequential(linear())
    source, inputs = model[0], torch.randn(3, 48)
    with torch.no_grad(), precision.precision_context(model, "bfloat16"):
        first = model[0]
        before = model[0](inputs)
    with torch.no_grad(), precision.precision_context(model, "bfloat16"):
        assert model[0] is first  # kept: not packed again
    with torch.no_grad():
        source.weight.mul_(-1.0)  # in place, as an optimizer step
    expected = autocast_linear(source, inputs)
    with torch.no_grad(), precision.precision_context(model, "bfloat16"):
        assert model[0] is not first
        after = model[0](inputs)
    assert torch.equal(after, expected) and not torch.equal(after, before)


def test_without_native_bfloat16_autocasts_own_linears_run(monkeypatch, fresh_probe):
    monkeypatch.setattr(bfloat16_linear, "native_bfloat16_cpu", lambda: False)
    assert not packed_bfloat16_available()
    model = nn.Sequential(linear())
    with torch.no_grad(), precision.precision_context(model, "bfloat16"):
        assert type(model[0]) is nn.Linear
        assert model[0](torch.randn(3, 48)).dtype == torch.bfloat16  # autocast still on


@pytest.mark.parametrize("broken", ["raises", "disagrees"])
def test_a_packing_that_fails_its_probe_is_not_used(monkeypatch, fresh_probe, broken):
    """The ops are torch-internal: a torch that lacks or changes them keeps autocast."""
    monkeypatch.setattr(bfloat16_linear, "native_bfloat16_cpu", lambda: True)
    if broken == "raises":
        def pack(weight):
            raise RuntimeError("no such kernel")
        monkeypatch.setattr(bfloat16_linear, "pack_weight", pack)
    else:
        monkeypatch.setattr(bfloat16_linear, "pack_weight",
                            lambda weight: weight.to(torch.bfloat16))
        monkeypatch.setattr(bfloat16_linear, "packed_product",
                            lambda rows, packed, bias: torch.zeros(len(rows), len(packed)))
    assert not packed_bfloat16_available()


def test_a_classifier_predicts_the_same_labels_with_packed_twins(toy_document, stand_in,
                                                                 monkeypatch):
    labels = Dictionary(add_unk=False)
    for item in ("NUM", "HUM", "LOC"):
        labels.add_item(item)
    classifier = TextClassifier(toy_document(), labels, "class")
    texts = ["who is paris", "where is it", "how many", "what is a river"]

    def predicted(available: bool):
        monkeypatch.setattr(precision, "packed_bfloat16_available", lambda: available)
        sentences = [Sentence(text) for text in texts]
        classifier.predict(sentences, precision="bfloat16")
        return [(s.get_labels("class")[0].value, s.get_labels("class")[0].score)
                for s in sentences]

    packed = predicted(True)
    ran = len(stand_in)
    assert ran  # the twins ran
    assert packed == predicted(False)
    assert len(stand_in) == ran  # and autocast's own linears the second time
    assert type(classifier.decoder) is nn.Linear


# -- oneDNN's own kernel ------------------------------------------------------------------------
def test_onednns_packed_product_where_the_cpu_has_native_bfloat16(fresh_probe):
    """Where the CPU has native bfloat16 the packed twin runs and equals bfloat16's ``linear``
    to float32 rounding; where it has not, the probe says no and nothing is packed."""
    from tagkit_core.product_rates import native_bfloat16_cpu

    if not native_bfloat16_cpu():
        assert not packed_bfloat16_available()
        return
    assert packed_bfloat16_available()
    layer = linear(384, 96)
    hidden = torch.randn(4, 9, 384)
    for inputs in (hidden, hidden[:, :1], hidden.to(torch.bfloat16)):  # a strided slice too
        with torch.no_grad():
            got = PackedBfloat16Linear(layer)(inputs)
        expected = autocast_linear(layer, inputs)
        assert got.dtype == torch.bfloat16 and got.shape == expected.shape
        assert torch.allclose(got.float(), expected.float(), rtol=1e-2, atol=1e-2)


def test_forward_gelu_is_the_gelu_of_forward(stand_in):
    twin = PackedBfloat16Linear(linear())
    inputs = torch.randn(3, 48)
    with torch.no_grad():
        expected = nn.functional.gelu(twin(inputs))
        got = twin.forward_gelu(inputs)
    assert got.dtype == torch.bfloat16 and torch.equal(got, expected)


def test_onednns_fused_gelu_where_the_cpu_has_native_bfloat16(fresh_probe):
    """oneDNN's GELU post-op (algorithm "none": the exact, erf GELU) of the product, computed
    before the product is rounded to bfloat16: within bfloat16's rounding of the unfused
    result (the tanh approximation differs by less than that rounding, so it is not told
    apart here)."""
    if not packed_bfloat16_available():
        return  # tested through the stand-in above; nothing packed on this CPU
    layer = linear(384, 1536)
    inputs = torch.randn(2, 7, 384)
    twin = PackedBfloat16Linear(layer)
    with torch.no_grad():
        got = twin.forward_gelu(inputs).float()
        expected = nn.functional.gelu(autocast_linear(layer, inputs).float())
    assert got.shape == (2, 7, 1536)
    assert torch.allclose(got, expected, rtol=2e-2, atol=2e-2)
    assert (got - expected).abs().mean() < 2e-3  # bfloat16's rounding, not a wrong function
