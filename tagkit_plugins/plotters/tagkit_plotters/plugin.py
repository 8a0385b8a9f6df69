"""Entry point of tagkit-plotters: registers the ``training_curves`` plotter."""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_plotters(register):
    from tagkit_plotters.training_curves import Plotter

    register(Plotter)
