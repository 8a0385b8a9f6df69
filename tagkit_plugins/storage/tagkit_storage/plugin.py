"""Entry point of tagkit-storage: registers the storage modes ``none``, ``cpu`` and ``gpu``."""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_storage_modes(register):
    from tagkit_storage.modes import CPUStorage, GPUStorage, NoStorage

    for cls in (NoStorage, CPUStorage, GPUStorage):
        register(cls)
