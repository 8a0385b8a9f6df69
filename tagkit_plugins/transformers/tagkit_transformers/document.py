"""TransformerDocumentEmbeddings: one vector per sentence from a Hugging Face model.

Flair's class and defaults (fine-tuned by default, for text classifiers). ``cls_pooling``:

* ``cls``: the vector at the first position, the ``[CLS]`` token for BERT-style models (for a
  sentence longer than the model's maximum, the first window's);
* ``mean`` / ``max``: over the sentence's real sub-tokens only, no special token, no padding
  (each piece read from the window where it has most context, as for word embeddings).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from tagkit_core.data import Sentence
from tagkit_core.embeddings import DocumentEmbeddings
from tagkit_transformers.alignment import pool
from tagkit_transformers.encoder import EncoderAccess, TransformerEncoder, embedding_name

__all__ = ["TransformerDocumentEmbeddings"]

_POOLINGS = ("cls", "mean", "max")


class TransformerDocumentEmbeddings(EncoderAccess, DocumentEmbeddings):
    """Sentence vectors from a transformer.

    :param model: a local Hugging Face model directory or a hub name (see
        :class:`~tagkit_transformers.TransformerWordEmbeddings`). The ``name`` is the model
        with the pooling and changed options appended (``'bert-base-cased[document-cls]'``),
        never a word embedding's name, so stored vectors never mix.
    :param fine_tune: train the transformer with the classifier (default, as in Flair).
    :param layers: ``"-1"``, ``"-1,-2,..."`` or ``"all"``.
    :param layer_mean: average the chosen layers instead of concatenating them.
    :param cls_pooling: ``cls``, ``mean`` or ``max`` (see the module doc).
    :param hf_config: with ``tokenizer_files``, rebuild from :meth:`get_config` values alone.
    """

    registry_name = "transformer_document"

    def __init__(self, model: str = "bert-base-uncased", fine_tune: bool = True,
                 layers: str = "-1", layer_mean: bool = False, cls_pooling: str = "cls",
                 hf_config: dict[str, Any] | None = None,
                 tokenizer_files: dict[str, str] | None = None) -> None:
        super().__init__()
        if cls_pooling not in _POOLINGS:
            raise ValueError(f"cls_pooling={cls_pooling!r}: expected one of "
                             f"{', '.join(_POOLINGS)}")
        self.model_name = str(model)
        self.cls_pooling = cls_pooling
        self.encoder = TransformerEncoder(self.model_name, fine_tune, layers, layer_mean,
                                          hf_config, tokenizer_files)
        self.name = embedding_name(
            self.model_name, {"layers": self.encoder.layers, "layer_mean": self.encoder.layer_mean},
            {"layers": "-1", "layer_mean": False}, tag=f"document-{cls_pooling}")

    @property
    def embedding_length(self) -> int:
        return self.encoder.output_size

    def _embed_batch(self, sentences: Sequence[Sentence], storage=None) -> torch.Tensor:
        if not sentences:
            return torch.zeros(0, self.embedding_length, device=self.device)
        encoded = self.encoder.encode(sentences, cls_only=self.cls_pooling == "cls")
        if self.cls_pooling == "cls":
            return encoded.cls
        return pool(encoded.vectors, encoded.sentence, len(sentences), self.cls_pooling)

    def get_config(self) -> dict[str, Any]:
        encoder = self.encoder
        return {"model": self.model_name, "fine_tune": encoder.fine_tune,
                "layers": encoder.layers, "layer_mean": encoder.layer_mean,
                "cls_pooling": self.cls_pooling, **encoder.config_fields()}

    def extra_repr(self) -> str:
        encoder = self.encoder
        return (f"{self.model_name!r}, layers={encoder.layers!r}, pooling={self.cls_pooling!r}, "
                f"fine_tune={encoder.fine_tune}, dim={self.embedding_length}")
