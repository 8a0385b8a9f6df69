"""The plugin registers every loader under its registry name through the tagkit entry point."""

from __future__ import annotations

import importlib.metadata

import tagkit_datasets
from tagkit_core.registry import Registry

EXPECTED = {"ud_english", "ud_german", "trec_6", "trec_50", "wnut_17",
            "universal_dependencies", "column", "classification"}


def test_entry_point_is_installed():
    entry_points = importlib.metadata.entry_points(group="tagkit")
    assert any(ep.name == "datasets" and ep.value == "tagkit_datasets.plugin"
               for ep in entry_points)


def test_registry_collects_all_datasets():
    entry_point = importlib.metadata.EntryPoint(
        name="datasets", value="tagkit_datasets.plugin", group="tagkit")
    registry = Registry(entry_points=[entry_point], default_plugins=())
    components = {c.name: c.obj for c in registry.components("dataset")}
    assert set(components) == EXPECTED
    assert components["ud_english"] is tagkit_datasets.UD_ENGLISH
    assert components["classification"] is tagkit_datasets.ClassificationCorpus
    assert not [p for p in registry.plugins if p.error]


def test_package_exports():
    for name in ("UD_ENGLISH", "UD_GERMAN", "TREC_6", "TREC_50", "WNUT_17", "ColumnCorpus",
                 "ClassificationCorpus", "UniversalDependenciesCorpus", "DatasetFormatError"):
        assert name in tagkit_datasets.__all__ and hasattr(tagkit_datasets, name)
    assert issubclass(tagkit_datasets.DatasetFormatError, ValueError)
