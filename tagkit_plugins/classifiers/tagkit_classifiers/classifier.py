"""TextClassifier: a document embedding and a linear decoder, single- or multi-label.

Arguments follow Flair's ``TextClassifier`` so the text-classification tutorial ports by changing
imports. The loss is summed over the batch (cross-entropy for one label per text, binary
cross-entropy with logits per class for several) and returned with the number of texts, as the
trainer expects: chunked batches (``mini_batch_chunk_size``) then give the whole batch's gradient.

``label_type=None`` (the tutorial's call, ``TextClassifier(document_embeddings,
label_dictionary=label_dict)``) means "the corpus's own sentence label type": the classifier
takes it from the first sentences it is trained or evaluated on (which must carry exactly one
sentence label type) and records it, so a saved model keeps it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from tagkit_classifiers.metrics import classification_result
from tagkit_classifiers.precision import check_precision, model_precision, thread_precision
from tagkit_core.allocator import freed_memory_kept
from tagkit_core.config_fields import (
    REQUIRED,
    boolean,
    checked_config,
    instance,
    mapping,
    number,
    optional,
    text,
    text_list,
)
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.embeddings import DocumentEmbeddings, longest_first
from tagkit_core.model import Model, Result
from tagkit_core.prediction_streams import check_streams, map_batches
from tagkit_core.storage import StorageMode

__all__ = ["TextClassifier"]

_PREDICTED = "__predicted__"


def sentence_label_types(sentence: Sentence) -> set[str]:
    """The sentence-level label types of ``sentence`` (token labels excluded)."""
    # The core has no public accessor for sentence labels alone (``label_types`` mixes in the
    # tokens' types); Corpus.make_label_dictionary reads the same attribute.
    return set(sentence._labels)


def sentence_labels(sentence: Sentence, label_type: str) -> list[str]:
    """The values of ``sentence``'s own labels of ``label_type`` (never its tokens')."""
    return [label.value for label in sentence._labels.get(label_type, ())]


def _loss_weights(value: Any) -> dict[str, float]:
    """A config check: a JSON object of label -> finite weight >= 0."""
    if not isinstance(value, dict):
        mapping({})(value)  # refuses it as "a JSON object", naming the field
    check = number(0, 1e6)
    return {label: checked_config({label: weight}, {label: (check, REQUIRED)})[label]
            for label, weight in value.items()}


class TextClassifier(Model):
    """Classifies whole sentences (texts): question types, sentiment, topics...

    :param document_embeddings: one vector per text (``DocumentRNNEmbeddings``,
        ``DocumentPoolEmbeddings``, ``TransformerDocumentEmbeddings``...).
    :param label_dictionary: the classes, e.g. ``corpus.make_label_dictionary()``.
    :param label_type: the sentence label type to learn; None takes the corpus's only one.
    :param multi_label: a text may have several labels (one sigmoid per class) instead of one.
    :param multi_label_threshold: a class is predicted when its probability reaches this.
    :param loss_weights: label -> weight in the loss (unnamed labels weigh 1), for imbalance.

    Trains with its document embeddings' ``training_defaults`` unless ``train(...)`` gives
    the option: ``DocumentRNNEmbeddings`` one length group per batch (its RNN runs once per
    group; TREC-6 tutorial recipe: test accuracy 0.762 against 0.822 with two groups at seed
    1, both above Flair's 0.736; docs/benchmarks.md), transformers the trainer's two.
    """

    registry_name = "text_classifier"

    @property
    def training_defaults(self) -> dict[str, Any]:  # type: ignore[override]
        return dict(self.document_embeddings.training_defaults)

    def __init__(self, document_embeddings: DocumentEmbeddings, label_dictionary: Dictionary,
                 label_type: str | None = None, multi_label: bool = False,
                 multi_label_threshold: float = 0.5,
                 loss_weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        if not isinstance(document_embeddings, DocumentEmbeddings):
            raise TypeError("document_embeddings must be DocumentEmbeddings (one vector per "
                            f"text), got {type(document_embeddings).__name__}")
        if not isinstance(label_dictionary, Dictionary):
            # Flair 0.15 takes the label type second: TextClassifier(embeddings, "class").
            hint = (f"; the label type is a keyword here: TextClassifier(document_embeddings, "
                    f"label_dictionary, label_type={label_dictionary!r})"
                    if isinstance(label_dictionary, str) else "")
            raise TypeError(f"label_dictionary must be a Dictionary (from "
                            f"corpus.make_label_dictionary()), got "
                            f"{type(label_dictionary).__name__}{hint}")
        if len(label_dictionary) == 0:
            raise ValueError("the label dictionary is empty: build it with "
                             "corpus.make_label_dictionary()")
        if not 0.0 <= multi_label_threshold <= 1.0:
            raise ValueError(f"multi_label_threshold must be in [0, 1], got "
                             f"{multi_label_threshold!r}")
        self.document_embeddings = document_embeddings
        self.label_dictionary = label_dictionary
        self.label_type = label_type  # type: ignore[assignment]  # None until inferred
        self.multi_label = bool(multi_label)
        self.multi_label_threshold = float(multi_label_threshold)
        self.loss_weights = dict(loss_weights) if loss_weights else None
        weights = torch.ones(len(label_dictionary))
        for label, weight in (self.loss_weights or {}).items():
            if label not in label_dictionary:
                raise ValueError(f"loss_weights names {label!r}, which is not in the label "
                                 f"dictionary ({', '.join(label_dictionary.get_items()[:20])})")
            weights[label_dictionary.get_idx_for_item(label)] = float(weight)
        # Not persistent: the config holds the weights, the state dict only what is trained.
        self.register_buffer("class_weights", weights if self.loss_weights else None,
                             persistent=False)
        self.decoder = nn.Linear(document_embeddings.embedding_length, len(label_dictionary))
        nn.init.xavier_uniform_(self.decoder.weight)

    # -- labels ---------------------------------------------------------------------------------
    def _resolve_label_type(self, sentences: Sequence[Sentence]) -> str:
        """``label_type``, inferred (once, then kept) from the sentences when it is None."""
        if self.label_type is not None:
            return self.label_type
        types: set[str] = set()
        for sentence in sentences:
            types |= sentence_label_types(sentence)
        if len(types) != 1:
            raise ValueError(
                "label_type=None takes the sentences' only sentence label type, but they have "
                f"{sorted(types) or 'none'}; give TextClassifier(label_type=...) explicitly")
        self.label_type = types.pop()
        return self.label_type

    def _targets(self, sentences: Sequence[Sentence], label_type: str, strict: bool
                 ) -> tuple[list[int], torch.Tensor] | None:
        """Rows of the batch that have a gold label and their target tensor.

        Single-label: a text without a label is left out (it has no target); its first label
        counts. Multi-label: every text counts, a text without labels is all-negative. When
        ``strict`` (training) an unknown label, or a batch without any label of the type but
        with others, is a KeyError; otherwise an unknown label gives None (no dev loss).
        """
        rows, targets = [], []
        size = len(self.label_dictionary)
        for row, sentence in enumerate(sentences):
            values = sentence_labels(sentence, label_type)
            unknown = [v for v in values if v not in self.label_dictionary]
            if unknown and not self.label_dictionary.add_unk:
                if not strict:
                    return None
                raise KeyError(f"label {unknown[0]!r} of sentence "
                               f"{sentence.to_plain_string()[:60]!r} is not in the label "
                               f"dictionary ({', '.join(self.label_dictionary.get_items()[:20])})"
                               "; build it with corpus.make_label_dictionary()")
            ids = self.label_dictionary.get_idx_for_items(values)
            if self.multi_label:
                hot = [0.0] * size
                for idx in ids:
                    hot[idx] = 1.0
                rows.append(row)
                targets.append(hot)
            elif ids:
                rows.append(row)
                targets.append(ids[0])
        present = sorted({t for s in sentences for t in sentence_label_types(s)})
        # A whole batch without the label type: a wrong label type, unless multi-label texts
        # without any label (all classes negative) and no other label type either.
        if strict and label_type not in present and (not self.multi_label or present):
            raise KeyError(f"no sentence of the batch has a {label_type!r} label (their sentence "
                           f"label types: {present}); the classifier was built with "
                           f"label_type={label_type!r}")
        dtype = torch.float if self.multi_label else torch.long
        return rows, torch.tensor(targets, dtype=dtype)

    def _loss(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.multi_label:
            weight = self.class_weights.expand_as(scores) if self.class_weights is not None \
                else None
            return nn.functional.binary_cross_entropy_with_logits(
                scores, targets, weight=weight, reduction="sum")
        return nn.functional.cross_entropy(scores, targets, weight=self.class_weights,
                                           reduction="sum")

    # -- training -------------------------------------------------------------------------------
    def forward(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                ) -> torch.Tensor:
        """The decoder's scores (logits), ``(len(sentences), len(label_dictionary))``."""
        return self.decoder(self.document_embeddings(sentences, storage=storage))

    def forward_loss(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                     ) -> tuple[torch.Tensor, int]:
        sentences = [s for s in sentences if len(s)]
        if not sentences:
            return torch.zeros((), device=self.device, requires_grad=True), 0
        label_type = self._resolve_label_type(sentences)
        rows, targets = self._targets(sentences, label_type, strict=True)
        if not rows:
            return torch.zeros((), device=self.device, requires_grad=True), 0
        if len(rows) < len(sentences):
            sentences = [sentences[row] for row in rows]
        scores = self(sentences, storage=storage)
        return self._loss(scores, targets.to(scores.device)), len(rows)

    # -- prediction -----------------------------------------------------------------------------
    def predict(self, sentences: Sentence | Sequence[Sentence], mini_batch_size: int = 32,
                return_probabilities_for_all_classes: bool = False, verbose: bool = False,
                label_name: str | None = None, return_loss: bool = False,
                embedding_storage_mode: str | StorageMode = "none", precision: str = "float32",
                streams: int = 1) -> tuple[float, int] | None:
        """Label each text: ``sentence.get_labels(label_name)`` (default: the label type).

        Single-label: one label, the most probable class, scored by its probability.
        Multi-label: every class whose probability reaches ``multi_label_threshold``.
        ``return_probabilities_for_all_classes`` adds every class as a label with its
        probability, the predicted one(s) first, then by falling probability (Flair adds them
        in dictionary order). Previous labels of ``label_name`` are replaced; empty texts get
        none. With ``return_loss`` the summed loss over texts with a known gold label and
        their number come back.

        ``precision="bfloat16"`` runs the forward pass under ``torch.autocast`` in bfloat16
        (matrix products in bfloat16, the scores back in float32): on CPUs with native
        bfloat16 (AVX512-BF16, AMX) and on GPUs a transformer classifier predicts faster, with
        almost always the same labels (elsewhere it is slower, and a warning says so).
        ``precision="int8"`` (CPU only) runs the linear layers as int8 products with a scale
        per input row (token), faster still, with almost always float32's labels; the kernel
        depends on the CPU (:mod:`tagkit_classifiers.int8_kernels`). Training always runs in
        float32; see :mod:`tagkit_classifiers.precision`.

        ``streams=N`` (CPU only) predicts N mini-batches at once, each in its own thread with
        ``torch.get_num_threads() // N`` torch threads (never more streams than threads), with
        the same labels. It is faster where one batch's products cannot keep every core busy:
        MiniLM on short texts in bfloat16 gained 30 to 38% on two cores, float32 10 to 17%,
        int8 nothing (see :mod:`tagkit_core.prediction_streams`).
        """
        check_precision(precision, self.device)
        check_streams(streams, self.device)
        if isinstance(sentences, Sentence):
            sentences = [sentences]
        sentences = list(sentences)
        label_type = self.label_type
        if label_type is None and (return_loss or label_name is None):
            label_type = self._resolve_label_type(sentences)
        return self._predict(sentences, mini_batch_size, return_probabilities_for_all_classes,
                             verbose, label_name or label_type,
                             label_type if return_loss else None, embedding_storage_mode,
                             precision, streams)

    def _predict(self, sentences: list[Sentence], mini_batch_size: int, all_classes: bool,
                 verbose: bool, label_name: str, loss_label_type: str | None,
                 embedding_storage_mode, precision: str, streams: int = 1
                 ) -> tuple[float, int] | None:
        """``predict`` and ``evaluate``'s pass, in ``precision`` (checked by both); the loss
        (when ``loss_label_type`` is given) is against its labels."""
        todo = longest_first(self.document_embeddings, sentences)
        batches = self.batches(todo, mini_batch_size)
        storage = self.storage_mode(embedding_storage_mode)

        def run(batch: list[Sentence]) -> tuple[int, tuple[float, int] | None]:
            scores = self(batch, storage=storage).float()
            storage.after_batch(batch)
            loss = None
            if loss_label_type is not None:
                loss = self._batch_loss(batch, scores, loss_label_type)
            self._write_labels(batch, scores, label_name, all_classes)
            return len(batch), loss

        loss_sum, count, device = 0.0, 0, self.device
        # freed_memory_kept: a batch's activations reuse the last batch's memory instead of
        # fresh pages faulted in and zeroed (tagkit_core.allocator; docs/benchmarks.md, T)
        with freed_memory_kept(), self.predicting(len(todo), verbose) as advance, \
                model_precision(self, precision):
            for size, loss in map_batches(run, batches, streams,
                                          lambda: thread_precision(device, precision)):
                if loss is not None:  # summed in batch order, whatever the streams
                    loss_sum, count = loss_sum + loss[0], count + loss[1]
                advance(size)
        return (loss_sum, count) if loss_label_type is not None else None

    def _batch_loss(self, batch, scores, label_type: str) -> tuple[float, int]:
        """The batch's summed loss over its texts with a known gold label, and their number."""
        found = self._targets(batch, label_type, strict=False)
        if found is None or not found[0]:
            return 0.0, 0
        rows, targets = found
        picked = scores[torch.tensor(rows, device=scores.device)]
        return self._loss(picked, targets.to(scores.device)).item(), len(rows)

    def _write_labels(self, batch: Sequence[Sentence], scores: torch.Tensor, label_name: str,
                      all_classes: bool) -> None:
        probabilities = torch.sigmoid(scores) if self.multi_label else scores.softmax(dim=1)
        items = self.label_dictionary.idx2item
        for sentence, row in zip(batch, probabilities.tolist()):
            sentence.remove_labels(label_name)
            order = sorted(range(len(row)), key=row.__getitem__, reverse=True)
            if self.multi_label:
                chosen = [i for i in order if row[i] >= self.multi_label_threshold]
            else:
                chosen = order[:1]
            for i in chosen:
                sentence.add_label(label_name, items[i], row[i])
            if all_classes:
                for i in order:
                    if i not in chosen:
                        sentence.add_label(label_name, items[i], row[i])

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, sentences: Sequence[Sentence], gold_label_type: str | None = None,
                 mini_batch_size: int = 32, embedding_storage_mode: str | StorageMode = "none",
                 out_path: str | Path | None = None, precision: str = "float32",
                 streams: int = 1, **kwargs: Any) -> Result:
        """Score predictions against the gold labels (see :mod:`tagkit_classifiers.metrics`).

        Main score: accuracy (single-label) or micro F1 (multi-label); ``scores`` also holds
        ``micro_f1``, ``macro_f1``, ``sample_f1`` (multi-label) and the dev ``loss``. Empty
        texts are not scored. ``out_path`` gets one line per text: text, gold and predicted
        labels, tab-separated (several labels joined by ``|``). ``precision`` and ``streams``
        are ``predict``'s: evaluate a model as it will be run.
        """
        if kwargs:
            raise TypeError(f"evaluate() got unexpected arguments: {', '.join(kwargs)}")
        check_precision(precision, self.device)
        check_streams(streams, self.device)
        sentences = [s for s in sentences if len(s)]
        gold_label_type = gold_label_type or self._resolve_label_type(sentences)
        loss_sum, count = self._predict(sentences, mini_batch_size, False, False, _PREDICTED,
                                        gold_label_type, embedding_storage_mode, precision,
                                        streams)
        gold = [sentence_labels(s, gold_label_type) for s in sentences]
        guessed = [sentence_labels(s, _PREDICTED) for s in sentences]
        for sentence in sentences:
            sentence.remove_labels(_PREDICTED)
        if not self.multi_label:
            gold = [labels[:1] for labels in gold]
        if out_path is not None:
            with open(out_path, "w", encoding="utf-8") as handle:
                for sentence, g, p in zip(sentences, gold, guessed):
                    handle.write(f"{sentence.to_plain_string()}\t{'|'.join(g)}\t{'|'.join(p)}\n")
        return classification_result(gold, guessed, self.multi_label,
                                     loss_sum / count if count else None)

    # -- persistence ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"document_embeddings": self.document_embeddings,
                "label_dictionary": self.label_dictionary.to_dict(),
                "label_type": self.label_type, "multi_label": self.multi_label,
                "multi_label_threshold": self.multi_label_threshold,
                "loss_weights": self.loss_weights}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TextClassifier:
        """Rebuild from a checked config: every field's type and range, no unknown field."""
        config = checked_config(config, {
            "document_embeddings": (instance(DocumentEmbeddings), REQUIRED),
            "label_dictionary": (mapping({"add_unk": (boolean(), REQUIRED),
                                          "items": (text_list(), REQUIRED)}), REQUIRED),
            "label_type": (optional(text()), None), "multi_label": (boolean(), False),
            "multi_label_threshold": (number(0, 1), 0.5),
            "loss_weights": (optional(_loss_weights), None)})
        config["label_dictionary"] = Dictionary.from_dict(config["label_dictionary"])
        return cls(**config)

    def extra_repr(self) -> str:
        return (f"label_type={self.label_type!r}, classes={len(self.label_dictionary)}, "
                f"multi_label={self.multi_label}")
