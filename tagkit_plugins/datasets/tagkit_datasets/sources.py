"""Where a named data set's files come from: a mirror folder, the cache, or the official URL.

Look-up order for each file, first hit wins:

1. the mirror: the ``mirror=`` argument, else the ``TAGKIT_DATASETS_MIRROR`` environment
   variable -- a folder laid out like the published data (``<mirror>/<folder>/<file name>``),
   for machines without network or with a shared copy;
2. the cache: ``<base_path>/<folder>/<file name>``, where ``base_path`` defaults to
   ``<tagkit cache>/datasets``; the tagkit cache is ``$TAGKIT_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/tagkit``, else ``~/.cache/tagkit`` (:func:`tagkit_core.files.cache_dir`);
3. the official URL, downloaded into the cache and checked against its pinned SHA-256.

Nothing touches the network when the files are already in the mirror or the cache. When a file is
found nowhere, the error names the file and every place tried (mirror path, cache path, URL
and why the download failed), which is what a user needs to fix it.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path
from typing import NamedTuple

from tagkit_core import files
from tagkit_datasets import download as _download
from tagkit_datasets.errors import DatasetNotFoundError

__all__ = ["RemoteFile", "cache_dir", "datasets_dir", "mirror_dir", "fetch_file",
           "CACHE_ENV", "MIRROR_ENV"]

CACHE_ENV = files.CACHE_ENV
MIRROR_ENV = "TAGKIT_DATASETS_MIRROR"


class RemoteFile(NamedTuple):
    """One published file of a data set: its name, official URL and SHA-256 (None if unknown)."""

    name: str
    url: str
    sha256: str | None


def cache_dir() -> Path:
    """tagkit's cache root (created): see :func:`tagkit_core.files.cache_dir`."""
    return files.cache_dir()


def datasets_dir(base_path: str | PathLike | None = None) -> Path:
    """The folder that holds one sub-folder per cached data set (``base_path`` if given)."""
    return Path(base_path).expanduser() if base_path is not None else files.cache_dir("datasets")


def mirror_dir(mirror: str | PathLike | None = None) -> Path | None:
    """The mirror to use: ``mirror`` if given, else ``$TAGKIT_DATASETS_MIRROR``, else None."""
    if mirror is not None:
        return Path(mirror).expanduser()
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser() if value else None


def fetch_file(
    folder: str,
    remote: RemoteFile,
    mirror: str | PathLike | None = None,
    base_path: str | PathLike | None = None,
    download: bool = True,
) -> Path:
    """The local path of ``remote`` (data set folder ``folder``), downloading it if needed.

    :param download: False never uses the network (the file must be in the mirror or cache).
    :raises DatasetNotFoundError: the file is nowhere and could not be downloaded.
    :raises ChecksumError: the download's content differs from the pinned SHA-256.
    """
    tried = []
    mirror_root = mirror_dir(mirror)
    if mirror_root is not None:
        path = mirror_root / folder / remote.name
        if path.is_file():
            return path
        tried.append(f"mirror: {path} (not there)")
    cached = datasets_dir(base_path) / folder / remote.name
    if cached.is_file():
        return cached
    tried.append(f"cache: {cached} (not there)")
    if not download:
        tried.append(f"download: {remote.url} (not tried: download=False)")
    else:
        try:
            return _download.download_file(remote.url, cached, remote.sha256)
        except OSError as error:  # DownloadError after the retries, or a full disk
            tried.append(f"download: {remote.url} (failed: {_reason(error)})")
    where = (f"put {remote.name} into {cached.parent}, or point {MIRROR_ENV} (or mirror=) at "
             f"a folder holding {folder}/{remote.name}")
    network = "pass download=True" if not download else "check the network connection"
    raise DatasetNotFoundError(
        f"data set file {remote.name} of {folder} was not found. Looked in:\n  "
        + "\n  ".join(tried) + f"\nTo fix: {where}; or {network}.")


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return str(reason) if reason is not None else f"{type(error).__name__}: {error}"
