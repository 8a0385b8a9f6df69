"""The vector cache on the core's file helpers: folder rule, retried downloads, clean failures."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tagkit_core import files
from tagkit_embeddings import WordEmbeddings
from tagkit_embeddings.vectors import embeddings_cache_dir


@pytest.fixture
def flair_server(tmp_path, tiny_vectors, monkeypatch):
    """A file:// folder serving ``extvec.gensim`` (+ ``.vectors.npy``) as Flair's server does."""
    from gensim.models import KeyedVectors

    names, matrix = tiny_vectors
    server = tmp_path / "server"
    server.mkdir()
    kv = KeyedVectors(8)
    kv.add_vectors(names, matrix)
    kv.save(str(server / "extvec.gensim"), sep_limit=0)
    monkeypatch.setenv("TAGKIT_EMBEDDINGS_URL", server.as_uri())
    return names


def test_the_cache_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("TAGKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert embeddings_cache_dir() == tmp_path / "xdg" / "tagkit" / "embeddings"
    assert embeddings_cache_dir().is_dir()


def test_a_dropped_connection_is_retried(flair_server, monkeypatch, private_cache):
    calls = []

    def flaky(url, timeout):
        calls.append(url)
        if len(calls) == 1:
            raise urllib.error.URLError(ConnectionResetError(104, "Connection reset by peer"))
        return urllib.request.urlopen(url, timeout=timeout)

    pauses = []
    monkeypatch.setattr(files, "urlopen", flaky)
    monkeypatch.setattr(files, "sleep", pauses.append)
    assert WordEmbeddings("extvec").vocab == flair_server
    assert [url.rsplit("/", 1)[1] for url in calls] == [
        "extvec.gensim.vectors.npy", "extvec.gensim.vectors.npy", "extvec.gensim"]
    assert len(pauses) == 1
    assert sorted(p.name for p in (private_cache / "embeddings").iterdir()) == [
        "extvec.gensim", "extvec.gensim.vectors.npy"]


def test_offline_failure_says_what_to_do(monkeypatch, private_cache):
    def offline(url, timeout):
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(files, "urlopen", offline)
    monkeypatch.setattr(files, "sleep", lambda seconds: None)
    monkeypatch.setenv("TAGKIT_EMBEDDINGS_URL", "https://mirror.invalid/token")
    with pytest.raises(OSError) as info:
        WordEmbeddings("extvec")
    message = str(info.value)
    assert "could not download https://mirror.invalid/token/extvec.gensim.vectors.npy" in message
    assert "Network is unreachable" in message and "path of a local vector file" in message
    assert list((private_cache / "embeddings").iterdir()) == []


def test_an_interrupted_conversion_leaves_nothing_and_is_redone(word2vec_text, monkeypatch,
                                                                 private_cache, tiny_vectors):
    from gensim.models import KeyedVectors

    real_save = KeyedVectors.save

    def killed(self, path, *args, **kwargs):
        real_save(self, path, *args, **kwargs)
        raise KeyboardInterrupt  # after gensim wrote its files, before they are moved

    monkeypatch.setattr(KeyedVectors, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        WordEmbeddings(str(word2vec_text))
    assert list((private_cache / "embeddings").iterdir()) == []
    monkeypatch.setattr(KeyedVectors, "save", real_save)
    assert WordEmbeddings(str(word2vec_text)).vocab == tiny_vectors[0]
