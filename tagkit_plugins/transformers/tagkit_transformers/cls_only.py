"""The last layer computed at the ``[CLS]`` position only, for embeddings that read nothing else.

``TransformerDocumentEmbeddings(cls_pooling="cls", layers="-1")`` (Flair's default, and the
text classifiers') reads one vector per sentence: position 0 of the last layer. In a BERT-style
layer a position's output needs the keys and values of every position, but only its own query,
attention output and feed-forward block. So the last layer can project keys and values for all
positions and do everything else for position 0 alone: 10 of the layer's 12 ``hidden x hidden``
products per position are skipped, a sixth of MiniLM-L6's forward pass and about a twelfth of
BERT-base's. The result is the same vector (the same products for that position; a test compares
it with the full layer), in prediction and in fine-tuning alike, since nothing reads the other
positions.

Why not a flag of the Hugging Face model. Its layers have no such option; the layer is wrapped for
the one call (:func:`cls_only_last_layer`) and put back afterwards, so the model, its state dict
and its file never change. Prediction on the CPU calls :func:`cls_only_layer` from its lean pass
(:mod:`tagkit_transformers.lean_forward`) and wraps nothing. Only layers with BERT's layout
(``attention.self.query/key/value``, ``attention.output``, ``intermediate``, ``output``: BERT,
RoBERTa, MiniLM, ELECTRA and their relatives) with absolute positions and eager or SDPA attention
are wrapped; any other model runs its full last layer (:func:`supports_cls_only`).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.nn import functional

__all__ = ["has_bert_layout", "plain_encoder_config", "supports_cls_only", "bert_layer",
           "cls_only_layer", "cls_only_last_layer", "sdpa_attend"]


def _last_layer(model: nn.Module) -> nn.Module | None:
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if isinstance(layers, nn.ModuleList) and len(layers):
        return layers[-1]
    return None


def _is_projection(module: object) -> bool:
    """A position-wise linear map: ``nn.Linear``, or a stand-in for one with its
    ``in_features``/``out_features`` (the int8 layers a classifier swaps in to predict)."""
    return isinstance(module, nn.Linear) or (
        isinstance(module, nn.Module) and isinstance(getattr(module, "in_features", None), int)
        and isinstance(getattr(module, "out_features", None), int))


def has_bert_layout(layer: nn.Module | None) -> bool:
    """Whether ``layer`` is laid out as BERT's: ``attention.self.query/key/value`` with its
    head count and size, and ``attention.output``, ``intermediate`` and ``output`` each with a
    position-wise ``dense`` projection."""
    attention = getattr(layer, "attention", None)
    self_attention = getattr(attention, "self", None)
    return bool(
        layer is not None
        and all(_is_projection(getattr(self_attention, name, None))
                for name in ("query", "key", "value"))
        and isinstance(getattr(self_attention, "num_attention_heads", None), int)
        and isinstance(getattr(self_attention, "attention_head_size", None), int)
        and all(_is_projection(getattr(part, "dense", None))
                for part in (getattr(attention, "output", None),
                             getattr(layer, "intermediate", None), getattr(layer, "output", None))))


def plain_encoder_config(config: Any) -> bool:
    """Whether the model is a plain bidirectional encoder with absolute positions and eager or
    SDPA attention: no decoder, no cross-attention, no relative position scores."""
    return bool(
        config is not None
        and not getattr(config, "is_decoder", False)
        and not getattr(config, "add_cross_attention", False)
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
        and getattr(config, "_attn_implementation", "eager") in ("eager", "sdpa"))


def supports_cls_only(model: nn.Module) -> bool:
    """Whether ``model``'s last layer has BERT's layout and can be computed at position 0."""
    return plain_encoder_config(getattr(model, "config", None)) \
        and has_bert_layout(_last_layer(model))


#: ``attend(self_attention, query, key, value, mask, scaling)``: ``(batch, heads, queries,
#: size)`` in, ``(batch, queries, heads, size)`` out, as transformers' attention functions.
Attend = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None,
                   float], torch.Tensor]
#: ``feed_forward(intermediate, attended)``: how the ``intermediate`` block runs.
FeedForward = Callable[[nn.Module, torch.Tensor], torch.Tensor]


def cls_only_layer(layer: nn.Module, hidden_states: torch.Tensor,
                   attention_mask: torch.Tensor | None,
                   attend: Attend | None = None,
                   feed_forward: FeedForward | None = None) -> torch.Tensor:
    """``layer``'s output at position 0 only, ``(batch, 1, hidden)``, from every position's
    ``hidden_states``: :func:`bert_layer` with the queries of position 0 alone."""
    return bert_layer(layer, hidden_states, attention_mask, first_only=True, attend=attend,
                      feed_forward=feed_forward)


def sdpa_attend(self_attention: nn.Module, query: torch.Tensor, key: torch.Tensor,
                value: torch.Tensor, mask: torch.Tensor | None, scaling: float) -> torch.Tensor:
    """torch's ``scaled_dot_product_attention``, with the module's dropout in training."""
    dropout = self_attention.dropout.p if self_attention.training else 0.0
    return functional.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, dropout_p=dropout, scale=scaling).transpose(1, 2)


def bert_layer(layer: nn.Module, hidden_states: torch.Tensor,
               attention_mask: torch.Tensor | None, first_only: bool = False,
               attend: Attend | None = None, feed_forward: FeedForward | None = None
               ) -> torch.Tensor:
    """One BERT-layout layer (:func:`has_bert_layout`) from its modules: ``(batch, length,
    hidden)``, or with ``first_only`` position 0 alone, ``(batch, 1, hidden)`` (keys and values
    from every position, the rest from position 0). ``attention_mask``: SDPA's, boolean or
    additive, or ``None``; ``attend`` (default :func:`sdpa_attend`) and ``feed_forward``
    (default: the ``intermediate`` module itself) let the lean prediction pass use its own."""
    self_attention = layer.attention.self
    heads, size = self_attention.num_attention_heads, self_attention.attention_head_size
    batch = hidden_states.shape[0]

    def split(states: torch.Tensor) -> torch.Tensor:  # (batch, heads, length, size)
        return states.view(batch, states.shape[1], heads, size).transpose(1, 2)

    queries = hidden_states[:, :1] if first_only else hidden_states
    if first_only and isinstance(attention_mask, torch.Tensor):
        attention_mask = attention_mask[..., :1, :]
    query = split(self_attention.query(queries))
    key = split(self_attention.key(hidden_states))
    value = split(self_attention.value(hidden_states))
    context = (attend or sdpa_attend)(self_attention, query, key, value, attention_mask,
                                      getattr(self_attention, "scaling", size ** -0.5))
    context = context.reshape(batch, queries.shape[1], heads * size)
    attended = layer.attention.output(context, queries)
    if feed_forward is None:
        return layer.output(layer.intermediate(attended), attended)
    return layer.output(feed_forward(layer.intermediate, attended), attended)


class _ClsOnlyLayer(nn.Module):
    """``layer``'s forward for position 0 only: ``(batch, 1, hidden)``."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                *args: Any, **kwargs: Any) -> torch.Tensor:
        return cls_only_layer(self.layer, hidden_states, attention_mask)


@contextlib.contextmanager
def cls_only_last_layer(model: nn.Module) -> Iterator[None]:
    """Within the block, ``model``'s last layer outputs position 0 only (``last_hidden_state``
    is ``(batch, 1, hidden)``). The caller checks :func:`supports_cls_only` first."""
    layers = model.encoder.layer
    original = layers[-1]
    layers[-1] = _ClsOnlyLayer(original)
    try:
        yield
    finally:
        layers[-1] = original
