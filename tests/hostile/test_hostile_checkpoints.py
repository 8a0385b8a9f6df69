"""Hostile checkpoints: each fault is a CheckpointError (a ModelFileError) naming file and field,
a good one round-trips exactly, and nothing in one can run code."""

from __future__ import annotations

import os
import random

import pytest
import torch
from hostile_files import flip_byte, header_end, rewrite, tiny_tagger, write_pickle

from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.model_schema import CheckpointError, ModelFileError
from tagkit_core.trainer import ModelTrainer
from tagkit_core.trainer.checkpoint import read_checkpoint, restore_rng_state, save_checkpoint

KEY = "tagkit_checkpoint"


def _training_state():
    model = tiny_tagger()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sentence = Sentence(["the", "dog", "runs"])
    for token, tag in zip(sentence, ["DET", "NOUN", "VERB"]):
        token.add_label("pos", tag)
    model.forward_loss([sentence])[0].backward()
    optimizer.step()  # momentum buffers exist now
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max")
    scheduler.step(0.5)
    return model, optimizer, scheduler


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    model, optimizer, scheduler = _training_state()
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=2,
                    config={"max_epochs": 3}, history={"dev_score": [0.1, 0.5]},
                    best_score=0.5, extra={"plugin": {"count": 3}, "scale": torch.ones(2)})
    return path


def test_a_checkpoint_round_trips(tmp_path):
    model, optimizer, scheduler = _training_state()
    checkpoint = tmp_path / "checkpoint.pt"
    random.seed(7)
    torch.manual_seed(7)
    save_checkpoint(checkpoint, model=model, optimizer=optimizer, scheduler=scheduler, epoch=2,
                    config={"max_epochs": 3}, history={"dev_score": [0.1, 0.5]},
                    best_score=0.5, extra={"plugin": {"count": 3}, "scale": torch.ones(2)})
    expected_random, expected_torch = random.random(), torch.rand(3)
    payload = read_checkpoint(checkpoint)
    assert payload["epoch"] == 2 and payload["best_score"] == 0.5
    assert payload["history"] == {"dev_score": [0.1, 0.5]}
    assert payload["extra"]["plugin"] == {"count": 3}
    assert torch.equal(payload["extra"]["scale"], torch.ones(2))
    saved = optimizer.state_dict()
    for param, state in saved["state"].items():
        assert torch.equal(payload["optimizer_state"]["state"][param]["momentum_buffer"],
                           state["momentum_buffer"])
    fresh = torch.optim.SGD(tiny_tagger().parameters(), lr=1.0, momentum=0.9)
    fresh.load_state_dict(payload["optimizer_state"])
    assert fresh.param_groups[0]["lr"] == 0.1
    scheduler.load_state_dict(payload["scheduler_state"])
    for key, value in model.state_dict().items():
        assert torch.equal(payload["model_state"][key], value), key
    random.seed(0)
    torch.manual_seed(0)
    restore_rng_state(payload["rng_state"])
    assert random.random() == expected_random
    assert torch.equal(torch.rand(3), expected_torch)


def _model_words(payload):
    return payload["model_header"]["model"]["config"]["embeddings"]["config"]


CASES = {
    "epoch string": (lambda p: p.update(epoch="3"), "epoch must be an integer"),
    "epoch negative": (lambda p: p.update(epoch=-1), "epoch must be an integer >= 0"),
    "optimizer os.system": (lambda p: p.update(optimizer_class="os.system"),
                            "optimizer_class: .*not a torch.optim class; a checkpoint "
                            "imports no other code"),
    "optimizer missing class": (lambda p: p.update(optimizer_class="torch.optim.Nope"),
                                "optimizer_class"),
    "version 1": (lambda p: p.update(checkpoint_version=1), "checkpoint_version must be 2"),
    "history not lists": (lambda p: p.update(history={"loss": 1}), "history.loss must be a list"),
    "model header version": (lambda p: p["model_header"].update(format_version="2"),
                             r"model_header\.format_version must be an integer"),
    "python rng state": (lambda p: p["rng_state"].update(python=[3, [], None]),
                         "rng_state.python"),
    "dangling tensor reference": (
        lambda p: p["extra"].update(x={"tagkit_tensor": "../../etc/passwd"}),
        "reference to one of the file's tensors"),
    "missing field": (lambda p: p.pop("best_score"), r"missing \['best_score'\]"),
}


@pytest.mark.parametrize("mutate, message", CASES.values(), ids=CASES.keys())
def test_a_hostile_checkpoint_is_refused_naming_file_and_field(checkpoint, mutate, message):
    rewrite(checkpoint, KEY, header=mutate)
    with pytest.raises(CheckpointError, match=message) as caught:
        read_checkpoint(checkpoint)
    assert str(checkpoint) in str(caught.value)


def test_a_class_passed_for_the_optimizer_must_be_the_one_the_checkpoint_names(checkpoint):
    """The caller's own optimizer class is used only under the exact name recorded: a file
    naming os.system gets nothing from a class passed for another name."""
    rewrite(checkpoint, KEY, header=lambda p: p.update(optimizer_class="os.system"))
    with pytest.raises(CheckpointError, match=r"trained with 'os.system', not with the "
                                              r"'torch.optim.sgd.SGD' passed"):
        read_checkpoint(checkpoint, optimizer=torch.optim.SGD)


@pytest.mark.parametrize("tensor", [torch.zeros(0, dtype=torch.uint8),
                                    torch.zeros(5056, dtype=torch.float32)],
                         ids=["empty", "float"])
def test_a_bad_rng_state_is_refused(checkpoint, tensor):
    rewrite(checkpoint, KEY, tensors=lambda state: state.__setitem__("rng/torch", tensor))
    with pytest.raises(CheckpointError, match="rng/torch must be the torch generator state"):
        read_checkpoint(checkpoint)


def test_a_stray_tensor_is_refused(checkpoint):
    rewrite(checkpoint, KEY, tensors=lambda state: state.__setitem__("evil", torch.zeros(1)))
    with pytest.raises(CheckpointError, match="no field refers to: evil"):
        read_checkpoint(checkpoint)


def test_a_flipped_byte_fails_the_checksum(checkpoint):
    flip_byte(checkpoint, os.path.getsize(checkpoint) - 2)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_checkpoint(checkpoint)


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.999])
def test_a_truncated_checkpoint_is_damaged(checkpoint, fraction):
    data = checkpoint.read_bytes()
    cut = max(9, int(header_end(checkpoint) * fraction)) if fraction < 0.9 else len(data) - 1
    checkpoint.write_bytes(data[:cut])
    with pytest.raises(CheckpointError, match="damaged safetensors file") as caught:
        read_checkpoint(checkpoint)
    assert str(checkpoint) in str(caught.value)


def test_a_missing_checkpoint_says_so_and_nothing_about_pretrained_models(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        ModelTrainer.load_checkpoint(tmp_path / "checkpoint.pt", Corpus([], [], []))
    assert str(caught.value).endswith("checkpoint.pt: no such file")
    assert "pretrained" not in str(caught.value)


def test_a_pickle_is_not_a_checkpoint(tmp_path):
    marker = tmp_path / "pwned"
    path = write_pickle(tmp_path / "checkpoint.pt", marker)
    with pytest.raises(CheckpointError, match="not a readable tagkit checkpoint"):
        read_checkpoint(path)
    assert not marker.exists()


def test_a_model_header_naming_a_pickle_never_opens_it(checkpoint, tmp_path):
    marker = tmp_path / "pwned"
    pickle_path = write_pickle(tmp_path / "vectors.pkl", marker)
    rewrite(checkpoint, KEY,
            header=lambda p: _model_words(p).update(vocab=None, name_or_path=str(pickle_path)))
    corpus = Corpus([Sentence(["the"])], name="one")
    with pytest.raises(ModelFileError, match=r"model_header\.model\.config\.embeddings\.config"
                                             r"\.vocab") as caught:
        ModelTrainer.load_checkpoint(checkpoint, corpus)
    assert str(checkpoint) in str(caught.value)
    assert not marker.exists()


def test_a_model_header_that_lies_about_sizes_is_refused_before_allocating(checkpoint):
    rewrite(checkpoint, KEY,
            header=lambda p: p["model_header"]["model"]["config"].update(hidden_size=60000))
    with pytest.raises(ModelFileError, match="disagree"):
        ModelTrainer.load_checkpoint(checkpoint, Corpus([Sentence(["the"])], name="one"))
