"""A BERT-style encoder's prediction pass on the CPU, layer by layer, without the Hugging Face
model's own call machinery.

Why. A fine-tuned MiniLM predicting short texts spends a large share of each pass in Python
rather than arithmetic: ``BertModel.forward`` builds its attention mask through transformers'
masking utilities, and every layer's call goes through keyword-argument deprecation wrappers,
the gradient-checkpointing layer's ``__call__``, the attention-function lookup and
``apply_chunking_to_forward``, which runs ``inspect.signature`` on each layer at each call. With
products of a few hundred microseconds (bfloat16 or int8 on a modern CPU), that machinery was
about a third of a pass's time on two threads, none of which a second thread or a faster
product can shorten. :func:`lean_last_hidden` runs the same arithmetic from the same modules:
the model's ``embeddings`` module, then each layer from its own modules
(:func:`tagkit_transformers.cls_only.bert_layer`, shared with the ``[CLS]``-only last layer)
with :func:`tagkit_transformers.cpu_attention.attention`. Linear layers swapped in by a
classifier's ``precision`` (int8, packed bfloat16) run as they do in the model's own forward.
With ``cls_only`` the last layer runs at position 0 alone
(:func:`tagkit_transformers.cls_only.cls_only_layer`). MiniLM on TREC-6's test questions
predicted 4 to 13% more questions per second (docs/benchmarks.md, issue 18, section V).

It changes no attribute of the model or of its config (the model's own path swaps the attention
function in the config and the last layer in its layer list for the call), so several
prediction streams (threads) can run one model at once
(:mod:`tagkit_core.prediction_streams`).

Used only where it computes what the model's own forward computes (:func:`lean_forward_applies`):
on the CPU, in eval mode, without gradients (where :func:`cpu_attention` would swap the
attention in), for the last layer's states, for a base model of a family listed in
:data:`LEAN_MODEL_TYPES` whose every layer has BERT's layout, with SDPA attention (the model's
default; a model set to ``eager`` or another kernel keeps it) and absolute positions, and no
forward hook on a module whose call it skips. Its
states equal the model's own (a test compares them for each family, padded and not); anything
else runs the model's forward.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.activations import GELUActivation

from tagkit_transformers.cls_only import (
    bert_layer,
    cls_only_layer,
    has_bert_layout,
    plain_encoder_config,
)
from tagkit_transformers.cpu_attention import attention

__all__ = ["LEAN_MODEL_TYPES", "exact_gelu", "feed_forward_in", "lean_forward_applies",
           "lean_last_hidden"]

#: Families whose base model's forward is ``embeddings``, then the BERT-layout layers in turn,
#: then an optional pooler that the last hidden state does not depend on. ELECTRA (an optional
#: projection after the embeddings), ALBERT (shared layers), DistilBERT, DeBERTa and the
#: others have other forwards, and keep them.
LEAN_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "camembert")


def lean_forward_applies(model: nn.Module, device: torch.device) -> bool:
    """Whether :func:`lean_last_hidden` computes ``model``'s last hidden state here (see the
    module doc); asked at each call, since the mode, the gradient setting and the model's
    attention kernel may change between calls."""
    config = getattr(model, "config", None)
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    return bool(
        device.type == "cpu" and not model.training and not torch.is_grad_enabled()
        and getattr(config, "model_type", None) in LEAN_MODEL_TYPES
        and getattr(config, "_attn_implementation", None) == "sdpa"
        and plain_encoder_config(config)
        and isinstance(getattr(model, "embeddings", None), nn.Module)
        and isinstance(layers, nn.ModuleList) and len(layers) > 0
        and all(has_bert_layout(layer) for layer in layers)
        # said outright: attention without a mask (no padding) is causal where it is not
        and all(getattr(layer.attention.self, "is_causal", None) is False for layer in layers)
        and not _hooked(model, layers))


def _hooked(model: nn.Module, layers: nn.ModuleList) -> bool:
    """Whether a forward hook is set on a module whose call the lean pass skips (the model,
    its encoder, each layer and its attention blocks), or on every module: such a hook (a
    probe, a user's feature extractor) must see its calls, so the model's own forward runs."""
    skipped = [model, model.encoder]
    for layer in layers:
        skipped += [layer, layer.attention, layer.attention.self, layer.intermediate]
    global_hooks = (nn.modules.module._global_forward_hooks,
                    nn.modules.module._global_forward_pre_hooks)
    return any(global_hooks) or any(module._forward_hooks or module._forward_pre_hooks
                                    for module in skipped)


def _attend(self_attention: nn.Module, query: torch.Tensor, key: torch.Tensor,
            value: torch.Tensor, mask: torch.Tensor | None, scaling: float) -> torch.Tensor:
    """:func:`tagkit_transformers.cpu_attention.attention`, as :func:`bert_layer` calls it."""
    return attention(self_attention, query, key, value, mask, scaling=scaling)[0]


def feed_forward_in(intermediate: nn.Module, attended: torch.Tensor) -> torch.Tensor:
    """``intermediate(attended)``: its ``dense`` projection and activation. Where the
    activation is the exact GELU and the projection offers ``forward_gelu`` (a text classifier's
    packed bfloat16 linear, swapped in for prediction), one fused kernel does both: on a 2-core
    Xeon with AMX the 352 x 384 x 1536 block took 529 µs fused against 697 apart, and MiniLM
    predicted 2 to 7% more questions per second."""
    fused = getattr(intermediate.dense, "forward_gelu", None)
    if fused is not None and exact_gelu(getattr(intermediate, "intermediate_act_fn", None)):
        return fused(attended)
    return intermediate(attended)


def exact_gelu(activation: object) -> bool:
    """Whether ``activation`` is the exact (erf) GELU: ``torch.nn.GELU()``,
    ``torch.nn.functional.gelu``, or transformers' ``GELUActivation`` over it (BERT's
    ``hidden_act="gelu"``). Approximations (tanh, "gelu_new", quick GELU) are not."""
    if activation is nn.functional.gelu:
        return True
    if isinstance(activation, nn.GELU):
        return activation.approximate == "none"
    return isinstance(activation, GELUActivation) and activation.act is nn.functional.gelu


def lean_last_hidden(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                     cls_only: bool = False) -> torch.Tensor:
    """``model(input_ids=..., attention_mask=...).last_hidden_state``, computed layer by layer;
    with ``cls_only``, position 0 of the last layer alone, ``(batch, 1, hidden)``. The caller
    checks :func:`lean_forward_applies` first."""
    hidden = model.embeddings(input_ids=input_ids)
    # (batch, 1, 1, keys), True attends; none at all without padding, as the model's own
    # forward does, so SDPA's long rows take its unmasked kernel
    keep = None if bool(attention_mask.all()) else attention_mask.bool()[:, None, None, :]
    *body, last = model.encoder.layer
    for layer in body:
        hidden = bert_layer(layer, hidden, keep, attend=_attend, feed_forward=feed_forward_in)
    if cls_only:
        return cls_only_layer(last, hidden, keep, attend=_attend, feed_forward=feed_forward_in)
    return bert_layer(last, hidden, keep, attend=_attend, feed_forward=feed_forward_in)
