"""tagkit: train sequence labellers and text classifiers; this is the thin core.

Importing ``tagkit_core`` is cheap: it imports neither torch nor any plugin. Submodules load
on first use: ``tagkit_core.data``, ``corpus``, ``embeddings``, ``model``, ``trainer``...
"""

from __future__ import annotations

from tagkit_core.hookspecs import hookimpl
from tagkit_core.lazy import lazy_attributes

__all__ = ["__version__", "hookimpl", "load_model", "Sentence", "Token", "Span", "Label",
           "Dictionary", "Corpus", "MultiCorpus", "set_seed"]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "Sentence": "tagkit_core.data",
    "Token": "tagkit_core.data",
    "Span": "tagkit_core.data",
    "Label": "tagkit_core.data",
    "Dictionary": "tagkit_core.dictionary",
    "Corpus": "tagkit_core.corpus",
    "MultiCorpus": "tagkit_core.corpus",
    "load_model": "tagkit_core.persistence",
    "set_seed": "tagkit_core.seeding",
}, "tagkit-core")
