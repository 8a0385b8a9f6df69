"""Registers the components the core itself provides (StackedEmbeddings)."""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_embeddings(register):
    from tagkit_core.embeddings import StackedEmbeddings

    register(StackedEmbeddings)
