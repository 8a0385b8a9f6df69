"""LanguageModel: Flair's character-level LSTM language model, and its config.

The architecture is Flair's (Akbik et al., 2018): a character embedding (``encoder``), an LSTM
(``rnn``, sequence first), an optional projection (``proj``, Flair's ``nout``) and a linear
decoder over the characters. The state-dict names are Flair's, so a converted Flair model
(:mod:`tagkit_flair_embeddings.convert`) loads without renaming.

Why a plain ``nn.Module`` and not a registered component. The registry builds ``model`` and
``embedding`` components; a language model is neither (it predicts no labels and embeds no
sentences by itself). It is saved in two places, and both are data only:

* on its own, as a *tagkit language model file*: safetensors, its JSON in the metadata entry
  ``"tagkit_language_model"`` (``{"format": "tagkit-language-model", "format_version": 1,
  "config": {...}}``) and the SHA-256 of both in ``"tagkit_language_model_sha256"``, written
  atomically (:func:`tagkit_core.files.atomic_write`, :mod:`tagkit_core.tensor_files`);
* inside a tagger's model file, as the ``language_model`` field of a
  :class:`~tagkit_flair_embeddings.FlairEmbeddings` config with its tensors in the tagger's
  state dict (``...lm.encoder.weight``), so loading a tagger never opens another file.

Both paths read the config through :func:`language_model_from_config`, which checks every
field strictly; the file itself is :mod:`tagkit_flair_embeddings.lm_file`.
"""

from __future__ import annotations

import bisect
from typing import Any, Iterator

import torch
from torch import nn

from tagkit_core import config_fields as fields
from tagkit_core.dictionary import UNK, Dictionary
from tagkit_core.dropout import IntegerMaskDropout
from tagkit_core.model_schema import ModelFileError
from tagkit_core.product_rates import native_bfloat16_cpu
from tagkit_core.seeding import seeded_construction

__all__ = ["LanguageModel", "LanguageModelFileError", "language_model_from_config",
           "character_dictionary", "encode_text", "codepoint_table", "PRECISIONS",
           "check_precision"]

MAX_CHARACTERS = 1_000_000  # dictionary items; Flair's largest character dictionaries are ~10k
# Shortest staircase segment of LanguageModel.get_representation: shorter segments skip more
# padding but make more LSTM calls; 32 was the fastest of 16, 24, 32, 48 and 64 on EWT test.
MIN_SEGMENT = 32
# Segment lengths are rounded up to a multiple of this, so a pass meets few distinct shapes:
# oneDNN sets up a kernel per new shape (about 1.4 ms here, half of a 40-position LSTM call)
# and reuses it for a shape it has seen. 16 was about 5% faster than 1 and 8 on EWT test;
# rounding the number of strings as well was slower.
SEGMENT_MULTIPLE = 16


#: The arithmetic a language model can run in (``FlairEmbeddings(precision=...)``,
#: ``LanguageModelTrainer.train(precision=...)``).
PRECISIONS = ("float32", "bfloat16")


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; else a ValueError listing them."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, "
                         f"got {precision!r}")
    return precision


class LanguageModelFileError(ModelFileError):
    """A language model file (or config) is damaged, hostile, or not one at all."""


def character_dictionary(texts: Any, add_unk: bool = True) -> Dictionary:
    """A character dictionary of every character in ``texts`` (strings), in first-seen order,
    with ``<unk>`` as id 0 for characters met later."""
    dictionary = Dictionary(add_unk=add_unk)
    for text in texts:
        for char in dict.fromkeys(text):
            dictionary.add_item(char)
    return dictionary


def codepoint_table(dictionary: Dictionary) -> torch.Tensor:
    """``table[codepoint]`` = the character's id; the last slot (and any codepoint beyond the
    table) is the ``<unk>`` id. Multi-character items (``<unk>``) have no codepoint."""
    unk = dictionary.item2idx.get(UNK, 0)
    singles = {ord(item): idx for item, idx in dictionary.item2idx.items() if len(item) == 1}
    size = max(singles, default=0) + 2
    table = torch.full((size,), unk, dtype=torch.long, device="cpu")
    if singles:
        table[torch.tensor(list(singles), device="cpu")] = torch.tensor(list(singles.values()),
                                                                       device="cpu")
    return table


def _inverse(order: list[int]) -> torch.Tensor:
    """``inverse[order[k]] = k``: where each original column sits in ``order``."""
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order, dtype=torch.long)] = torch.arange(len(order))
    return inverse


def encode_text(table: torch.Tensor, text: str) -> torch.Tensor:
    """The ids of ``text``'s characters as one LongTensor, without a Python loop per character
    (the text's UTF-32 code points index the table)."""
    if not text:
        return torch.zeros(0, dtype=torch.long)
    points = torch.frombuffer(bytearray(text.encode("utf-32-le")), dtype=torch.int32).long()
    return table[points.clamp_(max=table.shape[0] - 1)]


class LanguageModel(nn.Module):
    """A forward or backward character LSTM language model (Flair's ``LanguageModel``).

    :param dictionary: the characters; ``<unk>`` (id 0 when present) takes any other one.
    :param is_forward_lm: reads text left to right (True) or right to left (False).
    :param hidden_size: LSTM state size, the embedding length of :class:`FlairEmbeddings`
        (unless ``nout`` is set).
    :param nout: optional projection of the LSTM output before the decoder (Flair's ``nout``).
    :param document_delimiter: the character that starts every text it reads (a line break).
    """

    @seeded_construction
    def __init__(self, dictionary: Dictionary, is_forward_lm: bool, hidden_size: int,
                 nlayers: int = 1, embedding_size: int = 100, nout: int | None = None,
                 document_delimiter: str = "\n", dropout: float = 0.1) -> None:
        super().__init__()
        self.dictionary = dictionary
        self.is_forward_lm = bool(is_forward_lm)
        self.hidden_size, self.nlayers = int(hidden_size), int(nlayers)
        self.embedding_size, self.nout = int(embedding_size), nout
        self.document_delimiter, self.dropout = document_delimiter, float(dropout)
        self.drop = IntegerMaskDropout(self.dropout)
        self.encoder = nn.Embedding(len(dictionary), self.embedding_size)
        self.rnn = nn.LSTM(self.embedding_size, self.hidden_size, self.nlayers,
                           dropout=self.dropout if self.nlayers > 1 else 0.0)
        self.proj = nn.Linear(self.hidden_size, nout) if nout is not None else None
        self.decoder = nn.Linear(nout if nout is not None else self.hidden_size, len(dictionary))
        # Flair's initialisation (uniform +-0.1, zero decoder bias), from the seeded generator.
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if self.proj is not None:
            nn.init.xavier_normal_(self.proj.weight)
        # Not a buffer: derived from the dictionary, so never in a file.
        self.char_table = codepoint_table(dictionary)

    @property
    def output_size(self) -> int:
        """Length of each position's representation (``nout`` or ``hidden_size``)."""
        return self.nout if self.nout is not None else self.hidden_size

    def init_hidden(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        weight = self.encoder.weight
        zeros = weight.new_zeros(self.nlayers, batch_size, self.hidden_size)
        return zeros, zeros.clone()

    def forward(self, ids: torch.Tensor, hidden: tuple[torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``ids`` is ``(seq, batch)``; returns the logits ``(seq, batch, chars)``, the
        representation ``(seq, batch, output_size)`` and the new hidden state."""
        output, hidden = self.representation(ids, hidden)
        return self.decoder(output), output, hidden

    def representation(self, ids: torch.Tensor, hidden: tuple[torch.Tensor, torch.Tensor]
                       ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """:meth:`forward` without the decoder: what :class:`FlairEmbeddings` reads. Embedding
        never needs the logits, which were about 12% of an embedding pass at 256 units."""
        inputs = self.drop(self.encoder(ids))
        if inputs.device.type == "cpu" and torch.is_autocast_enabled("cpu") \
                and not native_bfloat16_cpu():  # see native_bfloat16_cpu: oneDNN would fail
            with torch.autocast("cpu", enabled=False):
                output, hidden = self.rnn(inputs.float(), hidden)
        else:
            output, hidden = self.rnn(inputs, hidden)
        if self.proj is not None:
            output = self.proj(output)
        return self.drop(output), hidden

    def encode(self, text: str) -> torch.Tensor:
        """Character ids of ``text`` (unknown characters are ``<unk>``)."""
        return encode_text(self.char_table, text)

    def get_representation(self, strings: list[str], start_marker: str, end_marker: str,
                           chars_per_chunk: int = 512) -> torch.Tensor:
        """The LM's output at every position of ``start_marker + s + end_marker`` for each
        string (reversed first for a backward LM), ``(longest, batch, output_size)``; positions
        past a string's end are zeros (nothing reads them).

        Why a "staircase" of dense LSTM calls. A batch of sentences has very unequal lengths
        (on EWT's test batches, padding to the longest string makes about 3.3 positions per
        real character). Running packed avoids the padding but takes torch's generic LSTM
        loop, which on the CPU is slower than the dense oneDNN kernel; running dense pays for
        all the padding. So the strings are sorted longest first and the positions cut into
        segments at string ends (at least :data:`MIN_SEGMENT` positions long, a multiple of
        :data:`SEGMENT_MULTIPLE`): each segment is one dense call over only the strings still
        running, the state carried from one segment to the next. About 1.3 positions per
        character remain, each segment is dense, and the result equals one unchunked pass
        per string.

        ``chars_per_chunk`` caps a segment's length, so a long document needs memory for one
        segment's activations only.
        """
        order, ends, segments = self._staircase(strings, start_marker, end_marker,
                                                chars_per_chunk)
        output = self.encoder.weight.new_zeros(ends[0], len(strings), self.output_size)
        for start, stop, segment in segments:
            running, stop = segment.shape[1], min(stop, ends[0])
            output[start:stop, :running] = segment[: stop - start]
            for column in range(running - 1, -1, -1):  # strings ending inside the segment
                if ends[column] >= stop:
                    break
                output[ends[column]:stop, column] = 0  # (not in segment: autograd needs it)
        if order == sorted(order):
            return output
        return output.index_select(1, _inverse(order).to(output.device))

    def representation_at(self, strings: list[str], start_marker: str, end_marker: str,
                          positions: list[int], columns: list[int], chars_per_chunk: int = 512
                          ) -> torch.Tensor:
        """``get_representation(...)[positions, columns]`` as ``(len(positions), output_size)``,
        without the ``(longest, batch, output_size)`` tensor: each pair is read from the
        staircase segment that holds it (about a tenth of a bfloat16 embedding pass went into
        filling, converting and reordering the full tensor)."""
        order, _, segments = self._staircase(strings, start_marker, end_marker, chars_per_chunk)
        device = self.encoder.weight.device
        # The pairs sorted by position: the ones a segment holds are then one slice of them,
        # found by bisection (per-segment masks over all pairs were a few ops per segment).
        by_position = sorted(range(len(positions)), key=positions.__getitem__)
        sorted_positions = [positions[i] for i in by_position]
        rank_of = _inverse(order).tolist()
        where = torch.tensor(sorted_positions, dtype=torch.long, device=device)
        rank = torch.tensor([rank_of[columns[i]] for i in by_position], dtype=torch.long,
                            device=device)
        values = []
        for start, stop, segment in segments:
            first = bisect.bisect_left(sorted_positions, start)
            last = bisect.bisect_left(sorted_positions, stop, first)
            if first < last:
                values.append(segment[where[first:last] - start, rank[first:last]])
        if not values:
            return self.encoder.weight.new_zeros(0, self.output_size)
        values = torch.cat(values)
        picked = torch.tensor(by_position, dtype=torch.long, device=device)
        return values.new_empty(values.shape).index_copy(0, picked, values)

    def _staircase(self, strings: list[str], start_marker: str, end_marker: str,
                   chars_per_chunk: int
                   ) -> tuple[list[int], list[int], Iterator[tuple[int, int, torch.Tensor]]]:
        """The strings' order (longest first), their lengths in that order, and the segments
        ``(start, stop, output)``: ``output`` is the LM's output at positions ``start:stop``
        of the first ``output.shape[1]`` strings in that order (the ones still running)."""
        if not self.is_forward_lm:
            strings = [s[::-1] for s in strings]
        padded = [start_marker + s + end_marker for s in strings]
        lengths = [len(s) for s in padded]
        order = sorted(range(len(padded)), key=lambda i: -lengths[i])
        ends = [lengths[i] for i in order]  # longest first

        def segments() -> Iterator[tuple[int, int, torch.Tensor]]:
            longest = ends[0]
            width = -(-longest // SEGMENT_MULTIPLE) * SEGMENT_MULTIPLE
            # One encoding of all strings, padded to one width (not one call per string).
            ids = self.encode("".join(padded[i].ljust(width) for i in order)
                              ).view(len(order), width).t()
            ids = ids.to(self.encoder.weight.device, non_blocking=True)
            hidden = self.init_hidden(len(strings))
            step = max(1, min(MIN_SEGMENT, chars_per_chunk))
            boundaries = sorted(set(ends))
            start, running = 0, len(ends)
            while start < longest:
                while ends[running - 1] <= start:
                    running -= 1
                stop = next((end for end in boundaries if end >= start + step), longest)
                stop = min(-(-stop // SEGMENT_MULTIPLE) * SEGMENT_MULTIPLE,
                           start + chars_per_chunk, width)
                state = (hidden[0][:, :running].contiguous(),
                         hidden[1][:, :running].contiguous())
                output, hidden = self.representation(ids[start:stop, :running], state)
                yield start, stop, output  # the strings that ended need no state
                start = stop

        return order, ends, segments()

    def get_config(self) -> dict[str, Any]:
        return {"dictionary": self.dictionary.to_dict(), "is_forward_lm": self.is_forward_lm,
                "hidden_size": self.hidden_size, "nlayers": self.nlayers,
                "embedding_size": self.embedding_size, "nout": self.nout,
                "document_delimiter": self.document_delimiter, "dropout": self.dropout}

    def extra_repr(self) -> str:
        direction = "forward" if self.is_forward_lm else "backward"
        return f"{direction}, chars={len(self.dictionary)}"


def _dictionary(value: Any) -> Dictionary:
    checked = fields.checked_config(value, {
        "add_unk": (fields.boolean(), fields.REQUIRED),
        "items": (fields.text_list(), fields.REQUIRED)})
    items = checked["items"]
    if not 0 < len(items) <= MAX_CHARACTERS or any(len(item) > 64 for item in items):
        raise fields.ConfigError("dictionary.items", f"must hold 1 to {MAX_CHARACTERS:,} "
                                 "items of at most 64 characters each")
    if len(set(items)) != len(items):
        raise fields.ConfigError("dictionary.items", "holds an item twice")
    return Dictionary.from_dict(checked)


def language_model_from_config(config: Any) -> LanguageModel:
    """Build a LanguageModel from a config :meth:`LanguageModel.get_config` wrote, checking
    every field (a :class:`~tagkit_core.config_fields.ConfigError` names a wrong one). Never
    reads a file; the weights are the seeded initial ones until a state dict is loaded."""
    size = fields.integer(1, 65536)
    config = fields.checked_config(config, {
        "dictionary": (_dictionary, fields.REQUIRED),
        "is_forward_lm": (fields.boolean(), fields.REQUIRED),
        "hidden_size": (size, fields.REQUIRED), "nlayers": (fields.integer(1, 64), 1),
        "embedding_size": (size, 100), "nout": (fields.optional(size), None),
        "document_delimiter": (fields.text(16), "\n"),
        "dropout": (fields.number(0.0, 1.0), 0.1)})
    return LanguageModel(**config)
