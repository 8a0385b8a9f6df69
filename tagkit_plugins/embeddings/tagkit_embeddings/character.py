"""CharacterEmbeddings: a word's vector from a BiLSTM over its characters (Lample et al., 2016).

The vector of a token is the final forward state concatenated with the final backward state of
a one-layer character BiLSTM, trained with the model. It gives a tagger a view of suffixes,
capitals, digits and hyphens, and a vector for words no pretrained table knows.

Why it is fast. This runs every training batch (it is never static), so the batch is embedded
with one Python pass over its token texts and none over characters:

* a batch keeps only its *unique* words (a dict over the token texts): in a batch of 32 EWT
  sentences about half the tokens are repeats ("the", ",", ".");
* a word's character ids are looked up once and kept as a row of an id table on the
  embedding (bounded, see ``MEMO_CELLS``), so neither later epochs nor new sentences with
  known words redo them, and the batch's id matrix is one indexing call. Per word rather than
  per sentence: text seen for the first time at prediction is mostly known words;
* ONE BiLSTM pass runs over the unique words, on dense right-padded tensors: the backward
  direction reads each word reversed within its own length, so for both directions padding
  comes after the real characters and the state at the last real character is exact (equal
  to a packed pass, tested, and faster than packing, see ``_final_states``);
* the unique words' vectors are gathered back to every token and scattered into the padded
  ``(batch, max_len, 2 * hidden_size_char)`` tensor with a mask.

Flair runs one LSTM per sentence and takes the backward direction's output at the last
character (which has seen that one character only); here the backward half is the backward
LSTM's state after the whole word, as in Lample et al.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, Sequence

import torch
from torch import nn

from tagkit_core import config_fields as fields
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.embeddings import TokenEmbeddings
from tagkit_core.nn import reversal_rows, reverse_rows

__all__ = ["CharacterEmbeddings", "DEFAULT_ALPHABET"]

# Printable ASCII (space to tilde), Latin-1 letters and signs, and the typographic punctuation
# that web text is full of. Anything else maps to <unk>, which still has a trained vector.
DEFAULT_ALPHABET: str = (
    "".join(chr(c) for c in range(32, 127))
    + "".join(chr(c) for c in range(0xA1, 0x100) if chr(c) not in "\xad")
    + "–—‘’‚“”„†‡•…‰′″‹›€™←→↑↓−≈≠≤≥♥★☺"
)


# Cells (words x longest word) of the remembered character ids; past this the memo starts
# afresh. 25M int32 cells are 100 MB: a million words of up to 25 characters (EWT has 20k
# distinct words), or fewer when a very long token widens the table. Spare rows (the table
# grows by doubling) can take as much again.
MEMO_CELLS = 25_000_000

# The BiLSTM's batch of unique words is padded to a multiple of this. The CPU LSTM kernels
# (oneDNN) are set up once per input shape and cached (1,024 shapes by default); a batch's
# unique-word count is almost always new, and setting up a shape costs more than running it
# (about 1.3 of 2 ms for 300 words). Rounded counts repeat, so the setup is paid once: the
# first prediction over EWT test after EWT dev ran about 18% faster (median of four runs),
# for at most 31 padding words.
WORD_BATCH_MULTIPLE = 32


class CharacterEmbeddings(TokenEmbeddings):
    """Trainable character-level word vectors (``2 * hidden_size_char`` dimensions).

    :param char_embedding_dim: size of each character's input vector.
    :param hidden_size_char: LSTM state size per direction.
    :param alphabet: the characters with their own vector (default :data:`DEFAULT_ALPHABET`);
        saved in the config, so a model keeps its alphabet even if the default changes.
    """

    registry_name = "character"

    def __init__(self, char_embedding_dim: int = 25, hidden_size_char: int = 25,
                 alphabet: str | None = None) -> None:
        super().__init__()
        self.alphabet = DEFAULT_ALPHABET if alphabet is None else alphabet
        self.char_dictionary = Dictionary(add_unk=True)  # <unk> is 0 in the dictionary
        for char in self.alphabet:
            self.char_dictionary.add_item(char)
        self.char_embedding_dim = int(char_embedding_dim)
        self.hidden_size_char = int(hidden_size_char)
        # Tensor ids are dictionary ids + 1: 0 is padding (a zero vector, never trained).
        self.char_embedding = nn.Embedding(len(self.char_dictionary) + 1,
                                           self.char_embedding_dim, padding_idx=0)
        self.char_rnn = nn.LSTM(self.char_embedding_dim, self.hidden_size_char, num_layers=1,
                                bidirectional=True, batch_first=True)
        self.name = "char"
        self._char_ids = {c: i + 1 for c, i in self.char_dictionary.item2idx.items()}
        # _memo: word -> row of _id_table (its character ids, 0-padded) and of _id_lengths;
        # see _char_matrix. Transient: not in the state dict, refilled on use.
        self.forget_words()

    @property
    def embedding_length(self) -> int:
        return 2 * self.hidden_size_char

    def sentence_char_ids(self, sentence: Sentence) -> torch.Tensor:
        """``(tokens, longest token)`` character ids of a sentence, 0-padded (1 is <unk>)."""
        return self._char_matrix([token.text for token in sentence.tokens])

    def _char_matrix(self, texts: Sequence[str]) -> torch.Tensor:
        """``(len(texts), longest)`` character ids (dictionary id + 1, 0-padded, width >= 1).

        Every word's ids are made once and kept as a row of one id table, so a batch's matrix
        is one indexing call; building it from Python lists per batch took a third of the
        embedding's time outside the LSTM.
        """
        memo = self._memo
        missing = [text for text in texts if text not in memo]  # usually few: dedupe those only
        if missing:
            self._remember(list(dict.fromkeys(missing)), texts)
        rows = self._memo
        index = torch.tensor([rows[text] for text in texts], dtype=torch.long)
        width = max(int(self._id_lengths[index].max()) if len(texts) else 0, 1)
        return self._id_table[index, :width].long()

    def forget_words(self) -> None:
        """Empty the word -> character ids memo (it refills on use)."""
        self._memo = {}
        self._id_table = torch.zeros(0, 1, dtype=torch.int32)
        self._id_lengths = torch.zeros(0, dtype=torch.long)

    def _remember(self, words: list[str], texts: Sequence[str]) -> None:
        """Add ``words`` (new ones among ``texts``) to the id table, growing it; past
        ``MEMO_CELLS`` start afresh with all of ``texts``."""
        lookup = self._char_ids
        lists = [[lookup.get(c, 1) for c in word] for word in words]
        size = len(self._memo)
        width = max(self._id_table.shape[1], max(len(ids) for ids in lists))
        if (size + len(words)) * width > MEMO_CELLS:  # start afresh with this batch's words
            self.forget_words()
            words = list(dict.fromkeys(texts))
            lists = [[lookup.get(c, 1) for c in word] for word in words]
            size, width = 0, max(1, max(len(ids) for ids in lists))
        needed, capacity = size + len(words), self._id_table.shape[0]
        if needed > capacity or width > self._id_table.shape[1]:
            if needed > capacity:  # grow geometrically: a batch's few new words copy nothing
                capacity = max(needed, 2 * capacity, 1024)
            table = torch.zeros(capacity, width, dtype=torch.int32)
            table[:size, : self._id_table.shape[1]] = self._id_table[:size]
            lengths = torch.zeros(capacity, dtype=torch.long)
            lengths[:size] = self._id_lengths[:size]
            self._id_table, self._id_lengths = table, lengths
        new = torch.tensor([ids + [0] * (width - len(ids)) for ids in lists], dtype=torch.int32)
        self._id_table[size:needed] = new.reshape(len(words), width)
        self._id_lengths[size:needed] = torch.tensor([len(ids) for ids in lists])
        self._memo.update((word, size + i) for i, word in enumerate(words))

    def _embed_batch(self, sentences: Sequence[Sentence], storage=None) -> torch.Tensor:
        device = self.char_embedding.weight.device
        lengths = [len(s) for s in sentences]
        batch, max_len = len(sentences), max(lengths, default=0)
        if max_len == 0:
            return torch.zeros(batch, 0, self.embedding_length, device=device)
        unique: dict[str, int] = {}
        inverse = [unique.setdefault(t.text, len(unique))
                   for t in chain.from_iterable(s.tokens for s in sentences)]
        chars = self._char_matrix(list(unique))
        spare = -len(unique) % WORD_BATCH_MULTIPLE  # empty rows, read as one padding character
        if spare:
            chars = nn.functional.pad(chars, (0, 0, 0, spare))
        counts = (chars != 0).sum(dim=1).clamp_(min=1)  # an empty token reads one pad
        embedded = self.char_embedding(chars.to(device, non_blocking=True))
        word_vectors = self._final_states(embedded, counts.to(device))
        # index_select, not word_vectors[...]: its backward adds a word's gradients in token
        # order; advanced indexing's did so in a thread-dependent order on two cores.
        token_vectors = word_vectors.index_select(
            0, torch.tensor(inverse).to(device, non_blocking=True))
        mask = torch.arange(max_len)[None, :] < torch.tensor(lengths)[:, None]
        out = token_vectors.new_zeros(batch, max_len, self.embedding_length)
        out[mask.to(device, non_blocking=True)] = token_vectors
        return out

    def _final_states(self, embedded: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """Both directions' final states for right-padded words, without packing.

        Packing costs more than the arithmetic on words this short (measured: a packed
        bidirectional pass over 450 words took 2.3 times as long as this one at inference).
        The forward direction reads each word then its padding, so its state after the last
        real character is its output there; the backward direction reads each word reversed
        within its own length, so padding again comes last. Both run as unidirectional LSTMs
        over ``char_rnn``'s own parameters (the same Parameter objects: one set of weights,
        one state dict, gradients land in ``char_rnn``).
        """
        forward_rnn, backward_rnn = self._directions()
        width = embedded.shape[1]
        forward_out, _ = forward_rnn(embedded)
        backward_out, _ = backward_rnn(reverse_rows(embedded, reversal_rows(counts, width)))
        # Each word's last real position, as a row of the flat (words * width, hidden) view.
        last = torch.arange(counts.shape[0], device=counts.device) * width + counts - 1
        size = forward_out.shape[2]
        return torch.cat([forward_out.reshape(-1, size).index_select(0, last),
                          backward_out.reshape(-1, size).index_select(0, last)], dim=1)

    def _directions(self) -> tuple[nn.LSTM, nn.LSTM]:
        """Two unidirectional LSTMs whose parameters are ``char_rnn``'s (built once, unregistered,
        so the state dict holds each weight once)."""
        cached = self.__dict__.get("_direction_rnns")
        if cached is not None and cached[0].weight_ih_l0 is self.char_rnn.weight_ih_l0:
            return cached
        directions = []
        for suffix in ("", "_reverse"):
            # Built on the meta device: its own initial weights are replaced at once, and
            # drawing them would move torch's generator in the middle of training (the first
            # forward pass), so a resumed run would draw other dropout masks than the original.
            rnn = nn.LSTM(self.char_embedding_dim, self.hidden_size_char, batch_first=True,
                          device="meta")
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                setattr(rnn, name, getattr(self.char_rnn, name + suffix))
            directions.append(rnn)
        self.__dict__["_direction_rnns"] = cached = (directions[0], directions[1])
        return cached

    def get_config(self) -> dict[str, Any]:
        return {"char_embedding_dim": self.char_embedding_dim,
                "hidden_size_char": self.hidden_size_char, "alphabet": self.alphabet}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CharacterEmbeddings:
        size = fields.integer(1, 65536)
        config = fields.checked_config(config, {
            "char_embedding_dim": (size, 25), "hidden_size_char": (size, 25),
            "alphabet": (fields.optional(fields.text(1_000_000)), None)})
        return cls(**config)

    def extra_repr(self) -> str:
        return (f"chars={len(self.char_dictionary)}, char_embedding_dim="
                f"{self.char_embedding_dim}, hidden_size_char={self.hidden_size_char}")
