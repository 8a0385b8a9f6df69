"""tagkit-transformers: Hugging Face transformer embeddings for tagkit.

``from tagkit_transformers import TransformerWordEmbeddings, TransformerDocumentEmbeddings``
gives Flair's classes under the same names and arguments:

* :class:`TransformerWordEmbeddings` (``transformer_word``): a contextual vector per token,
  pooled from its sub-token pieces; long sentences go through overlapping windows.
* :class:`TransformerDocumentEmbeddings` (``transformer_document``): a vector per sentence
  (``[CLS]``, mean or max over the pieces), for text classifiers.

A saved model carries the transformer's configuration and tokenizer files, and its weights
as safetensors, so it opens offline with no Hugging Face cache; models that need their own
code (``auto_map``, ``trust_remote_code``) are refused. Classes load on first access, so
importing this package does not import torch or transformers.
"""

from __future__ import annotations

from tagkit_core.lazy import lazy_attributes

__all__ = ["TransformerWordEmbeddings", "TransformerDocumentEmbeddings", "RemoteCodeRefused",
           "__version__"]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "TransformerWordEmbeddings": "tagkit_transformers.word",
    "TransformerDocumentEmbeddings": "tagkit_transformers.document",
    "RemoteCodeRefused": "tagkit_transformers.files",
}, "tagkit-transformers")
