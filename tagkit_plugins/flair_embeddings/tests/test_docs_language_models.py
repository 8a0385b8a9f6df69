"""docs/language_models.md: every Python block of the guide runs, in order, on a tiny corpus
in the guide's layout (written here) and the real UD files of the datasets mirror."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flair_lm_helpers import write_corpus

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "language_models.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.integration
def test_the_guides_code_runs(tmp_path, monkeypatch):
    mirror = os.environ.get("TAGKIT_DATASETS_MIRROR", str(ROOT.parent / "shared" / "datasets"))
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", mirror)
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "corpus")
    blocks = BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) == 5, "a block was added or removed: check what this test asserts"
    namespace: dict = {"__name__": "__guide__"}
    for number, code in enumerate(blocks, start=1):
        # The guide's German folder is the mirror's here.
        code = code.replace('"ud_german_gsd"', repr(str(Path(mirror) / "ud_german_gsd")))
        exec(compile(code, f"{GUIDE.name}[block {number}]", "exec"), namespace)
    for run in ("lm-forward", "lm-backward", "lm-forward-fast"):
        assert (tmp_path / run / "best-lm.pt").exists(), run
    assert namespace["result"]["test_perplexity"] > 1  # the bfloat16, two-thread run
    assert namespace["embeddings"].embedding_length == 50 + 256 + 256
    assert len(namespace["corpus"].corpora) == 2 and len(namespace["corpus"].train) > 0
