"""LanguageModelTrainer on tiny text: it learns, anneals, checkpoints, and a run killed with
SIGKILL resumes to the very same weights as an uninterrupted one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from flair_lm_helpers import tiny_dictionary, tiny_lm, write_corpus
from lm_train_script import run
from safetensors.torch import load_file

from tagkit_flair_embeddings import (
    FlairEmbeddings,
    LanguageModelTrainer,
    TextCorpus,
    load_language_model,
)
from tagkit_flair_embeddings.lm_checkpoint import read_lm_checkpoint
from tagkit_flair_embeddings.lm_trainer import batchify

SCRIPT = Path(__file__).with_name("lm_train_script.py")


def test_batchify_makes_parallel_streams():
    data = batchify(torch.arange(10), 3)
    assert data.tolist() == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_corpus_layout_and_direction(tmp_path):
    write_corpus(tmp_path, splits=3)
    forward = TextCorpus(tmp_path, tiny_dictionary())
    backward = TextCorpus(tmp_path, tiny_dictionary(), forward=False)
    assert len(forward.train_files) == 3
    assert torch.equal(forward.valid.flip(0), backward.valid)
    text = (tmp_path / "valid.txt").read_text()
    assert forward.valid.tolist() == tiny_dictionary().get_idx_for_items(text)
    with pytest.raises(FileNotFoundError, match="train"):
        TextCorpus(tmp_path / "nothing", tiny_dictionary())
    with pytest.raises(ValueError, match="backward"):
        LanguageModelTrainer(tiny_lm(forward=True), backward)


@pytest.mark.parametrize("forward", [True, False])
def test_the_lm_learns_and_the_best_model_is_kept(tmp_path, forward):
    write_corpus(tmp_path / "corpus")
    lm = tiny_lm(forward=forward, hidden=32)
    trainer = LanguageModelTrainer(lm, TextCorpus(tmp_path / "corpus", lm.dictionary,
                                                  forward=forward))
    before = trainer.evaluate(trainer.corpus.valid, 4, 20)
    result = trainer.train(tmp_path / "run", sequence_length=20, mini_batch_size=4,
                           learning_rate=5.0, max_epochs=4, checkpoint=False)
    perplexities = [row["valid_perplexity"] for row in result["history"]]
    assert len(perplexities) == 8  # 4 epochs x 2 splits
    assert perplexities[-1] < 0.6 * torch.tensor(before).exp().item()
    assert result["best_valid_perplexity"] == pytest.approx(min(perplexities))
    assert 1 < result["test_perplexity"] < perplexities[0]
    assert all(row["chars_per_second"] > 0 for row in result["history"])
    best = load_language_model(tmp_path / "run" / "best-lm.pt")
    assert best.is_forward_lm == forward
    assert FlairEmbeddings(str(tmp_path / "run" / "best-lm.pt")).embedding_length == 32
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_a_bfloat16_run_learns_keeps_float32_weights_and_records_its_precision(tmp_path):
    write_corpus(tmp_path / "corpus")
    lm = tiny_lm(hidden=32)
    trainer = LanguageModelTrainer(lm, TextCorpus(tmp_path / "corpus", lm.dictionary))
    before = trainer.evaluate(trainer.corpus.valid, 4, 20)
    result = trainer.train(tmp_path / "run", sequence_length=20, mini_batch_size=4,
                           learning_rate=5.0, max_epochs=4, precision="bfloat16")
    assert result["history"][-1]["valid_perplexity"] < 0.6 * torch.tensor(before).exp().item()
    assert all(p.dtype == torch.float32 for p in lm.parameters())
    assert load_language_model(tmp_path / "run" / "best-lm.pt").encoder.weight.dtype \
        == torch.float32
    _, state = read_lm_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["options"]["precision"] == "bfloat16"  # a resumed run keeps it
    with pytest.raises(ValueError, match="precision must be one of"):
        trainer.train(tmp_path / "other", precision="half")


def test_annealing_multiplies_the_learning_rate(tmp_path):
    write_corpus(tmp_path / "corpus")
    lm = tiny_lm()
    trainer = LanguageModelTrainer(lm, TextCorpus(tmp_path / "corpus", lm.dictionary))
    # A learning rate this high diverges: no split improves, so each one anneals.
    result = trainer.train(tmp_path / "run", sequence_length=10, mini_batch_size=4,
                           learning_rate=1e4, max_epochs=2, patience=0, anneal_factor=0.5,
                           checkpoint=False)
    rates = [row["learning_rate"] for row in result["history"]]
    assert rates[-1] < rates[0]
    assert all(b in (a, a * 0.5) for a, b in zip(rates, rates[1:]))


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path):
    corpus = str(write_corpus(tmp_path / "corpus", splits=2, repeat=3))
    full = json.loads(json.dumps(run("fresh", corpus, str(tmp_path / "full"), 3)))

    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, str(SCRIPT), "kill", corpus, str(killed), "3"],
                               stdout=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if line.strip() == "READY":
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    _, state = read_lm_checkpoint(killed / "checkpoint.pt")
    assert (state["epoch"], state["split"]) == (1, 1)  # after epoch 2's first split

    resumed = _run("resume", corpus, str(killed), "3")
    assert resumed == full  # history (losses, learning rates), perplexities, epochs
    for name in ("best-lm.pt", "checkpoint.pt"):
        expected, got = load_file(tmp_path / "full" / name), load_file(killed / name)
        expected.pop("rng/torch", None), got.pop("rng/torch", None)
        # CUDA's generators are saved only where CUDA was started: on a GPU machine this
        # in-process run has them and the subprocess does not.
        for state in (expected, got):
            for key in [k for k in state if k.startswith("rng/cuda")]:
                del state[key]
        assert expected.keys() == got.keys()
        for key in expected:
            assert torch.equal(expected[key], got[key]), (name, key)  # bit for bit


def test_a_tampered_or_foreign_checkpoint_is_refused(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    from tagkit_core.model_schema import CheckpointError
    from tagkit_flair_embeddings import save_language_model

    write_corpus(tmp_path / "corpus", repeat=2)
    lm = tiny_lm()
    LanguageModelTrainer(lm, TextCorpus(tmp_path / "corpus", lm.dictionary)).train(
        tmp_path / "run", sequence_length=10, mini_batch_size=4, max_epochs=1)
    path = tmp_path / "run" / "checkpoint.pt"
    tensors = load_file(path)
    with safe_open(str(path), "pt") as handle:
        metadata = handle.metadata()
    tensors["model/decoder.bias"] += 1
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_lm_checkpoint(path)
    payload = json.loads(metadata["tagkit_lm_checkpoint"])  # a lying config: refused unbuilt
    payload["language_model"]["hidden_size"] += 1
    save_file(tensors, str(path), metadata={**metadata,
                                            "tagkit_lm_checkpoint": json.dumps(payload)})
    with pytest.raises(CheckpointError, match=r"language_model: the config and the file's "
                       r"tensors disagree: tensor 'decoder.weight' is \[\d+, \d+\] F32"):
        read_lm_checkpoint(path)
    del tensors["rng/torch"]  # the model's tensors right, the generator state missing
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"other tensors are \[\], expected \['rng/torch'\]"):
        read_lm_checkpoint(path)
    save_language_model(lm, path)
    with pytest.raises(CheckpointError, match="not a language model checkpoint"):
        read_lm_checkpoint(path)


def test_lm_training_keeps_freed_memory_during_the_run(tmp_path, monkeypatch):
    """tagkit_core.allocator: each window's large buffers are reused, not faulted in anew, and
    the memory goes back to the kernel when the run ends."""
    import contextlib

    import tagkit_flair_embeddings.lm_trainer as lm_trainer

    calls = []
    original = lm_trainer.LanguageModelTrainer._train_split

    def train_split(self, *args, **kwargs):
        calls.append("split")
        return original(self, *args, **kwargs)

    @contextlib.contextmanager
    def kept():
        calls.append("keep")
        yield True
        calls.append("release")

    monkeypatch.setattr(lm_trainer, "freed_memory_kept", kept)
    monkeypatch.setattr(lm_trainer.LanguageModelTrainer, "_train_split", train_split)
    write_corpus(tmp_path / "corpus")
    lm = tiny_lm(forward=True, hidden=16)
    LanguageModelTrainer(lm, TextCorpus(tmp_path / "corpus", lm.dictionary)).train(
        tmp_path / "run", sequence_length=20, mini_batch_size=4, max_epochs=1,
        checkpoint=False)
    assert calls == ["keep", "split", "split", "release"]
