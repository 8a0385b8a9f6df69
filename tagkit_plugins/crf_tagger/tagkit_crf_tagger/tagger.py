"""SequenceTagger: embeddings -> dropouts -> reprojection -> BiLSTM -> linear -> CRF (or softmax).

Arguments and defaults follow Flair's ``SequenceTagger``, so the tutorial's code runs by changing
imports. The hot path stays in tensors: gold tag ids are computed once per sentence and cached
on it, embeddings come as one padded batch tensor, the CRF is vectorised over batch and tags,
and prediction sorts sentences by length so that batches carry almost no padding.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from tagkit_core.config_fields import (
    REQUIRED,
    boolean,
    checked_config,
    either,
    instance,
    integer,
    mapping,
    number,
    one_of,
    optional,
    text,
    text_list,
)
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.embeddings import TokenEmbeddings, longest_first, pad_ids
from tagkit_core.evaluation import sequence_labelling_result
from tagkit_core.model import Model, Result
from tagkit_core.nn import LockedDropout, WordDropout
from tagkit_core.product_rates import warn_if_bfloat16_is_slow
from tagkit_core.storage import StorageMode
from tagkit_crf_tagger.crf import CRF
from tagkit_crf_tagger.layers import BiRNN
from tagkit_crf_tagger.tag_format import (
    TAG_FORMATS,
    check_tag_format,
    convert_tags,
    scheme_dictionary,
)

__all__ = ["SequenceTagger"]

log = logging.getLogger("tagkit.tagger")

#: ``precision`` names -> the BiLSTM's dtype at prediction (None: the weights' own, float32).
_PRECISIONS: dict[str, torch.dtype | None] = {"float32": None, "bfloat16": torch.bfloat16}


def decode_groups(batches: list[list[Sentence]], positions: int) -> list[list[list[Sentence]]]:
    """Consecutive batches (sorted by falling length) whose padded size stays within
    ``positions`` (sentences x longest length); a batch bigger than that goes alone."""
    groups: list[list[list[Sentence]]] = []
    size = longest = 0
    for batch in batches:
        longest_now = max(longest, max(len(s) for s in batch))
        if groups and (size + len(batch)) * longest_now <= positions:
            groups[-1].append(batch)
            size, longest = size + len(batch), longest_now
        else:
            groups.append([batch])
            size, longest = len(batch), max(len(s) for s in batch)
    return groups


def join_padded(features) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Concatenate ``(scores, lengths, mask)`` of several batches, padding to the longest."""
    if len(features) == 1:
        return features[0]
    width = max(scores.shape[1] for scores, _, _ in features)
    pad = nn.functional.pad
    scores = torch.cat([pad(s, (0, 0, 0, width - s.shape[1])) for s, _, _ in features])
    mask = torch.cat([pad(m, (0, width - m.shape[1])) for _, _, m in features])
    return scores, torch.cat([lengths for _, lengths, _ in features]), mask


class SequenceTagger(Model):
    """A BiLSTM-CRF sequence labeller (POS tags, BIO/BIOES named entities...)."""

    registry_name = "sequence_tagger"
    #: Prediction decodes several mini-batches at once, up to this many padded positions: the
    #: CRF loops over time steps, so one decode over eight batches of similar length costs
    #: about what one batch does (the loop, not the arithmetic, dominates at 17 tags).
    decode_group_positions: int = 16384

    def __init__(self, embeddings: TokenEmbeddings, tag_dictionary: Dictionary, tag_type: str,
                 *, use_rnn: bool = True, rnn_type: str = "LSTM", tag_format: str | None = None,
                 hidden_size: int = 256, rnn_layers: int = 1, bidirectional: bool = True,
                 use_crf: bool = True, reproject_embeddings: bool | int = True,
                 dropout: float = 0.0, word_dropout: float = 0.05,
                 locked_dropout: float = 0.5) -> None:
        """Flair 0.15's arguments, in its order: the embeddings, the tag dictionary and the tag
        type, then the options by keyword (``hidden_size`` is the RNN's, unused without one).
        ``tag_format`` (``"BIO"`` or ``"BIOES"``, span tags only) converts the gold tags to that
        scheme to learn them (:mod:`tagkit_crf_tagger.tag_format`); None, unlike Flair's
        ``"BIOES"`` default, learns the corpus's own tags. Flair's ``rnn`` and
        ``loss_weights`` are not options here."""
        super().__init__()
        if not isinstance(embeddings, TokenEmbeddings):
            hint = "; hidden_size is a keyword (hidden_size=256)" if isinstance(embeddings, int) \
                else ": a tagger needs a vector per token"
            raise TypeError(f"SequenceTagger(embeddings, tag_dictionary, tag_type, ...): the first "
                            f"argument is the token embeddings, got {type(embeddings).__name__}"
                            f"{hint}")
        if not isinstance(tag_dictionary, Dictionary):
            raise TypeError(f"tag_dictionary must be a Dictionary (from "
                            f"corpus.make_tag_dictionary(tag_type)), got "
                            f"{type(tag_dictionary).__name__}")
        if len(tag_dictionary) == 0:
            raise ValueError("the tag dictionary is empty: build it with "
                             "corpus.make_tag_dictionary(tag_type)")
        self.tag_format = check_tag_format(tag_format, tag_dictionary, tag_type)
        if self.tag_format is not None:
            tag_dictionary = scheme_dictionary(tag_dictionary, self.tag_format)
        self.hidden_size = hidden_size
        self.embeddings = embeddings
        self.tag_dictionary = tag_dictionary
        self.tag_type = self.label_type = tag_type
        self.use_crf, self.use_rnn = use_crf, use_rnn
        self.rnn_layers, self.rnn_type, self.bidirectional = rnn_layers, rnn_type, bidirectional
        self.reproject_embeddings = reproject_embeddings
        self.dropout_rate, self.word_dropout_rate = dropout, word_dropout
        self.locked_dropout_rate = locked_dropout
        items = "\x00".join(tag_dictionary.get_items()).encode()
        self._tag_cache_key = (f"crf_tagger.tags:{tag_type}:{self.tag_format}:"
                               f"{hashlib.sha1(items).hexdigest()[:12]}")

        size = embeddings.embedding_length
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.word_dropout = WordDropout(word_dropout)
        self.locked_dropout = LockedDropout(locked_dropout)
        if reproject_embeddings:
            target = size if reproject_embeddings is True else int(reproject_embeddings)
            self.embedding2nn = nn.Linear(size, target)
            size = target
        if use_rnn:
            self.rnn = BiRNN(size, hidden_size, rnn_layers, rnn_type, bidirectional)
            size = self.rnn.output_size
        self.linear = nn.Linear(size, len(tag_dictionary))
        if use_crf:
            self.crf = CRF(len(tag_dictionary))

    # -- network --------------------------------------------------------------------------------
    def _features(self, sentences: Sequence[Sentence], storage: StorageMode | None,
                  rnn_dtype: torch.dtype | None = None):
        embedded = self.embeddings(sentences, storage=storage)
        lengths = torch.tensor([len(s) for s in sentences], dtype=torch.long)
        mask = torch.arange(embedded.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
        mask = mask.to(embedded.device)
        x = self.locked_dropout(self.word_dropout(self.dropout(embedded)))
        if self.reproject_embeddings:
            x = self.embedding2nn(x)
        if self.use_rnn:
            x = self.rnn(x, lengths, dtype=rnn_dtype)
            x = self.locked_dropout(self.word_dropout(self.dropout(x)))
        return self.linear(x), lengths.to(embedded.device), mask

    def _gold_tags(self, sentences: Sequence[Sentence], max_len: int,
                   strict: bool = True) -> torch.Tensor | None:
        rows = []
        for sentence in sentences:
            ids = sentence.cache.get(self._tag_cache_key)
            if ids is None:
                tags = self._in_format([token.get_tag(self.tag_type) for token in sentence])
                unknown = [t for t in tags if t not in self.tag_dictionary]
                if unknown and not self.tag_dictionary.add_unk:
                    if not strict:
                        return None
                    if not any(token.has_label(self.tag_type) for token in sentence):
                        present = sorted({t for token in sentence for t in token.label_types})
                        raise KeyError(
                            f"sentence {sentence.to_plain_string()[:60]!r} has no "
                            f"{self.tag_type!r} tags (its tokens have {present}): the tagger "
                            f"was built with tag_type={self.tag_type!r}; use the tag type the "
                            "corpus has and that the tag dictionary was made from")
                    raise KeyError(
                        f"tag {unknown[0]!r} of sentence {sentence.to_plain_string()[:60]!r} is "
                        f"not in the tag dictionary ({len(self.tag_dictionary)} tags); build the "
                        "dictionary over every split with corpus.make_tag_dictionary")
                ids = sentence.cache[self._tag_cache_key] = \
                    list(self.tag_dictionary.get_idx_for_items(tags))
            rows.append(ids)
        return pad_ids(rows, max_len)

    def _in_format(self, tags: list[str]) -> list[str]:
        """Gold tags in the scheme the tagger learns (the corpus's own without tag_format)."""
        return tags if self.tag_format is None else convert_tags(tags, self.tag_format)

    def _loss(self, scores, lengths, mask, tags) -> torch.Tensor:
        if self.use_crf:
            return self.crf.neg_log_likelihood(scores, tags, mask, lengths).sum()
        return nn.functional.cross_entropy(scores[mask], tags[mask], reduction="sum")

    def forward_loss(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                     ) -> tuple[torch.Tensor, int]:
        sentences = [s for s in sentences if len(s)]
        if not sentences:
            return torch.zeros((), device=self.device, requires_grad=True), 0
        scores, lengths, mask = self._features(sentences, storage)
        tags = self._gold_tags(sentences, scores.shape[1]).to(scores.device)
        return self._loss(scores, lengths, mask, tags), int(lengths.sum())

    # -- prediction -----------------------------------------------------------------------------
    def predict(self, sentences: Sentence | Sequence[Sentence], mini_batch_size: int = 32,
                return_probabilities_for_all_classes: bool = False, verbose: bool = False,
                label_name: str | None = None, return_loss: bool = False,
                embedding_storage_mode: str | StorageMode = "none",
                precision: str = "float32") -> tuple[float, int] | None:
        """Tag the sentences: each token gets a label ``label_name`` (default: the tag type).

        Empty sentences get no labels. With ``return_probabilities_for_all_classes`` each
        sentence's ``cache["<label_name>_distribution"]`` holds, per token, a dict of every
        tag's probability. With ``return_loss`` the summed loss and token count come back.

        ``precision="bfloat16"`` runs the BiLSTM, most of prediction's time, on a bfloat16
        copy of its weights; embeddings, projections and the CRF stay float32. On CPUs with
        native bfloat16 (AVX512-BF16, AMX) glove-only prediction is about 1.3x faster and the
        tags almost always the same (UD English EWT test: 6 of 25,094 tags differ, accuracy
        0.8276 either way; docs/benchmarks.md); elsewhere it is slower, and a warning says so
        (measured once per process, :mod:`tagkit_core.product_rates`). Training always runs
        in float32.
        """
        return self._predict(sentences, mini_batch_size=mini_batch_size,
                             all_classes=return_probabilities_for_all_classes, verbose=verbose,
                             label_name=label_name or self.tag_type, return_loss=return_loss,
                             embedding_storage_mode=embedding_storage_mode, confidences=True,
                             precision=precision)

    def _predict(self, sentences, *, mini_batch_size: int, all_classes: bool, verbose: bool,
                 label_name: str, return_loss: bool, embedding_storage_mode,
                 confidences: bool, precision: str) -> tuple[float, int] | None:
        """``predict``; without ``confidences`` (evaluation) the CRF marginals are skipped and
        every label's score is 1.0 (a tenth of the time with glove alone)."""
        if isinstance(sentences, Sentence):
            sentences = [sentences]
        rnn_dtype = _PRECISIONS.get(precision)
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {sorted(_PRECISIONS)}, got {precision!r}")
        if rnn_dtype is not None:
            warn_if_bfloat16_is_slow(self.device, "SequenceTagger.predict(precision='bfloat16')")
        todo = longest_first(self.embeddings, sentences)
        batches = self.batches(todo, mini_batch_size)
        storage = self.storage_mode(embedding_storage_mode)
        loss_sum, count = 0.0, 0
        with self.predicting(len(todo), verbose) as advance:
            for group in decode_groups(batches, self.decode_group_positions):
                sentences = [sentence for batch in group for sentence in batch]
                features = []
                for batch in group:
                    features.append(self._features(batch, storage, rnn_dtype))
                    storage.after_batch(batch)
                scores, lengths, mask = join_padded(features)
                if return_loss:
                    tags = self._gold_tags(sentences, scores.shape[1], strict=False)
                    if tags is not None:
                        loss_sum += self._loss(scores, lengths, mask,
                                               tags.to(scores.device)).item()
                        count += int(lengths.sum())
                self._write_labels(sentences, scores, mask, label_name, all_classes,
                                   confidences)
                advance(len(sentences))
        return (loss_sum, count) if return_loss else None

    def _write_labels(self, batch, scores, mask, label_name: str, all_classes: bool,
                      confidences: bool = True) -> None:
        probabilities = None
        if self.use_crf:
            paths = self.crf.viterbi_decode(scores, mask)
            if confidences or all_classes:
                probabilities = self.crf.marginals(scores, mask)
        else:
            probabilities = torch.softmax(scores, dim=2)
            paths = probabilities.argmax(dim=2)
        if probabilities is None:
            rows = [[1.0] * len(sentence) for sentence in batch]
        else:
            rows = probabilities.gather(2, paths.unsqueeze(2)).squeeze(2).tolist()
        items = self.tag_dictionary.idx2item
        for sentence, path, row in zip(batch, paths.tolist(), rows):
            for token, tag, score in zip(sentence.tokens, path, row):
                token.add_label(label_name, items[tag], score)
        if all_classes:
            for row, sentence in enumerate(batch):
                table = probabilities[row, : len(sentence)].tolist()
                sentence.cache[f"{label_name}_distribution"] = [
                    dict(zip(items, values)) for values in table]

    def evaluate(self, sentences: Sequence[Sentence], gold_label_type: str | None = None,
                 mini_batch_size: int = 32, embedding_storage_mode: str | StorageMode = "none",
                 out_path: str | Path | None = None, precision: str = "float32",
                 **kwargs: Any) -> Result:
        """Score predictions against gold tags: accuracy, or span F1 for BIO/BIOES tags.

        ``precision`` is ``predict``'s: evaluate a model as it will be run.
        """
        gold_label_type = gold_label_type or self.tag_type
        predicted = "__predicted__"
        loss_sum, count = self._predict(sentences, mini_batch_size=mini_batch_size,
                                        all_classes=False, verbose=False, label_name=predicted,
                                        return_loss=True,
                                        embedding_storage_mode=embedding_storage_mode,
                                        confidences=False, precision=precision)
        gold, guessed = [], []
        for sentence in sentences:
            if len(sentence):
                gold.append(self._in_format([t.get_tag(gold_label_type) for t in sentence]))
                guessed.append([t.get_tag(predicted) for t in sentence])
        unknown = sorted({tag for tags in gold for tag in tags} - set(self.tag_dictionary.idx2item))
        if unknown:
            log.warning("the gold tags %s are not in the tag dictionary, so no loss is computed "
                        "over these sentences and those tags always count as errors; build the "
                        "dictionary over every split (corpus.make_tag_dictionary)", unknown[:10])
        if out_path is not None:
            with open(out_path, "w", encoding="utf-8") as handle:
                for sentence, g, p in zip((s for s in sentences if len(s)), gold, guessed):
                    handle.writelines(f"{t.text} {gt} {pt}\n" for t, gt, pt in zip(sentence, g, p))
                    handle.write("\n")
        for sentence in sentences:
            for token in sentence:
                token.remove_label(predicted)
        return sequence_labelling_result(gold, guessed, loss_sum / count if count else None)

    # -- persistence ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"hidden_size": self.hidden_size, "embeddings": self.embeddings,
                "tag_dictionary": self.tag_dictionary.to_dict(), "tag_type": self.tag_type,
                "tag_format": self.tag_format,
                "use_crf": self.use_crf, "use_rnn": self.use_rnn, "rnn_layers": self.rnn_layers,
                "rnn_type": self.rnn_type, "bidirectional": self.bidirectional,
                "reproject_embeddings": self.reproject_embeddings, "dropout": self.dropout_rate,
                "word_dropout": self.word_dropout_rate,
                "locked_dropout": self.locked_dropout_rate}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SequenceTagger:
        """Rebuild from a checked config: every field's type and range, no unknown field."""
        size = integer(1, 65536)
        rate = number(0, 1)
        config = checked_config(config, {
            "hidden_size": (size, REQUIRED), "embeddings": (instance(TokenEmbeddings), REQUIRED),
            "tag_dictionary": (mapping({"add_unk": (boolean(), REQUIRED),
                                        "items": (text_list(), REQUIRED)}), REQUIRED),
            "tag_type": (text(), REQUIRED), "tag_format": (optional(one_of(*TAG_FORMATS)), None),
            "use_crf": (boolean(), True),
            "use_rnn": (boolean(), True), "rnn_layers": (integer(1, 64), 1),
            "rnn_type": (one_of("LSTM", "GRU", "RNN", "lstm", "gru", "rnn"), "LSTM"),
            "bidirectional": (boolean(), True),
            "reproject_embeddings": (either(boolean(), size), True), "dropout": (rate, 0.0),
            "word_dropout": (rate, 0.05), "locked_dropout": (rate, 0.5)})
        config["tag_dictionary"] = Dictionary.from_dict(config["tag_dictionary"])
        return cls(**config)
