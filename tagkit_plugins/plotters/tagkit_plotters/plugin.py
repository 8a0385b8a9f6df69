"""Entry point of the tagkit-plotters plugin: implements no hook yet (see the package docstring)."""
