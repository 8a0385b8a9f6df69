"""Sub-token alignment: which pieces of the transformer's input belong to which tagkit token.

The tokenizer gets the sentence's tokens as pre-split words (``is_split_into_words=True``), so
its ``word_ids()`` say exactly which word each piece came from: a word split into several
pieces keeps them all; characters the normaliser drops (zero-width space, soft hyphen, control
characters) simply produce fewer pieces of the same word, and no later word moves.

A word can produce *no* piece at all (a token that is only a zero-width space or a control
character). Rule: such a word is fed to the model as the tokenizer's unknown token (``[UNK]``),
so it keeps its position in the sentence and gets a contextual vector like any other word. If
the tokenizer has no unknown token, the word has no piece and its vector is zeros. It never
shifts its neighbours and never fails.

A sentence's pieces are computed once and cached on it (``sentence.cache``); the cache key
names the tokenizer's content, so two tokenizers never share pieces. The pooling functions
turn piece vectors into word (or sentence) vectors with one scatter each, no Python loop.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import torch

from tagkit_core.data import Sentence

__all__ = ["sentence_pieces", "special_layout", "pool"]

#: One tokenizer call at a time: a Hugging Face fast tokenizer called from two threads at once
#: (prediction streams) may fail with "Already borrowed".
_tokenizer_calls = threading.Lock()

Pieces = tuple[list[int], list[int]]  # (piece ids, word index of each piece), no special tokens


def _encode(tokenizer: Any, words: list[list[str]]) -> list[Pieces]:
    # verbose=False: the tokenizer would warn that a sentence longer than the model's maximum
    # "will result in indexing errors"; here it goes through overlapping windows (window.py)
    with _tokenizer_calls:
        encoding = tokenizer(words, is_split_into_words=True, add_special_tokens=False,
                             return_attention_mask=False, return_token_type_ids=False,
                             verbose=False)
    out = []
    for i, ids in enumerate(encoding["input_ids"]):
        word_ids = encoding.word_ids(i)
        kept = [j for j, w in enumerate(word_ids) if w is not None]
        out.append(([ids[j] for j in kept], [word_ids[j] for j in kept]))
    return out


def sentence_pieces(tokenizer: Any, sentences: Sequence[Sentence], cache_key: str
                    ) -> list[Pieces]:
    """Each sentence's ``(piece ids, word of each piece)``: one tokenizer call for the new ones.

    Words without a piece are re-encoded as the unknown token (one more call, for just the
    sentences that have such a word); see the module doc.
    """
    new = [s for s in sentences if cache_key not in s.cache]
    if new:
        words = [[t.text for t in s] for s in new]
        encoded = _encode(tokenizer, words)
        unk = tokenizer.unk_token
        redo = [i for i, (_, owners) in enumerate(encoded)
                if len(set(owners)) < len(words[i])] if unk is not None else []
        if redo:
            replaced = []
            for i in redo:
                covered = set(encoded[i][1])
                replaced.append([w if j in covered else unk for j, w in enumerate(words[i])])
            for i, pieces in zip(redo, _encode(tokenizer, replaced)):
                encoded[i] = pieces
        for sentence, pieces in zip(new, encoded):
            sentence.cache[cache_key] = pieces
    return [s.cache[cache_key] for s in sentences]


def special_layout(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after one sequence (``[CLS]``/``[SEP]``).

    Found by encoding one word with and without special tokens, so any single-sequence template
    works (BERT, RoBERTa's ``<s> </s>``, none at all for GPT-2).
    """
    plain = tokenizer(["a"], is_split_into_words=True, add_special_tokens=False)["input_ids"]
    full = tokenizer(["a"], is_split_into_words=True, add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start: start + len(plain)] == plain:
            return list(full[:start]), list(full[start + len(plain):])
    raise ValueError(f"cannot find the special-token template of {type(tokenizer).__name__}: "
                     f"{plain} is not inside {full}")


def pool(vectors: torch.Tensor, group: torch.Tensor, groups: int, how: str) -> torch.Tensor:
    """``(groups, dim)`` from ``(pieces, dim)`` piece vectors and each piece's group index.

    ``how``: ``first``/``last`` (the group's first or last piece: pieces of a group must be
    consecutive, as a word's are), ``mean``, ``max``. A group without pieces gets zeros.
    """
    out = vectors.new_zeros(groups, vectors.shape[-1])
    if vectors.shape[0] == 0:
        return out
    if how in ("first", "last"):
        change = group[1:] != group[:-1]
        edge = torch.ones(1, dtype=torch.bool, device=group.device)
        chosen = torch.cat([edge, change]) if how == "first" else torch.cat([change, edge])
        return out.index_copy(0, group[chosen], vectors[chosen])
    if how == "mean":
        counts = torch.bincount(group, minlength=groups).clamp(min=1).unsqueeze(1)
        return out.index_add(0, group, vectors) / counts.to(vectors.dtype)
    if how == "max":
        index = group.unsqueeze(1).expand(-1, vectors.shape[-1])
        return out.scatter_reduce(0, index, vectors, reduce="amax", include_self=False)
    raise ValueError(f"unknown pooling {how!r}: expected first, last, mean or max")
