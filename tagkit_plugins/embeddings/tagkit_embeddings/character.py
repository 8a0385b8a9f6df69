"""CharacterEmbeddings: a word's vector from a BiLSTM over its characters (Lample et al., 2016).

The vector of a token is the final forward state concatenated with the final backward state of
a one-layer character BiLSTM, trained with the model. It gives a tagger a view of suffixes,
capitals, digits and hyphens, and a vector for words no pretrained table knows.

Why it is fast. This runs every training batch (it is never static), so the batch is embedded
without a Python loop over tokens:

* a sentence's character ids are computed once, as one ``(tokens, chars)`` LongTensor (0 is
  padding), and cached in ``sentence.cache``;
* a batch concatenates those matrices and keeps only its *unique* words (a 1-D
  ``torch.unique`` over 64-bit keys of the token texts, also cached per sentence): in a batch
  of 32 EWT sentences about half the tokens are repeats ("the", ",", ".");
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

import hashlib
from typing import Any, Sequence

import torch
from torch import nn

from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.embeddings import TokenEmbeddings
from tagkit_core.nn import reverse_within_length

__all__ = ["CharacterEmbeddings", "DEFAULT_ALPHABET"]

# Printable ASCII (space to tilde), Latin-1 letters and signs, and the typographic punctuation
# that web text is full of. Anything else maps to <unk>, which still has a trained vector.
DEFAULT_ALPHABET: str = (
    "".join(chr(c) for c in range(32, 127))
    + "".join(chr(c) for c in range(0xA1, 0x100) if chr(c) not in "\xad")
    + "–—‘’‚“”„†‡•…‰′″‹›€™←→↑↓−≈≠≤≥♥★☺"
)


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
        digest = hashlib.sha1(self.alphabet.encode("utf-8")).hexdigest()[:10]
        self._cache_key = f"{self.name}|char-ids|{digest}"
        self._char_ids = {c: i + 1 for c, i in self.char_dictionary.item2idx.items()}

    @property
    def embedding_length(self) -> int:
        return 2 * self.hidden_size_char

    def sentence_char_ids(self, sentence: Sentence) -> torch.Tensor:
        """``(tokens, longest token)`` character ids of a sentence, 0-padded, cached on it."""
        return self._sentence_cache(sentence)[0]

    def _sentence_cache(self, sentence: Sentence) -> tuple[torch.Tensor, torch.Tensor]:
        """The sentence's character ids and a 64-bit key per token text, computed once."""
        cached = sentence.cache.get(self._cache_key)
        if cached is None:
            lookup, unk = self._char_ids, 1
            texts = [token.text for token in sentence.tokens]
            words = [[lookup.get(c, unk) for c in text] for text in texts]
            width = max(max((len(w) for w in words), default=0), 1)
            ids = torch.tensor([w + [0] * (width - len(w)) for w in words],
                               dtype=torch.long).reshape(len(words), width)
            keys = torch.tensor([_text_key(text) for text in texts], dtype=torch.long)
            cached = sentence.cache[self._cache_key] = (ids, keys)
        return cached

    def _embed_batch(self, sentences: Sequence[Sentence]) -> torch.Tensor:
        device = self.char_embedding.weight.device
        cached = [self._sentence_cache(s) for s in sentences]
        lengths = torch.tensor([ids.shape[0] for ids, _ in cached])
        batch, max_len = len(cached), int(lengths.max()) if cached else 0
        if max_len == 0:
            return torch.zeros(batch, 0, self.embedding_length, device=device)
        width = max(ids.shape[1] for ids, _ in cached)
        chars = torch.cat([nn.functional.pad(ids, (0, width - ids.shape[1])) for ids, _ in cached])
        unique, inverse = _unique_rows(chars, torch.cat([keys for _, keys in cached]))
        char_counts = (unique != 0).sum(dim=1).clamp_(min=1)  # an empty token reads one pad
        embedded = self.char_embedding(unique.to(device, non_blocking=True))
        word_vectors = self._final_states(embedded, char_counts.to(device))
        token_vectors = word_vectors[inverse.to(device, non_blocking=True)]
        mask = torch.arange(max_len)[None, :] < lengths[:, None]
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
        reverse = reverse_within_length(counts, width).unsqueeze(2).expand_as(embedded)
        forward_out, _ = forward_rnn(embedded)
        backward_out, _ = backward_rnn(embedded.gather(1, reverse))
        last = (counts - 1).view(-1, 1, 1).expand(-1, 1, forward_out.shape[2])
        return torch.cat([forward_out.gather(1, last).squeeze(1),
                          backward_out.gather(1, last).squeeze(1)], dim=1)

    def _directions(self) -> tuple[nn.LSTM, nn.LSTM]:
        """Two unidirectional LSTMs whose parameters are ``char_rnn``'s (built once, unregistered,
        so the state dict holds each weight once)."""
        cached = self.__dict__.get("_direction_rnns")
        if cached is not None and cached[0].weight_ih_l0 is self.char_rnn.weight_ih_l0:
            return cached
        directions = []
        for suffix in ("", "_reverse"):
            rnn = nn.LSTM(self.char_embedding_dim, self.hidden_size_char, batch_first=True)
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                setattr(rnn, name, getattr(self.char_rnn, name + suffix))
            directions.append(rnn)
        self.__dict__["_direction_rnns"] = cached = (directions[0], directions[1])
        return cached

    def get_config(self) -> dict[str, Any]:
        return {"char_embedding_dim": self.char_embedding_dim,
                "hidden_size_char": self.hidden_size_char, "alphabet": self.alphabet}

    def extra_repr(self) -> str:
        return (f"chars={len(self.char_dictionary)}, char_embedding_dim="
                f"{self.char_embedding_dim}, hidden_size_char={self.hidden_size_char}")


def _text_key(text: str) -> int:
    """A stable 64-bit key of a token text (the same in every process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little", signed=True)


def _unique_rows(chars: torch.Tensor, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of ``chars`` and, per row, the index of its distinct row.

    Deduplicating by the cached 64-bit text keys is a 1-D sort, about 100 times cheaper than
    ``torch.unique(chars, dim=0)``; a key collision is checked for (rows must equal their
    representative) and then falls back to the exact row-wise unique.
    """
    unique_keys, inverse = torch.unique(keys, return_inverse=True)
    positions = torch.arange(len(keys))
    first = torch.full((len(unique_keys),), len(keys), dtype=torch.long)
    first.scatter_reduce_(0, inverse, positions, reduce="amin")
    unique = chars[first]
    if not torch.equal(unique[inverse], chars):  # pragma: no cover - a 64-bit collision
        return torch.unique(chars, dim=0, return_inverse=True)
    return unique, inverse
