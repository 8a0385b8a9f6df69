"""tagkit-embeddings: static and trainable embeddings for tagkit.

``from tagkit_embeddings import WordEmbeddings, CharacterEmbeddings`` gives Flair's classes
under the same names and arguments:

* :class:`WordEmbeddings` (``word``): pretrained vectors, ``'glove'`` offline, Flair's names,
  or a vector file; the model keeps the whole table so a saved model needs no file.
* :class:`CharacterEmbeddings` (``character``): a character BiLSTM per word, trained with the
  model, one dense LSTM pass over the batch's unique words.
* :class:`DocumentRNNEmbeddings` (``document_rnn``) and :class:`DocumentPoolEmbeddings`
  (``document_pool``): sentence vectors for text classifiers.

The names in brackets are registry names (``tagkit components embedding``), used by configs
and model files. Classes load on first access, so importing this package imports neither
torch nor gensim until an embedding is actually used.
"""

from __future__ import annotations

from tagkit_core.lazy import lazy_attributes

__all__ = ["WordEmbeddings", "CharacterEmbeddings", "DocumentRNNEmbeddings",
           "DocumentPoolEmbeddings", "__version__"]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "WordEmbeddings": "tagkit_embeddings.word",
    "CharacterEmbeddings": "tagkit_embeddings.character",
    "DocumentRNNEmbeddings": "tagkit_embeddings.document",
    "DocumentPoolEmbeddings": "tagkit_embeddings.document",
}, "tagkit-embeddings")
