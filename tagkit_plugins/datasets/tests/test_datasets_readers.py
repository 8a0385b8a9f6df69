"""Unit tests of the three readers on tiny files, including every kind of bad input."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tagkit_datasets import (
    DatasetFormatError,
    DatasetNotFoundError,
    read_classification_file,
    read_column_file,
    read_conllu,
)


def conllu_word(index: int, form: str, lemma: str = "_", upos: str = "_", xpos: str = "_",
                misc: str = "_") -> str:
    return "\t".join([str(index), form, lemma, upos, xpos, "_", "0", "root", "_", misc])


def write_text(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def write_conllu(path: Path, sentences: list[list[str]]) -> Path:
    """``sentences``: each a list of CoNLL-U lines (comments, words, ranges)."""
    lines = []
    for sentence in sentences:
        lines.extend(sentence)
        lines.append("")
    return write_text(path, lines)


def write_columns(path: Path, sentences: list[list[tuple[str, ...]]], separator: str = " ",
                  encoding: str = "utf-8") -> Path:
    lines = []
    for sentence in sentences:
        lines.extend(separator.join(row) for row in sentence)
        lines.append("")
    return write_text(path, lines, encoding)


# -- CoNLL-U ------------------------------------------------------------------------------------


def test_conllu_labels_whitespace_and_skipped_lines(tmp_path):
    path = write_conllu(tmp_path / "a.conllu", [[
        "# sent_id = 1",
        "# text = I don't know.",
        conllu_word(1, "I", "I", "PRON", "PRP"),
        "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_",
        conllu_word(2, "do", "do", "AUX", "VBP"),
        conllu_word(3, "n't", "not", "PART", "RB"),
        conllu_word(4, "know", "know", "VERB", "VB", "SpaceAfter=No"),
        "4.1\tknown\tknow\tVERB\tVBN\t_\t_\t_\t4:conj\tCopyOf=4",
        conllu_word(5, ".", ".", "PUNCT", "."),
    ]])
    [sentence] = read_conllu(path)
    assert [t.text for t in sentence] == ["I", "do", "n't", "know", "."]
    assert [t.get_tag("upos") for t in sentence] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert [t.get_tag("pos") for t in sentence] == [t.get_tag("upos") for t in sentence]
    assert [t.get_tag("xpos") for t in sentence] == ["PRP", "VBP", "RB", "VB", "."]
    assert [t.get_tag("lemma") for t in sentence] == ["I", "do", "not", "know", "."]
    assert [t.whitespace_after for t in sentence] == [True, True, True, False, True]
    assert sentence.to_original_text() == "I do n't know."


def test_conllu_space_after_on_a_range_applies_to_its_last_word(tmp_path):
    path = write_conllu(tmp_path / "a.conllu", [[
        "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No",
        conllu_word(1, "do", upos="AUX"),
        conllu_word(2, "n't", upos="PART"),
        conllu_word(3, "!", upos="PUNCT"),
    ]])
    [sentence] = read_conllu(path)
    assert [t.whitespace_after for t in sentence] == [True, False, True]


def test_conllu_underscore_means_no_label_except_the_literal_underscore(tmp_path):
    path = write_conllu(tmp_path / "a.conllu", [[
        conllu_word(1, "x", "_", "_", "_"),
        conllu_word(2, "_", "_", "SYM", "_"),
    ]])
    [sentence] = read_conllu(path)
    assert sentence[0].label_types == []
    assert sentence[1].get_tag("lemma") == "_" and not sentence[1].has_label("xpos")


def test_conllu_several_sentences_without_final_blank_line_and_crlf(tmp_path):
    lines = [conllu_word(1, "a", upos="X"), "", "", conllu_word(1, "b", upos="X"),
             conllu_word(2, "c", upos="X")]
    path = tmp_path / "a.conllu"
    path.write_bytes("\r\n".join(lines).encode())
    sentences = read_conllu(path)
    assert [[t.text for t in s] for s in sentences] == [["a"], ["b", "c"]]


@pytest.mark.parametrize("bad_line, expected", [
    ("2\tb\tb\tX\tX\t_\t0\troot\t_", "expected 10 tab-separated CoNLL-U fields, found 9"),
    ("2 b b X X _ 0 root _ _", "expected 10 tab-separated CoNLL-U fields, found 1"),
    (conllu_word(3, "b"), "bad CoNLL-U ID '3': expected the word ID 2"),
    (conllu_word(1, "b"), "bad CoNLL-U ID '1'"),
    ("x\tb\t_\t_\t_\t_\t_\t_\t_\t_", "bad CoNLL-U ID 'x'"),
    ("2-2\tb\t_\t_\t_\t_\t_\t_\t_\t_", "bad CoNLL-U ID '2-2'"),
    ("3-4\tb\t_\t_\t_\t_\t_\t_\t_\t_", "bad CoNLL-U ID '3-4'"),
    ("2.1\tb\t_\t_\t_\t_\t_\t_\t_\t_", "bad CoNLL-U ID '2.1'"),
    ("1.x\tb\t_\t_\t_\t_\t_\t_\t_\t_", "bad CoNLL-U ID '1.x'"),
])
def test_conllu_bad_lines_name_file_line_and_expectation(tmp_path, bad_line, expected):
    path = write_text(tmp_path / "bad.conllu", ["# c", conllu_word(1, "a"), bad_line])
    with pytest.raises(DatasetFormatError) as info:
        read_conllu(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}, line 3: ")
    assert expected in str(info.value)


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "bad.conllu"
    path.write_bytes(conllu_word(1, "a").encode() + b"\n" + conllu_word(2, "b").encode()
                     + b"\n" + conllu_word(3, "caf\xe9").encode("latin-1") + b"\n")
    with pytest.raises(DatasetFormatError, match=r"line 3: cannot decode byte\(s\) e9 as utf-8"):
        read_conllu(path)
    [sentence] = read_conllu(path, encoding="latin-1")
    assert sentence[2].text == "café"


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_says_so(tmp_path, content):
    path = tmp_path / "empty.conllu"
    path.write_bytes(content)
    with pytest.raises(DatasetFormatError, match="the file is empty; expected CoNLL-U"):
        read_conllu(path)


def test_comment_only_file_says_so(tmp_path):
    path = write_text(tmp_path / "c.conllu", ["# just a comment"])
    with pytest.raises(DatasetFormatError, match="no sentence"):
        read_conllu(path)


def test_format_error_survives_pickling(tmp_path):
    error = DatasetFormatError(tmp_path / "a.conllu", 7, "expected 10 fields")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.line, str(copy)) == (error.path, 7, str(error))


def test_missing_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="nope.conllu does not exist"):
        read_conllu(tmp_path / "nope.conllu")


def test_utf8_bom_is_not_part_of_the_first_line(tmp_path):
    path = tmp_path / "bom.conllu"
    path.write_bytes(b"\xef\xbb\xbf" + conllu_word(1, "a").encode() + b"\n")
    assert read_conllu(path)[0][0].text == "a"


# -- column files -------------------------------------------------------------------------------


def test_column_file_with_docstart_and_whitespace_only_separators(tmp_path):
    path = write_text(tmp_path / "train.txt", [
        "-DOCSTART- -X- -X- O", "",
        "EU B-ORG", "rejects O", "\t",
        "German B-MISC", "call O", "",
    ])
    sentences = read_column_file(path, {0: "text", 1: "ner"})
    assert [[(t.text, t.get_tag("ner")) for t in s] for s in sentences] == [
        [("EU", "B-ORG"), ("rejects", "O")], [("German", "B-MISC"), ("call", "O")]]


def test_a_docstart_line_marks_where_a_document_starts(tmp_path):
    path = write_text(tmp_path / "train.txt", [
        "-DOCSTART- O", "", "a O", "", "b O", "",
        "-DOCSTART- O", "", "c O", "-DOCSTART- O", "d O", "", "e O",
    ])
    sentences = read_column_file(path, {0: "text", 1: "ner"})
    assert [(s[0].text, s.starts_document) for s in sentences] == [
        ("a", True), ("b", False), ("c", True), ("d", True), ("e", False)]


def test_conllu_newdoc_marks_where_a_document_starts(tmp_path):
    word = "1\t{}\t_\tX\t_\t_\t0\troot\t_\t_"
    path = write_text(tmp_path / "a.conllu", [
        "# newdoc id = one", "# sent_id = 1", word.format("a"), "",
        "# sent_id = 2", word.format("b"), "",
        "# newdoc", word.format("c"), "",
    ])
    assert [(s[0].text, s.starts_document) for s in read_conllu(path)] == [
        ("a", True), ("b", False), ("c", True)]


def test_column_map_picks_columns_and_ignores_others(tmp_path):
    path = write_columns(tmp_path / "a.txt", [[("EU", "NNP", "B-NP", "B-ORG")]])
    [sentence] = read_column_file(path, {0: "text", 1: "pos", 3: "ner"})
    assert sentence[0].get_tag("pos") == "NNP" and sentence[0].get_tag("ner") == "B-ORG"
    assert sorted(sentence[0].label_types) == ["ner", "pos"]


def test_column_tab_delimiter_keeps_spaces_in_tokens(tmp_path):
    path = write_columns(tmp_path / "a.tsv", [[("New York", "B-LOC"), ("is", "O")]], "\t")
    [sentence] = read_column_file(path, {0: "text", 1: "ner"}, column_delimiter="\t")
    assert [t.text for t in sentence] == ["New York", "is"]


def test_column_flair_whitespace_regex_means_whitespace(tmp_path):
    path = write_columns(tmp_path / "a.txt", [[("a", "O")]], "  \t ")
    [sentence] = read_column_file(path, {0: "text", 1: "ner"}, column_delimiter=r"\s+")
    assert sentence[0].get_tag("ner") == "O"


def test_column_comment_symbol(tmp_path):
    path = write_text(tmp_path / "a.txt", ["# id 1", "a O", "# also skipped", "b O"])
    [sentence] = read_column_file(path, {0: "text", 1: "ner"}, comment_symbol="#")
    assert [t.text for t in sentence] == ["a", "b"]


@pytest.mark.parametrize("lines, line, expected", [
    (["a"], 1, "expected 2 columns separated by whitespace (the column map needs 2), found 1"),
    (["a O", "b"], 2, "expected 2 columns separated by whitespace (the file's first token "
     "line has 2), found 1"),
    (["a O", "", "b c O"], 3, "found 3"),
])
def test_column_wrong_column_count(tmp_path, lines, line, expected):
    path = write_text(tmp_path / "bad.txt", lines)
    with pytest.raises(DatasetFormatError) as info:
        read_column_file(path, {0: "text", 1: "ner"})
    assert info.value.line == line and expected in str(info.value)
    assert str(path) in str(info.value)


def test_column_empty_value_with_tab_delimiter(tmp_path):
    path = write_text(tmp_path / "bad.tsv", ["a\tO", "b\t"])
    with pytest.raises(DatasetFormatError, match="line 2: column 1 is empty"):
        read_column_file(path, {0: "text", 1: "ner"}, column_delimiter="\t")


def test_column_map_must_name_text():
    with pytest.raises(ValueError, match="exactly one column 'text'"):
        read_column_file("unused", {0: "word", 1: "ner"})


def test_column_file_of_only_docstart(tmp_path):
    path = write_text(tmp_path / "a.txt", ["-DOCSTART- O", ""])
    with pytest.raises(DatasetFormatError, match="no token line"):
        read_column_file(path, {0: "text", 1: "ner"})


# -- classification files -----------------------------------------------------------------------


def test_fasttext_single_and_multi_label(tmp_path):
    path = write_text(tmp_path / "train.txt", [
        "__label__POSITIVE I love it !", "", "__label__a __label__b\tboth  labels"])
    first, second = read_classification_file(path)
    assert [t.text for t in first] == ["I", "love", "it", "!"]
    assert [label.value for label in first.get_labels("class")] == ["POSITIVE"]
    assert [label.value for label in second.get_labels("class")] == ["a", "b"]
    assert [t.text for t in second] == ["both", "labels"]


def test_fasttext_custom_label_type_prefix_and_tokenizer(tmp_path):
    path = write_text(tmp_path / "a.txt", ["#pos I love Berlin."])
    [sentence] = read_classification_file(path, label_type="sentiment", label_prefix="#",
                                          use_tokenizer=True)
    assert [t.text for t in sentence] == ["I", "love", "Berlin", "."]
    assert sentence.get_labels("sentiment")[0].value == "pos"


def test_trec_coarse_and_fine_latin1(tmp_path):
    path = write_text(tmp_path / "train.label", ["NUM:dist How far is Ås ?"], "latin-1")
    [coarse] = read_classification_file(path, label_format="trec_coarse", encoding="latin-1")
    [fine] = read_classification_file(path, label_format="trec_fine", encoding="latin-1")
    assert coarse.get_labels("class")[0].value == "NUM"
    assert fine.get_labels("class")[0].value == "NUM:dist"
    assert [t.text for t in fine] == ["How", "far", "is", "Ås", "?"]


@pytest.mark.parametrize("line, label_format, expected", [
    ("I have no label", "fasttext", "no label: expected the line to start with '__label__NAME'"),
    ("__label__ empty label", "fasttext", "empty label '__label__'"),
    ("__label__x", "fasttext", "no text after the label(s) ['x']"),
    ("How far is it ?", "trec", "expected 'COARSE:fine question text'"),
    ("NUM: How far ?", "trec", "expected 'COARSE:fine question text'"),
    ("NUM:dist", "trec", "expected 'COARSE:fine question text'"),
])
def test_classification_line_without_label_or_text(tmp_path, line, label_format, expected):
    path = write_text(tmp_path / "bad.txt", ["__label__ok fine" if label_format == "fasttext"
                                             else "HUM:ind Who ?", line])
    with pytest.raises(DatasetFormatError) as info:
        read_classification_file(path, label_format=label_format)
    assert info.value.line == 2 and expected in str(info.value)


def test_classification_unknown_format():
    with pytest.raises(ValueError, match="label_format must be one of"):
        read_classification_file("unused", label_format="csv")


# -- line endings ---------------------------------------------------------------------------------
# Old Mac files end lines with a lone "\r"; files edited on several systems mix all three.
LINE_ENDINGS = {"cr": ["\r"], "crlf": ["\r\n"], "mixed": ["\r\n", "\n", "\r"]}


def join_lines(lines: list[str], endings: list[str]) -> bytes:
    """``lines``, each ended by the next of ``endings`` (cycled)."""
    return "".join(line + endings[i % len(endings)] for i, line in enumerate(lines)).encode()


@pytest.mark.parametrize("endings", LINE_ENDINGS.values(), ids=LINE_ENDINGS)
def test_conllu_with_cr_crlf_or_mixed_line_endings(tmp_path, endings):
    lines = ["# sent_id = 1", "# text = a b", conllu_word(1, "a", upos="X"),
             conllu_word(2, "b", upos="Y"), "", "# sent_id = 2", conllu_word(1, "c", upos="Z"),
             ""]
    path = tmp_path / "a.conllu"
    path.write_bytes(join_lines(lines, endings))
    sentences = read_conllu(path)
    assert [[(t.text, t.get_tag("upos")) for t in s] for s in sentences] == [
        [("a", "X"), ("b", "Y")], [("c", "Z")]]


@pytest.mark.parametrize("endings", LINE_ENDINGS.values(), ids=LINE_ENDINGS)
def test_column_file_with_cr_crlf_or_mixed_line_endings(tmp_path, endings):
    path = tmp_path / "train.txt"
    path.write_bytes(join_lines(["EU B-ORG", "rejects O", "", "German B-MISC", ""], endings))
    sentences = read_column_file(path, {0: "text", 1: "ner"})
    assert [[(t.text, t.get_tag("ner")) for t in s] for s in sentences] == [
        [("EU", "B-ORG"), ("rejects", "O")], [("German", "B-MISC")]]


@pytest.mark.parametrize("endings", LINE_ENDINGS.values(), ids=LINE_ENDINGS)
def test_classification_file_with_cr_crlf_or_mixed_line_endings(tmp_path, endings):
    path = tmp_path / "train.txt"
    path.write_bytes(join_lines(["__label__a one", "__label__b two words", "__label__c x"],
                                endings))
    sentences = read_classification_file(path)
    assert [(s.get_labels("class")[0].value, len(s)) for s in sentences] == [
        ("a", 1), ("b", 2), ("c", 1)]


def test_cr_only_file_errors_name_the_right_line(tmp_path):
    path = tmp_path / "bad.conllu"
    path.write_bytes(join_lines(["# c", conllu_word(1, "a"), "2\tb"], ["\r"]))
    with pytest.raises(DatasetFormatError) as info:
        read_conllu(path)
    assert info.value.line == 3
    path.write_bytes(b"# c\r\n" + conllu_word(1, "a").encode() + b"\r"
                     + conllu_word(2, "caf\xe9").encode("latin-1") + b"\n")
    with pytest.raises(DatasetFormatError, match=r"line 3: cannot decode"):
        read_conllu(path)
