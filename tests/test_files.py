"""tagkit_core.files: the cache folder rule, atomic writes, stale temp files and downloads."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tagkit_core import files
from tagkit_core.files import (
    ChecksumError,
    DownloadError,
    atomic_write,
    cache_dir,
    download,
    remove_stale_temp_files,
    sha256_of,
)

CONTENT = b"some bytes to download\n" * 10
SHA = hashlib.sha256(CONTENT).hexdigest()


# -- cache_dir -----------------------------------------------------------------------------------
def test_cache_dir_prefers_tagkit_cache_dir_and_creates_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(tmp_path / "tk"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "tk" and (tmp_path / "tk").is_dir()
    assert cache_dir("embeddings") == tmp_path / "tk" / "embeddings"
    assert (tmp_path / "tk" / "embeddings").is_dir()
    assert not (tmp_path / "xdg").exists()


def test_cache_dir_honours_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("TAGKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir("datasets") == tmp_path / "xdg" / "tagkit" / "datasets"
    assert (tmp_path / "xdg" / "tagkit" / "datasets").is_dir()


def test_cache_dir_defaults_to_home_cache_and_ignores_a_relative_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("TAGKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the XDG spec says: ignore it
    assert cache_dir() == tmp_path / "home" / ".cache" / "tagkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir("x") == tmp_path / "home" / ".cache" / "tagkit" / "x"


# -- atomic_write --------------------------------------------------------------------------------
def test_atomic_write_writes_through_a_hidden_temp_file_in_the_same_folder(tmp_path):
    target = tmp_path / "sub" / "model.pt"
    seen = []

    def write(tmp):
        seen.append(Path(tmp))
        Path(tmp).write_bytes(b"new")

    assert atomic_write(target, write) == target
    assert target.read_bytes() == b"new"
    (temporary,) = seen
    assert temporary.parent == target.parent
    assert temporary.name.startswith(".model.pt.") and temporary.name.endswith(".tmp")
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.pt"]


@pytest.mark.parametrize("interruption", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, interruption):
    target = tmp_path / "checkpoint.pt"
    target.write_bytes(b"old")

    def write(tmp):
        Path(tmp).write_bytes(b"half")
        raise interruption

    with pytest.raises(type(interruption)):
        atomic_write(target, write)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_gives_the_mode_open_would_give(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        target = atomic_write(tmp_path / "final-model.pt",
                              lambda tmp: Path(tmp).write_bytes(b"x"))
        plain = tmp_path / "plain.txt"
        plain.write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == mode == stat.S_IMODE(plain.stat().st_mode)


def test_remove_stale_temp_files_removes_only_leftovers_of_the_named_files(tmp_path):
    leftovers = [tmp_path / ".checkpoint.pt.3f2a.tmp", tmp_path / ".best-model.pt.x1.tmp"]
    for path in leftovers:
        path.write_bytes(b"half")
    folder_leftover = tmp_path / ".checkpoint.pt.99.tmp"
    folder_leftover.mkdir()
    (folder_leftover / "part").write_bytes(b"half")
    keep = [tmp_path / "checkpoint.pt", tmp_path / ".other.pt.3f2a.tmp",
            tmp_path / ".checkpoint.pt.tmp", tmp_path / ".checkpoint.pt.3f2a.part",
            tmp_path / "notes.txt"]
    for path in keep:
        path.write_bytes(b"keep")

    removed = remove_stale_temp_files(tmp_path, ["checkpoint.pt", "best-model.pt"])

    assert removed == sorted([*leftovers, folder_leftover])
    assert sorted(tmp_path.iterdir()) == sorted(keep)
    assert remove_stale_temp_files(tmp_path / "missing", ["checkpoint.pt"]) == []


def test_remove_stale_temp_files_cleans_up_after_a_killed_writer(tmp_path):
    import subprocess
    import sys

    # os._exit inside write: the process dies at once, no cleanup code runs (as under kill -9).
    code = ("import os, sys; from pathlib import Path; from tagkit_core.files import atomic_write\n"
            "def write(tmp):\n    Path(tmp).write_bytes(b'half')\n    os._exit(3)\n"
            "atomic_write(Path(sys.argv[1]), write)\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "checkpoint.pt")])
    assert result.returncode == 3
    (leftover,) = tmp_path.iterdir()
    assert leftover.name.startswith(".checkpoint.pt.") and leftover.read_bytes() == b"half"
    assert remove_stale_temp_files(tmp_path, ["checkpoint.pt"]) == [leftover]
    assert list(tmp_path.iterdir()) == []


# -- download ------------------------------------------------------------------------------------
class Response(io.BytesIO):
    """A fake HTTP response: bytes, a Content-Length header, usable in ``with``."""

    def __init__(self, content: bytes, length: int | None = None) -> None:
        super().__init__(content)
        self.headers = {"Content-Length": str(len(content) if length is None else length)}


class Server:
    """An opener that fails the first calls with the given errors, then serves ``content``."""

    def __init__(self, *failures: BaseException | Response, content: bytes = CONTENT) -> None:
        self.failures = list(failures)
        self.content = content
        self.calls: list[str] = []

    def __call__(self, url, timeout):
        self.calls.append(url)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Response):
                return failure
            raise failure
        return Response(self.content)


@pytest.fixture
def pauses(monkeypatch):
    """The back-off pauses ``download`` asked for (none is actually waited)."""
    waited: list[float] = []
    monkeypatch.setattr(files, "sleep", waited.append)
    return waited


def http_error(code: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("https://example.invalid/f", code, "status", {}, None)


def test_download_from_a_file_url_verifies_and_renames(tmp_path):
    source = tmp_path / "served.bin"
    source.write_bytes(CONTENT)
    destination = tmp_path / "cache" / "f.bin"
    assert download(source.as_uri(), destination, SHA, opener=urllib.request.urlopen) \
        == destination
    assert destination.read_bytes() == CONTENT and sha256_of(destination) == SHA
    assert [p.name for p in destination.parent.iterdir()] == ["f.bin"]


def test_the_default_opener_is_looked_up_at_call_time(tmp_path, monkeypatch):
    server = Server()
    monkeypatch.setattr(files, "urlopen", server)
    download("https://example.invalid/f", tmp_path / "f.bin", SHA)
    assert server.calls == ["https://example.invalid/f"]


def test_checksum_mismatch_is_not_retried_and_leaves_nothing(tmp_path, pauses):
    server = Server(content=b"tampered\n")
    with pytest.raises(ChecksumError) as info:
        download("https://example.invalid/f", tmp_path / "f.bin", SHA, opener=server)
    error = info.value
    assert (error.url, error.expected) == ("https://example.invalid/f", SHA)
    assert error.actual == hashlib.sha256(b"tampered\n").hexdigest()
    assert "https://example.invalid/f" in str(error) and SHA in str(error)
    assert len(server.calls) == 1 and pauses == []
    assert list(tmp_path.iterdir()) == []


def test_a_transient_error_is_retried_after_a_pause(tmp_path, pauses):
    server = Server(urllib.error.URLError("temporary failure in name resolution"))
    download("https://example.invalid/f", tmp_path / "f.bin", SHA, opener=server, backoff=0.5)
    assert len(server.calls) == 2 and pauses == [0.5]
    assert (tmp_path / "f.bin").read_bytes() == CONTENT


@pytest.mark.parametrize("failure", [
    ConnectionResetError("connection reset by peer"),
    TimeoutError("timed out"),
    http_error(503),
    Response(CONTENT[:10], length=len(CONTENT)),  # the connection closed early
])
def test_each_kind_of_transient_failure_is_retried(tmp_path, pauses, failure):
    server = Server(failure)
    download("https://example.invalid/f", tmp_path / "f.bin", SHA, opener=server)
    assert len(server.calls) == 2 and len(pauses) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_backoff_doubles_and_the_last_error_is_reported_offline(tmp_path, pauses):
    offline = [urllib.error.URLError(OSError(101, "Network is unreachable")) for _ in range(4)]
    server = Server(*offline)
    with pytest.raises(DownloadError) as info:
        download("https://example.invalid/f", tmp_path / "f.bin", SHA, opener=server,
                 retries=3, backoff=1.0)
    assert len(server.calls) == 4 and pauses == [1.0, 2.0, 4.0]
    error = info.value
    assert isinstance(error, OSError)
    message = str(error)
    assert message.startswith("could not download https://example.invalid/f to ")
    assert "Network is unreachable" in message and "network connection" in message
    assert str(tmp_path / "f.bin") in message and isinstance(error.__cause__, urllib.error.URLError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure, reason", [
    (http_error(404), "HTTP 404"),
    (urllib.error.URLError(FileNotFoundError(2, "No such file")), "No such file"),
])
def test_permanent_errors_are_not_retried(tmp_path, pauses, failure, reason):
    server = Server(failure)
    with pytest.raises(DownloadError, match=reason):
        download("https://example.invalid/f", tmp_path / "f.bin", SHA, opener=server)
    assert len(server.calls) == 1 and pauses == []
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_url_fails_at_once(tmp_path, pauses):
    with pytest.raises(DownloadError, match="could not download"):
        download((tmp_path / "nothing-here").as_uri(), tmp_path / "out" / "f.bin")
    assert pauses == [] and list((tmp_path / "out").iterdir()) == []


def test_unpinned_download_logs_the_digest(tmp_path, caplog):
    download("https://example.invalid/f", tmp_path / "f.bin", opener=Server())
    assert SHA in caplog.text


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path, capsys):
    download("https://example.invalid/f", tmp_path / "quiet.bin", SHA, opener=Server())
    assert capsys.readouterr().err == ""  # stderr is not a terminal under pytest
    download("https://example.invalid/f", tmp_path / "shown.bin", SHA, opener=Server(),
             progress=True)
    assert "shown.bin" in capsys.readouterr().err


def test_errors_survive_pickling():
    for error in (ChecksumError("u", "a", "b"), DownloadError("u", "/d", "offline")):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)


def test_importing_files_is_cheap():
    import subprocess
    import sys

    code = "import sys, tagkit_core.files; print(sorted(sys.modules))"
    modules = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout
    for heavy in ("torch", "tqdm", "numpy"):
        assert f"'{heavy}'" not in modules


def test_a_full_disk_is_reported_as_it_is_not_as_a_network_failure(tmp_path, pauses,
                                                                      monkeypatch):
    import errno

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(files, "_create_temp", full)
    server = Server()
    with pytest.raises(OSError) as info:
        download("https://example.invalid/f", tmp_path / "f.bin", SHA, opener=server)
    assert not isinstance(info.value, DownloadError) and info.value.errno == errno.ENOSPC
    assert pauses == []
