"""Mirror, cache and download: look-up order, checksums, atomic writes, and the errors."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from pathlib import Path

import pytest

from tagkit_core.files import DownloadError
from tagkit_datasets import (
    UD_ENGLISH,
    ChecksumError,
    DatasetNotFoundError,
    RemoteFile,
    download_file,
    fetch_file,
)
from tagkit_datasets import download as download_module
from tagkit_datasets.sources import cache_dir, datasets_dir, mirror_dir

CONTENT = b"1\ta\ta\tX\tX\t_\t0\troot\t_\t_\n\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


def served(tmp_path: Path, content: bytes = CONTENT) -> str:
    """A file:// URL serving ``content``: a download without network."""
    source = tmp_path / "served" / "file.conllu"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(content)
    return source.as_uri()


def test_download_file_from_file_url_verifies_and_writes(tmp_path):
    destination = tmp_path / "out" / "x.conllu"
    result = download_file(served(tmp_path), destination, SHA, opener=urllib.request.urlopen)
    assert result == destination and destination.read_bytes() == CONTENT
    assert [p.name for p in destination.parent.iterdir()] == ["x.conllu"]


def test_checksum_mismatch_raises_and_leaves_nothing(tmp_path):
    destination = tmp_path / "out" / "x.conllu"
    url = served(tmp_path, b"tampered\n")
    with pytest.raises(ChecksumError) as info:
        download_file(url, destination, SHA, opener=urllib.request.urlopen)
    assert info.value.expected == SHA and url in str(info.value)
    assert info.value.actual == hashlib.sha256(b"tampered\n").hexdigest()
    assert list(destination.parent.iterdir()) == []  # no final file, no temp file


def test_interrupted_download_leaves_nothing(tmp_path):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise ConnectionResetError("connection reset")

    destination = tmp_path / "x.conllu"
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return Broken()

    with pytest.raises(DownloadError, match="ConnectionResetError: connection reset"):
        download_file("https://example.invalid/x", destination, SHA, opener=opener)
    assert len(calls) == 4  # retried three times: a reset connection may work next time
    assert list(tmp_path.iterdir()) == []


def test_a_reset_connection_is_retried_and_then_succeeds(tmp_path):
    answers = [ConnectionResetError("connection reset"), io.BytesIO(CONTENT)]

    def opener(url, timeout):
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    destination = download_file("https://example.invalid/x", tmp_path / "x.conllu", SHA,
                                opener=opener)
    assert destination.read_bytes() == CONTENT and answers == []


def test_unpinned_checksum_is_accepted_with_a_warning(tmp_path, caplog):
    destination = tmp_path / "x.conllu"
    download_file(served(tmp_path), destination, None, opener=urllib.request.urlopen)
    assert destination.read_bytes() == CONTENT
    assert SHA in caplog.text


def test_cache_and_mirror_locations(monkeypatch, tmp_path):
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(tmp_path / "c"))
    assert datasets_dir() == tmp_path / "c" / "datasets"
    assert datasets_dir(tmp_path / "b") == tmp_path / "b"
    monkeypatch.delenv("TAGKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tagkit"
    assert datasets_dir() == tmp_path / "xdg" / "tagkit" / "datasets"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "tagkit"
    assert mirror_dir() is None
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", str(tmp_path / "m"))
    assert mirror_dir() == tmp_path / "m"
    assert mirror_dir(tmp_path / "arg") == tmp_path / "arg"


def _remote(url: str = "https://example.invalid/x.conllu") -> RemoteFile:
    return RemoteFile("x.conllu", url, SHA)


def test_lookup_order_mirror_then_cache_then_download(monkeypatch, tmp_path):
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return urllib.request.urlopen(served(tmp_path))

    monkeypatch.setattr(download_module, "urlopen", opener)
    mirror = tmp_path / "mirror"
    cache = tmp_path / "cache" / "datasets" / "set" / "x.conllu"
    # nothing anywhere: downloaded into the cache
    assert fetch_file("set", _remote(), mirror=mirror) == cache
    assert calls == ["https://example.invalid/x.conllu"] and cache.read_bytes() == CONTENT
    # now cached: no network
    assert fetch_file("set", _remote(), mirror=mirror) == cache
    # in the mirror (given by env): the mirror wins, no network
    (mirror / "set").mkdir(parents=True)
    (mirror / "set" / "x.conllu").write_bytes(CONTENT)
    monkeypatch.setenv("TAGKIT_DATASETS_MIRROR", str(mirror))
    assert fetch_file("set", _remote()) == mirror / "set" / "x.conllu"
    assert len(calls) == 1


def test_not_found_anywhere_names_every_place(tmp_path):
    mirror = tmp_path / "mirror"
    with pytest.raises(DatasetNotFoundError) as info:
        fetch_file("set", _remote(), mirror=mirror)
    message = str(info.value)
    assert "x.conllu" in message
    assert str(mirror / "set" / "x.conllu") in message
    assert str(tmp_path / "cache" / "datasets" / "set" / "x.conllu") in message
    assert "https://example.invalid/x.conllu (failed: network disabled in tests" in message


def test_download_false_never_uses_the_network(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="not tried: download=False"):
        fetch_file("set", _remote(), download=False)


def test_checksum_error_from_fetch_is_not_hidden(monkeypatch, tmp_path):
    monkeypatch.setattr(download_module, "urlopen",
                        lambda url, timeout: urllib.request.urlopen(served(tmp_path, b"bad\n")))
    with pytest.raises(ChecksumError):
        fetch_file("set", _remote())
    assert not (tmp_path / "cache" / "datasets" / "set" / "x.conllu").exists()


def test_loader_downloads_once_then_reads_the_cache(monkeypatch, tmp_path):
    files = {}
    for split in ("train", "dev", "test"):
        content = f"1\t{split}\t{split}\tNOUN\tNN\t_\t0\troot\t_\t_\n\n".encode()
        url = served(tmp_path / split, content)
        files[split] = RemoteFile(f"en-{split}.conllu", url, hashlib.sha256(content).hexdigest())
    monkeypatch.setattr(UD_ENGLISH, "remote_files", files)
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return urllib.request.urlopen(url)

    monkeypatch.setattr(download_module, "urlopen", opener)
    corpus = UD_ENGLISH()
    assert [s[0].text for s in (corpus.train[0], corpus.dev[0], corpus.test[0])] == \
        ["train", "dev", "test"]
    assert len(calls) == 3
    cached = tmp_path / "cache" / "datasets" / "ud_english_ewt"
    assert sorted(p.name for p in cached.iterdir()) == [
        "en-dev.conllu", "en-test.conllu", "en-train.conllu"]
    UD_ENGLISH()
    assert len(calls) == 3  # second load: from the cache, no network
    assert len(UD_ENGLISH(base_path=cached.parent, download=False).train) == 1


def test_the_download_names_are_the_cores():
    from tagkit_core import files
    from tagkit_datasets import errors

    assert ChecksumError is errors.ChecksumError is files.ChecksumError
    assert download_module.sha256_of is files.sha256_of
