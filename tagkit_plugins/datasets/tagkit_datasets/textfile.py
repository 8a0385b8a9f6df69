"""Read a data file into a list of lines, with errors that name the file and the line.

Every reader goes through :func:`read_lines`. It reads the whole file at once and decodes it in
one call, which is several times faster than decoding line by line; when decoding fails, the
1-based line number is recovered from the byte offset the codec reports, so the error can still
say exactly where the bad byte is. A line ends at ``"\\n"``, ``"\\r\\n"`` or a lone ``"\\r"``
(old Mac files), in any mix, and at nothing else: ``str.splitlines`` would also split on
characters such as U+2028 or U+0085, which can occur inside tokens of web text and must not
end a line.

:func:`gc_paused` is here too because it is about reading speed: a reader allocates hundreds of
thousands of Token, Label and Sentence objects and nothing else, so the cyclic garbage collector
finds nothing to free, yet its repeated passes over the growing heap cost more than the parsing
itself (measured: 0.7 s to parse UD English EWT with it paused, 2.8 s without, when an earlier
corpus is still in memory).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Iterator

from tagkit_datasets.errors import DatasetFormatError, DatasetNotFoundError

__all__ = ["read_lines", "gc_paused"]


def read_lines(path: str | PathLike, encoding: str = "utf-8", expected: str = "data") -> list[str]:
    """The lines of ``path`` decoded with ``encoding``, without line terminators.

    :param expected: what the file should contain, for the message about an empty file.
    :raises DatasetNotFoundError: the file does not exist.
    :raises DatasetFormatError: a byte cannot be decoded (naming its line), or the file is empty.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DatasetNotFoundError(f"data file {path} does not exist") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = _line_of(data, error.start)
        bad = data[error.start : error.end].hex(" ")
        raise DatasetFormatError(
            path, line, f"cannot decode byte(s) {bad} as {encoding} ({error.reason}); expected "
            f"{encoding} text. Pass encoding='...' if the file uses another encoding "
            "(for example latin-1)"
        ) from None
    if text.startswith("\ufeff"):  # a UTF-8 byte order mark is not part of the first token
        text = text[1:]
    if not text.strip():
        raise DatasetFormatError(path, None, f"the file is empty; expected {expected}")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset``, with the line ends :func:`read_lines` splits on.

    Counting bytes is exact for ASCII-compatible encodings, which data files use.
    """
    breaks = data.count(b"\n", 0, offset) + data.count(b"\r", 0, offset)
    return breaks - data.count(b"\r\n", 0, offset) + 1


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building sentences; restore its state after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
