"""A linear-chain conditional random field, vectorised over the batch and the tags.

Every algorithm here loops over time steps only, each step a few operations on the whole
batch. Sequences are padded at the end; ``mask`` marks real positions. ``log Z`` (training)
and the marginals (confidences) run in probability space with rescaled steps, ``log Z`` with a
closed-form gradient (:mod:`tagkit_crf_tagger.forward_backward`); Viterbi decoding works on
the rows still running at each step.

Start and end transitions are parameters of their own, so the tag dictionary holds only real
tags (no ``<START>``/``<STOP>`` items as in Flair).
"""

from __future__ import annotations

import torch
from torch import nn

from tagkit_crf_tagger.forward_backward import (
    log_partition,
    log_space_marginals,
    log_space_partition,
    scaled_marginals,
)

__all__ = ["CRF"]


class CRF(nn.Module):
    """Scores tag sequences as emissions plus ``transitions[from, to]`` plus start/end scores."""

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))

    # -- training -------------------------------------------------------------------------------
    def neg_log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor,
                           mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Per-sequence negative log-likelihood, shape ``(batch,)``.

        :param emissions: ``(batch, max_len, tags)`` scores from the network.
        :param tags: ``(batch, max_len)`` gold tag ids (anything at padded positions).
        :param mask: ``(batch, max_len)`` bool, true at real positions; every length >= 1.
        :param lengths: ``(batch,)`` long, the real lengths.
        """
        return self._log_partition(emissions, mask) - self._gold_score(emissions, tags, mask,
                                                                        lengths)

    def _gold_score(self, emissions, tags, mask, lengths) -> torch.Tensor:
        maskf = mask.to(emissions.dtype)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
        score = (emitted * maskf).sum(1)
        if tags.shape[1] > 1:
            moves = self.transitions[tags[:, :-1], tags[:, 1:]]
            score = score + (moves * maskf[:, 1:]).sum(1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
        return score + self.start_transitions[tags[:, 0]] + self.end_transitions[last]

    def _log_partition(self, emissions, mask) -> torch.Tensor:
        """``log Z`` per sequence: scaled forward pass with a closed-form gradient, or exact
        log space where a scaled step underflows (:mod:`tagkit_crf_tagger.forward_backward`)."""
        return log_partition(emissions, self.transitions, self.start_transitions,
                             self.end_transitions, mask)

    def _log_space_partition(self, emissions, mask) -> torch.Tensor:
        return log_space_partition(emissions, self.transitions, self.start_transitions,
                                   self.end_transitions, mask)

    # -- inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def viterbi_decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The best tag sequence of each item, ``(batch, max_len)`` (padding holds junk).

        Rows run sorted by falling length (prediction hands them so; others are sorted here
        and put back), so the sequences still running at step ``t`` are the first
        ``active[t]`` rows: each step works on that prefix alone, with no mask. Over the EWT
        test set that is 2.5x fewer scores than the padded batch, and no ``where`` per step.
        """
        lengths = mask.sum(dim=1)
        order = None
        if bool((lengths[1:] > lengths[:-1]).any()):
            order = torch.argsort(lengths, descending=True, stable=True)
            emissions, lengths = emissions[order], lengths[order]
        steps = emissions.transpose(0, 1)
        positions = torch.arange(steps.shape[0], device=lengths.device).unsqueeze(1)
        active = (lengths.unsqueeze(0) > positions).sum(dim=1).tolist()
        score = self.start_transitions + steps[0]  # a new tensor: updated in place below
        transitions = self.transitions.unsqueeze(0)
        backpointers = []
        for t in range(1, steps.shape[0]):
            running = active[t]
            best, index = (score[:running].unsqueeze(2) + transitions).max(dim=1)
            score[:running] = best + steps[t, :running]
            backpointers.append(index)
        # Every row's score stopped changing at its own last position, so this is each row's
        # last tag; backtracking moves a row only while it is running.
        current = (score + self.end_transitions).argmax(dim=1)
        path = [current]
        for t in range(steps.shape[0] - 1, 0, -1):
            running = active[t]
            previous = backpointers[t - 1].gather(1, current[:running].unsqueeze(1)).squeeze(1)
            current = torch.cat([previous, current[running:]])
            path.append(current)
        path.reverse()
        paths = torch.stack(path, dim=1)
        return paths if order is None else paths[torch.argsort(order)]

    @torch.no_grad()
    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``P(tag at position t | sentence)`` by forward-backward, ``(batch, max_len, tags)``.

        Runs in probability space with each step rescaled to sum to one (Rabiner's scaling):
        a step is then one small matrix product instead of a ``logsumexp`` over a ``(batch,
        tags, tags)`` tensor (2.3x faster over the EWT test set on CPU), and the per-position
        scale factors cancel when each position is normalised. Should a step underflow
        (transition scores more than about 80 apart), the exact log-space computation runs.
        """
        marginals = self._scaled_marginals(emissions, mask)
        if bool(torch.isfinite(marginals).all()):
            return marginals
        return self._log_space_marginals(emissions, mask)

    def _scaled_marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return scaled_marginals(emissions, self.transitions, self.start_transitions,
                                self.end_transitions, mask)

    def _log_space_marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return log_space_marginals(emissions, self.transitions, self.start_transitions,
                                   self.end_transitions, mask)
