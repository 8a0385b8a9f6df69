"""gru_outputs: nn.GRU's outputs and gradients, with a backward of three operations per step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import tagkit_embeddings.gru as gru_module
from tagkit_core.data import Sentence
from tagkit_embeddings import DocumentRNNEmbeddings
from tagkit_embeddings.gru import _GRULayer, gru_outputs, runs_on


def _gradients(outputs, inputs, rnn, upstream):
    wanted = [inputs, *rnn.parameters()]
    return torch.autograd.grad(outputs, wanted, upstream)


@pytest.mark.parametrize("layers, batch, steps", [(1, 3, 6), (2, 4, 5), (1, 1, 1), (3, 2, 2)])
def test_outputs_and_gradients_equal_nn_gru(layers, batch, steps):
    torch.manual_seed(layers * 10 + steps)
    rnn = nn.GRU(5, 7, num_layers=layers, batch_first=True).double()
    inputs = torch.randn(batch, steps, 5, dtype=torch.float64, requires_grad=True)
    assert runs_on(rnn, inputs)
    expected, ours = rnn(inputs)[0], gru_outputs(rnn, inputs)
    assert ours.shape == expected.shape
    assert torch.allclose(ours, expected, atol=1e-12, rtol=0)
    upstream = torch.randn_like(expected)
    for want, got in zip(_gradients(expected, inputs, rnn, upstream),
                         _gradients(ours, inputs, rnn, upstream)):
        assert torch.allclose(got, want, atol=1e-12, rtol=0)


def test_gradient_read_at_each_last_word_only():
    # As DocumentRNNEmbeddings reads it: one step per row, the rest of the gradient zero
    # (a strided, mostly zero upstream gradient).
    torch.manual_seed(1)
    rnn = nn.GRU(4, 6, batch_first=True).double()
    inputs = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 2, 4])
    rows = torch.arange(3)
    results = []
    for outputs in (rnn(inputs)[0], gru_outputs(rnn, inputs)):
        last = outputs[rows, lengths - 1]
        results.append(torch.autograd.grad(last.square().sum(), [inputs, *rnn.parameters()]))
    for want, got in zip(*results):
        assert torch.allclose(got, want, atol=1e-12, rtol=0)


def test_gradcheck_on_inputs_and_every_weight():
    torch.manual_seed(2)
    rnn = nn.GRU(3, 4, batch_first=True).double()
    inputs = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    weights = [param.detach().clone().requires_grad_() for param in rnn.parameters()]
    assert torch.autograd.gradcheck(_GRULayer.apply, (inputs, *weights))


def test_frozen_weights_and_inputs_without_gradient():
    torch.manual_seed(3)
    rnn = nn.GRU(4, 5, batch_first=True)
    for param in rnn.parameters():
        param.requires_grad_(False)
    rnn.bias_hh_l0.requires_grad_(True)
    inputs = torch.randn(2, 3, 4)
    gru_outputs(rnn, inputs).sum().backward()
    expected = torch.autograd.grad(rnn(inputs)[0].sum(), [rnn.bias_hh_l0])[0]
    assert torch.allclose(rnn.bias_hh_l0.grad, expected, atol=1e-6)
    assert rnn.weight_hh_l0.grad is None


def test_prediction_without_gradients_equals_nn_gru():
    torch.manual_seed(4)
    rnn = nn.GRU(6, 8, num_layers=2, batch_first=True).eval()
    inputs = torch.randn(5, 7, 6)
    with torch.no_grad():
        assert torch.allclose(gru_outputs(rnn, inputs), rnn(inputs)[0], atol=1e-6)


def test_what_it_does_not_compute_is_refused():
    inputs = torch.randn(2, 3, 4)
    assert not runs_on(nn.GRU(4, 5, batch_first=True, bidirectional=True), inputs)
    assert not runs_on(nn.GRU(4, 5), inputs)  # time-major
    assert not runs_on(nn.GRU(4, 5, batch_first=True, bias=False), inputs)
    assert not runs_on(nn.LSTM(4, 5, batch_first=True), inputs)
    assert not runs_on(nn.GRU(4, 5, batch_first=True), inputs.bfloat16())
    assert not runs_on(nn.GRU(4, 5, batch_first=True), torch.empty(2, 3, 4, device="meta"))
    assert not runs_on(nn.GRU(4, 5, batch_first=True).double(), inputs)  # mixed types
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not runs_on(nn.GRU(4, 5, batch_first=True), inputs)
    between = nn.GRU(4, 5, num_layers=2, dropout=0.3, batch_first=True)
    assert not runs_on(between.train(), inputs)  # dropout between layers: nn.GRU's own
    assert runs_on(between.eval(), inputs)


def test_document_rnn_under_bfloat16_autocast_keeps_nn_gru(word2vec_text):
    from tagkit_embeddings import WordEmbeddings

    document = DocumentRNNEmbeddings([WordEmbeddings(str(word2vec_text))], hidden_size=6,
                                     reproject_words=False).eval()
    sentences = [Sentence("the cat sat on the mat"), Sentence("a dog")]
    # With gradients recorded (as in training), where the GRU of gru.py would otherwise run:
    # under autocast its products would be bfloat16, so nn.GRU takes the batch.
    plain = document(sentences)
    for sentence in sentences:
        sentence.clear_embeddings()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = document(sentences)
    low.float().sum().backward()
    assert document.rnn.weight_hh_l0.grad is not None
    assert torch.allclose(low.float(), plain.detach(), atol=0.05)


def test_document_rnn_trains_through_it_and_predicts_with_nn_gru(word2vec_text, monkeypatch):
    from tagkit_embeddings import WordEmbeddings

    torch.manual_seed(5)
    document = DocumentRNNEmbeddings([WordEmbeddings(str(word2vec_text))], hidden_size=6,
                                     dropout=0.0).double()
    sentences = [Sentence("the cat sat on the mat"), Sentence("a dog"), Sentence("the")]
    calls = []
    real_outputs, real_runs_on = gru_module.gru_outputs, gru_module.runs_on

    def counted(rnn, x):
        calls.append(x.shape)
        return real_outputs(rnn, x)

    monkeypatch.setattr(gru_module, "gru_outputs", counted)
    results = []
    for ours in (True, False):
        monkeypatch.setattr(gru_module, "runs_on",
                            lambda rnn, x, ours=ours: ours and real_runs_on(rnn, x))
        document.zero_grad()
        for sentence in sentences:
            sentence.clear_embeddings()
        document(sentences).square().sum().backward()
        results.append([p.grad.clone() for p in document.parameters() if p.requires_grad])
    assert len(calls) == 1  # the first pass only
    for got, want in zip(*results):
        assert torch.allclose(got, want, atol=1e-10)
    monkeypatch.setattr(gru_module, "runs_on", real_runs_on)
    with torch.no_grad():  # prediction: nn.GRU, which is as fast without gradients
        document(sentences)
    assert len(calls) == 1
