"""tagkit-plotters: pictures of a training run, with Flair's ``Plotter`` API.

``Plotter().plot_training_curves("loss.tsv")`` and ``plot_weights("weights.txt")`` write
``training.png`` and ``weights.png`` beside their input, from tagkit's or Flair's files;
``tagkit plot RUN_DIR`` calls ``Plotter().plot(RUN_DIR)`` (registry name ``training_curves``).
The classes load on first access, so importing the package imports neither matplotlib nor torch.
"""

from __future__ import annotations

from tagkit_core.lazy import lazy_attributes

__all__ = ["Plotter", "TrainingFileError", "__version__"]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "Plotter": "tagkit_plotters.training_curves",
    "TrainingFileError": "tagkit_plotters.reading",
}, "tagkit-plotters")
