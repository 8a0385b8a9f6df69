"""Document embeddings built on token embeddings: an RNN over the words, or a pooling.

Both follow Flair's semantics so the text-classification tutorial ports unchanged:

* :class:`DocumentRNNEmbeddings` runs a GRU or LSTM over the (optionally re-projected) word
  vectors (a bidirectional one on packed sequences; padding never reaches the vectors it
  returns, see ``_run_rnn``), and returns its output at
  the sentence's last word (the final state); a bidirectional RNN returns the outputs at the
  first and the last word side by side, ``4 * hidden_size`` numbers, as Flair does.
* :class:`DocumentPoolEmbeddings` takes the mean, max or min of the word vectors over the
  sentence's real tokens (padding is masked), optionally after a trainable linear map.

The token embeddings are wrapped in the core's ``StackedEmbeddings``, so static ones (GloVe)
are still computed once per sentence and kept according to the storage mode. Both save their
token embeddings as nested components (the objects in ``get_config``; persistence writes them
as specs and builds them before ``from_config``), as the stack does.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from tagkit_core.config_fields import (
    REQUIRED,
    boolean,
    checked_config,
    instances,
    integer,
    number,
    one_of,
    optional,
)
from tagkit_core.data import Sentence
from tagkit_core.dropout import IntegerMaskDropout
from tagkit_core.embeddings import DocumentEmbeddings, StackedEmbeddings, TokenEmbeddings
from tagkit_core.nn import LockedDropout, WordDropout
from tagkit_core.storage import StorageMode
from tagkit_embeddings.gru import rnn_outputs

__all__ = ["DocumentRNNEmbeddings", "DocumentPoolEmbeddings"]

TokenEmbeddingsArg = TokenEmbeddings | Sequence[TokenEmbeddings]


def _stack(embeddings: TokenEmbeddingsArg) -> StackedEmbeddings:
    """A StackedEmbeddings from one embedding, a list of them, or a stack (whose parts are used)."""
    if isinstance(embeddings, StackedEmbeddings):
        parts = list(embeddings.embeddings)
    elif isinstance(embeddings, TokenEmbeddings):
        parts = [embeddings]
    else:
        parts = list(embeddings)
    return StackedEmbeddings(parts)


def _token_tensor(stack: StackedEmbeddings, sentences: Sequence[Sentence],
                  storage: StorageMode | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The padded word vectors ``(batch, max(1, max_len), dim)`` and the lengths (on CPU);
    the token embeddings store (or not) under the run's ``storage`` mode."""
    lengths = torch.tensor([len(s) for s in sentences], dtype=torch.long)
    x = stack(sentences, storage=storage)
    if x.shape[1] == 0:  # every sentence empty: one zero step keeps the shapes valid
        x = x.new_zeros(x.shape[0], 1, x.shape[2])
    return x, lengths


def _inner_lengths(self, sentences: Sequence[Sentence]) -> list[int]:
    """``batching_lengths`` of a document embedding over token embeddings: theirs."""
    return self.embeddings.batching_lengths(sentences)


class DocumentRNNEmbeddings(DocumentEmbeddings):
    """A sentence vector from an RNN over its word vectors (Flair's DocumentRNNEmbeddings).

    :param embeddings: the token embeddings to read (a list, one, or a StackedEmbeddings).
    :param hidden_size: RNN state size; the vector has ``hidden_size`` numbers, or
        ``4 * hidden_size`` when ``bidirectional``.
    :param rnn_layers: stacked RNN layers.
    :param reproject_words: pass the word vectors through a trainable linear layer first
        (lets the model adapt frozen vectors such as GloVe).
    :param reproject_words_dimension: output size of that layer (default: unchanged).
    :param dropout: dropout before and after the RNN (0 disables).
    :param word_dropout: probability of dropping a whole word vector.
    :param locked_dropout: variational dropout before and after the RNN.
    :param rnn_type: ``'GRU'`` or ``'LSTM'``.
    """

    registry_name = "document_rnn"
    #: One length group per batch: the RNN runs once per group, and a second pass per batch
    #: costs more than the padding it saves (TREC-6, tutorial recipe: the epoch's CPU time
    #: 2.6 s instead of 3.7 s; docs/benchmarks.md).
    training_defaults = {"length_groups_per_batch": 1}

    def __init__(self, embeddings: TokenEmbeddingsArg, hidden_size: int = 128,
                 rnn_layers: int = 1, reproject_words: bool = True,
                 reproject_words_dimension: int | None = None, bidirectional: bool = False,
                 dropout: float = 0.5, word_dropout: float = 0.0, locked_dropout: float = 0.0,
                 rnn_type: str = "GRU") -> None:
        super().__init__()
        rnn_class = {"GRU": nn.GRU, "LSTM": nn.LSTM}.get(str(rnn_type).upper())
        if rnn_class is None:
            raise ValueError(f"rnn_type must be 'GRU' or 'LSTM', not {rnn_type!r}")
        self.embeddings = _stack(embeddings)
        self.hidden_size, self.rnn_layers = int(hidden_size), int(rnn_layers)
        self.reproject_words, self.bidirectional = bool(reproject_words), bool(bidirectional)
        self.reproject_words_dimension = reproject_words_dimension
        self.dropout_rate, self.word_dropout_rate = float(dropout), float(word_dropout)
        self.locked_dropout_rate, self.rnn_type = float(locked_dropout), str(rnn_type).upper()

        input_size = self.embeddings.embedding_length
        if self.reproject_words:
            output = reproject_words_dimension or input_size
            self.word_reprojection_map = nn.Linear(input_size, output)
            nn.init.xavier_uniform_(self.word_reprojection_map.weight)
            input_size = output
        self.rnn = rnn_class(input_size, self.hidden_size, num_layers=self.rnn_layers,
                             bidirectional=self.bidirectional, batch_first=True)
        # nn.Dropout's behaviour with cheaper masks (tagkit_core.dropout says why).
        self.dropout = IntegerMaskDropout(self.dropout_rate) if self.dropout_rate > 0 else None
        self.word_dropout = WordDropout(self.word_dropout_rate) \
            if self.word_dropout_rate > 0 else None
        self.locked_dropout = LockedDropout(self.locked_dropout_rate) \
            if self.locked_dropout_rate > 0 else None
        self.name = f"document_{self.rnn_type.lower()}"

    batching_lengths = _inner_lengths

    @property
    def embedding_length(self) -> int:
        return self.hidden_size * (4 if self.bidirectional else 1)

    def _embed_batch(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                     ) -> torch.Tensor:
        x, lengths = _token_tensor(self.embeddings, sentences, storage)
        if self.dropout is not None:
            x = self.dropout(x)
        if self.locked_dropout is not None:
            x = self.locked_dropout(x)
        if self.word_dropout is not None:
            x = self.word_dropout(x)
        if self.reproject_words:
            x = self.word_reprojection_map(x)
        output = self._run_rnn(x, lengths)
        rows = torch.arange(len(sentences), device=output.device)
        last = output[rows, (lengths.clamp(min=1) - 1).to(output.device)]
        # The steps read, (batch, 1 or 2, features): dropout goes on them, not on every step's
        # output. Each element is dropped independently, and locked dropout's mask is shared
        # by all steps, so the picked vectors are dropped exactly as before, with 1/length of
        # the work.
        picked = torch.stack([output[:, 0], last], dim=1) if self.bidirectional \
            else last.unsqueeze(1)
        if self.dropout is not None:
            picked = self.dropout(picked)
        if self.locked_dropout is not None:
            picked = self.locked_dropout(picked)
        return picked.flatten(1)

    def _run_rnn(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The RNN's outputs ``(batch, steps, directions * hidden)``; padding never reaches the
        vectors read from them.

        A one-way RNN reads left to right, so its output at a sentence's last word never saw
        the padding after it: the padded batch goes in as it is, and PyTorch's CPU RNN then
        computes the input projections of all steps in one matrix product (with packed input,
        one small product per step). A bidirectional RNN's backward direction would start in
        the padding: it runs on packed sequences. A one-way GRU on the CPU trains through
        :func:`~tagkit_embeddings.gru.gru_outputs`: the same equations, with a backward of
        three operations per step.
        """
        if not self.bidirectional:
            return rnn_outputs(self.rnn, x)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.clamp(min=1), batch_first=True,
                                                   enforce_sorted=False)
        output, _ = self.rnn(packed)
        return nn.utils.rnn.pad_packed_sequence(output, batch_first=True)[0]

    def get_config(self) -> dict[str, Any]:
        return {"embeddings": list(self.embeddings.embeddings), "hidden_size": self.hidden_size,
                "rnn_layers": self.rnn_layers, "reproject_words": self.reproject_words,
                "reproject_words_dimension": self.reproject_words_dimension,
                "bidirectional": self.bidirectional, "dropout": self.dropout_rate,
                "word_dropout": self.word_dropout_rate,
                "locked_dropout": self.locked_dropout_rate, "rnn_type": self.rnn_type}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DocumentRNNEmbeddings:
        size = integer(1, 65536)
        config = checked_config(config, {
            "embeddings": (instances(TokenEmbeddings), REQUIRED), "hidden_size": (size, 128),
            "rnn_layers": (integer(1, 64), 1), "reproject_words": (boolean(), True),
            "reproject_words_dimension": (optional(size), None),
            "bidirectional": (boolean(), False), "dropout": (number(0, 1), 0.5),
            "word_dropout": (number(0, 1), 0.0), "locked_dropout": (number(0, 1), 0.0),
            "rnn_type": (one_of("GRU", "LSTM"), "GRU")})
        return cls(**config)


class DocumentPoolEmbeddings(DocumentEmbeddings):
    """A sentence vector pooled from its word vectors (Flair's DocumentPoolEmbeddings).

    :param embeddings: the token embeddings to pool (a list, one, or a StackedEmbeddings).
    :param fine_tune_mode: ``'none'``; ``'linear'`` adds a trainable square map (initialised to
        the identity) before pooling; ``'nonlinear'`` adds a ReLU and a second linear layer.
    :param pooling: ``'mean'``, ``'max'`` or ``'min'`` over the real tokens.

    With ``fine_tune_mode='none'`` and static token embeddings the result is static too, so the
    core stores it on the sentence and the storage mode can keep it across epochs.
    """

    registry_name = "document_pool"

    def __init__(self, embeddings: TokenEmbeddingsArg, fine_tune_mode: str = "none",
                 pooling: str = "mean") -> None:
        super().__init__()
        if pooling not in ("mean", "max", "min"):
            raise ValueError(f"pooling must be 'mean', 'max' or 'min', not {pooling!r}")
        if fine_tune_mode not in ("none", "linear", "nonlinear"):
            raise ValueError("fine_tune_mode must be 'none', 'linear' or 'nonlinear', "
                             f"not {fine_tune_mode!r}")
        self.embeddings = _stack(embeddings)
        self.pooling, self.fine_tune_mode = pooling, fine_tune_mode
        length = self.embeddings.embedding_length
        if fine_tune_mode in ("linear", "nonlinear"):
            self.embedding_flex = nn.Linear(length, length, bias=False)
            with torch.no_grad():
                self.embedding_flex.weight.copy_(torch.eye(length))
        if fine_tune_mode == "nonlinear":
            self.embedding_flex_nonlinear = nn.ReLU()
            self.embedding_flex_nonlinear_map = nn.Linear(length, length)
        self.name = f"document_{pooling}"

    batching_lengths = _inner_lengths

    @property
    def embedding_length(self) -> int:
        return self.embeddings.embedding_length

    def _embed_batch(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                     ) -> torch.Tensor:
        x, lengths = _token_tensor(self.embeddings, sentences, storage)
        if self.fine_tune_mode in ("linear", "nonlinear"):
            x = self.embedding_flex(x)
        if self.fine_tune_mode == "nonlinear":
            x = self.embedding_flex_nonlinear_map(self.embedding_flex_nonlinear(x))
        lengths = lengths.to(x.device)
        mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None])[..., None]
        if self.pooling == "mean":
            pooled = (x * mask).sum(dim=1) / lengths.clamp(min=1)[:, None].to(x.dtype)
        elif self.pooling == "max":
            pooled = x.masked_fill(~mask, float("-inf")).amax(dim=1)
        else:
            pooled = x.masked_fill(~mask, float("inf")).amin(dim=1)
        # An empty sentence pools nothing: give it zeros rather than +-inf.
        return torch.where((lengths > 0)[:, None], pooled, torch.zeros_like(pooled))

    def get_config(self) -> dict[str, Any]:
        return {"embeddings": list(self.embeddings.embeddings),
                "fine_tune_mode": self.fine_tune_mode, "pooling": self.pooling}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DocumentPoolEmbeddings:
        config = checked_config(config, {
            "embeddings": (instances(TokenEmbeddings), REQUIRED),
            "fine_tune_mode": (one_of("none", "linear", "nonlinear"), "none"),
            "pooling": (one_of("mean", "max", "min"), "mean")})
        return cls(**config)
