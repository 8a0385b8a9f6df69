"""Fixtures of the classifier tests; ``classifier_toy_data.py`` beside this file holds the toy data.

Tests run with ``--import-mode=importlib``, which puts no test folder on ``sys.path``; this
folder is added so the test modules can import ``classifier_toy_data`` by name.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from classifier_toy_data import VOCAB, ToyDocumentEmbeddings, make_texts  # noqa: E402

from tagkit_core.corpus import Corpus  # noqa: E402
from tagkit_core.registry import get_registry  # noqa: E402


@pytest.fixture(autouse=True)
def _register_toy_document_embeddings():
    """Model files name their embedding; the (possibly fresh) registry must know this one."""
    get_registry().add("embedding", ToyDocumentEmbeddings, plugin="tests")


@pytest.fixture
def toy_corpus() -> Corpus:
    return Corpus(make_texts(90, 1), make_texts(15, 2), make_texts(15, 3), name="toy")


@pytest.fixture
def toy_document():
    """A factory: ``toy_document()`` builds a fresh toy document embedding."""
    return lambda dim=8: ToyDocumentEmbeddings(VOCAB, dim)
