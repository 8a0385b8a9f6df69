"""Find the train, dev and test files of a data folder, as Flair's generic corpora do.

A split given by name is taken as given (relative to the folder, or absolute) and must exist. A
split not given is looked for in the folder, when ``autofind`` is on, by the usual name parts:
``train``; ``dev``, ``valid`` or ``testa`` (CoNLL-2003's dev file); ``test`` (but not ``testa``).
A file already used for one split is not found again for another, so a dev file handed in as
train is not also read as dev. Two candidates for one split is an error that names both:
guessing would silently train on the wrong file.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import NamedTuple, Sequence

from tagkit_datasets.errors import DatasetNotFoundError

__all__ = ["SplitFiles", "find_split_files"]

SPLIT_NAMES = ("train", "dev", "test")
_KEYWORDS = {"train": ("train",), "dev": ("dev", "valid", "testa"), "test": ("test",)}
_NOT = {"train": (), "dev": (), "test": ("testa",)}
_IGNORED_SUFFIXES = (".part", ".tmp", ".gz", ".zip", ".md5", ".sha256")


class SplitFiles(NamedTuple):
    """The file of each split, or None for a split that has none."""

    train: Path | None
    dev: Path | None
    test: Path | None


def find_split_files(
    data_folder: str | PathLike,
    train_file: str | PathLike | None = None,
    dev_file: str | PathLike | None = None,
    test_file: str | PathLike | None = None,
    autofind: bool = True,
    suffixes: Sequence[str] = (),
) -> SplitFiles:
    """The split files of ``data_folder``: given ones checked, missing ones found by name.

    :param suffixes: when autofinding, consider only files ending with one of these (UD folders
        hold ``.txt`` copies of the ``.conllu`` files, for instance).
    :raises DatasetNotFoundError: a given file is missing, the folder is missing, or no split
        file at all was found.
    :raises ValueError: a split has several candidate files.
    """
    folder = Path(data_folder)
    given = dict(zip(SPLIT_NAMES, (train_file, dev_file, test_file)))
    found: dict[str, Path | None] = {}
    for split, name in given.items():
        if name is None:
            found[split] = None
            continue
        path = folder / name
        if not path.is_file():
            raise DatasetNotFoundError(f"the {split} file {path} does not exist")
        found[split] = path
    if autofind and any(path is None for path in found.values()):
        _autofind(folder, found, tuple(suffixes))
    if not any(found.values()):
        wanted = f" ending with {', '.join(suffixes)}" if suffixes else ""
        raise DatasetNotFoundError(
            f"no train, dev or test file{wanted} in {folder}: expected file names containing "
            "'train', 'dev' (or 'valid', 'testa') or 'test', or pass train_file=, dev_file=, "
            "test_file=")
    return SplitFiles(found["train"], found["dev"], found["test"])


def _autofind(folder: Path, found: dict[str, Path | None], suffixes: tuple[str, ...]) -> None:
    if not folder.is_dir():
        raise DatasetNotFoundError(f"data folder {folder} does not exist")
    used = {path.resolve() for path in found.values() if path is not None}
    files = sorted(
        path for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".")
        and not path.name.endswith(_IGNORED_SUFFIXES)
        and (not suffixes or path.name.endswith(suffixes))
    )
    for split in SPLIT_NAMES:
        if found[split] is not None:
            continue
        candidates = [
            path for path in files
            if path.resolve() not in used
            and any(k in path.name.lower() for k in _KEYWORDS[split])
            and not any(k in path.name.lower() for k in _NOT[split])
        ]
        if len(candidates) > 1:
            raise ValueError(
                f"several files in {folder} could be the {split} split: "
                f"{', '.join(p.name for p in candidates)}; pass {split}_file= to choose one")
        if candidates:
            found[split] = candidates[0]
            used.add(candidates[0].resolve())
