"""The files tagkit keeps: its cache folder, checked downloads and writes that are all or nothing.

One module for what the data set loaders, the embeddings and the trainer all need, so each rule
is written once:

* :func:`cache_dir`: ``$TAGKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/tagkit``, else
  ``~/.cache/tagkit``; one sub-folder per user of the cache (``datasets``, ``embeddings``).
* :func:`atomic_write`: a file is written under a temporary name in its own folder, flushed to
  disk and renamed over the final name, so a reader (or a resumed run) sees the old file or the
  new one, never half of one. The final file gets the permissions a plain ``open()`` would give,
  not the owner-only ones of :func:`tempfile.mkstemp`.
* :func:`remove_stale_temp_files`: the temporary files a killed writer left behind.
* :func:`download`: streamed into such a temporary file while hashed, checked against a pinned
  SHA-256, retried on network hiccups, renamed into place only when complete and correct.

Temporary names are ``.{final name}.{random}.tmp`` beside the final file: hidden, on the same
file system (so the rename is atomic), and recognisable as leftovers.

``urlopen`` and ``sleep`` are looked up on this module at call time so tests can run downloads
without network or waiting. Only the standard library is imported here (tqdm only when a
progress bar is shown), so importing this module is cheap.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
import secrets
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from os import PathLike
from pathlib import Path
from typing import IO, Any, Callable, Iterable

__all__ = ["CACHE_ENV", "ChecksumError", "DownloadError", "Opener", "atomic_write", "cache_dir",
           "download", "remove_stale_temp_files", "sha256_of", "temp_path_for"]

log = logging.getLogger("tagkit.files")

CACHE_ENV = "TAGKIT_CACHE_DIR"

urlopen = urllib.request.urlopen  # replaced in tests (monkeypatch) to run without network
sleep = time.sleep  # replaced in tests, so retries do not wait

Opener = Callable[..., IO[bytes]]
_CHUNK = 1 << 20
# HTTP answers worth asking again: the server is busy or briefly broken. Any other HTTP error
# (404 above all) will be the same next time.
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
_LOCAL_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES,
                           getattr(errno, "EDQUOT", errno.ENOSPC)})


class ChecksumError(ValueError):
    """A downloaded file's SHA-256 differs from the pinned one; the file was not kept."""

    def __init__(self, url: str, expected: str, actual: str) -> None:
        self.url = url
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"SHA-256 mismatch for {url}: expected {expected}, got {actual}. The download was "
            "discarded; the file may have changed upstream or been corrupted in transit."
        )

    def __reduce__(self):  # picklable, so it survives multiprocessing / DDP workers
        return type(self), (self.url, self.expected, self.actual)


class DownloadError(OSError):
    """A file could not be downloaded (after the retries); nothing was left at the destination.

    ``url``, ``destination`` and ``reason`` (why the last attempt failed) are attributes; the
    original exception is the ``__cause__``.
    """

    def __init__(self, url: str, destination: str | PathLike, reason: str) -> None:
        self.url = url
        self.destination = str(destination)
        self.reason = reason
        super().__init__(
            f"could not download {url} to {self.destination}: {reason}. Check the network "
            "connection (and any proxy settings), or copy the file to that path by hand.")

    def __reduce__(self):
        return type(self), (self.url, self.destination, self.reason)


# -- the cache folder ----------------------------------------------------------------------------
def cache_dir(subdir: str | None = None) -> Path:
    """tagkit's cache folder (or its ``subdir``), created if missing.

    ``$TAGKIT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/tagkit`` if that variable holds an
    absolute path (the XDG rule: a relative one is ignored), else ``~/.cache/tagkit``.
    """
    root = os.environ.get(CACHE_ENV)
    if root:
        path = Path(root).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path("~", ".cache").expanduser()
        path = base / "tagkit"
    if subdir:
        path = path / subdir
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- atomic writes -------------------------------------------------------------------------------
def temp_path_for(path: str | PathLike) -> Path:
    """A fresh ``.{name}.{random}.tmp`` path beside ``path`` (nothing is created)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _create_temp(path: Path) -> tuple[int, Path]:
    """Create a new temporary file for ``path``: an open descriptor and its path.

    Mode 0o666 is filtered by the process umask exactly as for ``open(path, "w")``, so the final
    file gets the usual permissions; ``O_EXCL`` makes the name ours alone.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = temp_path_for(path)
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))  # pragma: no cover


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open folders, and needs not)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp_path)``, then move that file over ``path``: readers see old or new.

    ``tmp_path`` (a ``str``) names an empty file in ``path``'s folder (created with its
    parents); ``write`` fills it (or replaces it). It is then flushed to disk and renamed with
    ``os.replace``. On any failure, ``KeyboardInterrupt`` included, the temporary file is
    removed and ``path`` is untouched. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = _create_temp(path)
    os.close(fd)
    try:
        write(str(temporary))
        _fsync(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def remove_stale_temp_files(folder: str | PathLike, names: Iterable[str]) -> list[Path]:
    """Delete the ``.{name}.*.tmp`` leftovers of writers killed while writing ``names``.

    Call it when no other process is writing these files (for example when a training run
    starts in its output folder): a temporary file still being written would be deleted too.
    Temporary folders of the same name pattern are removed as well. Returns what was removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    wanted = [(f".{name}.", ".tmp") for name in names]
    removed = []
    for entry in folder.iterdir():
        if not any(entry.name.startswith(prefix) and entry.name.endswith(suffix)
                   and len(entry.name) > len(prefix) + len(suffix)
                   for prefix, suffix in wanted):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        log.info("removed %s, left by an interrupted write", entry)
        removed.append(entry)
    return sorted(removed)


# -- downloads -----------------------------------------------------------------------------------
def sha256_of(path: str | PathLike) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    url: str,
    destination: str | PathLike,
    sha256: str | None = None,
    *,
    opener: Opener | None = None,
    retries: int = 3,
    progress: bool | None = None,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> Path:
    """Fetch ``url`` to ``destination`` (folders created) atomically, and return the path.

    :param sha256: the expected hex digest; None accepts any content (logging a warning with
        the digest, so it can be pinned).
    :param opener: called as ``opener(url, timeout=timeout)``, returns a readable response;
        defaults to this module's ``urlopen``.
    :param retries: how many times a transient failure (connection refused or reset, time-out,
        DNS failure, a response cut short, HTTP 408/429/5xx) is retried; a checksum mismatch or
        any other HTTP error (404...) is not.
    :param progress: show a tqdm progress bar; None shows one when stderr is a terminal.
    :param backoff: seconds before the first retry, doubled for each further one.
    :raises ChecksumError: the content does not match ``sha256`` (nothing is kept).
    :raises DownloadError: (an ``OSError``) the download failed, after the retries; its
        message names the URL, the destination and the last reason, and says what to do.
    :raises OSError: this machine failed (disk full, read-only or forbidden folder), as it is.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    open_url = opener or urlopen
    show = sys.stderr.isatty() if progress is None else progress
    log.info("downloading %s to %s", url, destination)
    for attempt in range(retries + 1):
        try:
            actual = _fetch_once(url, destination, sha256, open_url, timeout, show)
            break
        except (OSError, http.client.HTTPException, ValueError) as error:
            if isinstance(error, ChecksumError) or _is_local(error):
                raise
            if attempt == retries or not _is_transient(error):
                raise DownloadError(url, destination, _describe(error)) from error
            delay = backoff * 2 ** attempt
            log.warning("downloading %s failed (%s); retry %d of %d in %.1f s",
                        url, _describe(error), attempt + 1, retries, delay)
            sleep(delay)
    if sha256 is None:
        log.warning("no pinned SHA-256 for %s; got %s", url, actual)
    return destination


def _fetch_once(url: str, destination: Path, sha256: str | None, open_url: Opener,
                timeout: float, show: bool) -> str:
    """One attempt: stream into a temporary file, check, rename. Returns the hex digest."""
    fd, temporary = _create_temp(destination)
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out, open_url(url, timeout=timeout) as response:
            expected_size = _content_length(response)
            with _progress_bar(show, expected_size, destination.name) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if expected_size is not None and received < expected_size:
                raise http.client.IncompleteRead(b"", expected_size - received)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        # Raised inside the attempt, so the temporary file goes with it; never retried.
        if sha256 is not None and actual != sha256.lower():
            raise ChecksumError(url, sha256.lower(), actual)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(destination.parent)
    return actual


def _content_length(response: Any) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _progress_bar(show: bool, total: int | None, name: str):
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                leave=False)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _is_local(error: BaseException) -> bool:
    """A failure of this machine (disk full, read-only folder), not of the download."""
    return (isinstance(error, OSError) and not isinstance(error, urllib.error.URLError)
            and error.errno in _LOCAL_ERRNOS)


def _is_transient(error: BaseException) -> bool:
    """Whether asking again may succeed."""
    if isinstance(error, ChecksumError):
        return False
    if isinstance(error, urllib.error.HTTPError):
        return error.code in _TRANSIENT_HTTP
    if isinstance(error, urllib.error.URLError):
        reason = error.reason
        # A file: URL that does not exist, or a folder we may not read: the same next time.
        return not isinstance(reason, (FileNotFoundError, PermissionError, IsADirectoryError,
                                       NotADirectoryError))
    return isinstance(error, (ConnectionError, TimeoutError, socket.timeout, socket.gaierror,
                              http.client.IncompleteRead, http.client.BadStatusLine))


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    reason = getattr(error, "reason", None)
    if isinstance(error, urllib.error.URLError) and reason is not None:
        return str(reason)
    return f"{type(error).__name__}: {error}"
