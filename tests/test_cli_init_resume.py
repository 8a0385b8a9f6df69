"""``tagkit init config``, the example configs, ``tagkit resume``, and the root group's exit
codes and one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pytest

from tagkit_core.cli import main
from tagkit_core.cli.templates import EXAMPLE_FILES, TEMPLATES, render

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Only what makes the tutorial's configs tiny: 1% of the data, one epoch, a small model and a
# small all-zero GloVe table instead of the 400,000-word one (that loader has its own tests).
TINY = ["--set", "corpus.downsample=0.01", "--set", "trainer.max_epochs=1",
        "--set", "trainer.mini_batch_size=16", "--set", "model.hidden_size=8"]
SMALL_GLOVE = '["the", "a", "of", "what", "is", "who"]'


@pytest.fixture
def runner(cli_runner):
    return cli_runner


@pytest.mark.parametrize("task", sorted(TEMPLATES))
def test_examples_are_the_init_templates_and_validate(runner, task, tmp_path):
    example = EXAMPLES / EXAMPLE_FILES[task]
    assert example.read_text() == render(task, f"examples/{EXAMPLE_FILES[task]}")
    result = runner.invoke(main, ["train", str(example), "--check"])
    assert result.exit_code == 0, result.output
    resolved = tomllib.loads(result.stdout)
    assert resolved["trainer"]["learning_rate"] == 0.1
    assert resolved["trainer"]["max_epochs"] == 150


def test_every_example_config_validates(runner):
    examples = sorted(EXAMPLES.glob("*.toml"))
    assert len(examples) > len(TEMPLATES)
    for example in examples:
        result = runner.invoke(main, ["train", str(example), "--check"])
        assert result.exit_code == 0, (example, result.output)
        assert tomllib.loads(result.stdout)["trainer"]["base_path"].startswith("resources/")


def test_init_writes_a_config_that_trains_as_is(runner, tmp_path):
    config = tmp_path / "pos.toml"
    result = runner.invoke(main, ["init", "config", "--task", "pos", "-o", str(config)])
    assert result.exit_code == 0, result.output
    assert f"tagkit train {config}" in config.read_text()  # its header names the file
    out = tmp_path / "pos-run"
    result = runner.invoke(main, ["train", str(config), "-o", str(out), *TINY,
                                  "--set", f"embeddings[0].vocab={SMALL_GLOVE}",
                                  "--set", "embeddings[0].embedding_dim=4", "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["epochs"] == 1 and run["test_score"] is not None
    assert (out / "final-model.pt").is_file()
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["corpus"] == {**saved["corpus"], "type": "ud_english", "downsample": 0.01}
    again = runner.invoke(main, ["init", "config", "--task", "pos", "-o", str(config)])
    assert again.exit_code == 1 and "exists; pass --force" in again.stderr


def test_classify_example_trains_with_nested_embeddings(runner, tmp_path):
    out = tmp_path / "trec"
    result = runner.invoke(main, ["--quiet", "train", str(EXAMPLES / "classify-trec6.toml"),
                                  "-o", str(out), *TINY[:-2], "--set",
                                  "embeddings[0].hidden_size=8", "--set",
                                  f"embeddings[0].embeddings[0].vocab={SMALL_GLOVE}", "--set",
                                  "embeddings[0].embeddings[0].embedding_dim=4"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("test score: ")
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["embeddings"][0]["embeddings"][0]["type"] == "word"


def test_init_rejects_an_unknown_task(runner):
    result = runner.invoke(main, ["init", "config", "--task", "parse"])
    assert result.exit_code == 2
    assert "'parse' is not one of" in result.stderr


def test_resume_continues_the_checkpointed_run(runner, tiny_config, tmp_path):
    out = tmp_path / "run"
    first = runner.invoke(main, ["train", str(tiny_config), "-o", str(out), "--set",
                                 "trainer.max_epochs=1", "--set", "trainer.checkpoint=true"])
    assert first.exit_code == 0, first.output
    checkpoint = out / "checkpoint.pt"
    finished = runner.invoke(main, ["resume", str(checkpoint)])
    assert finished.exit_code == 1
    assert "already finished epoch 1 of max_epochs 1" in finished.stderr
    result = runner.invoke(main, ["resume", str(checkpoint), "--set", "trainer.max_epochs=3",
                                  "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["epochs"] == 3 and len(run["train_loss_history"]) == 3
    assert tomllib.loads((out / "config.toml").read_text())["trainer"]["max_epochs"] == 3
    assert len((out / "loss.tsv").read_text().strip().splitlines()) == 4  # header + 3 epochs


def test_resume_needs_a_checkpoint_and_its_config(runner, tmp_path):
    result = runner.invoke(main, ["resume", str(tmp_path / "checkpoint.pt")])
    assert result.exit_code == 1 and "no such file" in result.stderr
    fake = tmp_path / "checkpoint.pt"
    fake.write_bytes(b"not a checkpoint")
    result = runner.invoke(main, ["resume", str(fake)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'config.toml'}: no such file" in result.stderr
    assert "--config FILE" in result.stderr


def test_resume_of_a_damaged_checkpoint_is_one_line(runner, tiny_config, tmp_path):
    fake = tmp_path / "checkpoint.pt"
    fake.write_bytes(b"not a checkpoint")
    result = runner.invoke(main, ["--quiet", "resume", str(fake), "--config", str(tiny_config)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {fake}")


@pytest.fixture
def failing_command():
    @click.command("fail-for-test")
    @click.argument("how")
    def fail(how: str) -> None:
        if how == "boom":
            raise RuntimeError("boom\nsecond line")
        if how == "interrupt":
            raise KeyboardInterrupt
        raise click.ClickException("a user error")

    main.add_command(fail)
    yield
    main.commands.pop("fail-for-test")


def test_group_turns_errors_into_one_line_and_exit_codes(runner, failing_command):
    result = runner.invoke(main, ["fail-for-test", "boom"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: RuntimeError: boom ... (run 'tagkit --debug ...' for the "
                             "traceback)\n")
    assert runner.invoke(main, ["fail-for-test", "user"]).stderr == "Error: a user error\n"
    interrupted = runner.invoke(main, ["fail-for-test", "interrupt"])
    assert interrupted.exit_code == 130 and interrupted.stderr == "Interrupted.\n"
    assert runner.invoke(main, ["fail-for-test"]).exit_code == 2  # usage error, as click


def test_debug_shows_the_exception(runner, failing_command, monkeypatch):
    result = runner.invoke(main, ["--debug", "fail-for-test", "boom"])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    monkeypatch.setenv("TAGKIT_DEBUG", "1")
    assert isinstance(runner.invoke(main, ["fail-for-test", "boom"]).exception, RuntimeError)
