"""The trainer with the real tagger: exact resume after SIGKILL, Ctrl-C, NaN loss, no dev split."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tagkit_core import set_seed
from tagkit_core.corpus import Corpus
from tagkit_core.hookspecs import hookimpl
from tagkit_core.trainer import ModelTrainer, NonFiniteLossError
from tagkit_core.trainer.checkpoint import read_checkpoint
from tagkit_crf_tagger import SequenceTagger

SCRIPT = Path(__file__).with_name("train_script.py")
EPOCHS = 4


def _run(*args: str, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                         timeout=300, check=True, env=env).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def _kill_when_ready(*args: str) -> None:
    """Start train_script.py with ``args``, SIGKILL it once it prints READY, check it died so."""
    process = subprocess.Popen([sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE,
                               text=True)
    try:
        for line in process.stdout:
            if line.strip() == "READY":
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("kinds", ["toy", "toy+chars", "word+chars"])
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path, kinds):
    full = _run("fresh", str(tmp_path / "full"), str(EPOCHS), "0", kinds)

    killed_dir = tmp_path / "killed"
    _kill_when_ready("kill", str(killed_dir), str(EPOCHS), "3", kinds)
    assert not (killed_dir / "final-model.pt").exists()
    assert read_checkpoint(killed_dir / "checkpoint.pt")["epoch"] == 2

    resumed = _run("resume", str(killed_dir), str(EPOCHS), "0", kinds)
    assert resumed["epochs"] == full["epochs"] == EPOCHS
    assert resumed["dev_score_history"] == full["dev_score_history"]
    assert resumed["train_loss_history"] == full["train_loss_history"]
    assert resumed["test_score"] == full["test_score"]
    expected = load_file(tmp_path / "full" / "final-model.pt")
    got = load_file(killed_dir / "final-model.pt")
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name  # exact, bit for bit
    rows = (killed_dir / "loss.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows[1:]] == ["1", "2", "3", "4"]


def test_a_kill_during_the_checkpoint_write_resumes_exactly(tmp_path):
    """SIGKILL with epoch 3's checkpoint written to its temporary file but not renamed: the
    epoch-2 checkpoint is intact, the resumed run repeats epoch 3 and ends as the uninterrupted
    one, bit for bit; the temporary file is removed and loss.tsv lists each epoch once."""
    full = _run("fresh", str(tmp_path / "full"), str(EPOCHS), "0", "toy+chars")
    killed_dir = tmp_path / "killed"
    _kill_when_ready("killwrite", str(killed_dir), str(EPOCHS), "3", "toy+chars")
    assert list(killed_dir.glob(".checkpoint.pt.*.tmp"))  # the write was cut off
    assert read_checkpoint(killed_dir / "checkpoint.pt")["epoch"] == 2
    resumed = _run("resume", str(killed_dir), str(EPOCHS), "0", "toy+chars")
    assert resumed["train_loss_history"] == full["train_loss_history"]
    expected = load_file(tmp_path / "full" / "final-model.pt")
    got = load_file(killed_dir / "final-model.pt")
    assert all(torch.equal(expected[name], got[name]) for name in expected)
    assert not list(killed_dir.glob(".checkpoint.pt.*.tmp"))
    rows = (killed_dir / "loss.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows[1:]] == ["1", "2", "3", "4"]


def test_the_tutorials_order_trains_the_same_weights_in_fresh_processes(tmp_path):
    """Build the model (no set_seed), then train(seed=1), in two processes whose hash seeds
    differ: the saved weights are equal bit for bit."""
    runs = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        runs.append(_run("tutorial", str(tmp_path / hash_seed), "2", "0", "word+chars", env=env))
    assert runs[0]["train_loss_history"] == runs[1]["train_loss_history"]
    first = load_file(tmp_path / "1" / "final-model.pt")
    second = load_file(tmp_path / "2" / "final-model.pt")
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_ctrl_c_saves_a_loadable_model_and_returns(toy_corpus, toy_embeddings, tmp_path):
    class PressCtrlC:
        @hookimpl
        def on_epoch_start(self, trainer, epoch, learning_rate):
            if epoch == 2:
                raise KeyboardInterrupt

    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    result = ModelTrainer(tagger, toy_corpus, plugins=[PressCtrlC()]).train(
        tmp_path, max_epochs=5, show_progress=False)
    assert result["epochs"] == 1 and result["test_score"] is None
    loaded = SequenceTagger.load(tmp_path / "final-model.pt")
    assert torch.equal(loaded.linear.weight.cpu(), tagger.linear.weight.cpu())
    assert "interrupted" in (tmp_path / "training.log").read_text()


def test_nan_loss_stops_naming_epoch_and_batch_and_keeps_good_files(toy_corpus, toy_embeddings,
                                                                    tmp_path):
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    real_loss = tagger.forward_loss
    calls = {"n": 0}
    batches_per_epoch = -(-len(toy_corpus.train) // 32)

    def sometimes_nan(sentences, storage=None):
        calls["n"] += 1
        loss, count = real_loss(sentences, storage=storage)
        if calls["n"] == batches_per_epoch + 2:  # epoch 2, batch 2
            return loss * float("nan"), count
        return loss, count

    tagger.forward_loss = sometimes_nan
    with pytest.raises(NonFiniteLossError, match="epoch 2, batch 2"):
        # one length group per batch: one forward_loss call per batch, so calls count batches
        ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=3, show_progress=False,
                                               length_groups_per_batch=1)
    loaded = SequenceTagger.load(tmp_path / "final-model.pt")
    assert all(torch.isfinite(p).all() for p in loaded.parameters())
    assert (tmp_path / "best-model.pt").exists()


def test_corpus_without_dev_trains_and_says_so(toy_corpus, toy_embeddings, tmp_path, caplog):
    corpus = Corpus(toy_corpus.train, [], toy_corpus.test, name="nodev")
    tagger = SequenceTagger(toy_embeddings, corpus.make_tag_dictionary("pos"), "pos", hidden_size=8)
    with caplog.at_level("WARNING", logger="tagkit"):
        result = ModelTrainer(tagger, corpus).train(tmp_path, max_epochs=2, show_progress=False)
    assert "no dev split" in caplog.text
    assert result["dev_score_history"] == [None, None]
    assert result["test_score"] is not None
    assert not (tmp_path / "best-model.pt").exists()
    header = (tmp_path / "loss.tsv").read_text().splitlines()[0].split("\t")
    assert header[:5] == ["EPOCH", "TIMESTAMP", "SECONDS", "LEARNING_RATE", "TRAIN_LOSS"]


def test_checkpoint_files_are_replaced_atomically(toy_corpus, toy_embeddings, tmp_path):
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=2, checkpoint=True,
                                           show_progress=False)
    assert read_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 2
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    weights = (tmp_path / "weights.txt").read_text().splitlines()
    assert {line.split("\t")[0] for line in weights} == {"1", "2"}


def test_chunked_batches_give_the_same_training_as_whole_batches(toy_corpus, tmp_path,
                                                                 toy_embeddings_cls):
    weights = []
    vocab = sorted({t.text for s in toy_corpus.train for t in s})
    for chunk_size in (None, 3):
        set_seed(0)  # the same initial weights for both taggers
        tagger = SequenceTagger(toy_embeddings_cls(vocab), toy_corpus.make_tag_dictionary("pos"),
                                "pos", hidden_size=8, word_dropout=0.0, locked_dropout=0.0)
        ModelTrainer(tagger, toy_corpus).train(tmp_path / str(chunk_size), max_epochs=2,
                                               mini_batch_size=8, mini_batch_chunk_size=chunk_size,
                                               show_progress=False)
        weights.append(tagger.linear.weight.detach().cpu().clone())
    # CUDA kernels sum in another order than the CPU's: a looser bound there.
    assert torch.allclose(weights[0], weights[1], atol=1e-4 if torch.cuda.is_available() else 1e-5)


def test_train_with_dev_uses_dev_sentences_and_writes_no_best_model(toy_corpus, toy_embeddings,
                                                                    tmp_path):
    seen = []
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    real_loss = tagger.forward_loss

    def counting(sentences, storage=None):
        seen.extend(id(s) for s in sentences)
        return real_loss(sentences, storage=storage)

    tagger.forward_loss = counting
    result = ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=1, train_with_dev=True,
                                                    show_progress=False)
    assert {id(s) for s in toy_corpus.dev} <= set(seen)
    assert len(seen) == len(toy_corpus.train) + len(toy_corpus.dev)
    assert result["dev_score_history"] == [None]
    assert not (tmp_path / "best-model.pt").exists()


def test_training_keeps_freed_memory_during_its_steps(toy_corpus, toy_embeddings, tmp_path,
                                                     monkeypatch):
    """tagkit_core.allocator: kept from before the first step, handed back after the run."""
    import contextlib

    import tagkit_core.trainer.trainer as trainer_module

    calls = []
    original = trainer_module.ModelTrainer._setup

    def setup(self, *args, **kwargs):
        calls.append("setup")
        return original(self, *args, **kwargs)

    @contextlib.contextmanager
    def kept():
        calls.append("keep")
        yield True
        calls.append("release")

    monkeypatch.setattr(trainer_module, "freed_memory_kept", kept)
    monkeypatch.setattr(trainer_module.ModelTrainer, "_setup", setup)
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "pos",
                            hidden_size=8)
    ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=1, show_progress=False)
    assert calls == ["keep", "setup", "release"]
