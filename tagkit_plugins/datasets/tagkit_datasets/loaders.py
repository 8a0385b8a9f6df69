"""The named data sets of the tutorials: UD_ENGLISH, UD_GERMAN, TREC_6, TREC_50 and WNUT_17.

Each loader is a generic corpus (:mod:`tagkit_datasets.corpora`) plus the published files it
reads: official URL and pinned SHA-256 for each split. The files are found or downloaded by
:func:`tagkit_datasets.sources.fetch_file` (mirror, then cache, then URL), then read with autofind
off, so only the published files are ever used. Every loader takes:

* ``base_path``: the folder holding one sub-folder per data set (default
  ``$TAGKIT_CACHE_DIR/datasets``, i.e. ``~/.cache/tagkit/datasets``), as Flair's ``base_path``;
* ``mirror``: a folder laid out like the published data (default ``$TAGKIT_DATASETS_MIRROR``);
* ``download``: False to never use the network;
* ``name``, ``sample_missing_splits``, ``seed``: passed to :class:`~tagkit_core.corpus.Corpus`.

Versions are pinned so the checksums hold: UD English EWT and German GSD come from the ``r2.16``
release tag of their UD repositories. The German GSD train file's checksum is not pinned (None):
only its dev and test files were available to compute one from; its download is accepted with a
warning that prints the hash to pin.
"""

from __future__ import annotations

from os import PathLike
from typing import ClassVar

from tagkit_datasets.corpora import ClassificationCorpus, ColumnCorpus, UniversalDependenciesCorpus
from tagkit_datasets.sources import RemoteFile, fetch_file
from tagkit_datasets.splits import SplitFiles

__all__ = ["UD_ENGLISH", "UD_GERMAN", "TREC_6", "TREC_50", "WNUT_17"]

PathType = str | PathLike

_UD = "https://raw.githubusercontent.com/UniversalDependencies"
_TREC = "https://cogcomp.seas.upenn.edu/Data/QA/QC"
_WNUT = "https://raw.githubusercontent.com/leondz/emerging_entities_17/master"


class _Published:
    """Mixin: a data set's folder name and its published file per split."""

    folder: ClassVar[str]
    remote_files: ClassVar[dict[str, RemoteFile]]

    @classmethod
    def fetch(cls, mirror: PathType | None = None, base_path: PathType | None = None,
              download: bool = True) -> SplitFiles:
        """The local path of each split's file (None for a split the data set lacks)."""
        paths = {split: fetch_file(cls.folder, remote, mirror, base_path, download)
                 for split, remote in cls.remote_files.items()}
        return SplitFiles(paths.get("train"), paths.get("dev"), paths.get("test"))


def _ud(repo: str, prefix: str, sums: dict[str, str | None]) -> dict[str, RemoteFile]:
    return {split: RemoteFile(f"{prefix}-ud-{split}.conllu",
                              f"{_UD}/{repo}/r2.16/{prefix}-ud-{split}.conllu", sha256)
            for split, sha256 in sums.items()}


class UD_ENGLISH(_Published, UniversalDependenciesCorpus):
    """Universal Dependencies English EWT r2.16: 12544 / 2001 / 2077 sentences (CC BY-SA 4.0)."""

    registry_name = "ud_english"
    folder = "ud_english_ewt"
    remote_files = _ud("UD_English-EWT", "en_ewt", {
        "train": "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b",
        "dev": "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
        "test": "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
    })

    def __init__(self, base_path: PathType | None = None, mirror: PathType | None = None,
                 download: bool = True, name: str | None = None,
                 sample_missing_splits: bool = True, seed: int = 1) -> None:
        files = self.fetch(mirror, base_path, download)
        super().__init__(files.train.parent, train_file=files.train, dev_file=files.dev,
                         test_file=files.test, autofind_splits=False,
                         name=name or self.registry_name,
                         sample_missing_splits=sample_missing_splits, seed=seed)


class UD_GERMAN(UD_ENGLISH):
    """Universal Dependencies German GSD r2.16: dev 799, test 977 sentences (CC BY-SA 4.0)."""

    registry_name = "ud_german"
    folder = "ud_german_gsd"
    remote_files = _ud("UD_German-GSD", "de_gsd", {
        "train": None,
        "dev": "00431f2624cbbf66796c097a9303bbc8f8e8ca88ef35c4c5664aa396b2d674c9",
        "test": "bceb8e867ba3ee7f1449d44fb31538d63a514f07e6763e7d9a5ffe794407bed4",
    })


class TREC_6(_Published, ClassificationCorpus):
    """TREC question classification (Li and Roth) with the 6 coarse classes, label type ``class``.

    5452 train and 500 test questions; dev is carved from train (545, seeded). The train file is
    latin-1 (one byte in it is not UTF-8); the test file is ASCII, so latin-1 reads both.
    """

    registry_name = "trec_6"
    folder = "trec_6"
    label_format = "trec_coarse"
    remote_files = {
        "train": RemoteFile("train_5500.label", f"{_TREC}/train_5500.label",
                            "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3"),
        "test": RemoteFile("TREC_10.label", f"{_TREC}/TREC_10.label",
                           "033f22c028c2bbba9ca682f68ffe204dc1aa6e1cf35dd6207f2d4ca67f0d0e8e"),
    }

    def __init__(self, base_path: PathType | None = None, mirror: PathType | None = None,
                 download: bool = True, label_type: str = "class", name: str | None = None,
                 sample_missing_splits: bool = True, seed: int = 1) -> None:
        files = self.fetch(mirror, base_path, download)
        super().__init__(files.train.parent, label_type, train_file=files.train,
                         test_file=files.test, dev_file=files.dev,
                         label_format=self.label_format, encoding="latin-1",
                         autofind_splits=False, name=name or self.registry_name,
                         sample_missing_splits=sample_missing_splits, seed=seed)


class TREC_50(TREC_6):
    """TREC question classification, 50 fine classes (``NUM:dist``); same files as TREC_6."""

    registry_name = "trec_50"
    label_format = "trec_fine"


class WNUT_17(_Published, ColumnCorpus):
    """WNUT 2017 emerging entities: 3394 / 1009 / 1287 sentences, BIO tags as label type ``ner``.

    Six entity types: person, location, group, creative-work, corporation, product (CC BY 4.0).
    """

    registry_name = "wnut_17"
    folder = "wnut_17"
    remote_files = {
        "train": RemoteFile("wnut17train.conll", f"{_WNUT}/wnut17train.conll",
                            "731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5"),
        "dev": RemoteFile("emerging.dev.conll", f"{_WNUT}/emerging.dev.conll",
                          "e053b752b8155113ca66e7db08af5f2f5f43ab993694e4774f1ec5bad42312d8"),
        "test": RemoteFile("emerging.test.annotated", f"{_WNUT}/emerging.test.annotated",
                           "2aa79b764e56ec9264a1b30fdd9b70195bd00ff400b62edd8f399d5f13c178f0"),
    }

    def __init__(self, base_path: PathType | None = None, mirror: PathType | None = None,
                 download: bool = True, name: str | None = None,
                 sample_missing_splits: bool = True, seed: int = 1) -> None:
        files = self.fetch(mirror, base_path, download)
        super().__init__(files.train.parent, {0: "text", 1: "ner"}, train_file=files.train,
                         test_file=files.test, dev_file=files.dev, autofind_splits=False,
                         name=name or self.registry_name,
                         sample_missing_splits=sample_missing_splits, seed=seed)
