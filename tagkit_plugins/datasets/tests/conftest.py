"""Shared fixtures: no test touches the network, the user's cache or the user's mirror setting."""

from __future__ import annotations

import os
import urllib.error
from pathlib import Path

import pytest

from tagkit_core import files
from tagkit_datasets import download

# The real data, for the integration tests: $TAGKIT_DATASETS_MIRROR, else <repo>/../shared/datasets.
REAL_DATA = Path(
    os.environ.get("TAGKIT_DATASETS_MIRROR")
    or Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Point the cache at a temp folder, unset the mirror, and make any download fail fast.

    Failing fast: every attempt raises at once, and the retries' back-off pauses are skipped.
    """
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TAGKIT_DATASETS_MIRROR", raising=False)

    def no_network(url, timeout=None):
        raise urllib.error.URLError(f"network disabled in tests (asked for {url})")

    monkeypatch.setattr(download, "urlopen", no_network)
    monkeypatch.setattr(files, "sleep", lambda seconds: None)


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not (REAL_DATA / "ud_english_ewt").is_dir():
        pytest.skip(f"the real data sets are not at {REAL_DATA}")
    return REAL_DATA
