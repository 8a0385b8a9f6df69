"""Registers the components the core itself provides: StackedEmbeddings and the storage modes
``none`` and ``cpu``, so the core trains with no plugin installed."""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_embeddings(register):
    from tagkit_core.embeddings import StackedEmbeddings

    register(StackedEmbeddings)


@hookimpl
def register_storage_modes(register):
    from tagkit_core.storage import CPUStorage, NoStorage

    register(NoStorage)
    register(CPUStorage)
