"""``tagkit train CONFIG --logger tensorboard``: the command line reaches the logger plugin."""

from __future__ import annotations

from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tagkit_core.cli import main

SENTENCES = [["the DET", "dog NOUN", "runs VERB"], ["a DET", "cat NOUN", "sleeps VERB", ". PUNCT"]]

CONFIG = """
[corpus]
type = "column"
data_folder = "{folder}"
column_format = {{0 = "text", 1 = "pos"}}
train_file = "train.txt"
dev_file = "dev.txt"
test_file = "test.txt"

[[embeddings]]
type = "character"
char_embedding_dim = 4
hidden_size_char = 4

[model]
type = "sequence_tagger"
tag_type = "pos"
hidden_size = 8

[trainer]
base_path = "{out}"
max_epochs = 2
mini_batch_size = 2
"""


def test_train_with_logger_option_writes_event_files(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "dev", "test"):
        (data / f"{split}.txt").write_text("\n\n".join("\n".join(s) for s in SENTENCES) + "\n")
    config = tmp_path / "run.toml"
    out = tmp_path / "out"
    config.write_text(CONFIG.format(folder=data.as_posix(), out=out.as_posix()))

    result = CliRunner().invoke(main, ["--quiet", "train", str(config), "--logger", "tensorboard"])

    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]
    assert "loggers = [\"tensorboard\"]" in (out / "config.toml").read_text()


def test_unknown_logger_is_one_line_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "dev", "test"):
        (data / f"{split}.txt").write_text("\n".join(SENTENCES[0]) + "\n")
    config = tmp_path / "run.toml"
    config.write_text(CONFIG.format(folder=data.as_posix(), out=(tmp_path / "o").as_posix()))

    result = CliRunner().invoke(main, ["train", str(config), "--logger", "tensorbord"])

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "tensorboard" in result.output  # the close match is named
    assert not (tmp_path / "o" / "final-model.pt").exists()
