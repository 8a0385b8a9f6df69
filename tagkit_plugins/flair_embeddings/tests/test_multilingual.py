"""The tutorial's multi-dataset block on real data, small: a multilingual character LM trained
here on English and German text, its FlairEmbeddings under one tagger trained on UD English
plus a German corpus, and one accuracy per corpus in the result, the log and loss.tsv.

UD German GSD's train file is not available here, so the German corpus is built as the task
says: ``UniversalDependenciesCorpus`` with the GSD dev file as train and the test file as test
(dev is then sampled from train). Everything is tiny (a 16-unit LM, one epoch, a few dozen
sentences per corpus) so the test runs in seconds; benchmarks/lm_multi.py is the full run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tagkit_core.corpus import MultiCorpus
from tagkit_core.embeddings import StackedEmbeddings
from tagkit_core.seeding import set_seed
from tagkit_core.trainer import ModelTrainer
from tagkit_flair_embeddings import (
    FlairEmbeddings,
    LanguageModel,
    LanguageModelTrainer,
    TextCorpus,
    character_dictionary,
)

DATASETS = Path(os.environ.get(
    "TAGKIT_DATASETS_MIRROR", Path(__file__).resolve().parents[4] / "shared" / "datasets"))
GSD = DATASETS / "ud_german_gsd"


def sentence_texts(path: Path, limit: int) -> list[str]:
    prefix = "# text = "
    with open(path, encoding="utf-8") as handle:
        texts = [line[len(prefix):].rstrip("\n") for line in handle if line.startswith(prefix)]
    return texts[:limit]


def train_lm(folder: Path, english: list[str], german: list[str], forward: bool):
    """A tiny LM on both languages' text (Flair's corpus layout), one epoch."""
    corpus_dir = folder / "corpus"
    (corpus_dir / "train").mkdir(parents=True, exist_ok=True)
    (corpus_dir / "train" / "english").write_text("\n".join(english[20:]) + "\n")
    (corpus_dir / "train" / "german").write_text("\n".join(german[20:]) + "\n")
    held_out = "\n".join(english[:20] + german[:20]) + "\n"
    (corpus_dir / "valid.txt").write_text(held_out)
    (corpus_dir / "test.txt").write_text(held_out)
    dictionary = character_dictionary(english + german + ["\n"])
    set_seed(1)
    lm = LanguageModel(dictionary, is_forward_lm=forward, hidden_size=16, embedding_size=8)
    result = LanguageModelTrainer(lm, TextCorpus(corpus_dir, dictionary, forward=forward)).train(
        folder / ("forward" if forward else "backward"), sequence_length=50,
        mini_batch_size=8, max_epochs=1, checkpoint=False)
    return result


@pytest.mark.integration
def test_one_tagger_on_english_and_german_reports_a_score_per_corpus(tmp_path, monkeypatch):
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_datasets import UD_ENGLISH, UniversalDependenciesCorpus

    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", str(DATASETS))
    english = sentence_texts(DATASETS / "ud_english_ewt" / "en_ewt-ud-train.conllu", 150)
    german = sentence_texts(GSD / "de_gsd-ud-dev.conllu", 150)
    for forward in (True, False):
        lm_result = train_lm(tmp_path / "lm", english, german, forward)
        assert 1.0 < lm_result["test_perplexity"] < len(set("".join(english + german))) + 2

    german_corpus = UniversalDependenciesCorpus(
        GSD, train_file=GSD / "de_gsd-ud-dev.conllu", test_file=GSD / "de_gsd-ud-test.conllu",
        name="ud_german_gsd")
    corpus = MultiCorpus([UD_ENGLISH(), german_corpus]).downsample(0.03)
    assert {s.corpus_name for s in corpus.test} == {"ud_english", "ud_german_gsd"}
    tag_dictionary = corpus.make_tag_dictionary("upos")
    embeddings = StackedEmbeddings([
        FlairEmbeddings(str(tmp_path / "lm" / "forward" / "best-lm.pt")),
        FlairEmbeddings(str(tmp_path / "lm" / "backward" / "best-lm.pt"))])
    tagger = SequenceTagger(hidden_size=16, embeddings=embeddings, tag_dictionary=tag_dictionary,
                            tag_type="upos", use_crf=True)
    result = ModelTrainer(tagger, corpus).train(
        tmp_path / "tagger", learning_rate=0.1, mini_batch_size=32, max_epochs=1,
        embeddings_storage_mode="cpu", show_progress=False)

    scores = result["test_scores"]
    per_corpus = [scores["ud_english_accuracy"], scores["ud_german_gsd_accuracy"]]
    assert all(0.0 <= score <= 1.0 for score in per_corpus)
    # the overall accuracy is a token-weighted mean of the two parts
    assert min(per_corpus) - 1e-9 <= result["test_score"] <= max(per_corpus) + 1e-9
    # one epoch on a few dozen sentences already beats tagging nothing right
    assert max(per_corpus) > 0.05
    header = (tmp_path / "tagger" / "loss.tsv").read_text().splitlines()[0].split("\t")
    assert {"DEV_UD_ENGLISH_ACCURACY", "DEV_UD_GERMAN_GSD_ACCURACY"} <= set(header)
    log = (tmp_path / "tagger" / "training.log").read_text()
    assert "per corpus: ud_english: accuracy" in log and "ud_german_gsd: accuracy" in log
