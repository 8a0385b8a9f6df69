"""The pieces under ``tagkit train``: ``--set`` parsing, the TOML writer, annotation checks and
the plain progress lines."""

from __future__ import annotations

import io
import sys

import pytest

from tagkit_core.run_config import RunConfigError, apply_overrides, parse_key
from tagkit_core.run_config_checks import WrongValue, check_annotation
from tagkit_core.toml_writer import dumps
from tagkit_core.trainer.console import LineProgress

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_parse_key_accepts_brackets_and_dots():
    assert parse_key("embeddings[0].embeddings[1].type") == ["embeddings", 0, "embeddings", 1,
                                                             "type"]
    assert parse_key("embeddings.0.type") == ["embeddings", 0, "type"]
    with pytest.raises(RunConfigError, match="not a key path"):
        parse_key("trainer..max_epochs")


def test_overrides_read_toml_values_and_create_tables():
    config = {"trainer": {"max_epochs": 1}, "embeddings": [{"type": "word"}]}
    apply_overrides(config, ["trainer.max_epochs=3", "trainer.device=cpu",
                             "trainer.learning_rate=1e-3", "model.use_crf=false",
                             'embeddings[0].vocab=["a", "b"]', 'corpus.name="x=y"'])
    assert config == {"trainer": {"max_epochs": 3, "device": "cpu", "learning_rate": 0.001},
                      "embeddings": [{"type": "word", "vocab": ["a", "b"]}],
                      "model": {"use_crf": False}, "corpus": {"name": "x=y"}}


@pytest.mark.parametrize(("assignment", "message"), [
    ("trainer.max_epochs", "expected KEY=VALUE"),
    ("=3", "expected KEY=VALUE"),
    ("embeddings[1].type=word", "embeddings[1] does not exist (the list has 1 item(s))"),
    ("trainer[0]=1", "trainer is a table, not a list"),
    ("trainer.max_epochs.x=1", "trainer.max_epochs is a value (1), not a table"),
])
def test_bad_overrides_name_the_key(assignment, message):
    config = {"trainer": {"max_epochs": 1}, "embeddings": [{"type": "word"}]}
    with pytest.raises(RunConfigError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        apply_overrides(config, [assignment])


def test_toml_writer_round_trips_and_lists_unset_keys():
    data = {"corpus": {"type": "column", "column_format": {0: "text", 1: "ner"}, "name": None,
                       "odd key": "a \"quoted\"\nvalue"},
            "embeddings": [{"type": "word", "vocab": ["a", "b"]},
                           {"type": "stack", "embeddings": [{"type": "char", "dim": 4}]}],
            "trainer": {"learning_rate": 1e-05, "shuffle": False, "max_grad_norm": None}}
    text = dumps(data, header="a header")
    assert text.startswith("# a header\n")
    assert "# unset (None): name" in text and "# unset (None): max_grad_norm" in text
    back = tomllib.loads(text)
    assert back["corpus"] == {"type": "column", "column_format": {"0": "text", "1": "ner"},
                              "odd key": "a \"quoted\"\nvalue"}
    assert back["embeddings"] == data["embeddings"]
    assert back["trainer"] == {"learning_rate": 1e-05, "shuffle": False}


@pytest.mark.parametrize(("annotation", "value", "expected"), [
    ("int", 3, 3), ("float", 3, 3), ("int | None", 2, 2), ("Optional[str]", "x", "x"),
    ("PathType | None", "a/b", "a/b"), ("Sequence[str] | None", ["a"], ["a"]),
    ("Mapping[int, str]", {"0": "text"}, {0: "text"}), ("SomethingElse", object, object),
    ("bool | int", 1, 1),
])
def test_annotation_checks_accept(annotation, value, expected):
    assert check_annotation(annotation, value) == expected


@pytest.mark.parametrize(("annotation", "value", "expected"), [
    ("int", True, "an integer"), ("int", 1.5, "an integer"), ("float", "1", "a number"),
    ("str | None", 3, "a string"), ("Sequence[str]", ["a", 1], "a list of strings"),
    ("Mapping[int, str]", {"a": "text"}, "a table with integer keys"),
    ("bool", "yes", "true or false"),
])
def test_annotation_checks_refuse_with_what_was_expected(annotation, value, expected):
    with pytest.raises(WrongValue) as caught:
        check_annotation(annotation, value)
    assert caught.value.expected.startswith(expected)


def test_line_progress_prints_about_ten_lines_an_epoch():
    stream = io.StringIO()
    progress = LineProgress(list(range(25)), epoch=2, stream=stream)
    for number, _ in enumerate(progress, start=1):
        if number == 3:
            progress.set_postfix(loss="0.5")
    lines = stream.getvalue().splitlines()
    assert [line.split(" - ")[0] for line in lines] == [
        f"epoch 2: batch {n}/25" for n in (3, 6, 9, 12, 15, 18, 21, 24, 25)]
    assert lines[-1].endswith(" - loss 0.5")
