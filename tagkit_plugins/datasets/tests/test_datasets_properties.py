"""Property tests: random sentences written in each format read back as the same tokens and labels.

The files are written here, independently of the readers, following the format descriptions, so
a reader bug cannot be masked by a matching writer bug.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tagkit_datasets import read_classification_file, read_column_file, read_conllu

SETTINGS = settings(max_examples=60, deadline=None, database=None)  # no .hypothesis/ in the repo

# Field text: anything printable in UTF-8 except the separators the formats reserve.
_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\t\n\r")
field = st.text(_chars, min_size=1, max_size=8).filter(lambda s: s != "_")
# No whitespace at all: what whitespace-separated formats can hold.
word = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8).filter(
    lambda s: s.split() == [s])


def _write(lines: list[str], encoding: str = "utf-8") -> Path:
    handle = tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False)
    with handle:
        handle.write(("\n".join(lines) + "\n").encode(encoding))
    return Path(handle.name)


conllu_word = st.fixed_dictionaries({
    "form": field, "lemma": field, "upos": field, "xpos": field,
    "space_after": st.booleans(), "empty_node": st.booleans(),
    "range": st.sampled_from([None, "space", "nospace"]),
})


@SETTINGS
@given(st.lists(st.lists(conllu_word, min_size=1, max_size=6), min_size=1, max_size=5))
def test_conllu_round_trip(sentences):
    lines, expected = [], []
    for words in sentences:
        lines += ["# sent_id = x", "# text = whatever"]
        expected_words = []
        index = 1
        while index <= len(words):
            w = words[index - 1]
            in_range = bool(w["range"]) and index < len(words)  # a two-word multi-word token
            range_no_space = in_range and w["range"] == "nospace"
            if in_range:
                misc = "SpaceAfter=No" if range_no_space else "_"
                lines.append(f"{index}-{index + 1}\tfused\t_\t_\t_\t_\t_\t_\t_\t{misc}")
            for offset in range(2 if in_range else 1):
                w = words[index - 1]
                misc = "_" if w["space_after"] else "Gloss=x|SpaceAfter=No"
                lines.append("\t".join([str(index), w["form"], w["lemma"], w["upos"], w["xpos"],
                                        "_", "0", "dep", "_", misc]))
                if w["empty_node"]:
                    lines.append(f"{index}.1\tghost\tghost\tVERB\tVB\t_\t_\t_\t1:dep\t_")
                last_of_range = offset == 1
                whitespace = w["space_after"] and not (last_of_range and range_no_space)
                expected_words.append((w["form"], w["lemma"], w["upos"], w["xpos"], whitespace))
                index += 1
        lines.append("")
        expected.append(expected_words)
    path = _write(lines)
    try:
        read = read_conllu(path)
    finally:
        path.unlink()
    assert [[(t.text, t.get_tag("lemma"), t.get_tag("upos"), t.get_tag("xpos"),
              t.whitespace_after) for t in s] for s in read] == expected
    assert all(t.get_tag("pos") == t.get_tag("upos") for s in read for t in s)


column_rows = st.lists(st.tuples(word, word, word), min_size=1, max_size=6).filter(
    lambda rows: rows[0][0] != "-DOCSTART-")


@SETTINGS
@given(st.lists(column_rows, min_size=1, max_size=5), st.sampled_from([" ", "\t", "  \t"]),
       st.sampled_from(["", "\t", " "]))
def test_column_round_trip_whitespace(sentences, separator, blank):
    lines = ["-DOCSTART- -X- O", blank]
    for rows in sentences:
        lines += [separator.join(row) for row in rows] + [blank]
    path = _write(lines)
    try:
        read = read_column_file(path, {0: "text", 2: "ner", 1: "pos"})
    finally:
        path.unlink()
    assert [[(t.text, t.get_tag("pos"), t.get_tag("ner")) for t in s] for s in read] == sentences


tab_field = st.text(_chars, min_size=1, max_size=8).filter(lambda s: s.strip() == s)


@SETTINGS
@given(st.lists(st.lists(st.tuples(tab_field, tab_field), min_size=1, max_size=6),
                min_size=1, max_size=5))
def test_column_round_trip_tab_separated_tokens_with_spaces(sentences):
    lines = []
    for rows in sentences:
        lines += ["\t".join(row) for row in rows] + [""]
    path = _write(lines)
    try:
        read = read_column_file(path, {0: "text", 1: "ner"}, column_delimiter="\t")
    finally:
        path.unlink()
    assert [[(t.text, t.get_tag("ner")) for t in s] for s in read] == sentences


label = st.text(st.characters(min_codepoint=33, max_codepoint=0x24F,
                              blacklist_categories=("Cc", "Zs")), min_size=1, max_size=6)
text_words = st.lists(word, min_size=1, max_size=6).filter(
    lambda ws: not ws[0].startswith("__label__"))


@SETTINGS
@given(st.lists(st.tuples(st.lists(label, min_size=1, max_size=3), text_words), min_size=1,
                max_size=8))
def test_fasttext_round_trip(examples):
    lines = [" ".join([f"__label__{x}" for x in labels] + words) for labels, words in examples]
    path = _write(lines)
    try:
        read = read_classification_file(path, label_type="topic")
    finally:
        path.unlink()
    assert [([x.value for x in s.get_labels("topic")], [t.text for t in s]) for s in read] \
        == examples


latin1_word = st.text(st.characters(min_codepoint=33, max_codepoint=255,
                                    blacklist_categories=("Cc", "Zs")), min_size=1, max_size=6)


@SETTINGS
@given(st.lists(st.tuples(latin1_word.filter(lambda s: ":" not in s), latin1_word,
                          st.lists(latin1_word, min_size=1, max_size=6)), min_size=1, max_size=8))
def test_trec_round_trip_latin1(examples):
    lines = [f"{coarse}:{fine} {' '.join(words)}" for coarse, fine, words in examples]
    path = _write(lines, "latin-1")
    try:
        coarse_read = read_classification_file(path, label_format="trec_coarse",
                                               encoding="latin-1")
        fine_read = read_classification_file(path, label_format="trec_fine", encoding="latin-1")
    finally:
        path.unlink()
    assert [(s.get_labels("class")[0].value, [t.text for t in s]) for s in coarse_read] == \
        [(coarse, words) for coarse, _, words in examples]
    assert [s.get_labels("class")[0].value for s in fine_read] == \
        [f"{coarse}:{fine}" for coarse, fine, _ in examples]
