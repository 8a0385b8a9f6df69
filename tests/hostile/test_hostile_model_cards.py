"""Hostile model cards: each is a ModelFileError naming the file and the field, through loading,
the header-only reader and ``tagkit info`` alike; a file without a card still loads; the README
a card becomes keeps the file's text inert."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from click.testing import CliRunner
from hostile_files import flip_byte, header_end, read_file, rewrite, tiny_tagger

from tagkit_core.cli import main
from tagkit_core.model_card import MAX_STRING, read_model_card, read_model_header
from tagkit_core.model_card_text import card_readme
from tagkit_core.model_schema import CheckpointError, ModelFileError
from tagkit_core.persistence import write_model_card
from tagkit_core.trainer.checkpoint import read_checkpoint, save_checkpoint
from tagkit_crf_tagger import SequenceTagger

KEY = "tagkit"
CARD = {"card_version": 1,
        "model": {"class": "SequenceTagger", "type": "sequence_tagger", "label_type": "pos",
                  "labels": ["DET", "NOUN", "VERB"], "dictionary_size": 3, "parameters": 10},
        "corpus": {"name": "toy", "train": 3, "dev": 1, "test": 1},
        "training": {"options": {"learning_rate": 0.1}, "seed": 1, "epoch": 1},
        "dev": {"main_score": 0.5, "scores": {"accuracy": 0.5}, "epoch": 1},
        "test": {"main_score": 0.25, "main_score_name": "accuracy",
                 "scores": {"accuracy": 0.25}, "model_file": "final-model.pt"},
        "versions": {"tagkit-core": "0.1.0"}}


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "final-model.pt"
    tiny_tagger().save(path)
    rewrite(path, KEY, header=lambda h: h.update(model_card=json.loads(json.dumps(CARD))))
    return path


def set_card(*keys, value):
    def mutate(header):
        place = header["model_card"]
        for key in keys[:-1]:
            place = place[key]
        place[keys[-1]] = value
    return mutate


CASES = {
    "card a list": (lambda h: h.update(model_card=[1]), r"model_card must be a JSON object"),
    "no card_version": (lambda h: h["model_card"].pop("card_version"),
                        r"model_card\.card_version must be an integer"),
    "seed a string": (set_card("training", "seed", value="1"),
                      r"model_card\.training\.seed must be an integer or null"),
    "options not scalars": (set_card("training", "options", value={"x": {"y": 1}}),
                            r"model_card\.training\.options must be an object of strings"),
    "labels not strings": (set_card("model", "labels", value=["A", 1]),
                           r"model_card\.model\.labels must be a list of strings"),
    "negative size": (set_card("corpus", "train", value=-1),
                      r"model_card\.corpus\.train must be an integer >= 0"),
    "score a string": (set_card("test", "main_score", value="0.9"),
                       r"model_card\.test\.main_score must be a number"),
    "scores a list": (set_card("dev", "scores", value=[0.9]),
                      r"model_card\.dev\.scores must be an object of numbers"),
    "section a string": (set_card("training", value="fast"),
                         r"model_card\.training must be a JSON object"),
    "terminal escape": (set_card("corpus", "name", value="\x1b[2J\x1b]0;pwned\x07"),
                        r"model_card\.corpus\.name holds a control character"),
    "escape in a key": (set_card("versions", value={"\x1b[31m": "1"}), "control character"),
    "huge string": (set_card("model", "class", value="x" * (MAX_STRING + 1)),
                    r"model_card\.model\.class is a string of"),
    "unknown header key": (lambda h: h.update(model_cards={}), r"unknown \['model_cards'\]"),
}


@pytest.mark.parametrize("mutate, message", CASES.values(), ids=CASES.keys())
def test_a_hostile_card_is_refused_everywhere(model_file, mutate, message):
    rewrite(model_file, KEY, header=mutate)
    with pytest.raises(ModelFileError, match=message) as caught:
        SequenceTagger.load(model_file)
    assert str(model_file) in str(caught.value)
    with pytest.raises(ModelFileError, match=message):
        read_model_card(model_file)
    result = CliRunner().invoke(main, ["info", str(model_file)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "\x1b" not in result.output
    assert str(model_file) in result.output and len(result.output.strip().splitlines()) == 1


def test_a_non_finite_score_is_refused(model_file):
    text, _ = read_file(model_file, KEY)
    assert '"main_score": 0.25' in text
    rewrite(model_file, KEY, text=text.replace('"main_score": 0.25', '"main_score": NaN'))
    with pytest.raises(ModelFileError, match=r"model_card\.test\.main_score must be a finite"):
        SequenceTagger.load(model_file)


def test_unknown_card_keys_are_accepted_for_newer_cards(model_file):
    rewrite(model_file, KEY, header=set_card("model", "new_field", value={"a": [1, 2]}))
    assert SequenceTagger.load(model_file).model_card["model"]["new_field"] == {"a": [1, 2]}


def test_a_file_without_a_card_still_loads_and_says_so(tmp_path):
    path = tmp_path / "plain.pt"
    tiny_tagger().save(path)  # Model.save outside a training run: no card
    assert "model_card" not in read_model_header(path)
    assert read_model_card(path) is None
    assert SequenceTagger.load(path).model_card is None
    result = CliRunner().invoke(main, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "no model card" in result.output
    assert "sequence_tagger from tagkit-crf-tagger" in result.output
    assert json.loads(CliRunner().invoke(main, ["info", "--json", str(path)]).output
                      )["model_card"] is None
    empty = CliRunner().invoke(main, ["info", str(tmp_path / "nothing")])
    assert empty.exit_code == 1 and "no tagkit model file at" in empty.output
    (tmp_path / "run").mkdir()
    folder = CliRunner().invoke(main, ["info", str(tmp_path / "run")])
    assert folder.exit_code == 1 and "without final-model.pt or best-model.pt" in folder.output


def test_a_good_card_round_trips_through_load_save_and_the_reader(model_file, tmp_path):
    model = SequenceTagger.load(model_file)
    assert model.model_card == read_model_card(model_file) == CARD
    model.save(tmp_path / "again.pt")
    assert read_model_card(tmp_path / "again.pt") == CARD


def test_an_invalid_card_is_never_saved(tmp_path):
    model = tiny_tagger()
    model.model_card = {"card_version": 1, "training": {"seed": "one"}}
    with pytest.raises(TypeError, match=r"training\.seed must be an integer"):
        model.save(tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


def test_write_model_card_keeps_the_tensors_and_refuses_a_damaged_file(model_file):
    before = SequenceTagger.load(model_file).state_dict()
    write_model_card(model_file, {**CARD, "corpus": {"name": "other"}})
    after = SequenceTagger.load(model_file)  # the checksum was recomputed over the same tensors
    assert after.model_card["corpus"] == {"name": "other"}
    assert all(torch.equal(before[k], v) for k, v in after.state_dict().items())
    flip_byte(model_file, header_end(model_file) + 3)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        write_model_card(model_file, CARD)


def test_a_hostile_card_in_a_checkpoint_is_a_checkpoint_error(tmp_path):
    model = tiny_tagger()
    model.model_card = dict(CARD)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max")
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=1,
                    config={}, history={}, best_score=None)
    assert read_checkpoint(path)["model_header"]["model_card"] == CARD
    rewrite(path, "tagkit_checkpoint",
            header=lambda p: p["model_header"]["model_card"]["training"].update(seed=[1]))
    with pytest.raises(CheckpointError, match=r"model_header\.model_card\.training\.seed"):
        read_checkpoint(path)


def test_the_readme_keeps_the_files_text_inert(model_file):
    name = '<script>alert(1)</script> [x](javascript:1) "quoted" | & ---'
    rewrite(model_file, KEY, header=set_card("corpus", "name", value=name))
    readme = card_readme(read_model_header(model_file), "final-model.pt")
    assert readme.startswith("---\n")
    front, body = readme[4:].split("\n---\n", 1)
    meta = yaml.safe_load(front)
    assert meta["datasets"] == [name] and meta["library_name"] == "tagkit"
    assert meta["metrics"] == ["accuracy"]
    assert meta["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.25
    assert "<script>" not in readme and "&lt;script&gt;" in body
    assert "\\[x\\](javascript:1)" in body and "\\|" in body
