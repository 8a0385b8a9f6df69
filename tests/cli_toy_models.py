"""Tiny real models for the ``tagkit predict``/``evaluate`` tests, trained in well under a second.

A toy language (determiner, noun, verb, full stop) that a tagger with 4-dimensional word
vectors learns in a few hundred steps, and two-word "reviews" a text classifier separates the
same way. The models are the real SequenceTagger and TextClassifier, saved as real model
files, so the commands load them the way they load any user's model.

Tests run with ``--import-mode=importlib``; the test modules put this folder on ``sys.path``.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import torch

from tagkit_core import set_seed
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary

WORDS = {"DET": ["the", "a"], "NOUN": ["dog", "cat", "bird"], "VERB": ["runs", "sleeps", "sings"],
         "PUNCT": ["."]}
REVIEWS = {"POS": ["good", "great", "fine", "nice"], "NEG": ["bad", "awful", "poor", "sad"]}


def toy_sentences(count: int, seed: int = 0) -> list[Sentence]:
    """``det noun verb .`` sentences with their ``upos`` tags."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        sentence = Sentence()
        for tag in ("DET", "NOUN", "VERB", "PUNCT"):
            token = sentence.add_token(rng.choice(WORDS[tag]))
            token.add_label("upos", tag)
        sentences.append(sentence)
    return sentences


def toy_reviews(count: int, seed: int = 0) -> list[Sentence]:
    """Two-word texts labelled ``sentiment`` POS or NEG by their words."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        label = rng.choice(sorted(REVIEWS))
        texts.append(Sentence([rng.choice(REVIEWS[label]) for _ in range(2)])
                     .add_label("sentiment", label))
    return texts


def _fit(model, data: list[Sentence], steps: int) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss, count = model.forward_loss(data)
        (loss / count).backward()
        optimizer.step()
    model.eval()


def _vocabulary_and_labels(words_by_label: dict[str, list[str]]) -> tuple[list[str], Dictionary]:
    """Every word of the toy data, and its labels as a dictionary (no <unk>)."""
    labels = Dictionary(add_unk=False)
    for label in words_by_label:
        labels.add_item(label)
    return [word for words in words_by_label.values() for word in words], labels


def train_tagger(path: Path) -> Path:
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_embeddings import WordEmbeddings

    set_seed(1)
    vocab, tags = _vocabulary_and_labels(WORDS)
    tagger = SequenceTagger(WordEmbeddings("glove", vocab=vocab, embedding_dim=4,
                                              fine_tune=True), tags, "upos", hidden_size=8)
    _fit(tagger, toy_sentences(40), 60)
    return tagger.save(path)


def train_classifier(path: Path) -> Path:
    from tagkit_classifiers import TextClassifier
    from tagkit_embeddings import DocumentPoolEmbeddings, WordEmbeddings

    set_seed(1)
    vocab, labels = _vocabulary_and_labels(REVIEWS)
    words = WordEmbeddings("glove", vocab=vocab, embedding_dim=4, fine_tune=True)
    classifier = TextClassifier(DocumentPoolEmbeddings(words), labels, label_type="sentiment")
    _fit(classifier, toy_reviews(40), 60)
    return classifier.save(path)


def conllu_text(sentences: list[Sentence]) -> str:
    """The sentences as CoNLL-U, UPOS in column 4, with a comment line per sentence."""
    blocks = []
    for number, sentence in enumerate(sentences, 1):
        lines = [f"# sent_id = {number}", f"# text = {sentence.to_plain_string()}"]
        lines += [f"{token.idx}\t{token.text}\t_\t{token.get_tag('upos')}\t_\t_\t_\t_\t_\t_"
                  for token in sentence]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + "\n"


def column_text(sentences: list[Sentence]) -> str:
    """The sentences as a two-column file: token, tab, UPOS; a blank line after each."""
    return "".join("".join(f"{t.text}\t{t.get_tag('upos')}\n" for t in s) + "\n"
                   for s in sentences)


def spy_on_precision(monkeypatch, cls: type, method: str) -> list:
    """Record the ``precision`` keyword of each call of ``cls.method`` (None when absent),
    keeping the method's signature, which the commands inspect."""
    asked: list = []
    real = getattr(cls, method)

    @functools.wraps(real)
    def spied(self, *args, **kwargs):
        asked.append(kwargs.get("precision"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, spied)
    return asked
