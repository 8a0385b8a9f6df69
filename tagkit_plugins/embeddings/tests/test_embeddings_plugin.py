"""The plugin: registered through its entry point, cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

from tagkit_core.registry import get_registry


def test_the_registry_finds_every_embedding_through_the_entry_point():
    registry = get_registry()
    found = {c.name: c for c in registry.components("embedding")
             if c.distribution == "tagkit-embeddings"}
    assert sorted(found) == ["character", "document_pool", "document_rnn", "word"]
    from tagkit_embeddings import CharacterEmbeddings, WordEmbeddings

    assert found["word"].obj is WordEmbeddings
    assert found["character"].obj is CharacterEmbeddings
    assert found["word"].plugin == "embeddings"


def test_importing_the_package_imports_neither_torch_nor_gensim():
    script = ("import json, sys, tagkit_embeddings\n"
              "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    modules = set(json.loads(out))
    assert "gensim" not in modules and "torch" not in modules


def test_using_a_class_still_does_not_import_gensim():
    script = ("import json, sys\nfrom tagkit_embeddings import CharacterEmbeddings\n"
              "CharacterEmbeddings()\n"
              "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert "gensim" not in set(json.loads(out))
