"""Corpus splits, sampling, dictionaries and statistics; MultiCorpus."""

import json

import pytest

from tagkit_core.corpus import Corpus, MultiCorpus
from tagkit_core.data import Sentence


def _sentences(n, tag="NOUN", prefix="w"):
    out = []
    for i in range(n):
        sentence = Sentence([f"{prefix}{i}", "x"])
        sentence[0].add_label("pos", tag)
        sentence[1].add_label("pos", "PUNCT")
        sentence.add_label("class", "A" if i % 3 else "B")
        out.append(sentence)
    return out


def test_str_and_missing_dev_is_carved_from_train_with_a_seed():
    corpus = Corpus(_sentences(100), test=_sentences(10))
    assert str(corpus) == "Corpus: 90 train + 10 dev + 10 test sentences"
    again = Corpus(_sentences(100), test=_sentences(10))
    assert [s.to_plain_string() for s in corpus.dev] == [s.to_plain_string() for s in again.dev]
    assert not {id(s) for s in corpus.dev} & {id(s) for s in corpus.train}


def test_empty_dev_is_kept_empty():
    assert len(Corpus(_sentences(10), [], _sentences(2)).dev) == 0


def test_downsample_is_deterministic_and_proportional():
    corpus = Corpus(_sentences(1000), _sentences(200), _sentences(300)).downsample(0.1)
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (100, 20, 30)
    other = Corpus(_sentences(1000), _sentences(200), _sentences(300)).downsample(0.1)
    assert [s.to_plain_string() for s in corpus.train] == [s.to_plain_string()
                                                          for s in other.train]
    with pytest.raises(ValueError):
        corpus.downsample(0)


def test_dictionaries_and_statistics():
    corpus = Corpus(_sentences(10), _sentences(2, tag="VERB"), _sentences(2))
    assert corpus.make_tag_dictionary("pos").get_items() == ["NOUN", "PUNCT", "VERB"]
    labels = corpus.make_label_dictionary()
    assert set(labels.get_items()) == {"A", "B"} and not labels.add_unk
    with pytest.raises(ValueError, match="'ner'"):
        corpus.make_tag_dictionary("ner")
    stats = json.loads(corpus.obtain_statistics(label_type="pos"))
    assert stats["TRAIN"]["number_of_sentences"] == 10
    assert stats["TRAIN"]["number_of_tokens"]["total"] == 20
    assert stats["TRAIN"]["number_of_labels_per_class"]["PUNCT"] == 10


def test_filter_empty_sentences():
    corpus = Corpus(_sentences(3) + [Sentence([])], [Sentence([])], [])
    corpus.filter_empty_sentences()
    assert len(corpus.train) == 3 and len(corpus.dev) == 0


def test_multicorpus_keeps_each_corpus_name():
    english = Corpus(_sentences(20, prefix="en"), _sentences(4), _sentences(4), name="en")
    german = Corpus(_sentences(10, prefix="de"), _sentences(2), _sentences(2), name="de")
    multi = MultiCorpus([english, german])
    assert len(multi.train) == 30
    assert {s.corpus_name for s in multi.train} == {"en", "de"}
    multi.downsample(0.5)
    assert len(multi.train) == 15 and [len(c.train) for c in multi.corpora] == [10, 5]
    assert "en: Corpus" in str(multi)


def test_label_dictionary_of_a_token_label_type_holds_the_tags():
    """Newer Flair builds a tagger's dictionary with make_label_dictionary(label_type='upos')."""
    corpus = Corpus(_sentences(10), _sentences(2), _sentences(2))
    assert sorted(corpus.make_label_dictionary(label_type="pos").get_items()) == ["NOUN", "PUNCT"]
    assert sorted(corpus.make_label_dictionary().get_items()) == ["A", "B"]  # sentence labels
    with pytest.raises(ValueError, match=r"'ner' label; label types present: \['class', 'pos'\]"):
        corpus.make_label_dictionary(label_type="ner")
