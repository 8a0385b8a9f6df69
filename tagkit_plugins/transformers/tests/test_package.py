"""Importing the package and its entry point stays cheap; the lazy names resolve."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_loads_neither_torch_nor_transformers():
    script = ("import json, sys, tagkit_transformers, tagkit_transformers.plugin\n"
              "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    modules = {name.split(".")[0] for name in json.loads(out.strip().splitlines()[-1])}
    assert not modules & {"torch", "transformers", "tokenizers"}


def test_lazy_names():
    import tagkit_transformers

    assert {"TransformerWordEmbeddings", "TransformerDocumentEmbeddings",
            "RemoteCodeRefused"} <= set(dir(tagkit_transformers))
    assert tagkit_transformers.TransformerWordEmbeddings.registry_name == "transformer_word"
