"""The trainer's options and safeguards with the real tagger: typed options, annealing with
restarts, files after a resume, warnings a user needs, and isolation of failing plugins."""

from __future__ import annotations

import inspect
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import pytest
import torch
from safetensors.torch import load_file

from tagkit_core import set_seed
from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary
from tagkit_core.hookspecs import hookimpl
from tagkit_core.model import Result
from tagkit_core.trainer import ModelTrainer, TrainingConfig
from tagkit_crf_tagger import SequenceTagger

HERE = Path(__file__).parent


def _tagger(corpus, embeddings, **options) -> SequenceTagger:
    return SequenceTagger(embeddings, corpus.make_tag_dictionary("pos"), "pos", hidden_size=8,
                          **options)


def _train(corpus, embeddings, path, **options):
    tagger = _tagger(corpus, embeddings)
    options.setdefault("show_progress", False)
    return tagger, ModelTrainer(tagger, corpus).train(path, **options)


# -- options -------------------------------------------------------------------------------------
def test_train_lists_every_option_in_its_signature_and_help():
    parameters = inspect.signature(ModelTrainer.train).parameters
    names = [field.name for field in attrs.fields(TrainingConfig)]
    assert list(parameters)[:3] == ["self", "base_path", "optimizer"]  # train's own
    assert list(parameters)[3:] == names
    assert ":param optimizer:" in ModelTrainer.train.__doc__
    assert parameters["learning_rate"].default == 0.1
    assert parameters["mini_batch_size"].annotation is int
    assert all(f":param {name}:" in ModelTrainer.train.__doc__ for name in names)


def test_a_misspelt_option_gets_a_suggestion(toy_corpus, toy_embeddings, tmp_path):
    trainer = ModelTrainer(_tagger(toy_corpus, toy_embeddings), toy_corpus)
    with pytest.raises(TypeError, match=r"unknown option 'embedding_storage_mode' \(did you mean "
                                        r"'embeddings_storage_mode'\?\)"):
        trainer.train(tmp_path, embedding_storage_mode="none")
    with pytest.raises(TypeError, match="mini_batch_size must be int"):
        trainer.train(tmp_path, mini_batch_size="32")
    with pytest.raises(ValueError, match="mini_batch_size must be positive"):
        trainer.train(tmp_path, mini_batch_size=0)
    assert not (tmp_path / "training.log").exists()  # refused before anything was written


def test_predict_with_a_zero_batch_size_names_the_argument(toy_corpus, toy_embeddings):
    tagger = _tagger(toy_corpus, toy_embeddings)
    with pytest.raises(ValueError, match="mini_batch_size must be a positive integer, got 0"):
        tagger.predict(Sentence("the dog runs"), mini_batch_size=0)


def test_a_mistyped_storage_mode_lists_the_modes(toy_corpus, toy_embeddings, tmp_path):
    trainer = ModelTrainer(_tagger(toy_corpus, toy_embeddings), toy_corpus)
    with pytest.raises(LookupError, match=r"'CPU'.*did you mean 'cpu'") as error:
        trainer.train(tmp_path, embeddings_storage_mode="CPU", max_epochs=1, show_progress=False)
    assert "pip install" not in str(error.value)


def test_anneal_with_restarts_goes_on_from_the_best_weights(toy_corpus, toy_embeddings, tmp_path,
                                                            monkeypatch):
    """Dev scores 0.9, then 0.5 (worse): with patience 0 the rate anneals after epoch 2, and
    with restarts the model continues from best-model.pt, i.e. epoch 1's weights."""
    seen = {}

    class Watch:
        @hookimpl
        def on_epoch_end(self, trainer, epoch, metrics):
            seen[epoch] = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}

    for restarts in (True, False):
        tagger = _tagger(toy_corpus, toy_embeddings)
        scores = iter([0.9, 0.5])
        monkeypatch.setattr(tagger, "evaluate",
                            lambda *a, _scores=scores, **k: Result(next(_scores)))
        ModelTrainer(tagger, toy_corpus, plugins=[Watch()]).train(
            tmp_path / str(restarts), max_epochs=2, patience=0, anneal_with_restarts=restarts,
            show_progress=False, save_final_model=False)
        best = load_file(tmp_path / str(restarts) / "best-model.pt")
        same = all(torch.equal(seen[2][k].cpu(), best[k]) for k in best)  # trained on CUDA?
        assert same is restarts
        assert not torch.equal(seen[1]["linear.weight"], seen[2]["linear.weight"]) or restarts


# -- faults and warnings ---------------------------------------------------------------------------
def test_dev_tags_missing_from_the_dictionary_do_not_stop_training(toy_corpus, toy_embeddings,
                                                                  tmp_path, caplog):
    dictionary = Dictionary(add_unk=False)
    for sentence in toy_corpus.train:
        for token in sentence:
            dictionary.add_item(token.get_tag("pos"))
    toy_corpus.dev[0][0].add_label("pos", "NEVER_SEEN")
    tagger = SequenceTagger(toy_embeddings, dictionary, "pos", hidden_size=8)
    with caplog.at_level(logging.INFO, logger="tagkit"):
        result = ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=2,
                                                        show_progress=False)
    assert result["epochs"] == 2 and (tmp_path / "final-model.pt").exists()
    rows = (tmp_path / "loss.tsv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].split("\t")[5] == "-"  # DEV_LOSS: none computable
    assert "NEVER_SEEN" in caplog.text


def test_a_tag_type_the_corpus_lacks_is_named(toy_corpus, toy_embeddings, tmp_path):
    for sentence in toy_corpus.get_all_sentences():
        for token in sentence:
            token.remove_label("ner")
    tagger = SequenceTagger(toy_embeddings, toy_corpus.make_tag_dictionary("pos"), "ner",
                            hidden_size=8)
    with pytest.raises(KeyError, match=r"no 'ner' tags \(its tokens have \['pos'\]\)"):
        ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=1, show_progress=False)


def test_a_corpus_of_empty_sentences_is_refused(toy_embeddings, tmp_path):
    corpus = Corpus([Sentence([]) for _ in range(5)], [], [], name="empty")
    tagger = SequenceTagger(toy_embeddings, _dictionary(), "pos", hidden_size=8)
    with pytest.raises(ValueError, match="none of them has a token"):
        ModelTrainer(tagger, corpus).train(tmp_path, max_epochs=1, show_progress=False)


def _dictionary() -> Dictionary:
    dictionary = Dictionary(add_unk=False)
    dictionary.add_item("X")
    return dictionary


def test_a_diverging_loss_and_an_earlier_run_are_warned_about(toy_corpus, toy_embeddings,
                                                             tmp_path, caplog):
    _train(toy_corpus, toy_embeddings, tmp_path, max_epochs=1)
    with caplog.at_level(logging.WARNING, logger="tagkit"):
        _train(toy_corpus, toy_embeddings, tmp_path, max_epochs=1, learning_rate=1e6,
               max_grad_norm=None)
    text = caplog.text
    assert "already holds final-model.pt and best-model.pt from an earlier run" in text
    assert "training is diverging" in text


def test_a_resumed_run_lists_each_epoch_once_and_removes_stale_temp_files(
        toy_corpus, toy_embeddings, tmp_path):
    _train(toy_corpus, toy_embeddings, tmp_path, max_epochs=2, checkpoint=True)
    # As if epoch 3 wrote its rows and a checkpoint temp file, then was killed.
    with open(tmp_path / "loss.tsv", "a") as handle:
        handle.write("3\t00:00:00\t1\t0.1\t0.5\t0.5\t0.5\t0.5\n")
    with open(tmp_path / "weights.txt", "a") as handle:
        handle.write("3\tlinear.weight\t0\t0.1\n")
    stale = tmp_path / ".checkpoint.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    trainer = ModelTrainer.load_checkpoint(tmp_path / "checkpoint.pt", toy_corpus)
    trainer.train(tmp_path, max_epochs=3, checkpoint=True, show_progress=False)
    epochs = [row.split("\t")[0] for row in (tmp_path / "loss.tsv").read_text().splitlines()[1:]]
    assert epochs == ["1", "2", "3"]
    weights = [line.split("\t")[0] for line in (tmp_path / "weights.txt").read_text().splitlines()]
    assert weights.count("3") == len([w for w in weights if w == "1"])
    assert not stale.exists()


def test_resuming_on_another_corpus_warns(toy_corpus, toy_embeddings, tmp_path, caplog):
    _train(toy_corpus, toy_embeddings, tmp_path, max_epochs=1, checkpoint=True)
    other = Corpus(toy_corpus.train[:50], toy_corpus.dev, toy_corpus.test, name="other")
    trainer = ModelTrainer.load_checkpoint(tmp_path / "checkpoint.pt", other)
    with caplog.at_level(logging.WARNING, logger="tagkit"):
        trainer.train(tmp_path, max_epochs=2, show_progress=False)
    assert "trained on corpus 'toy'" in caplog.text and "resumed on 'other'" in caplog.text


def test_a_failing_logger_is_reported_and_training_finishes(toy_corpus, toy_embeddings,
                                                            tmp_path, caplog):
    class BrokenLogger:
        @hookimpl
        def on_epoch_end(self, trainer, epoch, metrics):
            raise RuntimeError("logger is broken")

    tagger = _tagger(toy_corpus, toy_embeddings)
    with caplog.at_level(logging.WARNING, logger="tagkit"):
        result = ModelTrainer(tagger, toy_corpus, plugins=[BrokenLogger()]).train(
            tmp_path, max_epochs=2, checkpoint=True, show_progress=False)
    assert result["epochs"] == 2 and result["test_score"] is not None
    assert any("logger is broken" in error for error in result["plugin_errors"])
    for name in ("final-model.pt", "checkpoint.pt", "loss.tsv", "weights.txt"):
        assert (tmp_path / name).exists(), name
    assert "logger is broken" in caplog.text
    assert not [h for h in logging.getLogger("tagkit").handlers
                if isinstance(h, logging.FileHandler)]  # the run's log handler is gone


def test_a_crash_leaves_no_log_handler_behind(toy_corpus, toy_embeddings, tmp_path):
    tagger = _tagger(toy_corpus, toy_embeddings)

    def explode(sentences, storage=None):
        raise RuntimeError("boom")

    tagger.forward_loss = explode
    with pytest.raises(RuntimeError, match="boom"):
        ModelTrainer(tagger, toy_corpus).train(tmp_path / "a", max_epochs=1, show_progress=False)
    tagger2, _ = _train(toy_corpus, toy_embeddings, tmp_path / "b", max_epochs=1)
    assert "training SequenceTagger" not in (tmp_path / "a" / "training.log").read_text()[200:]
    assert not [h for h in logging.getLogger("tagkit").handlers
                if isinstance(h, logging.FileHandler)]


# -- the core trains alone -------------------------------------------------------------------------
def test_the_tutorial_tagger_trains_without_the_storage_plugin(tmp_path):
    """Only the datasets-free plugins the run needs: no tagkit-storage (default mode 'cpu',
    final test under 'none' are the core's own)."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        from conftest import VOCAB, ToyEmbeddings, make_sentences
        from tagkit_core.corpus import Corpus
        from tagkit_core.embeddings import StackedEmbeddings
        from tagkit_core.registry import get_registry
        from tagkit_core.trainer import ModelTrainer
        from tagkit_crf_tagger import SequenceTagger
        registry = get_registry()
        registry.add("embedding", ToyEmbeddings, plugin="tests")
        assert "tagkit_storage" not in sys.modules
        corpus = Corpus(make_sentences(40, 1), make_sentences(8, 2), make_sentences(8, 3))
        tagger = SequenceTagger(hidden_size=8, embeddings=StackedEmbeddings([ToyEmbeddings(VOCAB)]),
                                tag_dictionary=corpus.make_tag_dictionary(tag_type="pos"),
                                tag_type="pos", use_crf=True)
        result = ModelTrainer(tagger, corpus).train({str(tmp_path)!r}, max_epochs=1)
        print(sorted(c.name for c in registry.components("storage_mode")), "tagkit_storage" in
              sys.modules, result["test_score"] is not None)
    """)
    env = dict(os.environ, TAGKIT_LOAD_PLUGINS="crf_tagger")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "['cpu', 'none'] False True"
    assert (tmp_path / "final-model.pt").exists()


def test_set_seed_gives_the_same_initial_weights_and_leaves_draws_alone(toy_embeddings_cls):
    set_seed(3)
    first = toy_embeddings_cls(["a", "b"])
    set_seed(3)
    state = torch.get_rng_state()
    second = toy_embeddings_cls(["a", "b"])
    assert torch.equal(torch.get_rng_state(), state)  # building drew nothing from torch's RNG
    assert torch.equal(first.table.weight, second.table.weight)
    third = toy_embeddings_cls(["a", "b"])  # the next construction: other weights
    assert not torch.equal(second.table.weight, third.table.weight)


def test_a_multicorpus_run_reports_a_score_per_corpus(toy_corpus, toy_embeddings, tmp_path):
    from tagkit_core.corpus import MultiCorpus

    train, dev, test = toy_corpus.train, toy_corpus.dev, toy_corpus.test
    english = Corpus(train[:80], dev[:10], test[:10], name="english")
    german = Corpus(train[80:], dev[10:], test[10:], name="german")
    corpus = MultiCorpus([english, german]).downsample(0.5)
    assert len(corpus.train) == 60 and len(corpus.test) == 10
    tagger = _tagger(corpus, toy_embeddings)
    result = ModelTrainer(tagger, corpus).train(tmp_path, max_epochs=2, show_progress=False)
    scores = result["test_scores"]
    assert {"english_accuracy", "german_accuracy"} <= set(scores)
    assert min(scores["english_accuracy"], scores["german_accuracy"]) <= result["test_score"] \
        <= max(scores["english_accuracy"], scores["german_accuracy"])
    header = (tmp_path / "loss.tsv").read_text().splitlines()[0].split("\t")
    assert {"DEV_ENGLISH_ACCURACY", "DEV_GERMAN_ACCURACY"} <= set(header)
    assert "per corpus: english: accuracy" in (tmp_path / "training.log").read_text()


def test_a_rate_that_starts_below_the_floor_still_trains(toy_corpus, toy_embeddings, tmp_path):
    """The tutorial's transformer block trains at 3e-5 with the default floor of 1e-4."""
    result = _train(toy_corpus, toy_embeddings, tmp_path, max_epochs=2, learning_rate=3e-5)[1]
    assert result["epochs"] == 2


def test_clipping_covers_every_gradient_also_of_a_layer_unfrozen_mid_epoch(
        toy_corpus, toy_embeddings, tmp_path, monkeypatch):
    # The trainer lists the parameters to clip once per epoch: one unfrozen between two
    # batches of that epoch must still be clipped.
    tagger = _tagger(toy_corpus, toy_embeddings)
    for param in tagger.linear.parameters():
        param.requires_grad_(False)
    real, calls = torch.nn.utils.clip_grad_norm_, []

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        clipped = {id(p) for p in parameters if p.grad is not None}
        with_gradient = {id(p) for p in tagger.parameters() if p.grad is not None}
        calls.append((clipped, with_gradient))
        for param in tagger.linear.parameters():  # unfrozen after the first batch
            param.requires_grad_(True)
        return real(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    ModelTrainer(tagger, toy_corpus).train(tmp_path, max_epochs=1, mini_batch_size=2,
                                           show_progress=False)
    assert len(calls) >= 2
    assert id(tagger.linear.weight) not in calls[0][1]  # frozen in the first batch
    assert id(tagger.linear.weight) in calls[1][1]
    assert all(clipped == with_gradient for clipped, with_gradient in calls)
