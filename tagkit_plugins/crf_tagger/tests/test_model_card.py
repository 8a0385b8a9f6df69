"""The model card of a tagger trained by the tutorial's POS block (tiny data, two epochs): in
final-model.pt, best-model.pt and the checkpoint, across a resume, and shown by ``tagkit info``."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner

from tagkit_core.cli import main
from tagkit_core.corpus import Corpus, MultiCorpus
from tagkit_core.embeddings import StackedEmbeddings
from tagkit_core.model_card import read_model_card
from tagkit_core.trainer import ModelTrainer, TrainingConfig
from tagkit_core.trainer.checkpoint import read_checkpoint
from tagkit_crf_tagger import SequenceTagger


def tutorial_pos_block(corpus: Corpus, word_embeddings, base_path, **options):
    """The seed tutorial's POS block with imports changed, toy embeddings and tiny options."""
    tag_type = "pos"
    tag_dictionary = corpus.make_tag_dictionary(tag_type=tag_type)
    embeddings = StackedEmbeddings(embeddings=[word_embeddings])
    tagger = SequenceTagger(hidden_size=8, embeddings=embeddings, tag_dictionary=tag_dictionary,
                            tag_type=tag_type, use_crf=True)
    trainer = ModelTrainer(tagger, corpus)
    result = trainer.train(base_path, **{"learning_rate": 0.1, "mini_batch_size": 8, **options})
    return tagger, result


def small_corpus(toy: Corpus, name: str = "toy", part: int = 0) -> Corpus:
    """24 train, 6 dev and 5 test sentences of the toy corpus (``part`` picks which)."""
    return Corpus(toy.train[24 * part:24 * (part + 1)], toy.dev[6 * part:6 * (part + 1)],
                  toy.test[5 * part:5 * (part + 1)], name=name)


@pytest.fixture
def trained(toy_corpus, toy_embeddings, tmp_path):
    base = tmp_path / "pos"
    tagger, result = tutorial_pos_block(small_corpus(toy_corpus), toy_embeddings, base,
                                        max_epochs=2, checkpoint=True, seed=7)
    return tagger, result, base


def test_final_and_best_model_carry_the_card(trained):
    tagger, result, base = trained
    final, best = read_model_card(base / "final-model.pt"), read_model_card(base / "best-model.pt")
    assert final == tagger.model_card
    history = result["dev_score_history"]
    for card in (final, best):
        assert card["model"]["class"] == "SequenceTagger"
        assert card["model"]["label_type"] == "pos"
        assert card["model"]["labels"] == tagger.tag_dictionary.get_items()
        assert card["model"]["dictionary_size"] == len(tagger.tag_dictionary)
        assert card["corpus"] == {"name": "toy", "class": "Corpus", "train": 24, "dev": 6,
                                  "test": 5}
        options = card["training"]["options"]
        assert options == TrainingConfig(learning_rate=0.1, mini_batch_size=8, max_epochs=2,
                                         checkpoint=True, seed=7).to_json()
        assert card["training"]["seed"] == 7
        assert card["training"]["optimizer"] == "torch.optim.sgd.SGD"
        assert card["training"]["training_seconds"] > 0
        assert card["versions"]["tagkit-crf-tagger"] == \
            importlib.metadata.version("tagkit-crf-tagger")
        assert card["versions"]["python"] == platform.python_version()
        assert card["versions"]["torch"] == torch.__version__
        assert card["test"]["main_score"] == result["test_score"]
        assert card["test"]["scores"] == result["test_scores"]
        assert card["test"]["model_file"] == "best-model.pt"
        assert set(card["test"]["classification_report"]) <= set(card["model"]["labels"])
    best_epoch = final["training"]["best_epoch"]
    assert history[best_epoch - 1] == max(history)
    assert final["training"]["epoch"] == 2 and final["dev"]["epoch"] == 2
    assert final["dev"]["main_score"] == history[-1]
    assert best["training"]["epoch"] == best["dev"]["epoch"] == best_epoch
    assert best["dev"]["main_score"] == history[best_epoch - 1]
    assert SequenceTagger.load(base / "best-model.pt").model_card == best


def test_tagkit_info_shows_the_test_score_and_options(trained):
    _, result, base = trained
    runner = CliRunner()
    shown = runner.invoke(main, ["info", str(base / "final-model.pt")])
    assert shown.exit_code == 0, shown.output
    assert f"test score:   {result['test_score']:.4f} accuracy (of best-model.pt)" in shown.output
    assert "learning_rate=0.1" in shown.output and "max_epochs=2" in shown.output
    assert "seed 7" in shown.output and "toy: 24 train / 6 dev / 5 test" in shown.output
    assert "label type:   pos" in shown.output
    assert runner.invoke(main, ["info", str(base)]).output == shown.output  # the run folder
    as_json = json.loads(runner.invoke(main, ["info", "--json", str(base / "final-model.pt")]
                                       ).output)
    assert as_json["model_card"] == read_model_card(base / "final-model.pt")
    assert as_json["components"][0]["type"] == "sequence_tagger"
    assert [c["type"] for c in as_json["components"][1:]] == ["stacked", "test_toy_words"]


def test_tagkit_info_readme_writes_a_model_card_beside_the_model(trained, tmp_path):
    _, result, base = trained
    model = tmp_path / "best-model.pt"
    model.write_bytes((base / "best-model.pt").read_bytes())
    runner = CliRunner()
    written = runner.invoke(main, ["info", "--readme", str(model)])
    assert written.exit_code == 0, written.output
    assert f"wrote the model card to {tmp_path / 'README.md'}" in written.output
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("---\nlibrary_name: tagkit\n")
    assert '- "token-classification"' in readme and '- "accuracy"' in readme
    assert f"value: {result['test_score']!r}" in readme
    assert "| learning\\_rate | 0.1 |" in readme
    assert runner.invoke(main, ["info", "--readme", str(model)]).exit_code == 0  # its own: ok
    (tmp_path / "README.md").write_text("my notes\n")
    refused = runner.invoke(main, ["info", "--readme", str(model)])
    assert refused.exit_code == 1 and "use --force" in refused.output
    assert (tmp_path / "README.md").read_text() == "my notes\n"
    assert runner.invoke(main, ["info", "--readme", "--force", str(model)]).exit_code == 0
    assert (tmp_path / "README.md").read_text() != "my notes\n"


def test_the_card_survives_a_checkpoint_and_a_resume(toy_corpus, toy_embeddings, tmp_path):
    corpus = small_corpus(toy_corpus)
    tutorial_pos_block(corpus, toy_embeddings, tmp_path, max_epochs=1, checkpoint=True, seed=7)
    checkpoint_card = read_checkpoint(tmp_path / "checkpoint.pt")["model_header"]["model_card"]
    assert checkpoint_card["training"]["epoch"] == 1 and "test" not in checkpoint_card
    shown = CliRunner().invoke(main, ["info", str(tmp_path / "checkpoint.pt")])
    assert shown.exit_code == 1 and "is a tagkit checkpoint, not a model file" in shown.output
    first = read_model_card(tmp_path / "final-model.pt")
    trainer = ModelTrainer.load_checkpoint(tmp_path / "checkpoint.pt", corpus)
    assert trainer.model.model_card["training"]["epoch"] == 1
    trainer.train(tmp_path, learning_rate=0.1, mini_batch_size=8, max_epochs=2,
                  checkpoint=True, seed=7)
    resumed = read_model_card(tmp_path / "final-model.pt")
    assert resumed["training"]["epoch"] == 2
    assert resumed["training"]["started"] == first["training"]["started"]
    # The resumed run adds its time to the checkpoint's (not to the first final model's, which
    # also counts that run's final test: under load that can be longer than the second epoch).
    assert resumed["training"]["training_seconds"] > \
        checkpoint_card["training"]["training_seconds"] > 0
    assert resumed["training"]["options"]["max_epochs"] == 2
    assert resumed["test"]["main_score"] is not None


def test_a_multicorpus_lists_each_corpus(toy_corpus, toy_embeddings, tmp_path):
    corpus = MultiCorpus([small_corpus(toy_corpus, "en", 0), small_corpus(toy_corpus, "de", 1)],
                         name="both")
    tagger, _ = tutorial_pos_block(corpus, toy_embeddings, tmp_path, max_epochs=1)
    card = tagger.model_card["corpus"]
    assert (card["name"], card["train"], card["dev"], card["test"]) == ("both", 48, 12, 10)
    assert [(c["name"], c["train"], c["dev"], c["test"]) for c in card["corpora"]] == \
        [("en", 24, 6, 5), ("de", 24, 6, 5)]
    assert {"en_accuracy", "de_accuracy"} <= set(tagger.model_card["test"]["scores"])


def test_the_card_is_read_without_torch(trained):
    _, _, base = trained
    code = ("import json, sys\nfrom tagkit_core.model_card import read_model_card\n"
            f"card = read_model_card({str(base / 'final-model.pt')!r})\n"
            "print(json.dumps([card['test']['main_score'], "
            "sorted(m for m in ('torch', 'safetensors', 'tagkit_crf_tagger') "
            "if m in sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    score, heavy = json.loads(out)
    assert score == read_model_card(base / "final-model.pt")["test"]["main_score"]
    assert heavy == []
