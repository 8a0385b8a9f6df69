"""The generic corpora, split finding, and the named loaders on a tiny fake mirror."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagkit_core.corpus import Corpus
from tagkit_datasets import (
    TREC_6,
    TREC_50,
    UD_ENGLISH,
    WNUT_17,
    ClassificationCorpus,
    ColumnCorpus,
    DatasetNotFoundError,
    UniversalDependenciesCorpus,
    find_split_files,
)


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def conllu(words: list[str]) -> list[str]:
    return [f"{i}\t{w}\t{w}\tNOUN\tNN\t_\t0\troot\t_\t_" for i, w in enumerate(words, 1)] + [""]


def column_lines(n: int, tag: str = "O") -> list[str]:
    return [line for i in range(n) for line in (f"w{i} {tag}", "")]


# -- finding split files ------------------------------------------------------------------------


def test_autofind_by_name_and_suffix(tmp_path):
    for name in ("en-ud-train.conllu", "en-ud-dev.conllu", "en-ud-test.conllu",
                 "en-ud-train.txt", "LICENSE.txt"):
        write(tmp_path / name, ["x"])
    files = find_split_files(tmp_path, suffixes=(".conllu",))
    assert [p.name for p in files] == ["en-ud-train.conllu", "en-ud-dev.conllu",
                                       "en-ud-test.conllu"]


def test_autofind_testa_is_dev_and_testb_is_test(tmp_path):
    for name in ("eng.train", "eng.testa", "eng.testb"):
        write(tmp_path / name, ["x"])
    assert [p.name for p in find_split_files(tmp_path)] == ["eng.train", "eng.testa",
                                                            "eng.testb"]


def test_ambiguous_split_names_both(tmp_path):
    write(tmp_path / "a.train", ["x"])
    write(tmp_path / "b.train", ["x"])
    with pytest.raises(ValueError, match="could be the train split: a.train, b.train"):
        find_split_files(tmp_path)


def test_given_file_is_not_found_again_for_another_split(tmp_path):
    write(tmp_path / "x-dev.conllu", ["x"])
    files = find_split_files(tmp_path, train_file="x-dev.conllu")
    assert files.train.name == "x-dev.conllu" and files.dev is None


def test_missing_given_file_and_empty_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="the dev file .*nope.txt does not exist"):
        find_split_files(tmp_path, dev_file="nope.txt")
    with pytest.raises(DatasetNotFoundError, match="no train, dev or test file"):
        find_split_files(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="data folder .*missing does not exist"):
        find_split_files(tmp_path / "missing")


# -- generic corpora ----------------------------------------------------------------------------


def test_ud_corpus_missing_dev_is_carved_from_train_seeded(tmp_path):
    lines = [line for i in range(40) for line in conllu([f"w{i}"])]
    write(tmp_path / "train.conllu", lines)
    write(tmp_path / "test.conllu", conllu(["t"]))
    corpus = UniversalDependenciesCorpus(tmp_path)
    assert isinstance(corpus, Corpus)
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (36, 4, 1)
    again = UniversalDependenciesCorpus(tmp_path)
    assert [s[0].text for s in again.dev] == [s[0].text for s in corpus.dev]
    other = UniversalDependenciesCorpus(tmp_path, seed=7, name="mine")
    assert other.name == "mine" and corpus.name == tmp_path.name
    kept = UniversalDependenciesCorpus(tmp_path, sample_missing_splits=False)
    assert (len(kept.train), len(kept.dev)) == (40, 0)


def test_ud_corpus_explicit_files_without_train(tmp_path):
    write(tmp_path / "a.conllu", conllu(["a", "b"]))
    write(tmp_path / "b.conllu", conllu(["c"]))
    corpus = UniversalDependenciesCorpus(tmp_path, dev_file="a.conllu", test_file="b.conllu")
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (0, 1, 1)
    assert corpus.make_tag_dictionary("upos").get_items() == ["NOUN"]


def test_column_corpus(tmp_path):
    write(tmp_path / "train.txt", column_lines(20, "B-PER"))
    write(tmp_path / "dev.txt", column_lines(3))
    write(tmp_path / "test.txt", column_lines(2))
    corpus = ColumnCorpus(tmp_path, {0: "text", 1: "ner"})
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (20, 3, 2)
    assert corpus.train[0].get_spans("ner")[0].tag == "PER"
    tabbed = write(tmp_path / "tab" / "train.tsv", ["New York\tB-LOC", ""])
    corpus = ColumnCorpus(tabbed.parent, {0: "text", 1: "ner"}, column_delimiter="\t",
                          sample_missing_splits=False)
    assert corpus.train[0][0].text == "New York"


def test_classification_corpus(tmp_path):
    write(tmp_path / "train.txt", [f"__label__{'ab'[i % 2]} text {i}" for i in range(30)])
    write(tmp_path / "test.txt", ["__label__a hello"])
    corpus = ClassificationCorpus(tmp_path, label_type="topic")
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (27, 3, 1)
    assert sorted(corpus.make_label_dictionary("topic").get_items()) == ["a", "b"]
    latin = write(tmp_path / "l" / "train.label", ["LOC:city Où ?"], "latin-1")
    corpus = ClassificationCorpus(latin.parent, label_format="trec_fine", encoding="latin-1",
                                  sample_missing_splits=False)
    assert corpus.train[0][0].text == "Où"


# -- named loaders on a fake mirror (the mirror is not checksummed, so tiny files work) --------


@pytest.fixture
def fake_mirror(tmp_path) -> Path:
    mirror = tmp_path / "mirror"
    for split, n in (("train", 3), ("dev", 2), ("test", 1)):
        write(mirror / "ud_english_ewt" / f"en_ewt-ud-{split}.conllu",
              [line for i in range(n) for line in conllu([f"{split}{i}"])])
    write(mirror / "trec_6" / "train_5500.label",
          [f"NUM:{f} How many {i} ?" for i, f in enumerate(["count", "date"] * 10)]
          + ["LOC:city Where is K\xf6ln ?"], "latin-1")
    write(mirror / "trec_6" / "TREC_10.label", ["HUM:ind Who ?"])
    for name, n in (("wnut17train.conll", 4), ("emerging.dev.conll", 2),
                    ("emerging.test.annotated", 1)):
        write(mirror / "wnut_17" / name, column_lines(n, "B-person"))
    return mirror


def test_named_loaders_read_the_mirror(fake_mirror, monkeypatch):
    corpus = UD_ENGLISH(mirror=fake_mirror)
    assert (len(corpus.train), len(corpus.dev), len(corpus.test)) == (3, 2, 1)
    assert corpus.name == "ud_english"
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", str(fake_mirror))
    trec = TREC_6()
    assert (len(trec.train), len(trec.dev), len(trec.test)) == (19, 2, 1)
    assert sorted(trec.make_label_dictionary("class").get_items()) == ["LOC", "NUM"]
    assert any(s[-2].text == "Köln" for s in trec.get_all_sentences())
    fine = TREC_50(name="fine", seed=3)
    assert fine.name == "fine"
    assert {x.value for s in fine.get_all_sentences() for x in s.get_labels("class")} == {
        "NUM:count", "NUM:date", "LOC:city", "HUM:ind"}
    wnut = WNUT_17()
    assert (len(wnut.train), len(wnut.dev), len(wnut.test)) == (4, 2, 1)
    assert wnut.train[0].get_spans("ner")[0].tag == "person"
