"""TransformerEncoder: a Hugging Face model and tokenizer turning sentences into piece vectors.

Shared by the word and the document embeddings. For a batch it makes one tokenizer call (for
sentences not seen before; pieces are cached), plans the windows (``window.py``), runs one
model forward over all of them (over groups of similar length for more than
:data:`WINDOWS_PER_PASS` windows) and returns each kept piece's vector with the sentence and word
it belongs to, plus each sentence's first-window ``[CLS]`` vector. The embeddings then pool
those with one scatter (``alignment.pool``).

``layers`` follows Flair: ``"-1"`` is the last layer, ``"-1,-2"`` the last two (concatenated,
or averaged with ``layer_mean``), ``"all"`` every hidden state including the embedding layer's
output (index 0). Frozen (``fine_tune=False``): no parameter requires grad, the model always
runs in eval mode (no dropout) and without autograd, so the embedding is static. Fine-tuned:
the parameters train and the model's mode follows the tagkit model's ``train()``/``eval()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Any, Callable, NamedTuple, Sequence

import torch
from torch import nn

from tagkit_core.converted_weights import CopiedAnew
from tagkit_core.data import Sentence
from tagkit_core.embeddings import length_groups
from tagkit_transformers.alignment import sentence_pieces, special_layout
from tagkit_transformers.cls_only import cls_only_last_layer, supports_cls_only
from tagkit_transformers.cpu_attention import cpu_attention
from tagkit_transformers.files import load_pretrained, rebuild
from tagkit_transformers.lean_forward import lean_forward_applies, lean_last_hidden
from tagkit_transformers.window import WindowPlan, plan_windows

__all__ = ["TransformerEncoder", "Encoded", "EncoderAccess", "parse_layers", "embedding_name"]

#: Models whose position ids start after the padding index, using up ``pad_token_id + 1``.
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "longformer", "mpnet")
#: A tokenizer ``model_max_length`` above this is transformers' "unset" placeholder.
_UNSET_LENGTH = 1_000_000
#: Windows per model forward (see ``TransformerEncoder._read_windows``): mini-batches run as
#: one forward; a larger batch runs in groups of similar length.
WINDOWS_PER_PASS = 32


class Encoded(NamedTuple):
    """Piece vectors of a batch and who owns them (kept pieces only, in sentence order)."""

    vectors: torch.Tensor  # (pieces, dim)
    sentence: torch.Tensor  # (pieces,) index of the piece's sentence in the batch
    word: torch.Tensor  # (pieces,) index of the piece's word (token) in its sentence
    cls: torch.Tensor  # (sentences, dim) position 0 of each sentence's first window


def parse_layers(layers: str, num_layers: int) -> list[int]:
    """Flair's layer string as hidden-state indexes: ``"-1"``, ``"-1,-2"``, ``"all"``."""
    if str(layers).strip() == "all":
        return list(range(num_layers + 1))
    try:
        indexes = [int(x) for x in str(layers).split(",")]
    except ValueError:
        raise ValueError(f"layers={layers!r}: expected 'all' or comma-separated integers such "
                         "as '-1' or '-1,-2,-3,-4'") from None
    for index in indexes:
        if not -(num_layers + 1) <= index <= num_layers:
            raise ValueError(f"layers={layers!r}: layer {index} does not exist; the model has "
                             f"{num_layers} layers plus the embedding output (0..{num_layers}, "
                             f"or -1..-{num_layers + 1})")
    return indexes


def embedding_name(model: str, options: dict[str, Any], defaults: dict[str, Any],
                   tag: str | None = None) -> str:
    """The embedding's name: the model, plus every option that changes its vectors.

    Static vectors are stored on sentences under this name, so two embeddings of one model
    that compute different vectors (other layers, pooling, word vs document) must not share it;
    with Flair's defaults it is the model name alone, as in Flair.
    """
    changed = [f"{key}={value}" for key, value in options.items() if defaults.get(key) != value]
    changed = ([tag] if tag else []) + changed
    return f"{model}[{','.join(changed)}]" if changed else model


def max_input_length(config: Any, tokenizer: Any) -> int:
    """The longest input (special tokens included) the model takes."""
    candidates = []
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        if getattr(config, "model_type", "") in _OFFSET_POSITIONS:
            positions -= (getattr(config, "pad_token_id", None) or 0) + 1
        candidates.append(int(positions))
    declared = getattr(tokenizer, "model_max_length", None)
    if declared and declared < _UNSET_LENGTH:
        candidates.append(int(declared))
    return min(candidates) if candidates else 512


class _CallLock(CopiedAnew):
    """A lock that a copy or pickle of its model gets anew (``threading.Lock`` itself cannot
    be pickled, which would make the whole model unpicklable)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *error: object) -> None:
        self._lock.release()


class TransformerEncoder(nn.Module):
    """The Hugging Face model (``self.model``) and its tokenizer, with the layer choice."""

    def __init__(self, model: str, fine_tune: bool, layers: str, layer_mean: bool,
                 hf_config: dict[str, Any] | None = None,
                 tokenizer_files: dict[str, str] | None = None) -> None:
        super().__init__()
        if (hf_config is None) != (tokenizer_files is None):
            raise ValueError("hf_config and tokenizer_files come together (from get_config)")
        if hf_config is None:
            hf_model, tokenizer, hf_config, tokenizer_files = load_pretrained(model)
        else:
            hf_model, tokenizer = rebuild(hf_config, tokenizer_files)
        self.model = hf_model
        self.tokenizer = tokenizer
        self.hf_config = hf_config
        self.tokenizer_files = tokenizer_files
        self.fine_tune = bool(fine_tune)
        self.layers = str(layers)
        self.layer_mean = bool(layer_mean)
        config = hf_model.config
        self.layer_indexes = parse_layers(self.layers, config.num_hidden_layers)
        self.hidden_size = int(config.hidden_size)
        self.prefix, self.suffix = special_layout(tokenizer)
        self.max_length = max_input_length(config, tokenizer)
        self.capacity = self.max_length - len(self.prefix) - len(self.suffix)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        digest = hashlib.sha1(tokenizer_files["tokenizer.json"].encode()).hexdigest()[:12]
        self.cache_key = f"transformers.pieces:{digest}"
        self._last_only = self.layer_indexes in ([-1], [config.num_hidden_layers])
        if not self.fine_tune:
            self.model.requires_grad_(False)
        self.model.train(self.fine_tune and self.training)
        # held while the model's own forward runs with its swaps (see encode)
        self._swapping = _CallLock()

    @property
    def output_size(self) -> int:
        return self.hidden_size * (1 if self.layer_mean else len(self.layer_indexes))

    def train(self, mode: bool = True) -> TransformerEncoder:
        super().train(mode)
        if not self.fine_tune:
            self.model.eval()  # a frozen model never drops out: its vectors can be stored
        return self

    def encode(self, sentences: Sequence[Sentence], allow_long: bool = True,
               cls_only: bool = False) -> Encoded:
        """Piece vectors for the batch: one tokenizer call (new sentences), one forward.

        ``cls_only``: the caller reads ``cls`` alone; where the model allows it (the last
        layer chosen, BERT's layout: :mod:`tagkit_transformers.cls_only`) the last layer runs
        at position 0 only and ``vectors``, ``sentence`` and ``word`` are empty."""
        # asked at every call: the attention kernel is a setting a user may change later
        cls_only = cls_only and self._last_only and supports_cls_only(self.model)
        pieces = sentence_pieces(self.tokenizer, sentences, self.cache_key)
        plan = plan_windows([ids for ids, _ in pieces], self.capacity, self.prefix,
                            self.suffix, self.pad_id, allow_long)
        device = next(self.model.parameters()).device
        with torch.set_grad_enabled(self.fine_tune and torch.is_grad_enabled()):
            if self._last_only and lean_forward_applies(self.model, device):
                # prediction on the CPU: layer by layer, changing nothing on the model, so
                # that prediction streams can share it (lean_forward)
                cls, vectors = self._read_windows(
                    plan, device, cls_only,
                    lambda ids, mask: lean_last_hidden(self.model, ids, mask, cls_only))
            else:
                # the model's own forward, with its attention kernel and last layer swapped
                # for the call: one thread at a time on one model
                with self._swapping, cpu_attention(self.model, device), \
                        cls_only_last_layer(self.model) if cls_only else contextlib.nullcontext():
                    cls, vectors = self._read_windows(plan, device, cls_only, self._hidden)
        if vectors is None:
            empty = torch.zeros(0, dtype=torch.long, device=device)
            return Encoded(cls.new_zeros(0, cls.shape[-1]), empty, empty, cls)
        sentence = torch.repeat_interleave(torch.arange(len(sentences)),
                                           torch.tensor(plan.kept, dtype=torch.long))
        word = [owners[:kept] for (_, owners), kept in zip(pieces, plan.kept)]
        word_index = torch.tensor([w for owners in word for w in owners], dtype=torch.long)
        return Encoded(vectors, sentence.to(device), word_index.to(device), cls)

    def _read_windows(self, plan: WindowPlan, device: torch.device, cls_only: bool,
                      forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
                      ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Position 0 of each sentence's first window and, unless ``cls_only``, each kept
        piece's vector.

        Up to :data:`WINDOWS_PER_PASS` windows go through the model as one padded input. More
        (``embed`` on a whole corpus, a large ``mini_batch_size``) go as forwards over groups
        of that many windows of similar length, each cut to its own longest window, so that
        memory stays one group's and little is padded."""
        windows = plan.input_ids.shape[0]
        if windows <= WINDOWS_PER_PASS:
            hidden = forward(plan.input_ids.to(device, non_blocking=True),
                             plan.attention_mask.to(device, non_blocking=True))
            cls = hidden[plan.first_window.to(device), 0]
            if cls_only:
                return cls, None
            return cls, hidden[plan.piece_window.to(device), plan.piece_position.to(device)]
        lengths = plan.attention_mask.sum(dim=1).tolist()
        groups, group_of, place = length_groups(lengths, WINDOWS_PER_PASS)
        group, slot = torch.tensor(group_of), torch.tensor(place)
        reads = [(plan.first_window, torch.zeros_like(plan.first_window))]
        if not cls_only:
            reads.append((plan.piece_window, plan.piece_position))
        outputs: list[torch.Tensor] = []
        for number, members in enumerate(groups):
            rows, longest = torch.tensor(members), lengths[members[0]]
            hidden = forward(plan.input_ids[rows, :longest].to(device, non_blocking=True),
                             plan.attention_mask[rows, :longest].to(device, non_blocking=True))
            if not outputs:
                outputs = [hidden.new_empty(len(window), hidden.shape[-1]) for window, _ in reads]
            for out, (window, position) in zip(outputs, reads):
                mine = (group[window] == number).nonzero().squeeze(1)
                out[mine.to(device)] = hidden[slot[window[mine]].to(device),
                                              position[mine].to(device)]
        return outputs[0], (None if cls_only else outputs[1])

    def _hidden(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``(windows, length, output_size)``: the chosen layers, concatenated or averaged."""
        if self._last_only:
            return self.model(input_ids=input_ids, attention_mask=attention_mask
                              ).last_hidden_state
        states = self.model(input_ids=input_ids, attention_mask=attention_mask,
                            output_hidden_states=True).hidden_states
        chosen = [states[i] for i in self.layer_indexes]
        if self.layer_mean:
            return torch.stack(chosen).mean(dim=0)
        return torch.cat(chosen, dim=-1)

    def config_fields(self) -> dict[str, Any]:
        """What :meth:`__init__` needs to rebuild this encoder without any file."""
        return {"hf_config": self.hf_config, "tokenizer_files": self.tokenizer_files}


class EncoderAccess:
    """What both transformer embeddings expose of their ``encoder`` (a mixin: one definition
    for the word and the document embeddings)."""

    encoder: TransformerEncoder

    @property
    def fine_tune(self) -> bool:
        return self.encoder.fine_tune

    @property
    def tokenizer(self) -> Any:
        return self.encoder.tokenizer

    @property
    def model(self) -> Any:
        """The Hugging Face model itself."""
        return self.encoder.model

    def batching_lengths(self, sentences: Sequence[Sentence]) -> list[int]:
        """Each sentence's piece count (what the model's cost grows with), from the same
        cached tokenization :meth:`TransformerEncoder.encode` reads: no second tokenizer
        call."""
        encoder = self.encoder
        pieces = sentence_pieces(encoder.tokenizer, sentences, encoder.cache_key)
        return [len(ids) for ids, _ in pieces]
