"""docs/loggers.md runs as written: its Python blocks, in order, on a small UD English sample.

The page is not a ``tutorial_*.md`` (test_docs_tutorials.py) because it needs the
tagkit-loggers plugin and its extras; this test checks what the page claims on top of running.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from markdown_blocks import code_blocks  # noqa: E402

PAGE = Path(__file__).resolve().parent.parent / "docs" / "loggers.md"


@pytest.mark.integration
def test_loggers_page_runs(tmp_path, monkeypatch):
    mirror = os.environ.get("TAGKIT_DATASETS_MIRROR",
                            str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", mirror)
    monkeypatch.chdir(tmp_path)
    before = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    namespace: dict = {"__name__": "__docs_loggers__"}
    blocks = code_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    try:
        for number, code in enumerate(blocks, start=1):
            exec(compile(code, f"loggers.md[block {number}]", "exec"), namespace)
    finally:  # the page sets it for reading the store back
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = before

    logged = Path("resources/taggers/logged")
    assert [e.step for e in namespace["events"].Scalars("train/loss")] == [1, 2]
    assert namespace["run"].data.metrics["test_score"] == pytest.approx(
        namespace["result"]["test_score"])
    assert (logged / "loss.tsv").exists()
    assert list(Path("resources/tensorboard/steps/batches").glob("events.out.tfevents.*"))
    assert list(Path("resources/mlruns").glob("*/*/metrics/batch_loss")) == []
    lines = Path("resources/taggers/jsonl/metrics.jsonl").read_text().splitlines()
    assert lines[0].startswith('{"epoch": 1') and lines[-1].startswith('{"test_score"')
