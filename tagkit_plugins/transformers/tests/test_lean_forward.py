"""The lean prediction pass: the model's own last hidden states for each family it takes, the
model's own forward for everything else, and nothing on the model changed while it runs."""

from __future__ import annotations

import pytest
import torch

import tagkit_transformers.encoder as encoder_module
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.registry import get_registry
from tagkit_transformers import TransformerDocumentEmbeddings, TransformerWordEmbeddings
from tagkit_transformers.lean_forward import (
    LEAN_MODEL_TYPES,
    lean_forward_applies,
    lean_last_hidden,
)

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
             vocab_size=100, max_position_embeddings=64, bos_token_id=1, eos_token_id=2)
FAMILIES = {
    "bert": ("BertConfig", "BertModel", {}),
    "roberta": ("RobertaConfig", "RobertaModel", {}),
    "xlm-roberta": ("XLMRobertaConfig", "XLMRobertaModel", {}),
    "camembert": ("CamembertConfig", "CamembertModel", {}),
    # other forwards: the model's own runs
    "electra": ("ElectraConfig", "ElectraModel", {"embedding_size": 16}),
    "albert": ("AlbertConfig", "AlbertModel", {"embedding_size": 16}),
    "distilbert": ("DistilBertConfig", "DistilBertModel",
                   {"dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 48}),
}
CPU = torch.device("cpu")


def tiny(family: str):
    import transformers

    config_class, model_class, extra = FAMILIES[family]
    torch.manual_seed(0)
    config = getattr(transformers, config_class)(**{**SMALL, **extra})
    return getattr(transformers, model_class)(config).eval()


def padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(5, 100, (3, 12))
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 8:], mask[2, 3:] = 0, 0
    ids[mask == 0] = 1  # RoBERTa's padding id: its positions count from the real pieces only
    return ids, mask


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_it_takes_gives_the_models_own_states(family):
    model = tiny(family)
    with torch.no_grad():
        applies = lean_forward_applies(model, CPU)
        assert applies == (family in LEAN_MODEL_TYPES)
        if not applies:
            return
        ids, mask = padded_batch()
        for inputs in ((ids, mask), (ids[:1], mask[:1])):  # padded, and a batch of one
            own = model(input_ids=inputs[0], attention_mask=inputs[1]).last_hidden_state
            lean = lean_last_hidden(model, *inputs)
            keep = inputs[1].bool()
            assert torch.allclose(lean[keep], own[keep], atol=1e-6), family
            cls = lean_last_hidden(model, *inputs, cls_only=True)
            assert cls.shape == (len(inputs[0]), 1, 32)
            assert torch.allclose(cls[:, 0], own[:, 0], atol=1e-5), family


def test_long_batches_attend_through_sdpa_and_agree():
    model = tiny("bert")
    ids = torch.randint(5, 100, (2, 40))  # 40 positions: past LONG_ROWS, sdpa's fused kernel
    mask = torch.ones_like(ids)
    mask[1, 25:] = 0
    with torch.no_grad():
        own = model(input_ids=ids, attention_mask=mask).last_hidden_state
        lean = lean_last_hidden(model, ids, mask)
    assert torch.allclose(lean[mask.bool()], own[mask.bool()], atol=1e-5)


def test_where_it_does_not_apply():
    model = tiny("bert")
    with torch.no_grad():
        assert lean_forward_applies(model, CPU)
        assert not lean_forward_applies(model, torch.device("cuda"))  # a GPU: the model's own
        model.train()
        assert not lean_forward_applies(model, CPU)  # dropout
        model.eval()
        model.config._attn_implementation = "eager"  # the user's choice of kernel stands
        assert not lean_forward_applies(model, CPU)
        model.config._attn_implementation = "sdpa"
        del model.encoder.layer[0].attention.self.is_causal  # unsaid: it might be a decoder
        assert not lean_forward_applies(model, CPU)
        model.encoder.layer[0].attention.self.is_causal = False
        handle = model.encoder.layer[1].attention.register_forward_hook(lambda *_: None)
        assert not lean_forward_applies(model, CPU)  # a hook on a module whose call it skips
        handle.remove()
        handle = torch.nn.modules.module.register_module_forward_hook(lambda *_: None)
        try:
            assert not lean_forward_applies(model, CPU)  # a hook on every module
        finally:
            handle.remove()
        assert lean_forward_applies(model, CPU)
    assert not lean_forward_applies(model, CPU)  # gradients on


def test_the_model_stays_as_it_is_while_the_lean_pass_runs(bert_dir):
    """Nothing is swapped on the model or its config during the pass (so that threads can
    share it), and a hook on a module it calls still sees each call."""
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=True).eval()
    model = embedding.model
    layers = list(model.encoder.layer)
    seen = []

    def check(*_):
        seen.append((model.config._attn_implementation, list(model.encoder.layer) == layers))

    model.encoder.layer[-1].attention.self.query.register_forward_hook(check)
    sentences = [Sentence(["anna", "visits", "berlin"]), Sentence(["we", "love", "it", "!"])]
    with torch.no_grad():
        embedding(sentences)
    assert seen == [("sdpa", True)]  # the last layer's query: position 0 alone, once


@pytest.mark.parametrize("kind", ["word", "document"])
def test_the_embeddings_get_the_same_vectors_either_way(bert_dir, kind, monkeypatch):
    def vectors(lean: bool) -> torch.Tensor:
        if kind == "word":
            embedding = TransformerWordEmbeddings(str(bert_dir), subtoken_pooling="mean")
        else:
            embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=True).eval()
        if not lean:
            monkeypatch.setattr(encoder_module, "lean_forward_applies", lambda *_: False)
        sentences = [Sentence(["anna", "visits", "unbelievable", "berlin", "!"]),
                     Sentence(["cat"]), Sentence(["we", "love", "coops"])]
        with torch.no_grad():
            if kind == "document":
                out = embedding(sentences)  # fine-tuned: the vectors come back, not stored
            else:
                embedding.embed(sentences)
                out = torch.cat([t.get_embedding() for s in sentences for t in s])
        monkeypatch.undo()
        return out

    assert torch.allclose(vectors(True), vectors(False), atol=1e-6)


def test_other_layer_choices_run_the_models_own_forward(bert_dir, monkeypatch):
    used = []
    monkeypatch.setattr(encoder_module, "lean_last_hidden",
                        lambda *args: used.append(1) or pytest.fail("not for these layers"))
    embedding = TransformerWordEmbeddings(str(bert_dir), layers="-1,-2")
    with torch.no_grad():
        embedding.embed([Sentence(["anna", "visits", "berlin"])])
    assert not used


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "int8"])
def test_a_transformer_classifier_predicts_the_same_in_two_streams(bert_dir, filler, precision):
    """Two streams share one model (its twins, its tokenizer): the labels and scores of one
    stream, where each stream has one torch thread as the one stream has."""
    labels = Dictionary(add_unk=False)
    for value in ("A", "B", "C"):
        labels.add_item(value)
    torch.manual_seed(0)
    classifier = get_registry().resolve("model", "text_classifier")(
        TransformerDocumentEmbeddings(str(bert_dir)), label_dictionary=labels, label_type="c")
    before = torch.get_num_threads()
    try:
        got = []
        for streams in (1, 2):
            torch.set_num_threads(streams)  # one torch thread per stream either way
            sentences = [Sentence(filler(2 + n % 11, seed=n)) for n in range(40)]
            classifier.predict(sentences, mini_batch_size=3, precision=precision,
                               streams=streams, return_probabilities_for_all_classes=True)
            got.append([[(x.value, x.score) for x in s.get_labels("c")] for s in sentences])
    finally:
        torch.set_num_threads(before)
    assert got[0] == got[1]
    assert all(type(m).__name__ == "Linear" for m in classifier.modules()
               if hasattr(m, "in_features"))  # every twin swapped out again


def test_the_feed_forward_fuses_the_exact_gelu_where_the_projection_offers_it():
    from transformers.activations import ACT2FN

    from tagkit_transformers.lean_forward import exact_gelu, feed_forward_in

    class Fusing(torch.nn.Linear):
        fused = 0

        def forward_gelu(self, inputs):
            self.fused += 1
            return torch.nn.functional.gelu(self(inputs))

    intermediate = torch.nn.Module()
    intermediate.dense = Fusing(8, 16)
    intermediate.forward = lambda x: intermediate.intermediate_act_fn(intermediate.dense(x))
    attended = torch.randn(2, 3, 8)
    for name, fuses in (("gelu", True), ("gelu_new", False), ("gelu_pytorch_tanh", False),
                        ("quick_gelu", False), ("relu", False)):
        intermediate.intermediate_act_fn = ACT2FN[name]
        assert exact_gelu(ACT2FN[name]) == fuses, name
        before = intermediate.dense.fused
        with torch.no_grad():
            out = feed_forward_in(intermediate, attended)
            expected = intermediate.intermediate_act_fn(intermediate.dense(attended))
        assert intermediate.dense.fused == before + fuses, name
        assert torch.allclose(out, expected, atol=1e-6), name
    assert exact_gelu(torch.nn.GELU()) and exact_gelu(torch.nn.functional.gelu)
    assert not exact_gelu(torch.nn.GELU(approximate="tanh"))
    intermediate.intermediate_act_fn = ACT2FN["gelu"]
    intermediate.dense = torch.nn.Linear(8, 16)  # no forward_gelu: the block as it is
    assert torch.equal(feed_forward_in(intermediate, attended),
                       intermediate.intermediate_act_fn(intermediate.dense(attended)))
