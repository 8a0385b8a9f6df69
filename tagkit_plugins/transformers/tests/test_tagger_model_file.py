"""Through the real model file: a fine-tuned transformer tagger trains a step with the core
trainer, is saved (safetensors + JSON header), loads back and predicts the same."""

from __future__ import annotations

import torch

from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.persistence import read_header
from tagkit_core.trainer import ModelTrainer
from tagkit_crf_tagger import SequenceTagger
from tagkit_transformers import TransformerWordEmbeddings

TAGGED = [
    ("anna visits new york", "PROPN VERB PROPN PROPN"),
    ("the dog runs here", "DET NOUN VERB ADV"),
    ("we love berlin !", "PRON VERB PROPN PUNCT"),
    ("a cat sleeps", "DET NOUN VERB"),
    ("the unbelievable cat runs", "DET ADJ NOUN VERB"),
]


def tagged(seed: int) -> list[Sentence]:
    rows = TAGGED[seed:] + TAGGED[:seed]
    out = []
    for text, tags in rows:
        sentence = Sentence(text.split())
        for token, tag in zip(sentence, tags.split()):
            token.add_label("upos", tag)
        out.append(sentence)
    return out


def test_train_save_load_predict(bert_dir, tmp_path):
    corpus = Corpus(tagged(0), tagged(1), tagged(2), name="hand-made")
    torch.manual_seed(0)
    embeddings = TransformerWordEmbeddings(str(bert_dir), fine_tune=True)
    tagger = SequenceTagger(embeddings, corpus.make_tag_dictionary("upos"), "upos", hidden_size=16,
                            use_rnn=False, use_crf=False, reproject_embeddings=False)
    before = embeddings.model.embeddings.word_embeddings.weight.detach().clone()
    ModelTrainer(tagger, corpus).train(tmp_path, max_epochs=1, learning_rate=0.05,
                                       mini_batch_size=4, show_progress=False)
    after = embeddings.model.embeddings.word_embeddings.weight.detach()
    assert not torch.equal(before, after.cpu())  # the transformer itself was trained

    path = tmp_path / "final-model.pt"
    header = read_header(path)
    spec = header["model"]["config"]["embeddings"]
    assert spec["type"] == "transformer_word"
    assert spec["distribution"] == "tagkit-transformers"
    assert "tokenizer.json" in spec["config"]["tokenizer_files"]

    loaded = SequenceTagger.load(path)
    assert isinstance(loaded.embeddings, TransformerWordEmbeddings)
    for name, tensor in tagger.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    tagger.eval()
    fresh = [Sentence("the unbelievable dog visits berlin \u200b".split(" "))]
    again = [Sentence("the unbelievable dog visits berlin \u200b".split(" "))]
    tagger.predict(fresh)
    loaded.predict(again)
    assert [t.get_tag("upos") for t in fresh[0]] == [t.get_tag("upos") for t in again[0]]
    assert all(t.get_tag("upos") for t in again[0])
