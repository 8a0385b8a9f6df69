"""``Plotter``: Flair's ``flair.visual.training_curves.Plotter``, for tagkit's and Flair's files.

The methods keep Flair's names, arguments and output files (``training.png``, ``weights.png``,
``learning_rate.png`` beside the file read), so tutorial code ports by changing the import.
:meth:`Plotter.plot` is the :class:`tagkit_core.plotting.Plotter` contract ``tagkit plot``
calls: it draws whatever of those files a run folder holds.

Figures are built with :class:`matplotlib.figure.Figure` and saved through the Agg canvas,
never through ``pyplot``: no window opens, no backend is switched in the caller's process (a
notebook keeps its own), and nothing needs a display. matplotlib is imported inside the methods,
so importing the package stays cheap.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Sequence

from tagkit_core.plotting import Plotter as PlotterBase
from tagkit_plotters.reading import (
    MetricTable,
    TrainingFileError,
    read_metric_table,
    read_weights,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Plotter", "curve_panels"]

log = logging.getLogger("tagkit")

# Column prefixes of each split, and how the legend names it (Flair's wording).
SPLITS = (("TRAIN", "training"), ("TRAIN_SAMPLE", "training sample"), ("DEV", "validation"),
          ("TEST", "test"))
# tagkit names Flair's micro averages explicitly (DEV_MICRO_F1 is Flair's DEV_F1).
ALIASES = {"F1": ("F1", "MICRO_F1"), "PRECISION": ("PRECISION", "MICRO_PRECISION"),
           "RECALL": ("RECALL", "MICRO_RECALL")}
DPI = 150


class Plotter(PlotterBase):
    """Plots training curves, weight traces and learning rates from a run's files."""

    registry_name: ClassVar[str] = "training_curves"

    # -- the tagkit contract ------------------------------------------------------------------
    def plot(self, run_dir: Path) -> list[Path]:
        """Draw ``training.png`` (from ``loss.tsv``), ``weights.png`` (from ``weights.txt``)
        and ``learning_rate.png`` (from a learning-rate finder's ``learning_rate.tsv``, else
        the per-epoch rates in ``loss.tsv``) for whichever of those files ``run_dir`` holds."""
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise FileNotFoundError(f"{run_dir}: no such folder")
        loss_file, weights_file = run_dir / "loss.tsv", run_dir / "weights.txt"
        finder_file = run_dir / "learning_rate.tsv"
        if not (loss_file.is_file() or weights_file.is_file() or finder_file.is_file()):
            raise FileNotFoundError(
                f"{run_dir}: no loss.tsv, weights.txt or learning_rate.tsv to plot "
                "(is this the base_path of a training run?)")
        written = []
        if loss_file.is_file():
            written.append(self.plot_training_curves(loss_file))
        if weights_file.is_file():
            written.append(self.plot_weights(weights_file))
        if finder_file.is_file():
            written.append(self.plot_learning_rate(finder_file))
        elif loss_file.is_file():
            written.append(self.plot_learning_rate(loss_file, skip_first=0, skip_last=0))
        return written

    # -- Flair's API ----------------------------------------------------------------------------
    def plot_training_curves(self, file_name: str | Path,
                             plot_values: Sequence[str] | None = None) -> Path:
        """One panel per value in ``plot_values`` (loss, F1, accuracy, precision, recall, score:
        any ``<SPLIT>_<VALUE>`` column), with a line per split; write ``training.png``.

        ``None`` means Flair's default, loss and F1, except that a file with no F1 (tagkit's
        part-of-speech runs score accuracy) gets its main score (``DEV_SCORE``) instead. A
        value asked for by name that the file has no column for is a ``TrainingFileError``.
        """
        file_name = Path(file_name)
        table = read_metric_table(file_name)
        panels = curve_panels(table, plot_values)
        fig = _figure(width=10, height=0.6 + 3.0 * len(panels), rows=len(panels), sharex=True)
        axes = fig.axes
        for ax, (value, series) in zip(axes, panels):
            for label, column in series:
                ax.plot(table.steps, table.columns[column], label=f"{label} {value}",
                        **_line_style(len(table)))
            ax.set_ylabel(_value_label(table, value, series))
            ax.legend(loc="best", fontsize=9)
            ax.grid(alpha=0.3)
        axes[0].set_title(f"Training curves: {_shown_name(file_name)}")
        _label_steps(axes[-1], table.step_column.lower())
        return _save(fig, file_name.parent / "training.png")

    def plot_weights(self, file_name: str | Path) -> Path:
        """One panel per parameter tensor, one line per tracked entry; write ``weights.png``."""
        file_name = Path(file_name)
        weights = read_weights(file_name)
        columns = _weight_columns(len(weights))
        rows = max(1, math.ceil(len(weights) / columns))
        fig = _figure(width=5.5 * columns, height=1.0 + 2.1 * rows, rows=rows, columns=columns)
        all_steps = sorted({s for entries in weights.values() for steps, _ in entries.values()
                            for s in steps})
        step_name = "epoch" if _consecutive(all_steps) else "iteration"
        per_tensor = max(len(entries) for entries in weights.values())
        for ax, (name, entries) in zip(fig.axes, weights.items()):
            for steps, values in entries.values():
                ax.plot(steps, values, linewidth=1.0, **_marker(len(steps)))
            ax.set_title(name, fontsize=9)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            if step_name == "epoch":
                _integer_ticks(ax)
        for ax in fig.axes[len(weights):]:
            ax.set_visible(False)
        for ax in fig.axes[:len(weights)][-columns:]:
            _label_steps(ax, step_name)
        fig.supylabel("weight value", fontsize=10)
        entries = "1 tracked entry" if per_tensor == 1 else f"{per_tensor} tracked entries"
        fig.suptitle(f"Weights: {entries} per tensor, by {step_name} "
                     f"({_shown_name(file_name)})", fontsize=11)
        return _save(fig, file_name.parent / "weights.png")

    def plot_learning_rate(self, file_name: str | Path, skip_first: int = 10,
                           skip_last: int = 5) -> Path:
        """Write ``learning_rate.png``, leaving out the first ``skip_first`` and last
        ``skip_last`` rows (Flair's defaults, for a finder's noisy ends).

        A learning-rate finder's file (ITERATION column) gives Flair's picture: training loss
        against learning rate, on a log scale. A ``loss.tsv`` (EPOCH column) gives the schedule:
        the learning rate and the training loss by epoch.
        """
        file_name = Path(file_name)
        table = read_metric_table(file_name)
        for column in ("LEARNING_RATE", "TRAIN_LOSS"):
            if column not in table.columns:
                raise TrainingFileError(f"{file_name}: line 1: expected a {column} column; the "
                                        f"header has {', '.join(_header(table))}")
        end = len(table) - skip_last if skip_last > 0 else len(table)
        kept = slice(max(skip_first, 0), end)
        steps = table.steps[kept]
        if not steps:
            raise TrainingFileError(
                f"{file_name}: {len(table)} rows, and skip_first={skip_first}, "
                f"skip_last={skip_last} leave none to plot; pass smaller values")
        rates = table.columns["LEARNING_RATE"][kept]
        losses = table.columns["TRAIN_LOSS"][kept]
        style = _line_style(len(steps))
        if table.step_column == "ITERATION":
            fig = _figure(width=8, height=5)
            ax = fig.axes[0]
            ax.plot(rates, losses, **style)
            ax.set_xscale("log")
            ax.set_xlabel("learning rate (log scale)")
            ax.set_ylabel("training loss")
            ax.set_title(f"Learning-rate finder: {_shown_name(file_name)}")
            ax.grid(alpha=0.3, which="both")
        else:
            fig = _figure(width=10, height=6.6, rows=2, sharex=True)
            top, bottom = fig.axes
            top.plot(steps, rates, **style)
            positive = [r for r in rates if r > 0]
            if positive and max(positive) / min(positive) >= 10:
                top.set_yscale("log")
            top.set_ylabel("learning rate")
            top.set_title(f"Learning rate by epoch: {_shown_name(file_name)}")
            bottom.plot(steps, losses, color="tab:orange", **style)
            bottom.set_ylabel("training loss")
            for ax in (top, bottom):
                ax.grid(alpha=0.3)
            _label_steps(bottom, "epoch")
        return _save(fig, file_name.parent / "learning_rate.png")


def curve_panels(table: MetricTable, plot_values: Sequence[str] | None = None
                 ) -> list[tuple[str, list[tuple[str, str]]]]:
    """What :meth:`Plotter.plot_training_curves` draws: ``[(value, [(legend label, column),
    ...]), ...]``, one entry per panel, in order (see that method for ``plot_values``)."""
    values = list(plot_values) if plot_values is not None else _default_values(table)
    panels = [(value, _series(table, value)) for value in values]
    for value, series in panels:
        if not series:
            raise TrainingFileError(_no_column_message(table, value))
    return panels


# -- helpers ------------------------------------------------------------------------------------
def _series(table: MetricTable, value: str) -> list[tuple[str, str]]:
    """``(legend label, column)`` for each split that has ``value``."""
    found = []
    for prefix, label in SPLITS:
        for name in ALIASES.get(value.upper(), (value.upper(),)):
            column = f"{prefix}_{name}"
            if table.has_values(column):
                found.append((label, column))
                break
    return found


def _default_values(table: MetricTable) -> list[str]:
    for score in ("F1", "score", "accuracy"):
        if _series(table, score):
            return ["loss", score]
    return ["loss"]


def _header(table: MetricTable) -> list[str]:
    return [table.step_column, *table.columns]


def _no_column_message(table: MetricTable, value: str) -> str:
    wanted = ", ".join(f"{prefix}_{value.upper()}" for prefix, _ in SPLITS)
    return (f"{table.path}: no values for {value!r} (looked for {wanted}); the header has "
            f"{', '.join(_header(table))}")


def _weight_columns(tensors: int) -> int:
    """Two panels a row as Flair draws them; more for big models, so the picture stays a
    page or two tall rather than a strip."""
    return 2 if tensors <= 16 else 3 if tensors <= 36 else 4


def _consecutive(steps: list[float]) -> bool:
    return bool(steps) and all(b - a == 1 for a, b in zip(steps, steps[1:]))


def _shown_name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _marker(points: int) -> dict:
    return {"marker": "o", "markersize": 3} if points <= 30 else {}


def _line_style(points: int) -> dict:
    return {"linewidth": 1.6, **_marker(points)}


def _value_label(table: MetricTable, value: str, series: list[tuple[str, str]]) -> str:
    """The y label; tagkit's SCORE column is named after the metric it repeats, if any."""
    if value.upper() != "SCORE":
        return value
    for _, column in series:
        prefix = column[: -len("_SCORE")]
        same = [other for other in table.columns if other.startswith(prefix + "_")
                and other != column and table.columns[other] == table.columns[column]]
        if same:
            return f"main score ({same[0][len(prefix) + 1:].lower()})"
    return "main score"


def _integer_ticks(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _label_steps(ax: Axes, name: str) -> None:
    ax.set_xlabel(name)
    _integer_ticks(ax)


def _figure(width: float, height: float, rows: int = 1, columns: int = 1,
            sharex: bool = False) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.subplots(rows, columns, sharex=sharex, squeeze=False)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    log.info("plot saved: %s", path)
    return path
