"""Entry point of tagkit-storage: registers the ``gpu`` storage mode (``none`` and ``cpu`` are
the core's own)."""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_storage_modes(register):
    from tagkit_storage.modes import GPUStorage

    register(GPUStorage)
