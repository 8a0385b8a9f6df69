"""``tagkit evaluate``: a gold file in each format, a registered dataset, --json, user errors.

The expected scores are the Python API's (``model.evaluate``) on the same sentences, read with
tagkit-datasets' own readers: the command must add nothing and lose nothing on the way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from cli_toy_models import (  # noqa: E402
    column_text,
    conllu_text,
    spy_on_precision,
    toy_reviews,
    toy_sentences,
)

from tagkit_core.cli import main  # noqa: E402
from tagkit_core.persistence import load_model  # noqa: E402


def noisy_gold(count: int, seed: int):
    """Toy sentences whose every fifth sentence has a wrong gold tag, so scores are below 1."""
    sentences = toy_sentences(count, seed)
    for sentence in sentences[::5]:
        sentence[1].add_label("upos", "VERB")
    return sentences


def run(args: list[str]):
    return CliRunner().invoke(main, ["evaluate", "--device", "cpu", *args])


def test_conllu_file_scores_as_the_api_does(tagger_path, tmp_path):
    from tagkit_datasets import read_conllu

    source = tmp_path / "gold.conllu"
    source.write_text(conllu_text(noisy_gold(20, seed=11)))
    expected = load_model(tagger_path, device="cpu").evaluate(read_conllu(source),
                                                              gold_label_type="upos")
    assert 0 < expected.main_score < 1
    result = run([str(tagger_path), str(source)])
    assert result.exit_code == 0, result.output
    assert f"accuracy: {expected.main_score:.4f}" in result.output
    assert "NOUN" in result.output and "20 sentences" in result.output  # the per-class report
    as_json = json.loads(run([str(tagger_path), str(source), "--json"]).stdout)
    assert as_json["main_score"] == pytest.approx(expected.main_score)
    assert as_json["main_score_name"] == "accuracy" and as_json["label_type"] == "upos"
    assert as_json["sentences"] == 20 and set(as_json["classification_report"]) >= {"DET"}


def test_column_file_with_a_gold_column(tagger_path, tmp_path):
    gold = noisy_gold(10, seed=12)
    source = tmp_path / "gold.tsv"
    source.write_text("".join("".join(f"{t.text}\tX\t{t.get_tag('upos')}\n" for t in s) + "\n"
                              for s in gold))
    last = json.loads(run([str(tagger_path), str(source), "--json"]).stdout)
    middle = run([str(tagger_path), str(source), "--json", "--gold-column", "1"])
    plain = tmp_path / "plain.txt"
    plain.write_text(column_text(gold))
    detected = json.loads(run([str(tagger_path), str(plain), "--json"]).stdout)
    assert 0 < last["main_score"] < 1 and last["main_score"] == detected["main_score"]
    assert middle.exit_code == 0 and json.loads(middle.stdout)["main_score"] == 0  # all "X"


def test_classification_file_with_a_classifier(classifier_path, tmp_path):
    texts = toy_reviews(12, seed=4)
    texts[0].set_label("sentiment", "NEG" if texts[0].get_labels("sentiment")[0].value == "POS"
                       else "POS")  # one wrong gold label
    source = tmp_path / "reviews.txt"
    source.write_text("".join(f"__label__{t.get_labels('sentiment')[0].value} "
                              f"{t.to_plain_string()}\n" for t in texts))
    result = json.loads(run([str(classifier_path), str(source), "--json"]).stdout)
    assert result["label_type"] == "sentiment" and result["sentences"] == 12
    assert result["main_score"] == pytest.approx(11 / 12)


@pytest.mark.integration
def test_registered_dataset_split(tagger_path, monkeypatch, tmp_path):
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", "/work/shared/datasets")
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(tmp_path / "cache"))
    result = run([str(tagger_path), "UD_ENGLISH", "--split", "dev", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["split"] == "dev" and found["sentences"] == 2001  # EWT dev, none empty
    assert 0 <= found["main_score"] <= 1


def test_user_errors_are_one_line(tagger_path, tmp_path):
    unknown = run([str(tagger_path), "NO_SUCH_SET"])
    assert unknown.exit_code == 2
    assert "neither a file nor a registered dataset" in unknown.output
    assert "ud_english" in unknown.output  # what is available
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("__label__POS good great\n")
    wrong_labels = run([str(tagger_path), str(reviews)])
    assert wrong_labels.exit_code == 1
    assert "has no token-level 'upos' labels, what the model predicts" in wrong_labels.output
    bad = tmp_path / "bad.conllu"
    bad.write_text("1\tthe\t_\tDET\n")
    broken = run([str(tagger_path), str(bad)])
    assert broken.exit_code == 1 and "line 1" in broken.output
    assert "Traceback" not in broken.output + wrong_labels.output + unknown.output


def test_a_classifier_refuses_token_labels(classifier_path, tmp_path):
    source = tmp_path / "tokens.conllu"
    source.write_text(conllu_text(toy_sentences(2)))
    result = run([str(classifier_path), str(source)])
    assert result.exit_code == 1
    assert "has no sentence-level 'sentiment' labels" in result.output


@pytest.mark.parametrize("precision", ["int8", "bfloat16"])
def test_precision_is_passed_to_evaluate(classifier_path, tmp_path, monkeypatch, precision):
    texts = toy_reviews(12, seed=5)
    source = tmp_path / "reviews.txt"
    source.write_text("".join(f"__label__{t.get_labels('sentiment')[0].value} "
                              f"{t.to_plain_string()}\n" for t in texts))
    model = load_model(classifier_path, device="cpu")
    asked = spy_on_precision(monkeypatch, type(model), "evaluate")
    result = run([str(classifier_path), str(source), "--json", "--precision", precision])
    assert result.exit_code == 0, result.output
    assert asked == [precision]
    assert json.loads(result.stdout)["main_score"] == pytest.approx(
        model.evaluate(toy_reviews(12, seed=5), precision=precision).main_score)


def test_a_precision_the_model_lacks_is_a_usage_error(tagger_path):
    tagged = run([str(tagger_path), "UD_ENGLISH", "--precision", "int8"])  # refused before
    assert tagged.exit_code == 2 and "--precision" in tagged.output  # the data is read
    assert "got 'int8'" in tagged.output


def test_streams_are_passed_to_evaluate(classifier_path, tmp_path):
    texts = toy_reviews(20, seed=6)
    source = tmp_path / "reviews.txt"
    source.write_text("".join(f"__label__{t.get_labels('sentiment')[0].value} "
                              f"{t.to_plain_string()}\n" for t in texts))
    one, two = (run([str(classifier_path), str(source), "--json", "--mini-batch-size", "3",
                     *extra]) for extra in ([], ["--streams", "2"]))
    assert two.exit_code == 0, two.output
    assert json.loads(two.stdout)["scores"] == json.loads(one.stdout)["scores"]
    tagged = run([str(classifier_path), str(source), "--streams", "0"])
    assert tagged.exit_code == 2 and "--streams" in tagged.output
