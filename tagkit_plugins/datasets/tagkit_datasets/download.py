"""Download one data set file, checked against its pinned SHA-256 (thin wrapper of the core's).

The work is done by :func:`tagkit_core.files.download`: streamed into a temporary file beside
the destination while hashed, retried on network hiccups, renamed into place only when the hash
matches. So an interrupted or corrupted download never leaves a file that a later run would
take for a good one, and the cache needs no re-check when it is read.

``urlopen`` is looked up on this module at call time, and ``download_file`` also accepts an
``opener``, so tests can serve a ``file://`` URL or a fake response without any network.
"""

from __future__ import annotations

import urllib.request
from os import PathLike
from pathlib import Path

from tagkit_core import files
from tagkit_core.files import Opener, sha256_of

__all__ = ["download_file", "sha256_of", "urlopen"]

urlopen = urllib.request.urlopen  # replaced in tests (monkeypatch) to run without network


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
    :raises tagkit_core.files.DownloadError: (an ``OSError``) the download failed, after
        retrying transient errors.
    """
    return files.download(url, destination, sha256, opener=opener or urlopen, timeout=timeout)
