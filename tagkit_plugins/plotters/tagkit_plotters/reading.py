"""Reading the files a training run writes, tagkit's and Flair's, into plain columns.

Three formats, all tab-separated:

* ``loss.tsv``, one row per epoch under a header. tagkit writes ``EPOCH TIMESTAMP SECONDS
  LEARNING_RATE TRAIN_LOSS DEV_LOSS DEV_SCORE DEV_<METRIC>...``; Flair 0.15 writes ``EPOCH
  TIMESTAMP [BAD_EPOCHS] LEARNING_RATE TRAIN_LOSS [TRAIN_SAMPLE_*] DEV_LOSS DEV_PRECISION
  DEV_RECALL DEV_F1 DEV_ACCURACY [TEST_*]``, and a comma list as the learning rate when the
  optimizer has several parameter groups.
* Flair's learning-rate finder file (``learning_rate.tsv``): ``ITERATION TIMESTAMP
  LEARNING_RATE TRAIN_LOSS``, one row per step.
* ``weights.txt``, no header: ``step<TAB>parameter<TAB>index<TAB>value``; the step is the epoch
  in tagkit's file and the batch iteration in Flair's.

A missing value (tagkit's ``-``, older Flair's ``_``) becomes NaN, which the plots draw as a
gap. Anything else that is not a number is a :class:`TrainingFileError` naming the file, the line
and what was expected, so a wrong or truncated file is found before a blank picture is drawn.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

__all__ = ["TrainingFileError", "MetricTable", "read_metric_table", "read_weights"]

MISSING = frozenset({"-", "_"})
# Columns that are not numbers per row, or not worth checking as such.
_TEXT_COLUMNS = frozenset({"TIMESTAMP"})
STEP_COLUMNS = ("EPOCH", "ITERATION")


class TrainingFileError(ValueError):
    """A training file that is not in the format expected; the message names file and line."""


class MetricTable:
    """The numeric columns of a ``loss.tsv`` or learning-rate file, one value per row.

    ``step_column`` is ``"EPOCH"`` or ``"ITERATION"``; ``columns`` maps each other header
    (upper case, as written) to its values, NaN where the file has a gap.
    """

    def __init__(self, path: Path, step_column: str, steps: list[float],
                 columns: dict[str, list[float]]) -> None:
        self.path, self.step_column, self.steps, self.columns = path, step_column, steps, columns

    def __len__(self) -> int:
        return len(self.steps)

    def has_values(self, column: str) -> bool:
        """Whether ``column`` exists and holds at least one number (not only gaps)."""
        return any(not math.isnan(v) for v in self.columns.get(column, ()))


def _read_lines(path: Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not any(line.strip() for line in lines):
        raise TrainingFileError(f"{path}: the file is empty; expected training results "
                                "(was the run stopped before its first epoch ended?)")
    return lines


def _number(path: Path, line_no: int, column: str, text: str, allow_list: bool = False) -> float:
    if text in MISSING:
        return math.nan
    if allow_list and "," in text:  # Flair: one learning rate per parameter group; plot the first
        text = text.split(",", 1)[0]
    try:
        return float(text)
    except ValueError:
        raise TrainingFileError(
            f"{path}: line {line_no}: column {column} holds {text!r}; expected a number, "
            f"or '-' for a missing value") from None


def read_metric_table(path: str | Path) -> MetricTable:
    """Read a ``loss.tsv`` (EPOCH column) or a learning-rate finder file (ITERATION column)."""
    path = Path(path)
    lines = _read_lines(path)
    header = [name.strip().upper() for name in lines[0].split("\t")]
    step_column = next((name for name in STEP_COLUMNS if name in header), None)
    if step_column is None:
        raise TrainingFileError(
            f"{path}: line 1: expected a header with an EPOCH column (loss.tsv) or an "
            f"ITERATION column (a learning-rate finder's file), got {lines[0][:80]!r}")
    steps: list[float] = []
    columns: dict[str, list[float]] = {name: [] for name in header
                                       if name != step_column and name not in _TEXT_COLUMNS}
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise TrainingFileError(
                f"{path}: line {line_no}: expected {len(header)} tab-separated values as in the "
                f"header, got {len(cells)}")
        for name, cell in zip(header, cells):
            cell = cell.strip()
            if name == step_column:
                step = _number(path, line_no, name, cell)
                if math.isnan(step):
                    raise TrainingFileError(f"{path}: line {line_no}: column {name} is "
                                            f"missing; expected the {name.lower()} number")
                steps.append(step)
            elif name in columns:
                columns[name].append(_number(path, line_no, name, cell,
                                             allow_list=name == "LEARNING_RATE"))
    if not steps:
        raise TrainingFileError(f"{path}: only a header; expected at least one row of results")
    return MetricTable(path, step_column, steps, columns)


def read_weights(path: str | Path) -> dict[str, dict[str, tuple[list[float], list[float]]]]:
    """Read ``weights.txt``: ``{parameter: {index: (steps, values)}}`` in file order."""
    path = Path(path)
    lines = _read_lines(path)
    weights: dict[str, dict[str, tuple[list[float], list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: ([], [])))
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 4:
            raise TrainingFileError(
                f"{path}: line {line_no}: expected 4 tab-separated values "
                f"(step, parameter, index, value), got {len(cells)}")
        step_text, name, index, value_text = (cell.strip() for cell in cells)
        step = _number(path, line_no, "1 (step)", step_text)
        value = _number(path, line_no, "4 (value)", value_text)
        steps, values = weights[name][index]
        steps.append(step)
        values.append(value)
    return {name: dict(entries) for name, entries in weights.items()}
