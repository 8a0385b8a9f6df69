"""TransformerWordEmbeddings: one contextual vector per token from a Hugging Face model.

Flair's class, arguments and defaults. A token's vector pools the vectors of its sub-token
pieces (``subtoken_pooling``: ``first``, ``last``, ``first_last`` concatenated, or ``mean``);
the chosen ``layers`` are concatenated (or averaged with ``layer_mean``). Alignment rules are
in ``alignment.py``, the sliding window for long sentences in ``window.py``, and what a saved
model carries (configuration and tokenizer, never a file reference) in ``files.py``.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from tagkit_core.context import left_context, right_context
from tagkit_core.data import Sentence
from tagkit_core.embeddings import TokenEmbeddings
from tagkit_transformers.alignment import pool
from tagkit_transformers.encoder import (
    Encoded,
    EncoderAccess,
    TransformerEncoder,
    embedding_name,
)

__all__ = ["TransformerWordEmbeddings"]

_POOLINGS = ("first", "last", "first_last", "mean")
_DEFAULTS = {"layers": "-1", "layer_mean": False, "subtoken_pooling": "first",
             "allow_long_sentences": True, "use_context": 0,
             "respect_document_boundaries": True}
#: Words of context on each side for ``use_context=True`` (Flair's FLERT default).
CONTEXT_WORDS = 64


def context_length(use_context: Any) -> int:
    """``use_context`` as a word count per side: True is 64 (Flair's), False or 0 none."""
    if isinstance(use_context, bool):
        return CONTEXT_WORDS if use_context else 0
    if not isinstance(use_context, int) or not 0 <= use_context <= 100_000:
        raise ValueError(f"use_context={use_context!r}: expected True, False or a number of "
                         "words on each side")
    return use_context


class TransformerWordEmbeddings(EncoderAccess, TokenEmbeddings):
    """Contextual token vectors from a transformer (BERT, RoBERTa, MiniLM...).

    :param model: a local Hugging Face model directory (``config.json``, weights,
        ``tokenizer.json``) or a hub name such as ``'bert-base-cased'`` (needs network once).
        It is the embedding's ``name``, with the options that change the vectors appended
        (``'bert-base-cased[layers=-1,-2]'``), so embeddings of one model never share stored
        vectors.
    :param fine_tune: train the transformer with the model; frozen (default) the embedding is
        static, so a storage mode may keep its vectors.
    :param layers: ``"-1"`` (last layer), ``"-1,-2,..."`` or ``"all"`` (every hidden state,
        the embedding output included).
    :param layer_mean: average the chosen layers instead of concatenating them.
    :param subtoken_pooling: how a word's pieces become its vector: ``first``, ``last``,
        ``first_last`` (both, concatenated) or ``mean``.
    :param allow_long_sentences: sentences longer than the model's maximum go through
        overlapping windows (default); with ``False`` they are truncated and the words cut off
        get zero vectors.
    :param use_context: FLERT's document context (Flair's option): each sentence is embedded
        with up to 64 words (or this many, given a number) of the sentences before and after
        it in its corpus file (:mod:`tagkit_core.context`), and its own words' vectors are
        kept. A sentence made on its own has no neighbours, so none.
    :param context_dropout: while fine-tuning, each side's context is left out with this
        probability (Flair's default 0.5), so the model also learns sentences without it; a
        frozen embedding always reads its context, so its vectors can be stored.
    :param respect_document_boundaries: context never crosses into another document
        (``sentence.starts_document``, from CoNLL's ``-DOCSTART-`` or CoNLL-U's ``# newdoc``).
    :param hf_config: with ``tokenizer_files``, rebuild without reading anything (the values
        of :meth:`get_config`; the weights come from the model file afterwards).
    """

    registry_name = "transformer_word"

    def __init__(self, model: str = "bert-base-uncased", fine_tune: bool = False,
                 layers: str = "-1", layer_mean: bool = False, subtoken_pooling: str = "first",
                 allow_long_sentences: bool = True, use_context: bool | int = False,
                 context_dropout: float = 0.5, respect_document_boundaries: bool = True,
                 hf_config: dict[str, Any] | None = None,
                 tokenizer_files: dict[str, str] | None = None) -> None:
        super().__init__()
        if subtoken_pooling not in _POOLINGS:
            raise ValueError(f"subtoken_pooling={subtoken_pooling!r}: expected one of "
                             f"{', '.join(_POOLINGS)}")
        self.context_words = context_length(use_context)
        if isinstance(context_dropout, bool) or not isinstance(context_dropout, (int, float)) \
                or not 0.0 <= context_dropout <= 1.0:
            raise ValueError(f"context_dropout={context_dropout!r}: expected a probability in "
                             "[0, 1]")
        self.context_dropout = float(context_dropout)
        self.respect_document_boundaries = bool(respect_document_boundaries)
        if self.context_words and not allow_long_sentences:
            raise ValueError("use_context needs allow_long_sentences=True: a sentence with its "
                             "context is read through the model's windows, and truncating it "
                             "would cut off the sentence's own words")
        self.model_name = str(model)
        self.subtoken_pooling = subtoken_pooling
        self.allow_long_sentences = bool(allow_long_sentences)
        self.encoder = TransformerEncoder(self.model_name, fine_tune, layers, layer_mean,
                                          hf_config, tokenizer_files)
        self.name = embedding_name(self.model_name, {
            "layers": self.encoder.layers, "layer_mean": self.encoder.layer_mean,
            "subtoken_pooling": subtoken_pooling,
            "allow_long_sentences": self.allow_long_sentences,
            "use_context": self.context_words,
            "respect_document_boundaries": self.respect_document_boundaries}, _DEFAULTS)

    @property
    def embedding_length(self) -> int:
        size = self.encoder.output_size
        return 2 * size if self.subtoken_pooling == "first_last" else size

    def _embed_batch(self, sentences: Sequence[Sentence], storage=None) -> torch.Tensor:
        max_len = max((len(s) for s in sentences), default=0)
        if not sentences or max_len == 0:
            return torch.zeros(len(sentences), max_len, self.embedding_length,
                               device=self.device)
        if self.context_words:
            encoded = self._encode_in_context(sentences)
        else:
            encoded = self.encoder.encode(sentences, self.allow_long_sentences)
        slot = encoded.sentence * max_len + encoded.word
        groups = len(sentences) * max_len
        if self.subtoken_pooling == "first_last":
            words = torch.cat([pool(encoded.vectors, slot, groups, "first"),
                               pool(encoded.vectors, slot, groups, "last")], dim=-1)
        else:
            words = pool(encoded.vectors, slot, groups, self.subtoken_pooling)
        return words.view(len(sentences), max_len, self.embedding_length)

    def _encode_in_context(self, sentences: Sequence[Sentence]) -> Encoded:
        """Each sentence encoded between its neighbours' words; only its own pieces kept,
        their word indexes its own."""
        dropping = self.training and self.fine_tune and self.context_dropout > 0
        expanded, offsets = [], []
        for sentence in sentences:
            sides = [left_context(sentence, self.context_words, self.respect_document_boundaries),
                     right_context(sentence, self.context_words,
                                   self.respect_document_boundaries)]
            if dropping:  # from the seeded generator, as every other training draw
                sides = [[] if torch.rand(()).item() < self.context_dropout else side
                         for side in sides]
            expanded.append(Sentence(sides[0] + [token.text for token in sentence] + sides[1]))
            offsets.append(len(sides[0]))
        encoded = self.encoder.encode(expanded, self.allow_long_sentences)
        device = encoded.word.device
        word = encoded.word - torch.tensor(offsets, device=device)[encoded.sentence]
        lengths = torch.tensor([len(s) for s in sentences], device=device)
        own = (word >= 0) & (word < lengths[encoded.sentence])
        return Encoded(encoded.vectors[own], encoded.sentence[own], word[own], encoded.cls)

    def get_config(self) -> dict[str, Any]:
        encoder = self.encoder
        return {"model": self.model_name, "fine_tune": encoder.fine_tune,
                "layers": encoder.layers, "layer_mean": encoder.layer_mean,
                "subtoken_pooling": self.subtoken_pooling,
                "allow_long_sentences": self.allow_long_sentences,
                "use_context": self.context_words, "context_dropout": self.context_dropout,
                "respect_document_boundaries": self.respect_document_boundaries,
                **encoder.config_fields()}

    def extra_repr(self) -> str:
        encoder = self.encoder
        return (f"{self.model_name!r}, layers={encoder.layers!r}, "
                f"pooling={self.subtoken_pooling!r}, fine_tune={encoder.fine_tune}, "
                f"dim={self.embedding_length}")
