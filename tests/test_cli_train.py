"""``tagkit train`` on TOML configs: every bad-config case is one line naming the key, and a
tiny config trains end to end (``tiny_config`` in conftest.py: a column corpus of four
sentences, character embeddings)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tagkit_core.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

@pytest.fixture
def runner(cli_runner):
    return cli_runner


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.parametrize(("assignment", "expected"), [
    # unknown key with a close match
    ("trainer.max_epoch=3", "trainer.max_epoch: unknown key; did you mean trainer.max_epochs?"),
    ("model.hiden_size=3", "model.hiden_size: unknown key; did you mean model.hidden_size?"),
    ("corpus.dowsample=0.5", "did you mean corpus.downsample?"),
    ("trainr.max_epochs=1", "trainr: unknown key; did you mean trainer?"),
    # wrong type
    ("trainer.max_epochs=three", 'trainer.max_epochs = "three": expected an integer'),
    ("model.hidden_size=1.5", "model.hidden_size = 1.5: expected an integer"),
    ("trainer.shuffle=1", "trainer.shuffle = 1: expected true or false"),
    ("embeddings[0].char_embedding_dim=\"4\"",
     'embeddings[0].char_embedding_dim = "4": expected an integer'),
    ("corpus.column_format=[1]", "corpus.column_format = [1]: expected a table with integer"),
    # values out of range
    ("trainer.learning_rate=-1", "trainer.learning_rate = -1: must be positive"),
    ("trainer.anneal_factor=2", "trainer.anneal_factor = 2: must be in (0, 1]"),
    ("trainer.weight_decay=-0.01", "trainer.weight_decay = -0.01: must be >= 0"),
    ("corpus.downsample=2", "corpus.downsample = 2: expected a fraction in (0, 1]"),
    # unknown components and names
    ("model.type=crf", 'model.type = "crf": no model of that name is registered (available: '),
    ("embeddings[0].type=glove", 'embeddings[0].type = "glove": no embedding of that name'),
    ("corpus.type=ud_englsh", "did you mean 'ud_english'?"),
    ("trainer.embeddings_storage_mode=gpuu",
     'trainer.embeddings_storage_mode = "gpuu": not a registered storage mode (available: '),
    ("trainer.optimizer=Adamm", 'trainer.optimizer = "Adamm": expected a torch.optim optimizer'),
    # keys tagkit fills itself
    ("model.tag_dictionary=1", "model.tag_dictionary: set by tagkit from the corpus"),
])
def test_bad_config_is_one_line_naming_key_value_and_allowed(runner, tiny_config, assignment,
                                                             expected):
    result = runner.invoke(main, ["train", str(tiny_config), "--set", assignment])
    line = one_line_error(result)
    assert line.startswith(f"Error: {tiny_config}: ")
    assert expected in line


def drop_line(path: Path, startswith: str) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith(startswith)))


@pytest.mark.parametrize(("line", "expected"), [
    ("tag_type", "model.tag_type: missing; the model 'sequence_tagger' requires it"),
    ("base_path", "trainer.base_path: missing; the folder the model is written to"),
    ("data_folder", "corpus.data_folder: missing; the dataset 'column' requires it"),
    ("type = \"character\"", "embeddings[0].type: missing; name a registered embedding"),
])
def test_missing_key(runner, tiny_config, line, expected):
    drop_line(tiny_config, line)
    assert expected in one_line_error(runner.invoke(main, ["train", str(tiny_config)]))


def test_missing_section_and_embeddings(runner, tiny_config):
    text = tiny_config.read_text()
    tiny_config.write_text(text.replace("[model]", "[modle]"))
    assert "modle: unknown key; did you mean model?" in one_line_error(
        runner.invoke(main, ["train", str(tiny_config)]))
    start, end = text.index("[[embeddings]]"), text.index("[model]")
    tiny_config.write_text(text[:start] + text[end:])
    assert "embeddings: missing; the model 'sequence_tagger' needs an [[embeddings]] table" in \
        one_line_error(runner.invoke(main, ["train", str(tiny_config)]))


def test_a_registry_name_given_as_name_points_to_type(runner, tiny_config):
    text = tiny_config.read_text().replace('type = "sequence_tagger"', 'name = "SEQUENCE_TAGGER"')
    tiny_config.write_text(text)
    line = one_line_error(runner.invoke(main, ["train", str(tiny_config)]))
    assert "model.type: missing; name a registered model (available: " in line
    assert line.endswith('the registry name goes in type, not name: type = "sequence_tagger"')


def test_bad_files_and_set_syntax(runner, tmp_path, tiny_config):
    missing = tmp_path / "nope.toml"
    assert f"{missing}: no such file" in one_line_error(runner.invoke(main, ["train",
                                                                              str(missing)]))
    broken = tmp_path / "broken.toml"
    broken.write_text("[trainer]\nmax_epochs = \n")
    assert "not valid TOML" in one_line_error(runner.invoke(main, ["train", str(broken)]))
    assert "--set trainer.max_epochs: expected KEY=VALUE" in one_line_error(
        runner.invoke(main, ["train", str(tiny_config), "--set", "trainer.max_epochs"]))
    assert "embeddings[3] does not exist" in one_line_error(
        runner.invoke(main, ["train", str(tiny_config), "--set", "embeddings[3].type=word"]))


def test_a_constructor_refusal_is_one_line_naming_the_section(runner, tiny_config):
    result = runner.invoke(main, ["--quiet", "train", str(tiny_config), "--set",
                                  "corpus.train_file=absent.txt"])
    line = one_line_error(result)
    assert "corpus: the dataset 'column' could not be made" in line
    assert "absent.txt" in line


def test_check_prints_the_resolved_config_with_defaults(runner, tiny_config):
    result = runner.invoke(main, ["train", str(tiny_config), "--check", "--set",
                                  "trainer.max_epochs=5", "--set", "model.type=SEQUENCE_TAGGER"])
    assert result.exit_code == 0, result.output
    resolved = tomllib.loads(result.stdout)
    assert resolved["trainer"]["max_epochs"] == 5
    assert resolved["trainer"]["learning_rate"] == 0.1  # a default, filled in
    assert resolved["trainer"]["optimizer"] == "SGD"
    assert resolved["model"]["type"] == "sequence_tagger"  # the registry's own spelling
    assert resolved["model"]["use_crf"] is True
    assert resolved["model"]["hidden_size"] == 8  # given
    assert resolved["corpus"]["column_format"] == {"0": "text", "1": "pos"}
    assert not (tiny_config.parent / "out").exists()


def test_hidden_size_defaults_to_flairs_256_as_for_a_tagger_without_rnn(runner, tiny_config):
    """Flair 0.15's FLERT recipe gives no hidden_size (its default is 256, used only by an
    RNN), so a config without one is complete."""
    drop_line(tiny_config, "hidden_size = 8")
    result = runner.invoke(main, ["train", str(tiny_config), "--check", "--set",
                                  "model.use_rnn=false"])
    assert result.exit_code == 0, result.output
    model = tomllib.loads(result.stdout)["model"]
    assert model["hidden_size"] == 256 and model["use_rnn"] is False


def test_train_end_to_end_saves_model_and_resolved_config(runner, tiny_config, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(main, ["train", str(tiny_config), "--output", str(out), "--set",
                                  "trainer.max_epochs=1"])
    assert result.exit_code == 0, result.output
    assert (out / "final-model.pt").is_file()
    assert "test score: " in result.stdout
    assert "epoch 1: batch 2/2" in result.stderr  # stderr is no terminal: plain progress lines
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["trainer"]["base_path"] == str(out)
    assert saved["trainer"]["max_epochs"] == 1
    again = runner.invoke(main, ["train", str(out / "config.toml"), "--check"])
    assert again.exit_code == 0, again.output
    assert tomllib.loads(again.stdout) == saved


def test_quiet_prints_only_the_result(runner, tiny_config, tmp_path):
    result = runner.invoke(main, ["--quiet", "train", str(tiny_config), "-o",
                                  str(tmp_path / "q"), "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    data = json.loads(result.stdout)  # nothing but the result on stdout
    assert data["epochs"] == 2 and data["interrupted"] is False


def test_loggers_are_passed_to_the_trainer_options(runner, tiny_config, monkeypatch):
    import tagkit_core.run_config as run_config

    seen = {}

    def capture(config, registry=None, source=None):
        seen.update(config)
        raise run_config.RunConfigError("x", "stop here")

    monkeypatch.setattr(run_config, "resolve_config", capture)
    runner.invoke(main, ["train", str(tiny_config), "--logger", "a", "--logger", "b"])
    assert seen["trainer"]["loggers"] == ["a", "b"]
    seen.clear()
    runner.invoke(main, ["train", str(tiny_config)])
    assert "loggers" not in seen["trainer"]


def test_ctrl_c_saves_the_model_and_exits_130(runner, tiny_config, tmp_path, monkeypatch):
    import os
    import signal

    from tagkit_core.trainer.trainer import ModelTrainer

    original = ModelTrainer._after_epoch

    def interrupt_after_first(self, epoch, *args, **kwargs):
        original(self, epoch, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ModelTrainer, "_after_epoch", interrupt_after_first)
    out = tmp_path / "stopped"
    # As in a terminal, whatever this test process started with (SIG_IGN in the background of
    # a non-interactive shell: see the next test).
    found = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = runner.invoke(main, ["train", str(tiny_config), "-o", str(out), "--set",
                                      "trainer.max_epochs=5"])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, found)
    assert result.exit_code == 130, result.output
    assert (out / "final-model.pt").is_file()
    assert "Interrupted: the model was saved to" in result.stderr


def test_an_ignored_ctrl_c_stays_ignored_during_training():
    """`nohup tagkit train ...`, or `tagkit train ... &` in a script (whose shell ignores SIGINT
    for background jobs so that a Ctrl-C meant for the script spares them): the command keeps
    SIGINT ignored rather than turning it into an interrupt of the run."""
    import os
    import signal

    from tagkit_core.cli.running import _sigint_noted

    found = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _sigint_noted() as noted:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)  # ignored: no KeyboardInterrupt here
        assert noted == [False]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, found)


def test_logger_option_reaches_the_tensorboard_plugin(runner, tiny_config):
    """`--logger tensorboard` end to end: the tagkit-loggers plugin writes the event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tiny_config.parent / "out"
    result = runner.invoke(main, ["--quiet", "train", str(tiny_config), "--logger", "tensorboard"])

    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    assert [event.step for event in events.Scalars("train/loss")] == [1, 2]
    assert 'loggers = ["tensorboard"]' in (out / "config.toml").read_text()


def test_misspelt_logger_is_one_line_error_naming_the_close_match(runner, tiny_config):
    result = runner.invoke(main, ["train", str(tiny_config), "--logger", "tensorbord"])

    assert "tensorboard" in one_line_error(result)
    assert not (tiny_config.parent / "out" / "final-model.pt").exists()
