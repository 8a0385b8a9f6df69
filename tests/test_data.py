"""Sentence, Token, Span, Label, Dictionary and the tokenizer."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.spans import decode_spans
from tagkit_core.tokenization import tokenize


@pytest.mark.parametrize("text, words", [
    ("I love Berlin.", ["I", "love", "Berlin", "."]),
    ("Don't stop, it's 3.5 km!", ["Do", "n't", "stop", ",", "it", "'s", "3.5", "km", "!"]),
    ("The U.S. paid $1,000 (approx.)", ["The", "U.S.", "paid", "$", "1,000", "(", "approx",
                                        ".", ")"]),
    ("Berlin's mayor e-mailed anna@example.org", ["Berlin", "'s", "mayor", "e-mailed",
                                                  "anna@example.org"]),
])
def test_tokenizer_splits_punctuation_like_flair(text, words):
    assert tokenize(text) == words


def test_sentence_from_text_keeps_offsets_and_spacing():
    sentence = Sentence("I love Berlin.")
    assert [t.text for t in sentence] == ["I", "love", "Berlin", "."]
    assert [t.idx for t in sentence] == [1, 2, 3, 4]
    assert sentence[2].start_position == 7
    assert sentence.to_original_text() == "I love Berlin."
    assert Sentence(["a", "b"]).to_plain_string() == "a b"
    assert [t.text for t in Sentence("a  b", use_tokenizer=False)] == ["a", "b"]


def test_tagged_string_and_labels():
    sentence = Sentence("I love Berlin")
    for token, tag in zip(sentence, ["PRON", "VERB", "PROPN"]):
        token.add_label("pos", tag, 0.9)
    assert sentence.to_tagged_string() == (
        'Sentence[3]: "I love Berlin" → ["I"/PRON, "love"/VERB, "Berlin"/PROPN]')
    sentence.add_label("class", "LOC")
    assert [label.value for label in sentence.labels] == ["LOC", "PRON", "VERB", "PROPN"]
    assert [label.value for label in sentence.get_labels("pos")] == ["PRON", "VERB", "PROPN"]
    assert sentence.to_tagged_string().endswith("→ class: LOC (1.0000)")
    assert sentence[0].get_label("ner").value == "O"
    assert sentence.get_label("class").value == "LOC"  # Flair's way to read a prediction
    assert sentence.get_label().value == "LOC"
    assert sentence.get_label("pos").value == "PRON"
    none = sentence.get_label("sentiment")
    assert (none.value, none.score) == ("O", 0.0)
    assert sentence.get_label("sentiment", zero_tag_value="NONE").value == "NONE"


@pytest.mark.parametrize("tags, spans", [
    (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
    (["S-PER", "B-LOC", "I-LOC", "E-LOC", "O"], [(0, 1, "PER"), (1, 4, "LOC")]),
    (["I-PER", "I-PER", "B-PER"], [(0, 2, "PER"), (2, 3, "PER")]),
    (["B-PER", "I-LOC", "E-LOC"], [(0, 1, "PER"), (1, 3, "LOC")]),
    (["O", "O"], []),
])
def test_span_decoding_bio_and_bioes(tags, spans):
    assert decode_spans(tags) == spans


def test_get_spans_returns_text_and_mean_score():
    sentence = Sentence(["Anna", "lives", "in", "New", "York"])
    for token, tag in zip(sentence, ["S-PER", "O", "O", "B-LOC", "E-LOC"]):
        token.add_label("ner", tag, 0.5 if tag == "B-LOC" else 1.0)
    spans = sentence.get_spans("ner")
    assert [(s.text, s.tag) for s in spans] == [("Anna", "PER"), ("New York", "LOC")]
    assert spans[1].score == pytest.approx(0.75)


def test_spans_and_sentences_answer_flairs_readers():
    """What Flair code reads from a tagged sentence: span labels and offsets, tokens by idx."""
    sentence = Sentence("Anna lives in New York.")
    for token, tag in zip(sentence, ["S-PER", "O", "O", "B-LOC", "E-LOC", "O"]):
        token.add_label("ner", tag, 0.5)
    anna, new_york = sentence.get_spans("ner")
    assert (new_york.start_position, new_york.end_position) == (14, 22)
    assert sentence.text[new_york.start_position:new_york.end_position] == "New York"
    assert (new_york.get_label("ner").value, new_york.get_label("ner").score) == ("LOC", 0.5)
    assert new_york.get_label().value == "LOC" and anna.get_labels("ner")[0].value == "PER"
    assert new_york.get_labels("pos") == [] and new_york.get_label("pos").value == "O"
    assert Sentence(["New", "York"]).get_spans("ner") == []
    assert sentence.get_token(4).text == "New" and sentence.get_token(7) is None
    assert sentence.get_token(0) is None
    assert sentence.to_tokenized_string() == "Anna lives in New York ."
    assert sentence.has_label("ner") and not sentence.has_label("class")
    sentence.add_label("class", "LOC")
    assert sentence.has_label("class")


def test_dictionary_with_and_without_unk():
    with_unk = Dictionary()
    assert with_unk.add_item("a") == 1
    assert with_unk.get_idx_for_item("zzz") == 0
    strict = Dictionary(add_unk=False)
    strict.add_item("NOUN")
    with pytest.raises(KeyError, match="'VERB' is not in this dictionary"):
        strict.get_idx_for_item("VERB")
    assert list(strict) == ["NOUN"] and len(strict) == 1


@given(st.lists(st.text(min_size=1), unique=True), st.booleans())
def test_dictionary_json_round_trip(items, add_unk):
    dictionary = Dictionary(add_unk=add_unk)
    for item in items:
        dictionary.add_item(item)
    again = Dictionary.from_dict(json.loads(json.dumps(dictionary.to_dict())))
    assert again == dictionary
    assert [again.get_idx_for_item(i) for i in items] == [dictionary.get_idx_for_item(i)
                                                          for i in items]
