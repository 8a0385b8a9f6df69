"""Shared fixtures: registration of the plugin's embeddings and a private cache.

When the plugin is installed its entry point registers the embeddings; when the tests run from
a source checkout without installing it, the fixture registers the same classes directly.
Helpers (tiny text and language models) are in flair_lm_helpers.py, put on sys.path here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tagkit_core.registry import get_registry
from tagkit_flair_embeddings import FlairEmbeddings, PooledFlairEmbeddings

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def registered():
    """FlairEmbeddings and PooledFlairEmbeddings in the registry (as the entry point does)."""
    registry = get_registry()
    names = {c.name for c in registry.components("embedding")}
    for cls in (FlairEmbeddings, PooledFlairEmbeddings):
        if cls.registry_name not in names:
            registry.add("embedding", cls, plugin="flair_embeddings",
                         distribution="tagkit-flair-embeddings", version="0.1.0")


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread (OpenMP threads on a busy machine spin: a test
    run took four times as long with two); the previous setting is restored after each test."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
