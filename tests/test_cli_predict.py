"""``tagkit predict``: every input and output format, stdin, chunking, errors, a classifier.

The expected labels come from the Python API (``model.predict``) on the same sentences, so
these tests check the command's reading, chunking and writing, not the models; the toy models
(tests/cli_toy_models.py) are trained so their tags are also right, which the first test shows.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from cli_toy_models import (  # noqa: E402
    column_text,
    conllu_text,
    spy_on_precision,
    toy_sentences,
)

from tagkit_core.cli import main  # noqa: E402
from tagkit_core.cli.predict_input import _format_of  # noqa: E402
from tagkit_core.data import Sentence  # noqa: E402
from tagkit_core.persistence import load_model  # noqa: E402

TEXT = "the cat sings.\n\na bird runs .\nthe dog sleeps .\n"


def api_tags(model_path: Path, sentences: list[Sentence], label: str = "upos") -> list[list[str]]:
    load_model(model_path, device="cpu").predict(sentences)
    return [[token.get_tag(label) for token in sentence] for sentence in sentences]


def run(args: list[str], input: str | bytes | None = None):
    return CliRunner().invoke(main, ["predict", "--device", "cpu", *args], input=input)


def test_text_file_to_tagged_text_as_the_api_tags_it(tagger_path, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(TEXT)
    result = run([str(tagger_path), str(source)])
    assert result.exit_code == 0, result.output
    expected = [Sentence(line) for line in TEXT.splitlines()]
    load_model(tagger_path, device="cpu").predict(expected)
    assert result.output.splitlines() == [s.to_tagged_string("upos") for s in expected]
    # the toy tagger learned its language: the full stop split off "sings." is PUNCT
    assert '"sings"/VERB, "."/PUNCT' in result.output.splitlines()[0]
    assert result.output.splitlines()[1] == 'Sentence[0]: ""'  # one record per input line


def test_stdin_to_jsonl_keeps_lines_tokens_labels_and_scores(tagger_path):
    result = run([str(tagger_path), "-", "--output-format", "jsonl"], input=TEXT)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    expected = [Sentence(line) for line in TEXT.splitlines()]
    model = load_model(tagger_path, device="cpu")
    model.predict(expected)
    assert len(records) == len(TEXT.splitlines())
    for record, sentence in zip(records, expected):
        assert record["tokens"] == [t.text for t in sentence]
        assert record["labels"] == [t.get_tag("upos") for t in sentence]
        assert record["scores"] == pytest.approx([t.get_label("upos").score for t in sentence],
                                                 abs=1e-5)
        assert record["text"] == sentence.to_original_text()
    assert records[0]["level"] == "token" and records[1]["tokens"] == []


def test_no_tokenize_splits_on_whitespace_only(tagger_path):
    result = run([str(tagger_path), "--no-tokenize", "--output-format", "jsonl"],
                 input="the cat sings.\n")
    assert json.loads(result.output)["tokens"] == ["the", "cat", "sings."]


@pytest.mark.parametrize("how", ["extension", "content", "option"])
def test_conllu_input_to_conll_output(tagger_path, tmp_path, how):
    gold = toy_sentences(5, seed=3)
    text = conllu_text(gold).replace("1\tthe\t", "1-2\tthe dog\t_\t_\t_\t_\t_\t_\t_\t_\n1\tthe\t")
    name = {"extension": "in.conllu", "content": "in.data", "option": "in.data"}[how]
    source = tmp_path / name
    source.write_text(text)
    extra = ["--input-format", "conllu"] if how == "option" else []
    result = run([str(tagger_path), str(source), "--output-format", "conll", *extra])
    assert result.exit_code == 0, result.output
    blocks = [block.splitlines() for block in result.output.strip("\n").split("\n\n")]
    words = [[t.text for t in s] for s in gold]
    tags = api_tags(tagger_path, [Sentence(w) for w in words])
    assert blocks == [[f"{w}\t{t}" for w, t in zip(ws, ts)] for ws, ts in zip(words, tags)]
    assert tags == [[t.get_tag("upos") for t in s] for s in gold]  # the range line is skipped


def test_column_input_read_from_stdin_is_detected(tagger_path):
    gold = toy_sentences(4, seed=5)
    result = run([str(tagger_path), "-", "--output-format", "jsonl"], input=column_text(gold))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["tokens"] for r in records] == [[t.text for t in s] for s in gold]
    assert [r["labels"] for r in records] == api_tags(tagger_path,
                                                      [Sentence([t.text for t in s])
                                                       for s in gold])


def test_small_chunks_and_batches_give_the_same_output_in_order(tagger_path, tmp_path):
    lines = [s.to_plain_string() for s in toy_sentences(23, seed=7)]
    source = tmp_path / "many.txt"
    source.write_text("\n".join(lines) + "\n")
    whole = run([str(tagger_path), str(source), "--output-format", "jsonl"])
    chunked = run([str(tagger_path), str(source), "--output-format", "jsonl",
                   "--chunk-size", "4", "--mini-batch-size", "3"])
    assert chunked.exit_code == 0 and whole.exit_code == 0
    assert chunked.output == whole.output
    assert [json.loads(line)["text"] for line in chunked.output.splitlines()] == lines


def test_output_file(tagger_path, tmp_path):
    target = tmp_path / "out.conll"
    result = run([str(tagger_path), "-o", str(target), "--output-format", "conll"],
                 input="the dog runs .\n")
    assert result.exit_code == 0 and result.output == ""
    assert target.read_text() == "the\tDET\ndog\tNOUN\nruns\tVERB\n.\tPUNCT\n\n"


def test_malformed_conllu_line_names_file_line_and_expectation(tagger_path, tmp_path):
    source = tmp_path / "bad.conllu"
    source.write_text("# text = the dog\n1\tthe\t_\tDET\t_\t_\t_\t_\t_\t_\n2 dog NOUN\n\n")
    result = run([str(tagger_path), str(source)])
    assert result.exit_code == 1
    assert f"{source}: line 3: expected 10 tab-separated CoNLL-U fields, found 1" in result.output
    assert "Traceback" not in result.output


def test_undecodable_byte_names_its_line(tagger_path):
    result = run([str(tagger_path), "-"], input=b"the dog runs .\nthe \xff cat\n")
    assert result.exit_code == 1
    assert "<stdin>: line 2: cannot decode byte(s) ff as UTF-8" in result.output


def test_missing_model_or_input_is_one_line(tagger_path, tmp_path):
    missing_model = run([str(tmp_path / "nope.pt"), "-"], input="x\n")
    assert missing_model.exit_code == 1 and "nope.pt" in missing_model.output
    missing_input = run([str(tagger_path), str(tmp_path / "nope.txt")])
    assert missing_input.exit_code == 2 and "nope.txt: no such file" in missing_input.output


def test_classifier_labels_sentences(classifier_path):
    texts = ["good great", "awful poor", ""]
    result = run([str(classifier_path), "--output-format", "jsonl"],
                 input="\n".join(texts) + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    expected = [Sentence(text) for text in texts]
    load_model(classifier_path, device="cpu").predict(expected)
    assert [r["level"] for r in records[:2]] == ["sentence", "sentence"]
    assert [r["labels"] for r in records] == [[x.value for x in s.get_labels("sentiment")]
                                              for s in expected]
    assert records[0]["labels"] == ["POS"] and records[1]["labels"] == ["NEG"]
    conll = run([str(classifier_path), "--output-format", "conll"], input="good great\n")
    assert conll.output.startswith("# sentiment = POS\t") and "good\ngreat\n\n" in conll.output
    text = run([str(classifier_path)], input="good great\n")
    assert "sentiment: POS" in text.output


def test_closed_pipe_exits_quietly(tagger_path, tmp_path):
    source = tmp_path / "big.txt"
    source.write_text("the dog runs .\n" * 20000)
    process = subprocess.Popen(
        [sys.executable, "-m", "tagkit_core.cli", "predict", "--device", "cpu", "--chunk-size",
         "50", str(tagger_path), str(source)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    _, errors = process.communicate(timeout=120)
    assert first.startswith(b"Sentence[4]")
    assert process.returncode == 0
    assert errors.decode() == ""


@pytest.mark.parametrize("lines, expected", [
    (["the dog runs .", "a cat sleeps ."], "text"),
    (["Short one.", "", "Another line of text here, long enough.", ""], "text"),
    (["the\tDET", "dog\tNOUN", "", "a\tDET", "cat\tNOUN"], "column"),
    (["EU B-ORG", "rejects O", "", "German B-MISC"], "column"),
    (["# sent_id = 1", "1\tthe\tthe\tDET\t_\t_\t2\tdet\t_\t_"], "conllu"),
])
def test_format_detection(lines, expected):
    assert _format_of(lines) == expected


def test_unknown_device_is_a_usage_error(tagger_path):
    result = CliRunner().invoke(main, ["predict", "--device", "bogus", str(tagger_path), "-"],
                                input="the dog\n")
    assert result.exit_code == 2 and "--device" in result.output and "'bogus'" in result.output


def test_written_chunks_are_freed_without_the_cycle_collector(tagger_path, monkeypatch):
    """Bounded memory: each chunk is freed by reference counting as soon as it is written (the
    collector seldom runs on objects ``predict`` froze; benchmarks/cli_predict.py measures)."""
    import gc
    import weakref

    model = load_model(tagger_path, device="cpu")
    seen: list[weakref.ref] = []
    original = model.predict

    def predict(sentences, **kwargs):
        seen.extend(weakref.ref(sentence) for sentence in sentences)
        return original(sentences, **kwargs)

    monkeypatch.setattr(model, "predict", predict)
    monkeypatch.setattr(sys.modules["tagkit_core.cli.predict"], "load_cli_model",
                        lambda path, device: model)
    gc.collect()
    gc.disable()
    try:
        result = run([str(tagger_path), "--chunk-size", "5"], input="the dog runs .\n" * 20)
        alive = sum(ref() is not None for ref in seen)
    finally:
        gc.enable()
    assert result.exit_code == 0 and len(seen) == 20
    assert alive == 0


@pytest.mark.parametrize("fixture, precision", [("classifier_path", "int8"),
                                                ("classifier_path", "bfloat16"),
                                                ("tagger_path", "bfloat16")])
def test_precision_is_passed_to_predict(fixture, precision, request, monkeypatch):
    path = request.getfixturevalue(fixture)
    model = load_model(path, device="cpu")
    asked = spy_on_precision(monkeypatch, type(model), "predict")
    texts = ["good great", "awful poor", "the cat sings ."]
    result = run([str(path), "--precision", precision, "--output-format", "jsonl"],
                 input="\n".join(texts) + "\n")
    assert result.exit_code == 0, result.output
    assert asked == [precision, precision]  # the up-front check, then the one chunk
    records = [json.loads(line) for line in result.output.splitlines()]
    name = "sentiment" if fixture == "classifier_path" else "upos"

    def api(how: str) -> tuple[list, list]:
        sentences = [Sentence(text) for text in texts]
        model.predict(sentences, precision=how)
        if fixture == "classifier_path":
            found = [s.get_labels(name) for s in sentences]
            return [[x.value for x in f] for f in found], [x.score for f in found for x in f]
        return ([[t.get_tag(name) for t in s] for s in sentences],
                [t.get_label(name).score for s in sentences for t in s])

    labels, scores = api(precision)
    assert [r["labels"] for r in records] == labels
    written = [score for r in records for score in r["scores"]]
    assert written == pytest.approx(scores, abs=1e-6)  # jsonl keeps 6 decimals


def test_a_precision_the_model_lacks_stops_before_reading(tagger_path, classifier_path):
    tagger = run([str(tagger_path), "--precision", "int8"], input="the cat\n")
    assert tagger.exit_code == 2 and "--precision" in tagger.output
    assert "precision must be one of ['bfloat16', 'float32'], got 'int8'" in tagger.output
    assert "Sentence[" not in tagger.output  # nothing was predicted or written
    typo = run([str(classifier_path), "--precision", "fp16"], input="good\n")
    assert typo.exit_code == 2 and "got 'fp16'" in typo.output


def test_a_model_without_precision_is_told_so():
    from tagkit_core.cli.loading import precision_options

    class Plain:  # a third-party model whose predict has no precision keyword
        def predict(self, sentences, mini_batch_size=32, label_name=None, **kwargs):
            raise AssertionError("not to be called")

    assert precision_options(Plain(), None, "predict") == {}
    with pytest.raises(click.BadParameter, match="Plain.predict takes no precision"):
        precision_options(Plain(), "int8", "predict")


def test_precision_with_a_classifier_without_a_label_type(classifier_path, tmp_path):
    model = load_model(classifier_path, device="cpu")
    model.label_type = None  # as TextClassifier(embeddings, label_dictionary) leaves it
    path = model.save(tmp_path / "no-label-type.pt")
    result = run([str(path), "--precision", "int8", "--output-format", "jsonl"],
                 input="good great\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["labels"] == ["POS"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_warning_prints_as_one_line_unless_debugging(classifier_path, monkeypatch, debug):
    """bfloat16 on a CPU where it is slower warns; the command prints the message alone, as
    it prints errors, and Python's file:line format only under --debug."""
    import tagkit_core.product_rates as product_rates

    monkeypatch.setattr(product_rates, "bfloat16_speedup", lambda: 0.125)
    args = ["--debug"] if debug else []
    result = CliRunner().invoke(main, [*args, "predict", "--device", "cpu", str(classifier_path),
                                       "--precision", "bfloat16"], input="good great\n")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "8.0 times slower" in line]
    assert len(warned) == 1  # the up-front check warns; the call site is the same after
    if debug:
        assert "RuntimeWarning" in result.stderr and ".py:" in result.stderr
    else:
        assert warned[0].startswith("Warning: precision='bfloat16': bfloat16 products run 8.0")
        assert "RuntimeWarning" not in result.stderr and ".py:" not in result.stderr
    assert result.stdout.strip()  # the labels are still written


def test_streams_are_passed_to_predict_and_give_the_same_output(classifier_path, monkeypatch):
    model = load_model(classifier_path, device="cpu")
    asked = []
    real = type(model).predict

    @functools.wraps(real)
    def spied(self, *args, **kwargs):
        asked.append(kwargs.get("streams"))
        return real(self, *args, **kwargs)

    texts = "\n".join(["good great", "awful poor", "the cat sings .", "good"] * 10) + "\n"
    plain = run([str(classifier_path), "--output-format", "jsonl", "--mini-batch-size", "3"],
                input=texts)
    monkeypatch.setattr(type(model), "predict", spied)
    streamed = run([str(classifier_path), "--output-format", "jsonl", "--mini-batch-size", "3",
                    "--streams", "2"], input=texts)
    assert streamed.exit_code == 0, streamed.output
    assert asked == [2, 2]  # the up-front check, then the one chunk
    assert streamed.output == plain.output


def test_streams_a_model_lacks_stop_before_reading(tagger_path):
    tagged = run([str(tagger_path), "--streams", "2"], input="the cat\n")
    assert tagged.exit_code == 2 and "--streams" in tagged.output
    assert "SequenceTagger.predict takes no streams" in tagged.output
    assert "Sentence[" not in tagged.output
