"""What a model keeps for its own calls comes anew, empty, in a copy or a pickle of it."""

from __future__ import annotations

import copy
import pickle
import threading

import torch

from tagkit_core.converted_weights import CopiedAnew, weights_version


class Cache(CopiedAnew, dict):
    pass


class PerThread(CopiedAnew, threading.local):
    def __init__(self) -> None:
        self.value = None


class Locked(CopiedAnew):
    def __init__(self) -> None:
        self.lock = threading.Lock()


def test_copies_and_pickles_come_empty():
    cache = Cache(packed=torch.ones(2))
    per_thread = PerThread()
    per_thread.value = "converted"
    holder = torch.nn.Module()
    holder.cache, holder.per_thread, holder.locked = cache, per_thread, Locked()
    for twin in (copy.deepcopy(holder), pickle.loads(pickle.dumps(holder))):
        assert type(twin.cache) is Cache and twin.cache == {}
        assert type(twin.per_thread) is PerThread and twin.per_thread.value is None
        assert twin.locked.lock is not holder.locked.lock
        with twin.locked.lock:  # a working lock of its own
            pass
    assert list(cache) == ["packed"] and per_thread.value == "converted"  # the original: kept


def test_weights_version_moves_with_in_place_changes_and_new_tensors():
    layer = torch.nn.Linear(3, 2)
    before = weights_version(layer.parameters())
    assert weights_version(layer.parameters()) == before
    with torch.no_grad():
        layer.weight.add_(1)
    after = weights_version(layer.parameters())
    assert after != before
    layer.bias = torch.nn.Parameter(torch.zeros(2))
    assert weights_version(layer.parameters()) != after
