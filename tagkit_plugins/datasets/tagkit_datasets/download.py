"""Download one file, verify its SHA-256 and move it into place atomically.

The file is streamed into a temporary file in the destination folder while it is hashed; only a
file whose hash matches the pinned one is renamed to its final name (``os.replace``, atomic on
one file system). So an interrupted or corrupted download never leaves a file that a later run
would take for a good one, and the cache needs no re-check when it is read.

``urlopen`` is looked up on this module at call time, and ``download_file`` also accepts an
``opener``, so tests can serve a ``file://`` URL or a fake response without any network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from os import PathLike
from pathlib import Path
from typing import IO, Callable

from tagkit_datasets.errors import ChecksumError

__all__ = ["download_file", "sha256_of", "urlopen"]

log = logging.getLogger(__name__)

urlopen = urllib.request.urlopen  # replaced in tests (monkeypatch) to run without network

Opener = Callable[..., IO[bytes]]
_CHUNK = 1 << 20


def sha256_of(path: str | PathLike) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(
    url: str,
    destination: str | PathLike,
    sha256: str | None,
    opener: Opener | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch ``url`` to ``destination`` (created with its folders) and return the path.

    :param sha256: the expected hex digest; None accepts any content (with a warning), for
        files whose checksum is not pinned.
    :param opener: called as ``opener(url, timeout=timeout)``; defaults to this module's
        ``urlopen``.
    :raises ChecksumError: the content does not match ``sha256`` (nothing is written).
    :raises OSError: (including ``urllib.error.URLError``) the download failed.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    open_url = opener or urlopen
    log.info("downloading %s to %s", url, destination)
    handle, temporary = tempfile.mkstemp(dir=destination.parent,
                                         prefix=f".{destination.name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, open_url(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if sha256 is None:
            log.warning("no pinned SHA-256 for %s; got %s", url, actual)
        elif actual != sha256.lower():
            raise ChecksumError(url, sha256.lower(), actual)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination
