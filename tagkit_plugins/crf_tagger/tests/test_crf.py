"""The CRF against brute-force enumeration, and the BiRNN against torch's packed LSTM."""

import itertools

import pytest
import torch
from torch import nn

from tagkit_core.nn import reversal_rows, reverse_rows, reverse_within_length
from tagkit_crf_tagger.crf import CRF
from tagkit_crf_tagger.forward_backward import LogPartition
from tagkit_crf_tagger.layers import BiRNN


def _crf_and_batch(num_tags=4, lengths=(5, 3, 1)):
    torch.manual_seed(0)
    crf = CRF(num_tags)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    max_len = max(lengths)
    lengths = torch.tensor(lengths)
    emissions = torch.randn(len(lengths), max_len, num_tags)
    mask = torch.arange(max_len)[None] < lengths[:, None]
    tags = torch.randint(0, num_tags, (len(lengths), max_len))
    return crf, emissions, lengths, mask, tags


def _path_score(crf, emissions, b, path):
    score = crf.start_transitions[path[0]] + emissions[b, 0, path[0]]
    for i in range(1, len(path)):
        score = score + crf.transitions[path[i - 1], path[i]] + emissions[b, i, path[i]]
    return score + crf.end_transitions[path[-1]]


@pytest.mark.parametrize("lengths", [(5, 3, 1), (3, 5, 1, 5, 2)])  # sorted, and not
def test_crf_matches_brute_force_enumeration(lengths):
    crf, emissions, lengths, mask, tags = _crf_and_batch(lengths=lengths)
    nll = crf.neg_log_likelihood(emissions, tags, mask, lengths)
    paths = crf.viterbi_decode(emissions, mask)
    marginals = crf.marginals(emissions, mask)
    for b, n in enumerate(lengths.tolist()):
        every = list(itertools.product(range(crf.num_tags), repeat=n))
        scores = torch.stack([_path_score(crf, emissions, b, p) for p in every])
        gold = _path_score(crf, emissions, b, tags[b, :n].tolist())
        assert torch.allclose(nll[b], torch.logsumexp(scores, 0) - gold, atol=1e-4)
        assert list(every[int(scores.argmax())]) == paths[b, :n].tolist()
        probabilities = torch.softmax(scores, 0).detach()
        for i in range(n):
            for t in range(crf.num_tags):
                expected = sum(probabilities[k] for k, p in enumerate(every) if p[i] == t)
                assert abs(float(expected) - float(marginals[b, i, t])) < 1e-4


def test_crf_loss_is_differentiable_and_positive():
    crf, emissions, lengths, mask, tags = _crf_and_batch()
    emissions.requires_grad_(True)
    loss = crf.neg_log_likelihood(emissions, tags, mask, lengths).sum()
    loss.backward()
    assert loss.item() > 0
    assert emissions.grad is not None and torch.isfinite(emissions.grad).all()
    assert crf.transitions.grad.abs().sum() > 0


def test_reverse_within_length_is_an_involution():
    index = reverse_within_length(torch.tensor([4, 2, 1]), 4)
    assert index.tolist() == [[3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 2, 3]]
    x = torch.arange(12).reshape(3, 4)
    assert torch.equal(x.gather(1, index).gather(1, index), x)


def test_reverse_rows_reverses_each_row_within_its_length_and_passes_gradients():
    lengths = torch.tensor([4, 2, 1])
    x = torch.arange(24.0).reshape(3, 4, 2).requires_grad_(True)
    rows = reversal_rows(lengths, 4)
    out = reverse_rows(x, rows)
    expected = x.gather(1, reverse_within_length(lengths, 4).unsqueeze(2).expand(-1, -1, 2))
    assert torch.equal(out, expected)
    assert out[1, :, 0].tolist() == [10.0, 8.0, 12.0, 14.0]  # [8, 10] reversed, padding kept
    assert torch.equal(reverse_rows(out, rows), x)
    (out * torch.arange(24.0).reshape(3, 4, 2)).sum().backward()
    assert torch.equal(reverse_rows(x.grad, rows), torch.arange(24.0).reshape(3, 4, 2))


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU"])
def test_birnn_equals_packed_bidirectional_rnn(rnn_type):
    torch.manual_seed(0)
    ours = BiRNN(6, 5, num_layers=1, rnn_type=rnn_type)
    cell = nn.LSTM if rnn_type == "LSTM" else nn.GRU
    reference = cell(6, 5, bidirectional=True, batch_first=True)
    forward, backward = ours.forward_layers[0], ours.backward_layers[0]
    with torch.no_grad():
        for name, _ in forward.named_parameters():
            getattr(reference, name).copy_(getattr(forward, name))
            getattr(reference, name + "_reverse").copy_(getattr(backward, name))
    lengths = torch.tensor([7, 4, 2])
    x = torch.randn(3, 7, 6) * (torch.arange(7)[None, :, None] < lengths[:, None, None])
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                               enforce_sorted=False)
    expected, _ = nn.utils.rnn.pad_packed_sequence(reference(packed)[0], batch_first=True)
    got = ours(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        assert torch.allclose(got[b, :n], expected[b, :n], atol=1e-5)


def test_birnn_output_does_not_depend_on_batch_composition():
    torch.manual_seed(0)
    rnn = BiRNN(4, 3, num_layers=2)
    lengths = torch.tensor([6, 3])
    x = torch.randn(2, 6, 4)
    x[1, 3:] = 0
    together = rnn(x, lengths)
    alone = rnn(x[1:2, :3], lengths[1:])
    assert torch.allclose(together[1, :3], alone[0], atol=1e-6)


def test_scaled_marginals_equal_log_space_marginals_on_long_sequences():
    torch.manual_seed(1)
    crf = CRF(17)
    with torch.no_grad():
        crf.transitions.normal_(0, 3)
    lengths = torch.tensor([120, 57, 1])
    emissions = torch.randn(3, 120, 17) * 8
    mask = torch.arange(120)[None] < lengths[:, None]
    with torch.no_grad():
        fast = crf._scaled_marginals(emissions, mask)
        exact = crf.double()._log_space_marginals(emissions.double(), mask)  # float64 reference
    for b, n in enumerate(lengths.tolist()):
        # float32 log space drifts by up to about 1e-4 here; the scaled recursion stays closer
        assert torch.allclose(fast[b, :n].double(), exact[b, :n], atol=1e-6)


def test_marginals_fall_back_to_log_space_when_probabilities_underflow():
    crf, emissions, lengths, mask, _ = _crf_and_batch()
    with torch.no_grad():
        crf.transitions[:, 0] = -500.0  # exp() of this underflows to 0 in float32
        crf.transitions[0, 0] = 500.0
        emissions[:, :, 0] = -500.0
    assert not torch.isfinite(crf._scaled_marginals(emissions, mask)).all()
    marginals = crf.marginals(emissions, mask)
    assert torch.allclose(marginals, crf._log_space_marginals(emissions, mask))
    assert torch.isfinite(marginals).all()


@pytest.mark.parametrize("scale", [1.0, 300.0])  # 300: scaled steps underflow, log space runs
def test_scaled_log_partition_equals_log_space_in_value_and_gradient(scale):
    crf, emissions, lengths, mask, _ = _crf_and_batch(num_tags=6, lengths=(7, 7, 4, 2, 1))
    with torch.no_grad():
        crf.transitions.mul_(scale)
    results = []
    for method in (crf._log_partition, crf._log_space_partition):
        crf.zero_grad()
        inputs = (emissions * scale).requires_grad_(True)
        value = method(inputs, mask)
        (value * torch.arange(1.0, 6.0)).sum().backward()
        results.append((value.detach(), inputs.grad, crf.transitions.grad.clone(),
                        crf.start_transitions.grad.clone(), crf.end_transitions.grad.clone()))
    assert torch.isfinite(results[0][0]).all()
    for ours, reference in zip(*results):
        assert torch.allclose(ours, reference, rtol=1e-4, atol=1e-4 * scale)
    scaled = LogPartition.apply(emissions * scale, crf.transitions, crf.start_transitions,
                                crf.end_transitions, mask)
    assert bool(torch.isnan(scaled).all()) == (scale > 1)  # the signal to use log space


def test_log_partition_gradient_passes_gradcheck():
    crf, emissions, lengths, mask, _ = _crf_and_batch(num_tags=4, lengths=(5, 3, 3, 1))
    inputs = [emissions.double().requires_grad_(True)] + [
        p.detach().double().requires_grad_(True)
        for p in (crf.transitions, crf.start_transitions, crf.end_transitions)]
    assert torch.autograd.gradcheck(lambda *a: LogPartition.apply(*a, mask), inputs)


def test_an_underflow_in_the_backward_pass_falls_back_to_the_log_space_gradient(monkeypatch):
    from tagkit_crf_tagger import forward_backward

    crf, emissions, lengths, mask, _ = _crf_and_batch(num_tags=5, lengths=(6, 4, 1))
    expected = forward_backward.log_space_gradient(
        (emissions, crf.transitions, crf.start_transitions, crf.end_transitions), mask,
        torch.ones(3))
    # Betas that underflowed to zero everywhere: 0/0 marginals, the case the fallback is for.
    monkeypatch.setattr(forward_backward, "_backward_pass",
                        lambda steps, *_: torch.zeros_like(steps))
    crf.zero_grad()
    inputs = emissions.clone().requires_grad_(True)
    crf._log_partition(inputs, mask).sum().backward()
    got = (inputs.grad, crf.transitions.grad, crf.start_transitions.grad,
           crf.end_transitions.grad)
    for ours, reference in zip(got, expected):
        assert torch.isfinite(ours).all() and torch.allclose(ours, reference, atol=1e-5)
