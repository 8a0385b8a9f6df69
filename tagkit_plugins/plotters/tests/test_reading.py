"""Reading loss.tsv, learning-rate and weights files: tagkit's, Flair's, gaps and bad files."""

from __future__ import annotations

import math

import pytest

from tagkit_plotters import TrainingFileError
from tagkit_plotters.reading import read_metric_table, read_weights
from tagkit_plotters.training_curves import curve_panels


def test_reads_tagkits_own_loss_file(run_dir):
    table = read_metric_table(run_dir / "loss.tsv")
    assert table.step_column == "EPOCH"
    assert table.steps == [float(e) for e in range(1, len(table) + 1)] and len(table) == 8
    assert {"SECONDS", "LEARNING_RATE", "TRAIN_LOSS", "DEV_LOSS", "DEV_SCORE",
            "DEV_ACCURACY"} <= set(table.columns)
    assert all(0 < loss < 5 for loss in table.columns["TRAIN_LOSS"])
    assert table.columns["TRAIN_LOSS"][-1] < table.columns["TRAIN_LOSS"][0]
    # A part-of-speech run scores accuracy, so its main score is drawn in place of F1.
    assert curve_panels(table) == [
        ("loss", [("training", "TRAIN_LOSS"), ("validation", "DEV_LOSS")]),
        ("score", [("validation", "DEV_SCORE")]),
    ]


def test_reads_flairs_loss_file(flair_loss_file):
    table = read_metric_table(flair_loss_file)
    assert table.steps == [1.0, 2.0]
    assert table.columns["DEV_F1"] == [0.4444, 0.624]
    # One learning rate per parameter group: the first is plotted.
    assert table.columns["LEARNING_RATE"] == [0.1, 0.1]
    assert curve_panels(table) == [
        ("loss", [("training", "TRAIN_LOSS"), ("validation", "DEV_LOSS"),
                  ("test", "TEST_LOSS")]),
        ("F1", [("validation", "DEV_F1"), ("test", "TEST_F1")]),
    ]
    assert curve_panels(table, ["accuracy"]) == [
        ("accuracy", [("validation", "DEV_ACCURACY"), ("test", "TEST_ACCURACY")])]


def test_tagkits_micro_f1_is_flairs_f1(tmp_path, write_lines):
    table = read_metric_table(write_lines(
        tmp_path / "loss.tsv",
        "EPOCH\tTIMESTAMP\tSECONDS\tLEARNING_RATE\tTRAIN_LOSS\tDEV_LOSS\tDEV_SCORE\t"
        "DEV_MICRO_F1\tDEV_MACRO_F1",
        "1\t10:00:00\t1.00\t0.100000\t2.0\t1.5\t0.5\t0.5\t0.25"))
    assert curve_panels(table) == [
        ("loss", [("training", "TRAIN_LOSS"), ("validation", "DEV_LOSS")]),
        ("F1", [("validation", "DEV_MICRO_F1")])]


def test_dashes_are_gaps_not_errors(tmp_path, write_lines):
    table = read_metric_table(write_lines(
        tmp_path / "loss.tsv",
        "EPOCH\tTIMESTAMP\tSECONDS\tLEARNING_RATE\tTRAIN_LOSS\tDEV_LOSS\tDEV_SCORE",
        "1\t10:00:00\t1.00\t0.100000\t2.0\t-\t-",
        "2\t10:00:01\t1.00\t0.100000\t1.5\t_\t-"))
    assert math.isnan(table.columns["DEV_LOSS"][0]) and math.isnan(table.columns["DEV_LOSS"][1])
    assert not table.has_values("DEV_SCORE")
    # No dev split: only the training loss is there to draw.
    assert curve_panels(table) == [("loss", [("training", "TRAIN_LOSS")])]


@pytest.mark.parametrize(("lines", "expected"), [
    ([], "the file is empty"),
    (["", "  "], "the file is empty"),
    (["1\tweights\t0\t0.5"], "line 1: expected a header with an EPOCH column"),
    (["EPOCH\tTRAIN_LOSS"], "only a header; expected at least one row"),
    (["EPOCH\tTRAIN_LOSS", "1\t0.5", "2\tabc"],
     "line 3: column TRAIN_LOSS holds 'abc'; expected a number, or '-' for a missing value"),
    (["EPOCH\tTRAIN_LOSS", "x\t0.5"], "line 2: column EPOCH holds 'x'"),
    (["EPOCH\tTRAIN_LOSS", "-\t0.5"], "line 2: column EPOCH is missing"),
    (["EPOCH\tTRAIN_LOSS\tDEV_LOSS", "1\t0.5"],
     "line 2: expected 3 tab-separated values as in the header, got 2"),
])
def test_malformed_loss_files_name_file_line_and_expectation(tmp_path, lines, expected):
    path = tmp_path / "loss.tsv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(TrainingFileError) as caught:
        read_metric_table(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_a_value_the_file_lacks_is_an_error_listing_the_header(flair_loss_file):
    table = read_metric_table(flair_loss_file)
    with pytest.raises(TrainingFileError, match=r"no values for 'bleu' \(looked for TRAIN_BLEU, "
                       r"TRAIN_SAMPLE_BLEU, DEV_BLEU, TEST_BLEU\); the header has EPOCH, "
                       r"LEARNING_RATE, TRAIN_LOSS"):
        curve_panels(table, ["loss", "bleu"])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.tsv: no such file"):
        read_metric_table(tmp_path / "nothing.tsv")


def test_reads_tagkits_weights(run_dir):
    weights = read_weights(run_dir / "weights.txt")
    assert "linear.weight" in weights and "crf.transitions" in weights
    for entries in weights.values():
        assert 1 <= len(entries) <= 10
        for steps, values in entries.values():
            assert steps == [float(e) for e in range(1, 9)] and len(values) == 8


def test_reads_flairs_weights(tmp_path, write_lines):
    # Flair's WeightExtractor: iteration, parameter name, watched entry number, value (repr).
    weights = read_weights(write_lines(
        tmp_path / "weights.txt",
        "9\tembeddings.weight\t0\t0.123456789", "9\tembeddings.weight\t1\t-0.5",
        "19\tembeddings.weight\t0\t0.2", "19\tembeddings.weight\t1\t-0.4",
        "19\tlinear.bias\t0\t1e-05"))
    assert weights == {"embeddings.weight": {"0": ([9.0, 19.0], [0.123456789, 0.2]),
                                             "1": ([9.0, 19.0], [-0.5, -0.4])},
                       "linear.bias": {"0": ([19.0], [1e-05])}}


@pytest.mark.parametrize(("line", "expected"), [
    ("1\tlinear.weight\t0", "line 2: expected 4 tab-separated values (step, parameter, index, "
                            "value), got 3"),
    ("1\tlinear.weight\t0\tnan?", "line 2: column 4 (value) holds 'nan?'; expected a number"),
    ("one\tlinear.weight\t0\t0.5", "line 2: column 1 (step) holds 'one'"),
])
def test_malformed_weights_name_file_line_and_expectation(tmp_path, write_lines, line, expected):
    path = write_lines(tmp_path / "weights.txt", "1\tlinear.weight\t1\t0.25", line)
    with pytest.raises(TrainingFileError) as caught:
        read_weights(path)
    assert str(caught.value).startswith(f"{path}: ") and expected in str(caught.value)
