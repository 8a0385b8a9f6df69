"""The generic corpora Flair users know: a data folder of train/dev/test files in one format.

``UniversalDependenciesCorpus`` (CoNLL-U), ``ColumnCorpus`` (token-per-line columns) and
``ClassificationCorpus`` (fastText or TREC labelled lines) are :class:`~tagkit_core.corpus.Corpus`
subclasses: they find or take the split files (:mod:`tagkit_datasets.splits`), read each with the
format's reader, and hand the sentence lists to ``Corpus.__init__``. A split without a file is
passed as None, so the Corpus base carves it from train (10%, seeded) when
``sample_missing_splits`` is true, as Flair does. The named loaders (``UD_ENGLISH`` ...) subclass
these and only add where the files come from.

The split files are keyword-only arguments. Flair's corpora take them in the order train, test,
dev, while tagkit writes train, dev, test; with keywords both spellings are safe, where a
positional call in Flair's order would silently swap dev and test.
"""

from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path
from typing import Callable, Mapping

from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_datasets.classification import Tokenizer, read_classification_file
from tagkit_datasets.column import read_column_file
from tagkit_datasets.conllu import read_conllu
from tagkit_datasets.splits import SplitFiles, find_split_files
from tagkit_datasets.textfile import gc_paused

__all__ = ["UniversalDependenciesCorpus", "ColumnCorpus", "ClassificationCorpus"]

log = logging.getLogger(__name__)

PathType = str | PathLike


class _FileCorpus(Corpus):
    """A Corpus read from one file per split with one reader."""

    def _load(
        self,
        files: SplitFiles,
        read: Callable[[Path], list[Sentence]],
        name: str,
        sample_missing_splits: bool,
        seed: int,
    ) -> None:
        self.files = files
        with gc_paused():  # over all splits: re-enabling between them costs a full GC pass
            splits = [read(path) if path is not None else None for path in files]
        if files.train is None:
            log.warning("corpus %r has no train file; its train split is empty", name)
        super().__init__(*splits, name=name, sample_missing_splits=sample_missing_splits,
                         seed=seed)


class UniversalDependenciesCorpus(_FileCorpus):
    """CoNLL-U split files; token labels ``upos``, ``pos`` (= UPOS), ``xpos`` and ``lemma``.

    Only ``*.conllu`` files are autofound (UD repositories also hold ``.txt`` copies).
    """

    registry_name = "universal_dependencies"

    def __init__(
        self,
        data_folder: PathType,
        *,
        train_file: PathType | None = None,
        dev_file: PathType | None = None,
        test_file: PathType | None = None,
        encoding: str = "utf-8",
        autofind_splits: bool = True,
        name: str | None = None,
        sample_missing_splits: bool = True,
        seed: int = 1,
    ) -> None:
        files = find_split_files(data_folder, train_file, dev_file, test_file,
                                 autofind=autofind_splits, suffixes=(".conllu",))
        self._load(files, lambda path: read_conllu(path, encoding),
                   name or Path(data_folder).name, sample_missing_splits, seed)


class ColumnCorpus(_FileCorpus):
    """Column files named by a column map such as ``{0: "text", 1: "ner"}``.

    :param column_delimiter: None (or Flair's ``r"\\s+"``) splits on any whitespace; give
        ``"\\t"`` when tokens contain spaces.
    :param comment_symbol: lines starting with it are skipped (``-DOCSTART-`` always is).
    """

    registry_name = "column"

    def __init__(
        self,
        data_folder: PathType,
        column_format: Mapping[int, str],
        *,
        train_file: PathType | None = None,
        test_file: PathType | None = None,
        dev_file: PathType | None = None,
        column_delimiter: str | None = None,
        comment_symbol: str | None = None,
        encoding: str = "utf-8",
        autofind_splits: bool = True,
        name: str | None = None,
        sample_missing_splits: bool = True,
        seed: int = 1,
    ) -> None:
        self.column_format = dict(column_format)
        files = find_split_files(data_folder, train_file, dev_file, test_file,
                                 autofind=autofind_splits)

        def read(path: Path) -> list[Sentence]:
            return read_column_file(path, self.column_format, column_delimiter,
                                    comment_symbol, encoding)

        self._load(files, read, name or Path(data_folder).name, sample_missing_splits, seed)


class ClassificationCorpus(_FileCorpus):
    """Labelled text lines (``__label__X text`` or TREC's ``COARSE:fine text``).

    :param label_type: the sentence label type the labels are stored under.
    :param label_format: ``fasttext``, ``trec_coarse`` or ``trec_fine`` (see
        :mod:`tagkit_datasets.classification`).
    :param use_tokenizer: False splits the text on whitespace; True or a callable tokenizes.
    :param encoding: of the files, e.g. ``latin-1`` for TREC's train file.
    """

    registry_name = "classification"

    def __init__(
        self,
        data_folder: PathType,
        label_type: str = "class",
        *,
        train_file: PathType | None = None,
        test_file: PathType | None = None,
        dev_file: PathType | None = None,
        label_format: str = "fasttext",
        label_prefix: str = "__label__",
        use_tokenizer: Tokenizer = False,
        encoding: str = "utf-8",
        autofind_splits: bool = True,
        name: str | None = None,
        sample_missing_splits: bool = True,
        seed: int = 1,
    ) -> None:
        self.label_type = label_type
        files = find_split_files(data_folder, train_file, dev_file, test_file,
                                 autofind=autofind_splits)

        def read(path: Path) -> list[Sentence]:
            return read_classification_file(path, label_type, label_format, label_prefix,
                                            use_tokenizer, encoding)

        self._load(files, read, name or Path(data_folder).name, sample_missing_splits, seed)
