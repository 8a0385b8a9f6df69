"""bfloat16 on CPUs without native bfloat16 (AVX2 only): the character LM still trains and
embeds (torch's oneDNN LSTM would fail there under autocast), and the user is warned that
float32 would be faster."""

from __future__ import annotations

import warnings

import pytest
import torch
from flair_lm_helpers import tiny_lm, write_corpus

import tagkit_core.product_rates as product_rates
import tagkit_flair_embeddings.language_model as language_model
from tagkit_flair_embeddings import FlairEmbeddings, LanguageModelTrainer, TextCorpus


def test_without_native_bfloat16_the_lstm_runs_in_float32_under_autocast(monkeypatch):
    lm = tiny_lm(hidden=32).eval()
    ids = torch.randint(0, len(lm.dictionary), (12, 3))
    with torch.no_grad():
        hidden = lm.init_hidden(3)
        expected, _ = lm.rnn(lm.encoder(ids), hidden)  # float32, as the fallback runs it
        monkeypatch.setattr(language_model, "native_bfloat16_cpu", lambda: False)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            output, (state, _) = lm.representation(ids, hidden)
    assert output.dtype == state.dtype == torch.float32
    assert torch.equal(output, expected)


def test_the_check_reads_torchs_own_answer():
    product_rates.native_bfloat16_cpu.cache_clear()
    assert product_rates.native_bfloat16_cpu() \
        == torch.ops.mkldnn._is_mkldnn_bf16_supported()


@pytest.mark.parametrize("where", ["trainer", "embeddings"])
def test_bfloat16_where_it_is_slower_warns(monkeypatch, tmp_path, where):
    monkeypatch.setattr(product_rates, "bfloat16_speedup", lambda: 0.1)
    lm = tiny_lm(hidden=32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if where == "trainer":
            write_corpus(tmp_path / "corpus")
            LanguageModelTrainer(lm, TextCorpus(tmp_path / "corpus", lm.dictionary)).train(
                tmp_path / "run", sequence_length=10, mini_batch_size=2, max_epochs=1,
                precision="bfloat16")
        else:
            from tagkit_core.data import Sentence
            FlairEmbeddings(lm, precision="bfloat16").embed([Sentence("a tiny test")])
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert any("10.0 times slower than float32" in m for m in messages), messages
