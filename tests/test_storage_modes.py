"""The core's storage modes none and cpu, driven the way the trainer drives them."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tagkit_core.data import Sentence
from tagkit_core.embeddings import StackedEmbeddings, TokenEmbeddings, pad_stack
from tagkit_core.registry import get_registry
from tagkit_core.storage import (
    CPUStorage,
    NoStorage,
    StorageModeNotFound,
    resolve_storage_mode,
)

WORDS = "the a cat dog sat ran on under mat table quickly slowly".split()


class CountingLookup(TokenEmbeddings):
    """A static lookup table that counts how often it computes a batch."""

    registry_name = "counting_lookup"

    def __init__(self, name: str = "lookup", trainable: bool = False) -> None:
        super().__init__()
        self.name = name
        self.index = {w: i for i, w in enumerate(WORDS)}
        self.table = nn.Embedding(len(WORDS), 6)
        self.table.weight.requires_grad_(trainable)
        self.calls = 0

    @property
    def embedding_length(self) -> int:
        return 6

    def _embed_batch(self, sentences, storage=None):
        self.calls += 1
        return pad_stack([self.table(torch.tensor([self.index[t.text] for t in s]))
                          for s in sentences])


def corpus(n: int = 40) -> list[Sentence]:
    generator = torch.Generator().manual_seed(0)
    sentences = []
    for _ in range(n):
        length = int(torch.randint(1, 12, (1,), generator=generator))
        ids = torch.randint(0, len(WORDS), (length,), generator=generator).tolist()
        sentences.append(Sentence([WORDS[i] for i in ids]))
    return sentences


def run_epochs(embedding, mode, sentences, epochs=2, batch_size=8):
    """Forward every batch with the mode, then hand it to the mode, as the trainer does."""
    outputs = []
    for _ in range(epochs):
        epoch = []
        for start in range(0, len(sentences), batch_size):
            batch = sentences[start: start + batch_size]
            epoch.append(embedding(batch, storage=mode).detach().clone())
            mode.after_batch(batch)
        outputs.append(epoch)
    return outputs


def test_none_and_cpu_are_the_cores_own():
    modes = {c.name: c for c in get_registry().components("storage_mode")}
    assert {"none", "cpu"} <= set(modes)
    assert {modes[n].distribution for n in ("none", "cpu")} == {"tagkit-core"}
    assert isinstance(resolve_storage_mode("cpu"), CPUStorage)
    assert isinstance(resolve_storage_mode("none"), NoStorage)


def test_cpu_second_epoch_reuses_static_embeddings():
    lookup, sentences = CountingLookup(), corpus()
    first, second = run_epochs(lookup, resolve_storage_mode("cpu"), sentences)
    assert lookup.calls == 5  # 40 sentences / 8: computed in epoch 1 only
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert all(set(s.embeddings) == {"lookup"} for s in sentences)


def test_none_recomputes_and_keeps_nothing():
    lookup, sentences = CountingLookup(), corpus()
    first, second = run_epochs(lookup, resolve_storage_mode("none"), sentences)
    assert lookup.calls == 10
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert all(not s.embeddings for s in sentences)


def test_none_keeps_memory_flat_over_many_batches():
    lookup, mode, sentences = CountingLookup(), NoStorage(), corpus(400)
    for start in range(0, len(sentences), 8):
        batch = sentences[start: start + 8]
        lookup(batch)  # no mode given (a user's call): the core stores
        assert sum(len(s.embeddings) for s in batch) == len(batch)
        mode.after_batch(batch)
        assert sum(len(s.embeddings) for s in sentences) == 0  # nothing outlives a batch


def test_under_none_static_embeddings_store_nothing_but_reuse_what_is_stored():
    lookup, mode, sentences = CountingLookup(), NoStorage(), corpus(16)
    assert not mode.keeps_embeddings and CPUStorage().keeps_embeddings
    first = lookup(sentences, storage=mode)
    assert all(not s.embeddings for s in sentences)  # nothing stored in the first place
    lookup.embed(sentences)  # a user's explicit embed() still stores...
    calls = lookup.calls
    assert torch.equal(lookup(sentences, storage=mode), first) and lookup.calls == calls  # reused
    fresh = corpus(4)
    lookup(fresh, storage=CPUStorage())
    assert all(s.embeddings for s in fresh)


def test_a_stack_passes_the_mode_to_each_embedding():
    static, sentences = CountingLookup("static"), corpus(8)
    StackedEmbeddings([static])(sentences, storage=NoStorage())
    assert all(not s.embeddings for s in sentences)
    StackedEmbeddings([static])(sentences, storage=CPUStorage())
    assert all(set(s.embeddings) == {"static"} for s in sentences)


def test_a_mistyped_mode_lists_the_registered_ones_and_suggests():
    with pytest.raises(StorageModeNotFound,
                       match=r"'CPU'.*registered: cpu.*none.*did you mean 'cpu'"):
        resolve_storage_mode("CPU")
    with pytest.raises(StorageModeNotFound) as error:
        resolve_storage_mode("nnone")
    assert "did you mean 'none'" in str(error.value) and "pip install" not in str(error.value)


def test_cpu_keeps_only_what_static_embeddings_stored():
    static, trainable = CountingLookup("static"), CountingLookup("trained", trainable=True)
    stack, sentences = StackedEmbeddings([static, trainable]), corpus(16)
    run_epochs(stack, CPUStorage(), sentences)
    assert static.calls == 2 and trainable.calls == 4  # trainable: every batch, every epoch
    assert all(set(s.embeddings) == {"static"} for s in sentences)


def test_cpu_compacts_views_of_the_padded_batch():
    lookup, sentences = CountingLookup(), corpus(8)
    batch = lookup(sentences)  # stores views of this (8, max_len, 6) tensor
    shared = {s.embeddings["lookup"].untyped_storage().data_ptr() for s in sentences}
    assert len(shared) == 1
    CPUStorage().after_batch(sentences)
    for i, sentence in enumerate(sentences):
        kept = sentence.embeddings["lookup"]
        assert kept.untyped_storage().nbytes() == kept.numel() * kept.element_size()
        assert torch.equal(kept, batch[i, : len(sentence)])
    before = {id(s.embeddings["lookup"]) for s in sentences}
    CPUStorage().after_batch(sentences)  # already compact: left alone
    assert {id(s.embeddings["lookup"]) for s in sentences} == before


def test_cpu_detaches_what_a_user_stored_with_a_graph():
    sentence = Sentence(["the", "cat"])
    weight = torch.ones(2, 3, requires_grad=True)
    sentence.set_embedding("user", weight * 2)
    CPUStorage(device="cuda:0").after_batch([sentence])  # the trainer's device is ignored
    kept = sentence.embeddings["user"]
    assert kept.grad_fn is None and not kept.requires_grad and kept.device.type == "cpu"
    assert torch.equal(kept, torch.full((2, 3), 2.0))


def test_modes_say_their_name():
    assert repr(NoStorage()) == "NoStorage('none')"
    assert CPUStorage().device == torch.device("cpu")
