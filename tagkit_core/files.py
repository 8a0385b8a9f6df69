"""Placeholder until the files helper lands (merged from wp-files)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable


def remove_stale_temp_files(folder, names: Iterable[str]) -> list[Path]:
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for name in names:
        for path in folder.glob(f".{name}.*.tmp"):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
