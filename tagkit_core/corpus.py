"""Corpus (train, dev and test splits of sentences) and MultiCorpus (corpora trained together)."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Iterable, Sequence

from tagkit_core.context import link_sentences
from tagkit_core.data import Sentence
from tagkit_core.dictionary import Dictionary

__all__ = ["Corpus", "MultiCorpus"]


def _sample(sentences: list[Sentence], fraction: float, rng: random.Random) -> list[Sentence]:
    """A seeded sample of ``round(fraction * n)`` sentences that keeps their original order."""
    keep = round(len(sentences) * fraction)
    chosen = sorted(rng.sample(range(len(sentences)), keep))
    return [sentences[i] for i in chosen]


class Corpus:
    """Three lists of sentences: ``train``, ``dev`` and ``test``.

    When ``dev`` is None and ``sample_missing_splits`` is true, 10% of train (seeded) becomes dev,
    as Flair's datasets do; likewise a missing test. ``Corpus(...)`` with ``dev=[]`` keeps an empty
    dev split, which the trainer reports and trains without.
    """

    def __init__(
        self,
        train: Iterable[Sentence] | None = None,
        dev: Iterable[Sentence] | None = None,
        test: Iterable[Sentence] | None = None,
        name: str = "corpus",
        sample_missing_splits: bool = True,
        seed: int = 1,
    ) -> None:
        self.name = name
        self.train: list[Sentence] = list(train or [])
        self.dev: list[Sentence] = list(dev) if dev is not None else []
        self.test: list[Sentence] = list(test) if test is not None else []
        for split in (self.train, self.dev, self.test):  # file order, before any carving
            if all(s.previous_sentence() is None and s.next_sentence() is None for s in split):
                link_sentences(split)  # (sentences of another corpus keep their neighbours)
        rng = random.Random(seed)
        if sample_missing_splits and dev is None and self.train:
            self.dev, self.train = self._carve(self.train, rng)
        if sample_missing_splits and test is None and self.train:
            self.test, self.train = self._carve(self.train, rng)

    @staticmethod
    def _carve(sentences: list[Sentence], rng: random.Random) -> tuple[list, list]:
        held = set(rng.sample(range(len(sentences)), max(1, len(sentences) // 10)))
        taken = [s for i, s in enumerate(sentences) if i in held]
        kept = [s for i, s in enumerate(sentences) if i not in held]
        return taken, kept

    # -- transformations (in place, returning self so calls chain as in the tutorial) ----------
    def downsample(
        self,
        fraction: float = 0.1,
        downsample_train: bool = True,
        downsample_dev: bool = True,
        downsample_test: bool = True,
        seed: int = 1,
    ) -> Corpus:
        """Keep ``fraction`` of each chosen split, sampled with ``seed``; returns self."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"downsample fraction must be in (0, 1], got {fraction}")
        rng = random.Random(seed)
        if downsample_train:
            self.train = _sample(self.train, fraction, rng)
        if downsample_dev:
            self.dev = _sample(self.dev, fraction, rng)
        if downsample_test:
            self.test = _sample(self.test, fraction, rng)
        return self

    def filter_empty_sentences(self) -> Corpus:
        """Drop sentences without tokens from every split; returns self."""
        self.train = [s for s in self.train if len(s)]
        self.dev = [s for s in self.dev if len(s)]
        self.test = [s for s in self.test if len(s)]
        return self

    def filter_long_sentences(self, max_tokens: int) -> Corpus:
        """Drop sentences longer than ``max_tokens`` from every split; returns self."""
        self.train = [s for s in self.train if len(s) <= max_tokens]
        self.dev = [s for s in self.dev if len(s) <= max_tokens]
        self.test = [s for s in self.test if len(s) <= max_tokens]
        return self

    # -- dictionaries ---------------------------------------------------------------------------
    def get_all_sentences(self) -> list[Sentence]:
        return self.train + self.dev + self.test

    def make_tag_dictionary(self, tag_type: str) -> Dictionary:
        """Every token tag of ``tag_type`` in all splits, in order of first appearance.

        No ``<unk>`` and no start/stop items: the CRF keeps its start and stop transitions as
        separate parameters, so the dictionary holds exactly the tags a model can predict.
        """
        dictionary = Dictionary(add_unk=False)
        for sentence in self.get_all_sentences():
            for token in sentence:
                if token.has_label(tag_type):
                    dictionary.add_item(token.get_tag(tag_type))
        if not len(dictionary):
            raise ValueError(
                f"no token of corpus {self.name!r} has a {tag_type!r} tag; "
                f"tag types present: {sorted(self._label_types())}"
            )
        return dictionary

    def make_label_dictionary(
        self, label_type: str | None = None, add_unk: bool = False, min_count: int = 1
    ) -> Dictionary:
        """The labels of ``label_type`` seen in train, most frequent first.

        Sentence labels (classification) by default: with no ``label_type`` the corpus's only
        sentence label type. A type that only tokens carry (``'upos'``, ``'ner'``) gives the
        token tags instead, as newer Flair builds a tagger's dictionary
        (``make_label_dictionary(label_type='upos')``).
        """
        if label_type is None:
            types = {t for s in self.train for t in s._labels}
            if len(types) != 1:
                raise ValueError(
                    f"corpus {self.name!r} has sentence label types {sorted(types)}; "
                    "name one with label_type="
                )
            label_type = types.pop()
        counts = Counter(
            label.value for s in self.train for label in s._labels.get(label_type, ())
        )
        if not counts:
            counts = Counter(token.get_tag(label_type) for s in self.train for token in s
                             if token.has_label(label_type))
        if not counts:
            raise ValueError(
                f"no train sentence or token of corpus {self.name!r} has a {label_type!r} "
                f"label; label types present: {sorted(self._label_types())}")
        dictionary = Dictionary(add_unk=add_unk)
        for value, count in counts.most_common():
            if count >= min_count:
                dictionary.add_item(value)
        return dictionary

    def _label_types(self) -> set[str]:
        types: set[str] = set()
        for sentence in (self.train or self.dev or self.test)[:1000]:
            types |= sentence.label_types
        return types

    # -- reporting ------------------------------------------------------------------------------
    def obtain_statistics(self, label_type: str | None = None, pretty_print: bool = True):
        """Sentence, token and label counts per split (a JSON string when ``pretty_print``)."""
        stats = {
            split: self._split_statistics(sentences, label_type)
            for split, sentences in (("TRAIN", self.train), ("DEV", self.dev), ("TEST", self.test))
        }
        return json.dumps(stats, indent=4) if pretty_print else stats

    @staticmethod
    def _split_statistics(sentences: Sequence[Sentence], label_type: str | None) -> dict:
        lengths = [len(s) for s in sentences]
        labels: Counter = Counter()
        for sentence in sentences:
            for label in sentence.get_labels(label_type):
                labels[label.value] += 1
        return {
            "number_of_sentences": len(sentences),
            "number_of_tokens": {
                "total": sum(lengths),
                "min": min(lengths, default=0),
                "max": max(lengths, default=0),
                "avg": sum(lengths) / len(lengths) if lengths else 0.0,
            },
            "number_of_labels_per_class": dict(labels.most_common()),
        }

    def __str__(self) -> str:
        return (
            f"Corpus: {len(self.train)} train + {len(self.dev)} dev + "
            f"{len(self.test)} test sentences"
        )

    __repr__ = __str__


class MultiCorpus(Corpus):
    """Several corpora as one: splits are concatenated, each sentence remembers its corpus.

    ``corpora`` keeps the parts, so a trainer can report dev and test scores per corpus.
    """

    def __init__(self, corpora: Sequence[Corpus], name: str = "multicorpus") -> None:
        self.corpora = list(corpora)
        for corpus in self.corpora:
            for sentence in corpus.get_all_sentences():
                sentence.corpus_name = corpus.name
        super().__init__(
            [s for c in self.corpora for s in c.train],
            [s for c in self.corpora for s in c.dev],
            [s for c in self.corpora for s in c.test],
            name=name,
            sample_missing_splits=False,
        )

    def downsample(self, fraction: float = 0.1, *args, **kwargs) -> MultiCorpus:
        for corpus in self.corpora:
            corpus.downsample(fraction, *args, **kwargs)
        self.train = [s for c in self.corpora for s in c.train]
        self.dev = [s for c in self.corpora for s in c.dev]
        self.test = [s for c in self.corpora for s in c.test]
        return self

    def __str__(self) -> str:
        parts = "\n".join(f" - {c.name}: {c}" for c in self.corpora)
        return f"MultiCorpus: {len(self.train)} train + {len(self.dev)} dev + " \
            f"{len(self.test)} test sentences\n{parts}"
