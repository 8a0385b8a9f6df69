"""``SequenceTagger(tag_format=...)``: span tags learnt in BIO or BIOES, whatever the corpus has."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.evaluation import span_scores
from tagkit_core.spans import decode_spans
from tagkit_core.trainer import ModelTrainer
from tagkit_crf_tagger import SequenceTagger
from tagkit_crf_tagger.tag_format import convert_tags, scheme_dictionary


@pytest.mark.parametrize(("tags", "scheme", "expected"), [
    (["S-PER", "O", "B-LOC", "E-LOC"], "BIO", ["B-PER", "O", "B-LOC", "I-LOC"]),
    (["B-PER", "O", "B-LOC", "I-LOC", "I-LOC"], "BIOES",
     ["S-PER", "O", "B-LOC", "I-LOC", "E-LOC"]),
    (["B-PER", "B-PER", "I-ORG"], "BIOES", ["S-PER", "S-PER", "S-ORG"]),  # a stray I- starts one
    (["O", "O"], "BIOES", ["O", "O"]),
])
def test_tags_are_converted_span_for_span(tags, scheme, expected):
    assert convert_tags(tags, scheme) == expected


@given(st.lists(st.sampled_from(["O", "B-A", "I-A", "E-A", "S-A", "B-B", "I-B"]), max_size=12),
       st.sampled_from(["BIO", "BIOES"]))
def test_conversion_keeps_every_span(tags, scheme):
    converted = convert_tags(tags, scheme)
    assert decode_spans(converted) == decode_spans(tags)
    assert convert_tags(converted, scheme) == converted


def test_the_schemes_dictionary_is_o_then_each_type_and_rebuilds_itself():
    bio = Dictionary(add_unk=False)
    for tag in ("O", "B-PER", "I-PER", "B-LOC"):
        bio.add_item(tag)
    bioes = scheme_dictionary(bio, "BIOES")
    assert bioes.get_items() == ["O", "B-PER", "I-PER", "E-PER", "S-PER",
                                 "B-LOC", "I-LOC", "E-LOC", "S-LOC"]
    assert scheme_dictionary(bioes, "BIOES").get_items() == bioes.get_items()
    assert scheme_dictionary(bioes, "BIO").get_items() == ["O", "B-PER", "I-PER", "B-LOC",
                                                           "I-LOC"]


def test_tag_format_is_refused_where_there_is_nothing_to_convert(toy_corpus, toy_embeddings):
    pos = toy_corpus.make_tag_dictionary("pos")
    with pytest.raises(ValueError, match=r"tag_format='BIOES' is for span tags .*'pos' tags "
                                         r"are .*leave tag_format out"):
        SequenceTagger(toy_embeddings, pos, "pos", tag_format="BIOES")
    with pytest.raises(ValueError, match="expected one of BIO, BIOES"):
        SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("ner"), "ner",
                       tag_format="IOB2")


def test_a_tagger_learns_bio_from_bioes_gold_and_is_scored_on_the_same_spans(
        toy_corpus, toy_embeddings, tmp_path):
    """The toy corpus writes its entities in BIOES (S-PER, B-LOC E-LOC); a BIO tagger learns
    and predicts B-/I- tags, and its span scores are the spans of the corpus's own tags."""
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("ner"), "ner",
                            tag_format="bio", hidden_size=16)
    assert tagger.tag_format == "BIO"
    assert tagger.tag_dictionary.get_items() == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    result = ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=15, learning_rate=0.1,
                                                    mini_batch_size=8, show_progress=False)
    assert result["test_score"] > 0.95

    test = toy_corpus.test
    tagger.predict(test, label_name="guess")
    guessed = [[t.get_tag("guess") for t in s] for s in test]
    assert {tag for tags in guessed for tag in tags} <= {"O", "B-PER", "B-LOC", "I-LOC"}
    gold = [[t.get_tag("ner") for t in s] for s in test]  # BIOES, as the corpus has them
    spans, _ = span_scores(gold, guessed)
    evaluated = tagger.evaluate(test)
    assert evaluated.scores["micro_f1"] == pytest.approx(spans["micro_f1"])
    assert evaluated.scores["accuracy"] > 0.95  # token tags compared in the tagger's scheme

    tagger.save(tmp_path / "bio.pt")
    loaded = SequenceTagger.load(tmp_path / "bio.pt")
    assert loaded.tag_format == "BIO"
    assert loaded.tag_dictionary.get_items() == tagger.tag_dictionary.get_items()
    again = [Sentence([t.text for t in s]) for s in test]
    loaded.predict(again, label_name="guess")
    assert [[t.get_tag("guess") for t in s] for s in again] == guessed


def test_without_tag_format_the_corpus_tags_are_learnt_as_they_are(toy_corpus, toy_embeddings):
    tags = toy_corpus.make_tag_dictionary("ner")
    tagger = SequenceTagger(toy_embeddings, tags, "ner")
    assert tagger.tag_format is None and tagger.tag_dictionary is tags
    assert SequenceTagger.from_config(tagger.get_config()).tag_format is None
