"""The CRF's forward-backward algorithm in probability space, and ``log Z`` with its gradient.

Why probability space: with every score exponentiated once and each step rescaled to sum to
one (Rabiner's scaling), a step is a ``(batch, tags) @ (tags, tags)`` product and a division,
where log space needs a ``logsumexp`` over a ``(batch, tags, tags)`` tensor. The scale factors
are kept, so ``log Z`` is exact; should a step underflow (scores of one step more than about 70
apart) the callers fall back to log space.

Why a hand-written gradient for ``log Z``: autograd through the forward loop records a graph
of a few nodes per time step and replays it backwards, and on CPU that bookkeeping, not the
arithmetic, was most of the CRF's training time (the CRF loss was about 11% of a glove
epoch). The gradient of ``log Z`` is known in closed form: the expected counts, i.e. the
marginals ``P(y_t = j)`` for the emissions, their first and last positions for the start and
end scores, and the pairwise marginals ``P(y_t-1 = i, y_t = j)`` summed over positions for the
transitions. :class:`LogPartition` runs the forward pass without a graph and computes those in
one backward pass (value and gradient over one epoch of EWT training chunk shapes: 1.03 s
against 1.31 s through autograd in log space, `benchmarks/crf_speed.py`; glove training epochs
alternating between the two: 11.8 s against 12.1 s). Its backward pass can underflow where
the forward did not (a future that favours tags the emissions all but rule out); the gradient
then comes from log space.

Shapes: ``emissions (batch, len, tags)``, right-padded, ``mask (batch, len)`` true at real
positions, every length at least 1. Internally everything is time-major, ``(len, batch, ...)``.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

__all__ = ["log_partition", "log_space_partition", "log_space_gradient", "scaled_marginals",
           "log_space_marginals", "LogPartition"]

#: Below this a scaled step's normaliser has lost too much to trust (float32 denormals start
#: at 1e-38): the log-space computation takes over.
SMALLEST = 1e-30


def _exponentiated(emissions, transitions, start, end):
    """``exp`` of every score after subtracting its maximum (per position for emissions):
    each value lies in (0, 1], and the subtracted shifts come back for ``log Z``."""
    shift = emissions.amax(dim=2, keepdim=True)
    shifts = (transitions.max(), start.max(), end.max())
    return (torch.exp(emissions - shift).transpose(0, 1), torch.exp(transitions - shifts[0]),
            torch.exp(start - shifts[1]), torch.exp(end - shifts[2]), shift.squeeze(2), shifts)


def _forward_pass(steps, transitions, start, step_mask):
    """Alphas ``(len, batch, tags)``, each row summing to one, and the norms that scaled them
    ``(len, batch, 1)``. A finished sequence carries its last alpha unchanged."""
    alpha = start * steps[0]
    norms = [alpha.sum(dim=1, keepdim=True)]
    alphas = [alpha / norms[0]]
    for t in range(1, steps.shape[0]):
        nxt = (alphas[-1] @ transitions) * steps[t]
        norms.append(nxt.sum(dim=1, keepdim=True))
        alphas.append(torch.where(step_mask[t], nxt / norms[-1], alphas[-1]))
    return torch.stack(alphas), torch.stack(norms)


def _backward_pass(steps, transitions, end, step_mask):
    """Betas ``(len, batch, tags)``, each row rescaled to sum to one; a sequence's last real
    position (and its padding) holds the end scores."""
    end = end.expand_as(steps[0])
    betas = [end]
    for t in range(steps.shape[0] - 2, -1, -1):
        nxt = (steps[t + 1] * betas[-1]) @ transitions.T
        betas.append(torch.where(step_mask[t + 1], nxt / nxt.sum(dim=1, keepdim=True), end))
    betas.reverse()
    return torch.stack(betas)


def _normalised(joint: torch.Tensor) -> torch.Tensor:
    return joint / joint.sum(dim=2, keepdim=True)


@torch.no_grad()
def scaled_marginals(emissions, transitions, start, end, mask) -> torch.Tensor:
    """``P(y_t = j)``, ``(batch, len, tags)``; not finite where a step underflowed."""
    steps, trans, start, end, _, _ = _exponentiated(emissions, transitions, start, end)
    step_mask = mask.transpose(0, 1).unsqueeze(2)
    alphas, _ = _forward_pass(steps, trans, start, step_mask)
    betas = _backward_pass(steps, trans, end, step_mask)
    return _normalised(alphas * betas).transpose(0, 1)


def log_space_partition(emissions, transitions, start, end, mask) -> torch.Tensor:
    """``log Z`` per sequence in log space (exact at any score range; autograd gradient)."""
    steps = emissions.transpose(0, 1)
    step_mask = mask.transpose(0, 1).unsqueeze(2)
    alpha = start + steps[0]
    pairs = transitions.unsqueeze(0)
    for t in range(1, steps.shape[0]):
        nxt = torch.logsumexp(alpha.unsqueeze(2) + pairs, dim=1) + steps[t]
        alpha = torch.where(step_mask[t], nxt, alpha)
    return torch.logsumexp(alpha + end, dim=1)


@torch.no_grad()
def log_space_marginals(emissions, transitions, start, end, mask) -> torch.Tensor:
    """``P(y_t = j)``, ``(batch, len, tags)``, in log space (exact at any score range)."""
    steps = emissions.transpose(0, 1)
    step_mask = mask.transpose(0, 1).unsqueeze(2)
    pairs = transitions.unsqueeze(0)
    alphas = [start + steps[0]]
    for t in range(1, steps.shape[0]):
        nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + pairs, dim=1) + steps[t]
        alphas.append(torch.where(step_mask[t], nxt, alphas[-1]))
    end = end.expand_as(steps[0])
    betas = [end]
    for t in range(steps.shape[0] - 2, -1, -1):
        nxt = torch.logsumexp(pairs + (steps[t + 1] + betas[-1]).unsqueeze(1), dim=2)
        betas.append(torch.where(step_mask[t + 1], nxt, end))
    betas.reverse()
    return torch.softmax(torch.stack(alphas, dim=1) + torch.stack(betas, dim=1), dim=2)


class LogPartition(torch.autograd.Function):
    """``log Z`` per sequence by the scaled forward pass, with the expected counts as its
    gradient. Returns NaN for every sequence when a step underflowed (then use log space)."""

    @staticmethod
    def forward(ctx, emissions, transitions, start, end, mask):
        steps, trans, start_p, end_p, shift, shifts = _exponentiated(emissions, transitions,
                                                                      start, end)
        time_mask = mask.transpose(0, 1)
        alphas, norms = _forward_pass(steps, trans, start_p, time_mask.unsqueeze(2))
        norms = torch.where(time_mask, norms.squeeze(2), 1.0)  # padding: log 1 = 0
        final = (alphas[-1] * end_p).sum(dim=1)  # alphas[-1]: each row's last real alpha
        if not bool((norms.amin() > SMALLEST) & (final.amin() > SMALLEST)):
            return torch.full_like(final, float("nan"))
        lengths = mask.sum(dim=1)
        ctx.save_for_backward(steps, trans, end_p, alphas, mask, emissions, transitions, start,
                              end)
        return (torch.log(norms).sum(dim=0) + torch.log(final) + (shift * mask).sum(dim=1)
                + shifts[0] * (lengths - 1) + shifts[1] + shifts[2])

    @staticmethod
    @once_differentiable  # the expected counts are computed without a graph
    def backward(ctx, grad):
        steps, trans, end_p, alphas, mask, *inputs = ctx.saved_tensors
        step_mask = mask.transpose(0, 1).unsqueeze(2)
        betas = _backward_pass(steps, trans, end_p, step_mask)
        weight = step_mask.to(grad.dtype) * grad.view(1, -1, 1)  # (len, batch, 1)
        marginals = _normalised(alphas * betas)
        d_emissions = (marginals * weight).transpose(0, 1)
        d_start = (marginals[0] * grad.unsqueeze(1)).sum(dim=0)
        last = mask.sum(dim=1) - 1
        rows = torch.arange(mask.shape[0], device=mask.device)
        d_end = (marginals[last, rows] * grad.unsqueeze(1)).sum(dim=0)
        # P(y_t-1 = i, y_t = j) = alpha_t-1(i) trans(i, j) step_t(j) beta_t(j) / z_t
        right = steps[1:] * betas[1:]
        z = ((alphas[:-1] @ trans) * right).sum(dim=2, keepdim=True)
        z = torch.where(step_mask[1:], z, 1.0)
        d_transitions = torch.einsum("tbi,tbj->ij", alphas[:-1], right * (weight[1:] / z)) * trans
        grads = (d_emissions, d_transitions, d_start, d_end)
        if not all(bool(torch.isfinite(g).all()) for g in grads):
            # The backward pass underflowed where the forward did not (a future that favours
            # tags this position's emissions all but rule out: common in the first batches,
            # while emissions are wild): the exact gradient, through log space.
            grads = log_space_gradient(inputs, mask, grad)
        return (*grads, None)


def log_space_gradient(inputs, mask, grad) -> tuple[torch.Tensor, ...]:
    """The gradient of ``log_space_partition`` weighted by ``grad``, for
    ``(emissions, transitions, start, end)``."""
    with torch.enable_grad():
        leaves = [tensor.detach().requires_grad_(True) for tensor in inputs]
        value = log_space_partition(*leaves, mask)
        return torch.autograd.grad(value, leaves, grad)


def log_partition(emissions, transitions, start, end, mask) -> torch.Tensor:
    """``log Z`` per sequence, ``(batch,)``: :class:`LogPartition`, or log space if a scaled
    step underflowed."""
    value = LogPartition.apply(emissions, transitions, start, end, mask)
    if bool(torch.isfinite(value).all()):
        return value
    return log_space_partition(emissions, transitions, start, end, mask)
