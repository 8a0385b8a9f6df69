"""The named loaders on the real data (the shared mirror): split sizes, tag sets, errors.

UD English EWT is loaded once for the module; everything else here is small.
"""

from __future__ import annotations

import copy
import time

import pytest

from tagkit_datasets import (
    TREC_6,
    TREC_50,
    UD_ENGLISH,
    UD_GERMAN,
    WNUT_17,
    DatasetNotFoundError,
    UniversalDependenciesCorpus,
)

pytestmark = pytest.mark.integration

UPOS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
        "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}


def sizes(corpus) -> tuple[int, int, int]:
    return len(corpus.train), len(corpus.dev), len(corpus.test)


@pytest.fixture(scope="module")
def ewt(real_data):
    started = time.perf_counter()
    corpus = UD_ENGLISH(mirror=real_data)
    print(f"UD_ENGLISH() took {time.perf_counter() - started:.2f} s")
    return corpus


def test_ud_english_sizes_and_upos(ewt):
    assert sizes(ewt) == (12544, 2001, 2077)
    assert set(ewt.make_tag_dictionary("pos").get_items()) == UPOS
    assert len(ewt.make_tag_dictionary("pos")) == 17
    first = ewt.train[0]
    assert first.to_original_text().startswith("Al-Zaman : American forces killed")
    assert first[0].get_tag("xpos") == "NNP" and first[5].get_tag("lemma") == "force"


def test_ud_english_downsample(ewt):
    # downsample replaces the split lists, so a shallow copy leaves the shared fixture intact
    assert sizes(copy.copy(ewt).downsample(0.1)) == (1254, 200, 208)
    assert sizes(ewt) == (12544, 2001, 2077)


def test_ud_german_gsd_dev_and_test(real_data):
    folder = real_data / "ud_german_gsd"
    corpus = UniversalDependenciesCorpus(folder, dev_file="de_gsd-ud-dev.conllu",
                                         test_file="de_gsd-ud-test.conllu")
    assert sizes(corpus) == (0, 799, 977)
    as_train = UniversalDependenciesCorpus(folder, train_file="de_gsd-ud-dev.conllu",
                                           test_file="de_gsd-ud-test.conllu")
    assert sizes(as_train) == (720, 79, 977)


def test_ud_german_without_train_names_every_place(real_data, tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        UD_GERMAN(mirror=real_data)
    message = str(info.value)
    assert "de_gsd-ud-train.conllu" in message
    assert str(real_data / "ud_german_gsd" / "de_gsd-ud-train.conllu") in message
    assert str(tmp_path / "cache" / "datasets" / "ud_german_gsd" / "de_gsd-ud-train.conllu") \
        in message
    assert ("https://raw.githubusercontent.com/UniversalDependencies/UD_German-GSD/r2.16/"
            "de_gsd-ud-train.conllu") in message


def test_trec_6_and_50(real_data, monkeypatch):
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", str(real_data))
    trec = TREC_6()
    assert sizes(trec) == (4907, 545, 500)
    assert len(trec.make_label_dictionary("class")) == 6
    assert set(trec.make_label_dictionary("class").get_items()) == {
        "ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"}
    fine = TREC_50()
    assert sizes(fine) == (4907, 545, 500)
    labels = {x.value for s in fine.get_all_sentences() for x in s.get_labels("class")}
    assert len(labels) == 50 and all(":" in x for x in labels)


def test_wnut_17(real_data):
    wnut = WNUT_17(mirror=real_data)
    assert sizes(wnut) == (3394, 1009, 1287)
    types = {span.tag for s in wnut.get_all_sentences() for span in s.get_spans("ner")}
    assert types == {"person", "location", "group", "creative-work", "corporation", "product"}
    assert sizes(wnut.downsample(0.1)) == (339, 101, 129)


def test_loaders_make_no_network_call_when_files_are_in_place(real_data, monkeypatch):
    from tagkit_datasets import download

    def fail(url, timeout=None):  # pragma: no cover - reached only on a bug
        raise AssertionError(f"network used for {url}")

    monkeypatch.setattr(download, "urlopen", fail)
    WNUT_17(mirror=real_data)
    TREC_6(mirror=real_data)
