"""Every name a package exports resolves: lazy exports cannot point at moved modules."""

import importlib

import pytest

PACKAGES = ["tagkit_core", "tagkit_datasets", "tagkit_embeddings", "tagkit_storage",
            "tagkit_crf_tagger"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package):
    module = importlib.import_module(package)
    assert module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
        assert name in dir(module)


def test_unknown_names_are_attribute_errors():
    import tagkit_embeddings

    with pytest.raises(AttributeError, match="tagkit_embeddings.*WordDropout"):
        tagkit_embeddings.WordDropout  # noqa: B018 - moved to tagkit_core.nn
