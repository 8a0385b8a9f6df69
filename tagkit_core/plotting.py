"""The base class of plotters: what ``register_plotters`` accepts and ``tagkit plot`` will call.

A plotter turns the files a training run wrote (``loss.tsv``, ``weights.txt``, see
:mod:`tagkit_core.default_plugins.training_files`) into pictures. The registry accepts only
subclasses of :class:`Plotter`, so a plugin's mistake is a ``TypeError`` at registration rather
than a failure when the user asks for a plot. This module imports nothing heavy: plotters import
matplotlib inside :meth:`Plotter.plot`.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

__all__ = ["Plotter"]


class Plotter(abc.ABC):
    """Draws pictures from one training run's output folder.

    Subclasses set ``registry_name`` (the name ``tagkit plot`` selects them by, which must never
    change once released) and implement :meth:`plot`. They must be constructible with no
    arguments.
    """

    registry_name: ClassVar[str] = ""

    @abc.abstractmethod
    def plot(self, run_dir: Path) -> list[Path]:
        """Read the run's files under ``run_dir`` and write pictures; return the paths written.

        This is what ``tagkit plot RUN_DIR`` will call, on an instance made with ``cls()``.
        Pictures go into ``run_dir`` unless the plotter documents otherwise; a file the plotter
        needs but the run did not write is a ``FileNotFoundError`` naming it.
        """
