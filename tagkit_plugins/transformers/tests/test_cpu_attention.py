"""Prediction's attention on the CPU: the same vectors as the model's own kernels, used only
where it may be (CPU, eval mode, no gradients), and the model's setting always put back."""

from __future__ import annotations

import pytest
import torch

import tagkit_transformers.cpu_attention as cpu_attention_module
import tagkit_transformers.encoder as encoder_module
from tagkit_core.data import Sentence
from tagkit_transformers import TransformerDocumentEmbeddings, TransformerWordEmbeddings
from tagkit_transformers.cpu_attention import (
    LONG_ROWS,
    NAME,
    SHORT_ROWS,
    attention,
    cpu_attention,
)

BATCH = [["anna", "visits", "unbelievable", "berlin", "!"], ["we", "love", "berlin"],
         ["cat"]]


class Encoder(torch.nn.Module):
    """An encoder's attention module as transformers passes it: not causal."""

    is_causal = False


class Decoder(torch.nn.Module):
    is_causal = True


def batch() -> list[Sentence]:
    return [Sentence(list(words)) for words in BATCH]


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls of the written-out attention (through transformers' registry, or
    straight from the lean prediction pass)."""
    from transformers import AttentionInterface

    import tagkit_transformers.lean_forward as lean_forward_module

    seen = []

    def counted(*args, **kwargs):
        seen.append(args[1].shape)
        return attention(*args, **kwargs)

    monkeypatch.setitem(AttentionInterface._global_mapping, NAME, counted)
    monkeypatch.setattr(lean_forward_module, "attention", counted)
    return seen


@pytest.mark.parametrize("length", [5, SHORT_ROWS - 1, SHORT_ROWS, 23])
@pytest.mark.parametrize("masked", [False, True])
def test_it_computes_what_sdpa_computes(length, masked):
    torch.manual_seed(length)
    query, key, value = (torch.randn(3, 2, length, 8) for _ in range(3))
    mask = None
    if masked:  # sdpa's boolean mask: True attends; each row keeps at least one position
        mask = torch.ones(3, 1, length, length, dtype=torch.bool)
        mask[1, ..., length // 2:] = False
        mask[2, ..., 1:] = False
    expected = torch.nn.functional.scaled_dot_product_attention(query, key, value,
                                                                attn_mask=mask)
    out, weights = attention(Encoder(), query, key, value, mask, scaling=8 ** -0.5)
    assert weights is None
    assert out.shape == (3, length, 2, 8)  # (batch, positions, heads, size), as transformers
    assert torch.allclose(out.transpose(1, 2), expected, atol=1e-5)
    if masked:  # an additive mask (eager's) gives the same
        additive = torch.zeros(mask.shape).masked_fill(~mask, torch.finfo(torch.float32).min)
        again, _ = attention(Encoder(), query, key, value, additive, scaling=8 ** -0.5)
        assert torch.allclose(again, out, atol=1e-6)


def test_under_bfloat16_autocast_the_softmax_runs_in_float32():
    torch.manual_seed(0)
    query, key, value = (torch.randn(2, 2, 6, 8, dtype=torch.bfloat16) for _ in range(3))
    reference = torch.nn.functional.scaled_dot_product_attention(
        query.float(), key.float(), value.float()).transpose(1, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = attention(Encoder(), query, key, value, None)
    assert out.dtype == torch.bfloat16
    assert torch.allclose(out.float(), reference, atol=0.03)


def test_what_it_does_not_write_out_goes_to_transformers_sdpa(monkeypatch):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    handed = []
    monkeypatch.setattr(cpu_attention_module, "sdpa_attention_forward",
                        lambda *a, **k: handed.append(k) or sdpa_attention_forward(*a, **k))
    torch.manual_seed(2)
    query, key, value = (torch.randn(2, 4, 6, 8) for _ in range(3))
    # a decoder without a mask: causal, as sdpa makes it
    out, _ = attention(Decoder(), query, key, value, None, scaling=8 ** -0.5)
    causal = torch.nn.functional.scaled_dot_product_attention(query, key, value, is_causal=True)
    assert len(handed) == 1 and torch.allclose(out.transpose(1, 2), causal, atol=1e-6)
    attention(torch.nn.Module(), query, key, value, None)  # no is_causal: sdpa's default
    assert len(handed) == 2
    grouped = Encoder()
    grouped.num_key_value_groups = 2  # two query heads per key-value head
    out, _ = attention(grouped, query, key[:, :2], value[:, :2], None, scaling=8 ** -0.5)
    assert len(handed) == 3 and out.shape == (2, 6, 4, 8)
    attention(Encoder(), query, key, value, None, position_bias=torch.zeros(1, 4, 6, 6))
    assert len(handed) == 4
    long = torch.randn(1, 4, LONG_ROWS, 8)  # a long batch: sdpa's fused kernel is faster
    attention(Encoder(), long, long, long, None)
    assert len(handed) == 5
    attention(Encoder(), query, key, value, None)  # what it writes out
    assert len(handed) == 5


@pytest.mark.parametrize("kind", ["document", "word"])
def test_prediction_uses_it_and_gives_the_same_vectors(bert_dir, calls, kind, monkeypatch):
    if kind == "document":
        embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=True)
    else:
        embedding = TransformerWordEmbeddings(str(bert_dir), fine_tune=True)
    embedding.eval()
    config = embedding.model.config
    assert config._attn_implementation == "sdpa"
    with torch.no_grad():
        with pytest.MonkeyPatch.context() as patch:  # the model's own forward and kernel
            patch.setattr(cpu_attention_module, "_REPLACES", ())
            patch.setattr(encoder_module, "lean_forward_applies", lambda *_: False)
            own = embedding.encoder.encode(batch())
        assert not calls
        monkeypatch.setattr(cpu_attention_module, "sdpa_attention_forward", None)  # not used
        fast = embedding.encoder.encode(batch())
        one = embedding.encoder.encode(batch()[2:])  # one sentence: no padding, no mask
    assert len(calls) == 2 * config.num_hidden_layers
    assert config._attn_implementation == "sdpa"  # put back
    assert torch.allclose(fast.vectors, own.vectors, atol=1e-5)
    assert torch.allclose(fast.cls, own.cls, atol=1e-5)
    assert torch.allclose(one.cls, own.cls[2:], atol=1e-5)


def test_training_and_gradients_keep_the_models_kernel(bert_dir, calls):
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=True)
    embedding.train()
    embedding.encoder.encode(batch()).cls.sum().backward()  # training: sdpa, with its backward
    embedding.eval()
    embedding.encoder.encode(batch())  # eval with gradients (a gradient check, say)
    assert not calls


def test_other_kernels_and_devices_are_left_alone(bert_dir, monkeypatch):
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False)
    model, config = embedding.model, embedding.model.config
    with torch.no_grad():
        with cpu_attention(model, torch.device("cpu")):
            assert config._attn_implementation == NAME
        with cpu_attention(model, torch.device("cuda")):
            assert config._attn_implementation == "sdpa"
        monkeypatch.setattr(config, "_attn_implementation", "flex_attention")
        with cpu_attention(model, torch.device("cpu")):
            assert config._attn_implementation == "flex_attention"
        monkeypatch.undo()
        with pytest.raises(RuntimeError, match="boom"):  # put back after an error too
            with cpu_attention(model, torch.device("cpu")):
                raise RuntimeError("boom")
    assert config._attn_implementation == "sdpa"


SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
             vocab_size=100, max_position_embeddings=64, bos_token_id=1, eos_token_id=2)
FAMILIES = {  # tiny random models of the encoder families users fine-tune, and a decoder
    "bert": ("BertConfig", "BertModel", {}),
    "roberta": ("RobertaConfig", "RobertaModel", {}),
    "distilbert": ("DistilBertConfig", "DistilBertModel",
                   {"dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 48}),
    "albert": ("AlbertConfig", "AlbertModel", {"embedding_size": 16}),
    "electra": ("ElectraConfig", "ElectraModel", {"embedding_size": 32}),
    "modernbert": ("ModernBertConfig", "ModernBertModel",  # local (sliding) attention too
                   {"global_attn_every_n_layers": 2, "local_attention": 8, "pad_token_id": 0,
                    "cls_token_id": 1, "sep_token_id": 2}),
    "deberta-v2": ("DebertaV2Config", "DebertaV2Model", {}),  # its own attention: untouched
    "gpt2": ("GPT2Config", "GPT2Model", {"n_embd": 32, "n_layer": 2, "n_head": 4}),  # causal
}


@pytest.mark.parametrize("family", FAMILIES)
def test_each_model_family_gives_the_same_states(family, calls):
    import transformers

    config_class, model_class, extra = FAMILIES[family]
    torch.manual_seed(0)
    config = getattr(transformers, config_class)(**{**SMALL, **extra})
    model = getattr(transformers, model_class)(config).eval()
    ids = torch.randint(5, 100, (3, 12))
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 8:], mask[2, 3:] = 0, 0
    with torch.no_grad():
        for inputs in ({"input_ids": ids, "attention_mask": mask}, {"input_ids": ids[:1]}):
            own = model(**inputs).last_hidden_state
            with cpu_attention(model, torch.device("cpu")):
                fast = model(**inputs).last_hidden_state
            keep = inputs.get("attention_mask", torch.ones(1, 12)).bool()
            assert torch.allclose(fast[keep], own[keep], atol=1e-5), family
    assert len(calls) == (4 if config._attn_implementation == "sdpa" else 0)
