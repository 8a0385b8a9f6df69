"""The trainer's optimizer and learning-rate schedule with the real tagger: the optimizer class
given where the tutorial and where Flair 0.15 give it, its own weight decay, the linear warm-up
schedule, and resuming either exactly from a checkpoint (an optimizer outside torch.optim too)."""

from __future__ import annotations

import pytest
import torch

from tagkit_core import set_seed
from tagkit_core.hookspecs import hookimpl
from tagkit_core.trainer import ModelTrainer
from tagkit_core.trainer.checkpoint import CheckpointError
from tagkit_crf_tagger import SequenceTagger


def _tagger(corpus, embeddings, **options) -> SequenceTagger:
    return SequenceTagger(embeddings, corpus.make_tag_dictionary("pos"), "pos", hidden_size=8,
                          **options)


# -- schedules ----------------------------------------------------------------------------------
def test_linear_schedule_warms_up_then_decays_per_step(toy_corpus, toy_embeddings, tmp_path):
    rates = []

    class Watch:
        @hookimpl
        def on_epoch_start(self, trainer, epoch, learning_rate):
            rates.append(learning_rate)

    tagger = _tagger(toy_corpus, toy_embeddings)
    result = ModelTrainer(tagger, toy_corpus, plugins=[Watch()]).train(
        tmp_path, max_epochs=4, scheduler="linear", warmup_fraction=0.25, learning_rate=0.1,
        mini_batch_size=8, show_progress=False, min_learning_rate=0.05)
    assert result["epochs"] == 4  # min_learning_rate does not stop a linear schedule
    # epoch 1 starts near 0; warm-up ends with epoch 1 (a quarter of the steps); then it decays
    assert rates[0] < 0.01 and rates[1] == pytest.approx(0.1, rel=0.1)
    assert rates[1] > rates[2] > rates[3] > 0


def test_fine_tune_uses_adamw_and_the_linear_schedule(toy_corpus, toy_embeddings, tmp_path):
    trainer = ModelTrainer(_tagger(toy_corpus, toy_embeddings), toy_corpus)
    trainer.fine_tune(tmp_path, max_epochs=1, show_progress=False, use_amp=True)
    assert trainer.optimizer_class is torch.optim.AdamW
    assert trainer.config.scheduler == "linear" and trainer.config.learning_rate == 5e-5
    chosen = ModelTrainer(_tagger(toy_corpus, toy_embeddings), toy_corpus,
                          optimizer=torch.optim.Adam)
    chosen.fine_tune(tmp_path / "adam", max_epochs=1, show_progress=False)
    assert chosen.optimizer_class is torch.optim.Adam
    with pytest.raises(ValueError, match="scheduler"):
        chosen.train(tmp_path, scheduler="cosine")


def test_the_optimizer_keeps_its_own_weight_decay_unless_one_is_given(toy_corpus,
                                                                      toy_embeddings, tmp_path):
    """``optimizer=AdamW`` means torch's AdamW, weight decay 0.01 included, as in Flair; the
    trainer once passed 0.0 to every optimizer."""
    built = []

    class RecordingAdamW(torch.optim.AdamW):
        def __init__(self, params, **options):
            super().__init__(params, **options)
            built.append(self.defaults["weight_decay"])

    trainer = ModelTrainer(_tagger(toy_corpus, toy_embeddings), toy_corpus,
                           optimizer=RecordingAdamW)
    trainer.fine_tune(tmp_path / "default", max_epochs=1, show_progress=False)
    trainer.train(tmp_path / "given", max_epochs=1, weight_decay=0.0, show_progress=False)
    assert built == [0.01, 0.0]
    assert trainer.config.weight_decay == 0.0
    with pytest.raises(TypeError, match="weight_decay"):
        trainer.train(tmp_path / "bad", max_epochs=1, weight_decay="0.1")


def test_train_and_fine_tune_take_the_optimizer_as_flair_015_does(toy_corpus, toy_embeddings,
                                                                  tmp_path):
    built = []

    def recording(base):
        class Recording(base):
            def __init__(self, params, **options):
                super().__init__(params, **options)
                built.append(base.__name__)
        return Recording

    trainer = ModelTrainer(_tagger(toy_corpus, toy_embeddings), toy_corpus)
    trainer.train(tmp_path / "adam", max_epochs=1, optimizer=recording(torch.optim.Adam),
                  show_progress=False)
    trainer.fine_tune(tmp_path / "sgd", max_epochs=1, optimizer=recording(torch.optim.SGD),
                      show_progress=False)
    trainer.train(tmp_path / "again", max_epochs=1, show_progress=False)  # kept for later runs
    assert built == ["Adam", "SGD", "SGD"]
    with pytest.raises(TypeError, match="got an optimizer instance"):
        trainer.train(tmp_path / "x", optimizer=torch.optim.SGD(trainer.model.parameters(), 0.1))
    with pytest.raises(TypeError, match="must be a torch.optim.Optimizer class .*got str 'Adam'"):
        ModelTrainer(trainer.model, toy_corpus, optimizer="Adam")

    ModelTrainer(_tagger(toy_corpus, toy_embeddings), toy_corpus).train(
        tmp_path / "run", max_epochs=1, optimizer=torch.optim.Adam, checkpoint=True,
        show_progress=False)
    resumed = ModelTrainer.load_checkpoint(tmp_path / "run" / "checkpoint.pt", toy_corpus)
    assert resumed.optimizer_class is torch.optim.Adam  # recorded in the checkpoint
    with pytest.raises(ValueError, match="trained with Adam, whose state it holds"):
        resumed.train(tmp_path / "run", max_epochs=2, optimizer=torch.optim.SGD)


def ctrl_c_as_epoch_starts(number: int):
    """A plugin that stops a run as Ctrl-C would, when epoch ``number`` starts."""
    class CtrlC:
        @hookimpl
        def on_epoch_start(self, trainer, epoch, learning_rate):
            if epoch == number:
                raise KeyboardInterrupt
    return CtrlC()


def test_a_linear_schedule_resumes_where_it_stopped(toy_corpus, toy_embeddings_cls, tmp_path):
    vocab = sorted({t.text for s in toy_corpus.train for t in s})
    options = dict(max_epochs=4, scheduler="linear", checkpoint=True, learning_rate=0.01,
                   show_progress=False)
    results = {}
    for name, plugins in (("full", []), ("cut", [ctrl_c_as_epoch_starts(3)])):
        set_seed(5)
        tagger = _tagger(toy_corpus, toy_embeddings_cls(vocab))
        results[name] = ModelTrainer(tagger, toy_corpus, optimizer=torch.optim.AdamW,
                                     plugins=plugins).train(tmp_path / name, **options)
    assert results["cut"]["epochs"] == 2  # stopped like a Ctrl-C after epoch 2
    trainer = ModelTrainer.load_checkpoint(tmp_path / "cut" / "checkpoint.pt", toy_corpus)
    resumed = trainer.train(tmp_path / "cut", **options)
    assert resumed["train_loss_history"] == results["full"]["train_loss_history"]


class Lion(torch.optim.SGD):
    """Stands for a user's own optimizer, outside torch.optim (torch_optimizer's, madgrad...)."""


def test_a_run_with_an_optimizer_outside_torch_optim_resumes_with_the_class_passed(
        toy_corpus, toy_embeddings_cls, tmp_path):
    """Its checkpoints could not be resumed at all: a checkpoint imports no code by name, and
    only torch.optim classes were looked up. The caller now passes the class; nothing is
    imported, and the name it was recorded under must match."""
    vocab = sorted({t.text for s in toy_corpus.train for t in s})
    options = dict(max_epochs=3, checkpoint=True, optimizer=Lion, show_progress=False)
    results = {}
    for name, plugins in (("full", []), ("cut", [ctrl_c_as_epoch_starts(2)])):
        set_seed(5)
        trainer = ModelTrainer(_tagger(toy_corpus, toy_embeddings_cls(vocab)), toy_corpus,
                               plugins=plugins)
        results[name] = trainer.train(tmp_path / name, **options)
    checkpoint = tmp_path / "cut" / "checkpoint.pt"
    with pytest.raises(CheckpointError, match=r"Lion'?, not a torch.optim class; a checkpoint "
                                              r"imports no other code, so pass the class"):
        ModelTrainer.load_checkpoint(checkpoint, toy_corpus)
    with pytest.raises(CheckpointError, match=r"trained with .*Lion'?, not with the "
                                              r"'torch.optim.sgd.SGD' passed"):
        ModelTrainer.load_checkpoint(checkpoint, toy_corpus, optimizer=torch.optim.SGD)
    trainer = ModelTrainer.load_checkpoint(checkpoint, toy_corpus, optimizer=Lion)
    assert trainer.optimizer_class is Lion and trainer.epoch == 1
    resumed = trainer.train(tmp_path / "cut", **options)
    assert resumed["train_loss_history"] == results["full"]["train_loss_history"]
