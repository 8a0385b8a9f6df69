"""tagkit-datasets: readers for CoNLL-U, column and classification files, and the named data sets.

Users import loaders directly, as in Flair::

    from tagkit_datasets import UD_ENGLISH, TREC_6, WNUT_17, ColumnCorpus
    corpus = UD_ENGLISH().downsample(0.1)

Configs and the CLI reach the same classes through the registry (see :mod:`.plugin`).
"""

from tagkit_core.lazy import lazy_attributes
from tagkit_datasets.classification import read_classification_file
from tagkit_datasets.column import read_column_file
from tagkit_datasets.conllu import read_conllu
from tagkit_datasets.corpora import ClassificationCorpus, ColumnCorpus, UniversalDependenciesCorpus
from tagkit_datasets.download import download_file
from tagkit_datasets.errors import ChecksumError, DatasetFormatError, DatasetNotFoundError
from tagkit_datasets.loaders import TREC_6, TREC_50, UD_ENGLISH, UD_GERMAN, WNUT_17
from tagkit_datasets.sources import RemoteFile, fetch_file
from tagkit_datasets.splits import SplitFiles, find_split_files

__all__ = [
    "UD_ENGLISH",
    "UD_GERMAN",
    "TREC_6",
    "TREC_50",
    "WNUT_17",
    "UniversalDependenciesCorpus",
    "ColumnCorpus",
    "ClassificationCorpus",
    "read_conllu",
    "read_column_file",
    "read_classification_file",
    "find_split_files",
    "SplitFiles",
    "fetch_file",
    "download_file",
    "RemoteFile",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "ChecksumError",
    "__version__",
]

# __version__: the installed distribution's, read on first access (pyproject.toml has it).
__getattr__, __dir__ = lazy_attributes(__name__, globals(), {}, "tagkit-datasets")
