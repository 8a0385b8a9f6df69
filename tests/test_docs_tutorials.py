"""Every Python block of the user tutorials in docs/ runs, in order, on the real (small) data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from markdown_blocks import code_blocks  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
TUTORIALS = sorted(DOCS.glob("tutorial_*.md"))


def test_there_are_tutorials_to_run():
    assert TUTORIALS, "docs/tutorial_*.md is missing"


@pytest.mark.integration
@pytest.mark.parametrize("page", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_code_runs(page, tmp_path, monkeypatch):
    mirror = os.environ.get("TAGKIT_DATASETS_MIRROR",
                            str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", mirror)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__tutorial__"}
    blocks = code_blocks(page.read_text(encoding="utf-8"))
    assert blocks
    for number, code in enumerate(blocks, start=1):
        exec(compile(code, f"{page.name}[block {number}]", "exec"), namespace)
    if page.name == "tutorial_training.md":
        assert 0.0 <= namespace["result"]["test_score"] <= 1.0
        assert len(namespace["tag_dictionary"]) > 0
        assert Path("resources/taggers/example-ner/checkpoint.pt").exists()
        # docs/model_card.md reads the POS model this tutorial has just trained.
        guide = DOCS / "model_card.md"
        for number, code in enumerate(code_blocks(guide.read_text(encoding="utf-8")), 1):
            exec(compile(code, f"{guide.name}[block {number}]", "exec"), namespace)
        assert 0.0 < namespace["card"]["test"]["main_score"] <= 1.0
        assert namespace["tagger"].model_card == namespace["card"]
