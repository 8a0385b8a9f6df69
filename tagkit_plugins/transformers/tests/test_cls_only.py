"""The last layer at the [CLS] position only: the same vectors and gradients as the full layer,
for padded batches of unequal sentences, and the full layer for models it cannot wrap."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_transformers import TransformerDocumentEmbeddings
from tagkit_transformers.cls_only import cls_only_last_layer, supports_cls_only

BATCH = [["anna", "visits", "unbelievable", "berlin", "!"], ["we", "love", "berlin"],
         ["a", "dog", "runs", "here", "."], ["cat"]]


def batch() -> list[Sentence]:
    return [Sentence(list(words)) for words in BATCH]


def cls_vectors(embedding: TransformerDocumentEmbeddings, use: bool) -> torch.Tensor:
    return embedding.encoder.encode(batch(), cls_only=use).cls


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_the_cls_vector_equals_the_full_last_layers(bert_dir, attention):
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False)
    embedding.model.config._attn_implementation = attention
    assert supports_cls_only(embedding.model)
    with torch.no_grad():
        full = cls_vectors(embedding, use=False)
        cls = cls_vectors(embedding, use=True)
    assert full.shape == cls.shape == (len(BATCH), 32)
    assert torch.allclose(full, cls, atol=1e-5)
    # the layer is put back: the next full pass is the full model again
    assert type(embedding.model.encoder.layer[-1]).__name__ == "BertLayer"


def test_the_cls_only_layer_runs_at_one_position(bert_dir):
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False)
    ids = torch.tensor([[2, 5, 7, 9, 3, 0], [2, 6, 3, 0, 0, 0]])
    mask = (ids != 0).long()
    with torch.no_grad(), cls_only_last_layer(embedding.model):
        out = embedding.model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert out.shape == (2, 1, 32)


def test_fine_tuning_gets_the_same_gradients(bert_dir):
    def gradients(use: bool) -> dict[str, torch.Tensor]:
        embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=True)
        embedding.eval()  # no dropout, so both passes are comparable; autograd still on
        embedding.encoder.encode(batch(), cls_only=use).cls.pow(2).sum().backward()
        return {name: p.grad.clone() for name, p in embedding.model.named_parameters()
                if p.grad is not None}

    full, cls = gradients(False), gradients(True)
    # the pooler is never used; every other weight that gets a gradient gets the same one
    assert set(cls) == set(full)
    for name in full:
        assert torch.allclose(full[name], cls[name], atol=1e-5), name
    assert full["encoder.layer.1.attention.self.query.weight"].abs().sum() > 0


def test_models_without_berts_layout_run_the_full_layer(bert_dir, monkeypatch):
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False)
    for attention in ("flex_attention", "flash_attention_2"):
        monkeypatch.setattr(embedding.model.config, "_attn_implementation", attention)
        assert not supports_cls_only(embedding.model)
    with torch.no_grad():  # asked at the call: the full layer ran, every piece has its vector
        monkeypatch.setattr(embedding.model.config, "_attn_implementation", "eager")
        monkeypatch.setattr(embedding.model.config, "position_embedding_type", "relative_key",
                            raising=False)
        encoded = embedding.encoder.encode(batch(), cls_only=True)
    assert encoded.vectors.shape[0] == sum(len(words) for words in BATCH) + 2
    monkeypatch.undo()
    assert supports_cls_only(embedding.model)
    monkeypatch.setattr(embedding.model.config, "is_decoder", True)
    assert not supports_cls_only(embedding.model)
    monkeypatch.undo()
    del embedding.model.encoder.layer[-1].attention.self.query
    assert not supports_cls_only(embedding.model)
    assert not supports_cls_only(torch.nn.Linear(2, 2))


def test_mean_pooling_still_reads_every_position(bert_dir):
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False, cls_pooling="mean")
    with torch.no_grad():
        encoded = embedding.encoder.encode(batch(), cls_only=False)
    assert encoded.vectors.shape[0] == sum(len(words) for words in BATCH) + 2  # 3 pieces


class _Int8Stand_in(torch.nn.Module):
    """A position-wise projection that is not an ``nn.Linear`` (as a classifier's int8 layers
    are while it predicts): it has ``in_features``/``out_features``."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.linear = linear
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.linear(inputs)


def test_stand_ins_for_the_projections_keep_the_cls_only_layer(bert_dir):
    embedding = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=False)
    attention = embedding.model.encoder.layer[-1].attention.self
    with torch.no_grad():
        full = cls_vectors(embedding, use=False)
        attention.query = _Int8Stand_in(attention.query)
        assert supports_cls_only(embedding.model)
        assert torch.allclose(cls_vectors(embedding, use=True), full, atol=1e-5)
        attention.key = torch.nn.Identity()  # no sizes: not known to be a projection
        assert not supports_cls_only(embedding.model)


def test_an_int8_classifier_runs_the_cls_only_layer(bert_dir, monkeypatch):
    import tagkit_transformers.lean_forward as lean_forward_module
    from tagkit_core.dictionary import Dictionary
    from tagkit_core.registry import get_registry

    used = []
    real = lean_forward_module.cls_only_layer
    monkeypatch.setattr(lean_forward_module, "cls_only_layer",
                        lambda *args, **kwargs: used.append(args[0]) or real(*args, **kwargs))
    labels = Dictionary(add_unk=False)
    for value in ("A", "B"):
        labels.add_item(value)
    classifier = get_registry().resolve("model", "text_classifier")(
        TransformerDocumentEmbeddings(str(bert_dir)), label_dictionary=labels, label_type="c")
    sentences = batch()
    classifier.predict(sentences, precision="float32")
    expected = [s.get_labels("c")[0] for s in sentences]
    classifier.predict(sentences, precision="int8")
    assert len(used) == 2  # float32 and int8 alike
    for label, (again,) in zip(expected, (s.get_labels("c") for s in sentences)):
        assert again.value == label.value and again.score == pytest.approx(label.score, abs=0.02)
