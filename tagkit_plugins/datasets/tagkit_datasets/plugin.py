"""tagkit plugin module (entry point ``datasets`` in group ``tagkit``): registers the loaders.

Configs and the CLI name data sets by registry name (``ud_english``, ``column``, ...); this hook
tells the registry which class each name means. Importing it imports only the readers and the
standard library, so listing plugins stays cheap.
"""

from __future__ import annotations

from tagkit_core.hookspecs import Register, hookimpl
from tagkit_datasets.corpora import ClassificationCorpus, ColumnCorpus, UniversalDependenciesCorpus
from tagkit_datasets.loaders import TREC_6, TREC_50, UD_ENGLISH, UD_GERMAN, WNUT_17

DATASETS = (
    UD_ENGLISH,
    UD_GERMAN,
    TREC_6,
    TREC_50,
    WNUT_17,
    UniversalDependenciesCorpus,
    ColumnCorpus,
    ClassificationCorpus,
)


@hookimpl
def register_datasets(register: Register) -> None:
    """Register every loader class under its ``registry_name``."""
    for cls in DATASETS:
        register(cls)
