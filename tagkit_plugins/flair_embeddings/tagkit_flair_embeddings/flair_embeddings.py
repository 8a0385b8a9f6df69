"""FlairEmbeddings: contextual string embeddings from a character language model.

Each token's vector is the language model's output at the token's boundary in the sentence
text ``tokens joined by spaces`` (Flair's ``tokenized_lm``), read after the start marker
``"\\n"`` and followed by one space:

* forward LM: the output after the token's last character *and the space after it* (the
  position of that space), so it has read the sentence up to and including the token;
* backward LM: it reads the reversed text, and the output is taken after the token's first
  character and the space before it: it has read the sentence from its end back to the token.

A batch of sentences runs as one LM pass, in chunks of ``chars_per_chunk`` positions with the
state carried across chunks (:meth:`LanguageModel.get_representation`), so chunked and
unchunked results are equal and a long document needs one chunk's activations only. The
token positions are computed in one pass over the token texts and gathered with one indexing
call.

A tagger's model file holds this embedding's config, which includes the LM's config and
character dictionary, and its state dict holds the LM's weights (``lm.*``): ``from_config``
rebuilds the LM from those, never opening a file or naming one.
"""

from __future__ import annotations

import logging
from copy import deepcopy as copy_module
from pathlib import Path
from typing import Any, Sequence

import torch

from tagkit_core import config_fields as fields
from tagkit_core.converted_weights import weights_version
from tagkit_core.data import Sentence
from tagkit_core.embeddings import TokenEmbeddings, length_groups
from tagkit_core.files import DownloadError, cache_dir, download
from tagkit_core.product_rates import warn_if_bfloat16_is_slow
from tagkit_flair_embeddings.language_model import (
    PRECISIONS,
    LanguageModel,
    LanguageModelFileError,
    check_precision,
    language_model_from_config,
)
from tagkit_flair_embeddings.lm_file import load_language_model
from tagkit_flair_embeddings.pretrained import PRETRAINED_LANGUAGE_MODELS

__all__ = ["FlairEmbeddings", "resolve_language_model"]

log = logging.getLogger("tagkit.flair_embeddings")

#: Texts per LM pass. A batch of more (``embed`` on a whole corpus, a large ``mini_batch_size``)
#: runs as passes over groups of this many texts of similar length: wider passes are no faster
#: per character, and their memory grows with the width. EWT test five times over (10,385
#: sentences) in float32: one pass took 4.66 s and 1,019 MB more peak memory, groups of 128
#: took 3.40 s and 228 MB (128 MB of it the vectors). Sorted batches of 64 to 128 ran fastest.
STRINGS_PER_PASS = 128

_CONVERT_HINT = ("convert it once with `tagkit-flair-embeddings convert {path} OUT.safetensors` "
                 "(or `tagkit convert-lm`), then pass OUT.safetensors")


def _looks_like_torch_pickle(path: Path) -> bool:
    with open(path, "rb") as handle:
        start = handle.read(4)
    return start[:1] == b"\x80" or start == b"PK\x03\x04"


def _load_pretrained(name: str) -> LanguageModel:
    """Flair's published LM ``name``: downloaded once, converted through the restricted
    unpickler, cached as a tagkit language model file; later calls read the cached file."""
    from tagkit_flair_embeddings.convert import convert_flair_language_model

    url = PRETRAINED_LANGUAGE_MODELS[name]
    folder = cache_dir("embeddings") / "flair"
    converted = folder / f"{name}.safetensors"
    if not converted.exists():
        raw = folder / url.rsplit("/", 1)[-1]
        try:
            download(url, raw)
        except DownloadError as error:
            raise DownloadError(
                url, raw, f"{error.reason}. FlairEmbeddings({name!r}) needs a network connection "
                "the first time (the converted model is cached after that). Without one, train "
                "your own language model with LanguageModelTrainer (see the tagkit-flair-"
                "embeddings README), or convert a Flair LM file you already have with "
                "`tagkit-flair-embeddings convert FLAIR_LM.pt OUT.safetensors` and pass "
                "OUT.safetensors") from error
        convert_flair_language_model(raw, converted)
        raw.unlink(missing_ok=True)  # the pickle is never read again
    return load_language_model(converted)


def resolve_language_model(name_or_path: str | Path | LanguageModel) -> LanguageModel:
    """A LanguageModel instance as it is; an existing path read as a tagkit language model
    file; else one of Flair's published names (:data:`PRETRAINED_LANGUAGE_MODELS`)."""
    if isinstance(name_or_path, LanguageModel):
        return name_or_path
    path = Path(name_or_path)
    if path.is_file():
        try:
            return load_language_model(path)
        except LanguageModelFileError as error:
            if _looks_like_torch_pickle(path):
                raise LanguageModelFileError(
                    f"{path} is a torch pickle (a Flair language model?), which tagkit never "
                    f"unpickles when loading: {_CONVERT_HINT.format(path=path)}") from error
            raise
    key = str(name_or_path).lower()
    if key in PRETRAINED_LANGUAGE_MODELS:
        return _load_pretrained(key)
    known = ", ".join(sorted(n for n in PRETRAINED_LANGUAGE_MODELS if n.startswith(
        ("news", "mix", "multi"))))
    raise FileNotFoundError(f"{name_or_path!s:.200} is neither a file nor a known Flair language "
                            f"model name (such as {known}; see PRETRAINED_LANGUAGE_MODELS)")


def _default_name(name_or_path: Any, lm: LanguageModel) -> str:
    if isinstance(name_or_path, LanguageModel):
        direction = "forward" if lm.is_forward_lm else "backward"
        return f"flair-lm-{lm.hidden_size}-{lm.nlayers}-{direction}"
    return str(name_or_path)


class FlairEmbeddings(TokenEmbeddings):
    """Contextual string embeddings (Akbik et al., 2018) of a forward or backward LM.

    :param name_or_path: a tagkit language model file (``best-lm.pt`` of a
        :class:`LanguageModelTrainer` run, or a converted Flair LM), one of Flair's names
        (``'news-forward'``, ``'news-backward'``, ``'multi-forward'``, ``'mix-forward'``...),
        or a :class:`LanguageModel`.
    :param fine_tune: train the LM with the tagger (then the vectors are recomputed every
        batch); otherwise the LM is frozen, always in eval mode, and its vectors are stored.
    :param chars_per_chunk: positions per LM step over a batch (memory, not results).
    :param name: the embedding's name (default: ``name_or_path``).
    :param precision: the LM's arithmetic: ``"float32"``, or ``"bfloat16"`` (a bfloat16 copy
        of a frozen LM, ``torch.autocast`` for a fine-tuned one; the vectors come back as
        float32), 1.3 to 1.5x faster on CPUs with native bfloat16 (AVX512-BF16, AMX) and on
        GPUs, slower elsewhere. It changes the vectors slightly (bfloat16 keeps 2 to 3
        significant digits), so a tagger is best trained and run in the same precision; the
        model file keeps it. docs/benchmarks.md has the figures.
    """

    registry_name = "flair"

    def __init__(self, name_or_path: str | Path | LanguageModel, fine_tune: bool = False,
                 chars_per_chunk: int = 512, name: str | None = None,
                 precision: str = "float32") -> None:
        super().__init__()
        self.precision = check_precision(precision)
        self.lm = resolve_language_model(name_or_path)
        self.fine_tune, self.chars_per_chunk = bool(fine_tune), int(chars_per_chunk)
        if self.chars_per_chunk < 1:
            raise ValueError(f"chars_per_chunk must be >= 1, got {chars_per_chunk}")
        self.name = name or _default_name(name_or_path, self.lm)
        self.lm.requires_grad_(self.fine_tune)
        self.train(False)

    @property
    def is_forward_lm(self) -> bool:
        return self.lm.is_forward_lm

    @property
    def embedding_length(self) -> int:
        return self.lm.output_size

    def train(self, mode: bool = True) -> FlairEmbeddings:
        """As Flair: a frozen LM stays in eval mode (no dropout) even while the tagger trains."""
        super().train(mode)
        if not self.fine_tune:
            self.lm.eval()
        return self

    def batching_lengths(self, sentences: Sequence[Sentence]) -> list[int]:
        """Each sentence's length in characters as the LM reads it (its tokens joined by
        spaces), for prediction's sort: the LSTM's cost grows with characters, and sentences
        of equal token counts differ in characters, so a batch cut from a token-sorted order
        leaves the staircase a ragged end. Embedding EWT test in batches of 32 cut from a
        character-sorted order takes about a sixth less time than from a token-sorted one
        (``benchmarks/flair_embed_order.py``; docs/benchmarks.md)."""
        return [sum(len(token.text) for token in sentence.tokens) + len(sentence)
                for sentence in sentences]

    def token_positions(self, sentences: Sequence[Sentence]) -> tuple[list[str], list[int],
                                                                      list[int]]:
        """The sentences' texts, and for every token (in order) its boundary position in the
        LM's input and its sentence's column."""
        marker = len(self.lm.document_delimiter)
        forward = self.lm.is_forward_lm
        texts: list[str] = []
        positions: list[int] = []
        columns: list[int] = []
        for column, sentence in enumerate(sentences):
            words = [token.text for token in sentence.tokens]
            text = " ".join(words)
            texts.append(text)
            start = 0
            for word in words:
                positions.append(marker + start + len(word) if forward
                                 else marker + len(text) - start)
                start += len(word) + 1
            columns.extend([column] * len(words))
        return texts, positions, columns

    def _embed_batch(self, sentences: Sequence[Sentence], storage=None) -> torch.Tensor:
        device = self.lm.encoder.weight.device
        lengths = [len(s) for s in sentences]
        batch, max_len = len(sentences), max(lengths, default=0)
        if max_len == 0:
            return torch.zeros(batch, 0, self.embedding_length, device=device)
        texts, positions, columns = self.token_positions(sentences)
        with torch.set_grad_enabled(self.fine_tune and torch.is_grad_enabled()):
            vectors = self._run_lm(texts, positions, columns)
            mask = torch.arange(max_len)[None, :] < torch.tensor(lengths)[:, None]
            out = vectors.new_zeros(batch, max_len, self.embedding_length)
            out[mask.to(device)] = vectors
        return out

    def _run_lm(self, texts: list[str], positions: list[int], columns: list[int]
                ) -> torch.Tensor:
        """The LM's outputs at ``(positions, columns)`` over ``texts`` in float32: one LM
        pass per group of at most :data:`STRINGS_PER_PASS` texts of similar length."""
        if len(texts) <= STRINGS_PER_PASS:
            return self._run_lm_pass(texts, positions, columns)
        groups, group_of, slot = length_groups([len(t) for t in texts], STRINGS_PER_PASS)
        pairs: list[list[int]] = [[] for _ in groups]
        for pair, column in enumerate(columns):
            pairs[group_of[column]].append(pair)
        out = None
        for group, members in zip(groups, pairs):
            vectors = self._run_lm_pass([texts[i] for i in group],
                                        [positions[k] for k in members],
                                        [slot[columns[k]] for k in members])
            if out is None:
                out = vectors.new_empty(len(positions), vectors.shape[1])
            out[torch.tensor(members, dtype=torch.long, device=out.device)] = vectors
        return out

    def _run_lm_pass(self, texts: list[str], positions: list[int], columns: list[int]
                     ) -> torch.Tensor:
        """One LM pass over ``texts``, computed in ``self.precision``.

        A frozen LM in bfloat16 runs as a bfloat16 copy (kept, and rebuilt when a weight
        changes): on the CPU that is about 1.5x faster than ``torch.autocast``, which casts
        the weights again at every call. A fine-tuned LM runs under autocast, so its float32
        weights get the gradients."""
        args = (texts, self.lm.document_delimiter, " ", positions, columns,
                self.chars_per_chunk)
        if self.precision == "float32":
            return self.lm.representation_at(*args)
        warn_if_bfloat16_is_slow(self.lm.encoder.weight.device,
                                 "FlairEmbeddings(precision='bfloat16')")
        if torch.is_grad_enabled() and self.fine_tune:
            with torch.autocast(self.lm.encoder.weight.device.type, dtype=torch.bfloat16):
                return self.lm.representation_at(*args).float()
        key = weights_version(self.lm.parameters())
        kept = self.__dict__.get("_bfloat16_lm")
        if kept is None or kept[0] != key:
            copy = copy_module(self.lm).to(torch.bfloat16).eval()
            kept = self.__dict__["_bfloat16_lm"] = (key, copy)
        with torch.no_grad():
            return kept[1].representation_at(*args).float()

    def get_config(self) -> dict[str, Any]:
        return {"language_model": self.lm.get_config(), "fine_tune": self.fine_tune,
                "chars_per_chunk": self.chars_per_chunk, "name": self.name,
                "precision": self.precision}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FlairEmbeddings:
        """Rebuild from a model file's config: the LM is built from its checked config (its
        weights come from the file's state dict); no file is opened, no name downloaded."""
        config = fields.checked_config(config, {
            "language_model": (language_model_from_config, fields.REQUIRED),
            "fine_tune": (fields.boolean(), False),
            "chars_per_chunk": (fields.integer(1, 1 << 20), 512),
            "name": (fields.text(1000), fields.REQUIRED),
            "precision": (fields.one_of(*PRECISIONS), "float32")})
        return cls(config["language_model"], fine_tune=config["fine_tune"],
                   chars_per_chunk=config["chars_per_chunk"], name=config["name"],
                   precision=config["precision"])

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, length={self.embedding_length}, "
                f"fine_tune={self.fine_tune}, chars_per_chunk={self.chars_per_chunk}, "
                f"precision={self.precision!r}")
