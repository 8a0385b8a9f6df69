"""A one-way GRU for the CPU whose backward makes three operations per step, not about twenty.

Why. ``nn.GRU`` on the CPU is differentiated by autograd step by step: each step records a
dozen small operations (gates, activations, the state update), and its backward replays about
twenty more, plus a product for the recurrent weight's gradient. On 32 sentences and a state
of 256 (the TREC-6 tutorial recipe) each of those operations is a few microseconds of
dispatch over 8,192 numbers. Over 11 steps, forward and backward took 9.2 ms, of which the
matrix products were about 5.2 ms; this version takes 7.9 ms (docs/benchmarks.md, issue 18,
section S).

What is different here, with the same equations as ``nn.GRU`` (gate order r, z, n):

* everything the backward needs that does not depend on the incoming gradient (the
  derivatives of the gates and of the state update) is computed for all steps at once, in a
  few operations over ``(steps, batch, size)`` tensors;
* so each step of the backward is one broadcast product (the gradient at the state times
  those derivatives), one fused multiply-add (the state's direct path) and one matrix product
  (the path through the recurrent weight);
* the weights' and the inputs' gradients are products over all steps at once, after the loop;
* the forward makes two products and five small operations per step, and none of the
  products at the first step (the initial state is zero); tanh is computed as
  ``2 sigmoid(2a) - 1``, a third of the time of torch's CPU tanh.

The results equal ``nn.GRU``'s to rounding (tested in float64 against it, values and
gradients). :func:`runs_on` says which GRUs it computes; anything else (CUDA, where cuDNN's
fused kernel is faster; a bidirectional GRU; dropout between layers) keeps ``nn.GRU``.
:func:`rnn_outputs` is what models call: it uses :func:`gru_outputs` only while gradients are
recorded. Without them ``nn.GRU`` records nothing either and is as fast or faster (the same
time on the recipe's shape, 1.4 to 1.5 times faster on a batch of one or a state of 64),
while with them this one took 0.45 to 0.99 times its time on every shape tried.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["rnn_outputs", "runs_on", "gru_outputs"]


def runs_on(rnn: nn.Module, inputs: torch.Tensor) -> bool:
    """Whether :func:`gru_outputs` computes ``rnn(inputs)[0]``: a one-way, batch-first
    ``nn.GRU`` with biases, on the CPU, in float32 or float64 (and not under autocast, which
    would turn its products to bfloat16), with no dropout between layers while training."""
    return (type(rnn) is nn.GRU and not rnn.bidirectional and rnn.batch_first and rnn.bias
            and getattr(rnn, "proj_size", 0) == 0 and inputs.device.type == "cpu"
            and inputs.dtype in (torch.float32, torch.float64) and inputs.dim() == 3
            and all(p.dtype == inputs.dtype for p in rnn.parameters())
            and not torch.is_autocast_enabled("cpu")
            and (rnn.num_layers == 1 or rnn.dropout == 0 or not rnn.training))


def rnn_outputs(rnn: nn.RNNBase, inputs: torch.Tensor) -> torch.Tensor:
    """``rnn(inputs)[0]`` for a batch-first ``rnn`` from a zero state: through
    :func:`gru_outputs` while gradients are recorded and it :func:`runs_on` ``rnn``, by
    ``rnn`` itself otherwise (see the module doc)."""
    if torch.is_grad_enabled() and runs_on(rnn, inputs):
        return gru_outputs(rnn, inputs)
    return rnn(inputs)[0]


def gru_outputs(rnn: nn.GRU, inputs: torch.Tensor) -> torch.Tensor:
    """``rnn(inputs)[0]``, the last layer's output at every step, ``(batch, steps, size)``,
    from a zero initial state; ``rnn`` and ``inputs`` must pass :func:`runs_on`."""
    outputs = inputs
    for layer in range(rnn.num_layers):
        outputs = _GRULayer.apply(outputs, *(getattr(rnn, f"{name}_l{layer}") for name in
                                              ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
    return outputs


class _GRULayer(torch.autograd.Function):
    """One layer: inputs ``(batch, steps, features)`` to outputs ``(batch, steps, size)``."""

    @staticmethod
    def forward(ctx, inputs, weight_ih, weight_hh, bias_ih, bias_hh):
        batch, steps, features = inputs.shape
        size = weight_hh.shape[1]
        flat_inputs = inputs.transpose(0, 1).reshape(steps * batch, features)  # time-major
        # Every step's input projection in one product; the recurrent bias of r and z joins
        # it here (that of n cannot: r multiplies it).
        projected = torch.addmm(bias_ih, flat_inputs, weight_ih.t()).view(steps, batch, -1)
        projected[:, :, :2 * size] += bias_hh[:2 * size]
        # tanh(a) is computed as 2 sigmoid(2a) - 1: torch's CPU tanh took three times as long
        # as its sigmoid (25 against 8 µs on 32 x 256), the step's slowest operation. The
        # doubling goes into the n columns of the projection and into W_hn, b_hn.
        projected[:, :, 2 * size:] *= 2
        weight_rz, weight_n2 = weight_hh[:2 * size].t(), weight_hh[2 * size:].t() * 2
        bias_n2 = bias_hh[2 * size:] * 2
        states = inputs.new_zeros(steps + 1, batch, size)  # states[t]: the state before step t
        gates = inputs.new_empty(steps, batch, 2 * size)  # r and z after the sigmoid
        recurrent_n2 = inputs.new_empty(steps, batch, size)  # 2 (W_hn h + b_hn)
        candidates = inputs.new_empty(steps, batch, size)  # n
        # Each step's views made in one call per tensor (indexing in the loop was a tenth of
        # the forward's time).
        for step, (state, following, into_rz, gate, reset, update, projected_n, into_n,
                   candidate) in enumerate(zip(
                       states.unbind(0), states[1:].unbind(0),
                       projected[:, :, :2 * size].unbind(0), gates.unbind(0),
                       gates[:, :, :size].unbind(0), gates[:, :, size:].unbind(0),
                       projected[:, :, 2 * size:].unbind(0), recurrent_n2.unbind(0),
                       candidates.unbind(0))):
            if step:
                torch.addmm(into_rz, state, weight_rz, out=gate).sigmoid_()
                torch.addmm(bias_n2, state, weight_n2, out=into_n)
            else:  # the initial state is zero: no products
                torch.sigmoid(into_rz, out=gate)
                into_n.copy_(bias_n2)
            torch.addcmul(projected_n, reset, into_n, out=candidate).sigmoid_().mul_(2).sub_(1)
            torch.lerp(candidate, state, update, out=following)  # h' = (1 - z) n + z h
        ctx.save_for_backward(flat_inputs, weight_ih, weight_hh, states, gates, recurrent_n2,
                              candidates)
        ctx.input_shape = inputs.shape
        return states[1:].transpose(0, 1).contiguous()  # a copy: `states` is saved

    @staticmethod
    def backward(ctx, grad_outputs):
        flat_inputs, weight_ih, weight_hh, states, gates, recurrent_n2, candidates = \
            ctx.saved_tensors
        recurrent_n = recurrent_n2 * 0.5
        steps, batch, size = candidates.shape
        reset, update = gates[:, :, :size], gates[:, :, size:]
        # The derivatives that do not depend on the incoming gradient, for all steps:
        # d h'/d(pre-activation of n), and per gate the factor that turns d L/d h' into the
        # gradient of that gate's recurrent product (r, z, n in nn.GRU's order).
        kept = 1 - update
        through_candidate = kept * (1 - candidates * candidates)
        factors = candidates.new_empty(steps, batch, 3, size)
        torch.mul(through_candidate * recurrent_n, reset * (1 - reset), out=factors[:, :, 0])
        torch.mul((states[:-1] - candidates) * update, kept, out=factors[:, :, 1])
        torch.mul(through_candidate, reset, out=factors[:, :, 2])
        grad_outputs = grad_outputs.transpose(0, 1)  # (steps, batch, size), a view
        grad_states = grad_outputs.new_empty(steps, batch, size)  # d L / d h after step t
        grad_recurrent = grad_outputs.new_empty(steps, batch, 3, size)
        grad_states[-1] = grad_outputs[-1]
        grad_state_at, into_at = grad_states.unbind(0), grad_recurrent.unbind(0)
        factor_at, update_at = factors.unbind(0), update.unbind(0)
        output_at = grad_outputs.unbind(0)
        for step in range(steps - 1, -1, -1):
            grad_state, into = grad_state_at[step], into_at[step]
            torch.mul(grad_state[:, None, :], factor_at[step], out=into)
            if step:
                previous = torch.addcmul(output_at[step - 1], grad_state, update_at[step],
                                         out=grad_state_at[step - 1])
                previous.addmm_(into.view(batch, 3 * size), weight_hh)
        grad_recurrent = grad_recurrent.view(steps * batch, 3 * size)
        # The input projection's gradient differs from the recurrent one in n only (r does
        # not multiply it).
        grad_projected = grad_recurrent.clone()
        torch.mul(grad_states, through_candidate, out=grad_projected.view(
            steps, batch, 3 * size)[:, :, 2 * size:])
        grads = [None] * 5
        if ctx.needs_input_grad[0]:
            grads[0] = (grad_projected @ weight_ih).view(
                steps, batch, -1).transpose(0, 1).reshape(ctx.input_shape)
        if ctx.needs_input_grad[1]:
            grads[1] = grad_projected.t() @ flat_inputs
        if ctx.needs_input_grad[2]:
            # the initial state is zero: its rows would add nothing
            grads[2] = grad_recurrent[batch:].t() @ states[1:-1].reshape(-1, size)
        if ctx.needs_input_grad[3]:
            grads[3] = grad_projected.sum(dim=0)
        if ctx.needs_input_grad[4]:
            grads[4] = grad_recurrent.sum(dim=0)
        return tuple(grads)
