"""The gpu storage mode of tagkit-storage (none and cpu are the core's: test_storage_modes.py)."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_core.embeddings import TokenEmbeddings, pad_stack
from tagkit_core.registry import get_registry
from tagkit_core.storage import resolve_storage_mode
from tagkit_storage import CPUStorage, GPUStorage, NoStorage

WORDS = "the a cat dog sat ran on under mat table".split()


class CountingLookup(TokenEmbeddings):
    registry_name = "gpu_test_lookup"

    def __init__(self) -> None:
        super().__init__()
        self.name = "lookup"
        self.index = {w: i for i, w in enumerate(WORDS)}
        self.table = torch.nn.Embedding(len(WORDS), 4).requires_grad_(False)
        self.calls = 0

    @property
    def embedding_length(self) -> int:
        return 4

    def _embed_batch(self, sentences, storage=None):
        self.calls += 1
        return pad_stack([self.table(torch.tensor([self.index[t.text] for t in s]))
                          for s in sentences])


def corpus(n: int = 40) -> list[Sentence]:
    return [Sentence(WORDS[i % 7: i % 7 + 1 + i % 3]) for i in range(n)]


def run_epochs(embedding, mode, sentences, epochs=2, batch_size=8):
    outputs = []
    for _ in range(epochs):
        for start in range(0, len(sentences), batch_size):
            batch = sentences[start: start + batch_size]
            outputs.append(embedding(batch, storage=mode).detach().cpu().clone())
            mode.after_batch(batch)
    return outputs[: len(outputs) // 2], outputs[len(outputs) // 2:]


def test_this_distribution_registers_gpu_and_the_old_import_path_still_works():
    modes = {c.name: c for c in get_registry().components("storage_mode")}
    assert modes["gpu"].distribution == "tagkit-storage"
    assert modes["cpu"].obj is CPUStorage and modes["none"].obj is NoStorage


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_gpu_without_cuda_fails_at_construction_naming_the_alternatives():
    with pytest.raises(RuntimeError, match="CUDA is not available.*'cpu'.*'none'"):
        GPUStorage()
    with pytest.raises(RuntimeError, match="CUDA"):
        resolve_storage_mode("gpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_keeps_embeddings_on_the_gpu_and_reuses_them():
    lookup, sentences = CountingLookup(), corpus()
    mode = GPUStorage()
    first, second = run_epochs(lookup, mode, sentences)
    assert lookup.calls == 5
    assert all(s.embeddings["lookup"].device.type == "cuda" for s in sentences)
    assert all(torch.equal(a.cpu(), b.cpu()) for a, b in zip(first, second))


def test_importing_the_package_does_not_import_torch():
    import subprocess
    import sys

    script = "import sys, tagkit_storage\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
