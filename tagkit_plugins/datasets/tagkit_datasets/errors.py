"""The errors a dataset reader or loader raises.

Each error says *where* (file and 1-based line) and *what was expected*, because the person who
sees it is usually looking at a data file they did not write, not at the reader's code.
"""

from __future__ import annotations

from os import PathLike

# Raised by the core's download helper; re-exported so `from tagkit_datasets import
# ChecksumError` keeps working.
from tagkit_core.files import ChecksumError

__all__ = ["DatasetFormatError", "DatasetNotFoundError", "ChecksumError"]


class DatasetFormatError(ValueError):
    """A data file does not have the expected format.

    ``path`` and ``line`` (1-based; None when the problem is the file as a whole, e.g. an empty
    file) are kept as attributes so tools can point an editor at the spot.
    """

    def __init__(self, path: str | PathLike, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable, so it survives multiprocessing / DDP workers
        return type(self), (self.path, self.line, self.reason)


class DatasetNotFoundError(FileNotFoundError):
    """A data file or split is missing; the message lists every place that was searched."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # FileNotFoundError's own __str__ wants (errno, strerror)
        return self.message
