"""FlairEmbeddings: token boundaries checked against the LM run by hand, chunking, batching,
a tagger's model file carrying the LM, names and offline errors; PooledFlairEmbeddings."""

from __future__ import annotations

import urllib.error

import pytest
import torch
from flair_lm_helpers import tiny_lm

from tagkit_core.data import Sentence
from tagkit_core.files import DownloadError
from tagkit_core.persistence import read_header
from tagkit_crf_tagger import SequenceTagger
from tagkit_flair_embeddings import (
    FlairEmbeddings,
    LanguageModelFileError,
    PooledFlairEmbeddings,
    save_language_model,
)

WORDS = ["the", "cat", "sat", "on", "the", "mat", "."]


def by_hand(lm, prefix: str) -> torch.Tensor:
    """The LM's output after reading ``prefix`` one character at a time from a zero state."""
    hidden = lm.init_hidden(1)
    with torch.no_grad():
        for char in prefix:
            _, output, hidden = lm(lm.encode(char).view(1, 1), hidden)
    return output[0, 0]


@pytest.mark.parametrize("forward", [True, False])
def test_token_vectors_are_the_lm_states_at_the_token_boundaries(forward):
    embedding = FlairEmbeddings(tiny_lm(forward=forward, nlayers=2))
    sentence = Sentence(list(WORDS))
    vectors = embedding.embed(sentence)[0].embeddings[embedding.name]
    text = " ".join(WORDS)
    start = 0
    for i, word in enumerate(WORDS):
        if forward:  # read "\n", the text up to the token's end, then the space after it
            prefix = "\n" + text[: start + len(word)] + " "
        else:  # read "\n", the text from its end back to the token's start, then a space
            prefix = "\n" + text[start:][::-1] + " "
        assert torch.allclose(vectors[i], by_hand(embedding.lm, prefix), atol=1e-6), word
        start += len(word) + 1


@pytest.mark.parametrize("forward", [True, False])
def test_chunked_equals_unchunked_and_batch_equals_single(forward):
    lm = tiny_lm(forward=forward)
    sentences = [WORDS, ["a", "dog"], WORDS[::-1] * 3, ["x"]]
    whole = FlairEmbeddings(lm, chars_per_chunk=10_000)(
        [Sentence(list(w)) for w in sentences])
    for chunk in (1, 4, 13):
        chunked = FlairEmbeddings(lm, chars_per_chunk=chunk)(
            [Sentence(list(w)) for w in sentences])
        assert torch.allclose(whole, chunked, atol=1e-6), chunk
    for i, words in enumerate(sentences):
        alone = FlairEmbeddings(lm)([Sentence(list(words))])[0]
        assert torch.allclose(whole[i, : len(words)], alone, atol=1e-6)
        assert not whole[i, len(words):].any()  # zero beyond each length


@pytest.mark.parametrize("forward", [True, False])
def test_a_wide_batch_runs_in_groups_of_similar_length_with_the_same_vectors(forward,
                                                                              monkeypatch):
    """More texts than ``STRINGS_PER_PASS`` run as several LM passes (bounded memory), each over
    texts of similar length, and every token still gets its own vector."""
    import tagkit_flair_embeddings.flair_embeddings as module

    lm = tiny_lm(forward=forward)
    texts = [WORDS, ["a", "dog"], WORDS[::-1] * 3, ["x"], WORDS[:3], ["big", "cats"] * 4, ["y"]]
    whole = FlairEmbeddings(lm)([Sentence(list(w)) for w in texts])
    widths = []
    original = lm.representation_at

    def spy(strings, *args, **kwargs):
        widths.append(sorted(len(s) for s in strings))
        return original(strings, *args, **kwargs)

    monkeypatch.setattr(lm, "representation_at", spy)
    monkeypatch.setattr(module, "STRINGS_PER_PASS", 3)
    grouped = FlairEmbeddings(lm)([Sentence(list(w)) for w in texts])
    assert torch.allclose(whole, grouped, atol=1e-6)
    lengths = sorted((len(" ".join(w)) for w in texts), reverse=True)
    assert widths == [sorted(lengths[0:3]), sorted(lengths[3:6]), lengths[6:]]

    def gradients(cap: int) -> list[torch.Tensor]:  # a fine-tuned LM learns the same through them
        monkeypatch.setattr(module, "STRINGS_PER_PASS", cap)
        tuned = FlairEmbeddings(tiny_lm(forward=forward), fine_tune=True).eval()  # no dropout
        tuned([Sentence(list(w)) for w in texts]).pow(2).sum().backward()
        return [p.grad for p in tuned.parameters() if p.grad is not None]  # not the decoder's

    single, several = gradients(128), gradients(2)
    assert len(single) == len(several) >= 4  # the encoder's and the LSTM's
    for one, grouped_grad in zip(single, several):
        assert torch.allclose(one, grouped_grad, atol=1e-5)


def test_frozen_is_static_and_eval_fine_tuned_trains():
    frozen = FlairEmbeddings(tiny_lm())
    frozen.train()
    assert frozen.is_static and not frozen.lm.training
    tuned = FlairEmbeddings(tiny_lm(), fine_tune=True)
    tuned.train()
    assert not tuned.is_static and tuned.lm.training
    tuned.eval()
    out = tuned([Sentence(list(WORDS))])
    out.sum().backward()
    assert tuned.lm.encoder.weight.grad is not None


def test_path_and_name(tmp_path):
    lm = tiny_lm(forward=False)
    path = save_language_model(lm, tmp_path / "best-lm.pt")
    embedding = FlairEmbeddings(str(path))
    assert embedding.name == str(path) and not embedding.is_forward_lm
    assert embedding.embedding_length == 16
    assert FlairEmbeddings(lm).name == "flair-lm-16-1-backward"


def test_a_flair_pickle_is_refused_with_the_convert_command(tmp_path):
    pickled = tmp_path / "news-forward-0.4.1.pt"
    torch.save({"state_dict": {}}, pickled)
    with pytest.raises(LanguageModelFileError, match="tagkit-flair-embeddings convert"):
        FlairEmbeddings(str(pickled))


def test_unknown_name_lists_known_ones():
    with pytest.raises(FileNotFoundError, match="news-forward"):
        FlairEmbeddings("no-such-lm")


def test_offline_a_flair_name_says_a_network_is_needed_and_what_else_to_do(monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError(OSError("Network is unreachable"))

    monkeypatch.setattr("tagkit_core.files.urlopen", offline)
    monkeypatch.setattr("tagkit_core.files.sleep", lambda seconds: None)
    with pytest.raises(DownloadError) as caught:
        FlairEmbeddings("news-forward")
    message = str(caught.value)
    assert "flair.informatik.hu-berlin.de/resources/embeddings/flair/news-forward-0.4.1.pt" \
        in message
    assert "network" in message and "LanguageModelTrainer" in message
    assert "tagkit-flair-embeddings convert" in message


def test_prediction_sorts_by_the_characters_the_lm_reads():
    """The LSTM's cost grows with characters, so a sentence of two long words goes before one
    of five one-letter words (a token count would sort them the other way round), for the
    embedding alone, pooled, or in a stack."""
    from tagkit_core.embeddings import StackedEmbeddings, longest_first

    few_long = Sentence(["extraordinarily", "complicated"])
    many_short = Sentence(list("abcde"))
    forward = FlairEmbeddings(tiny_lm(), name="fw")
    backward = FlairEmbeddings(tiny_lm(forward=False), name="bw")
    assert forward.batching_lengths([few_long, many_short]) == [
        len("extraordinarily complicated") + 1, len("a b c d e") + 1]
    for costed in (forward, PooledFlairEmbeddings(forward), StackedEmbeddings([forward, backward])):
        assert longest_first(costed, [many_short, few_long]) == [few_long, many_short], costed


def _tagged():
    sentence = Sentence(list(WORDS))
    for token, tag in zip(sentence, ["DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"]):
        token.add_label("upos", tag)
    return [sentence]


@pytest.mark.parametrize("pooled", [False, True])
def test_a_tagger_model_file_carries_the_lm(tmp_path, pooled):
    from tagkit_core.dictionary import Dictionary

    lm_path = save_language_model(tiny_lm(), tmp_path / "lm.pt")
    embedding = FlairEmbeddings(str(lm_path))
    if pooled:
        embedding = PooledFlairEmbeddings(embedding, pooling="mean")
    tags = Dictionary(add_unk=False)
    for tag in ["DET", "NOUN", "VERB", "ADP", "PUNCT"]:
        tags.add_item(tag)
    tagger = SequenceTagger(embedding, tags, "upos", hidden_size=8, use_crf=False)
    tagger.save(tmp_path / "final-model.pt")
    lm_path.unlink()  # loading needs no other file
    spec = read_header(tmp_path / "final-model.pt")["model"]["config"]["embeddings"]
    flair_spec = spec["config"]["contextual_embeddings"] if pooled else spec
    assert flair_spec["type"] == "flair"
    assert flair_spec["config"]["language_model"]["dictionary"]["items"][0] == "<unk>"
    loaded = SequenceTagger.load(tmp_path / "final-model.pt", device="cpu")
    for key, tensor in tagger.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[key]), key
    tagger.eval()
    sentence, again = Sentence(list(WORDS)), Sentence(list(WORDS))
    with torch.no_grad():
        assert torch.allclose(tagger.embeddings([sentence]), loaded.embeddings([again]))


def test_pooled_memory_min_max_mean_fade():
    lm = tiny_lm()
    inner = FlairEmbeddings(lm)
    first, second = Sentence(["the", "cat"]), Sentence(["a", "cat", "the"])
    local_first = inner([first])[0]
    local_second = inner([second])[0]
    cat_1, cat_2 = local_first[1], local_second[1]
    expected = {"min": torch.minimum(cat_1, cat_2), "max": torch.maximum(cat_1, cat_2),
                "mean": (cat_1 + cat_2) / 2, "fade": (cat_1 + cat_2) / 2}
    for pooling, memory in expected.items():
        pooled = PooledFlairEmbeddings(FlairEmbeddings(lm), pooling=pooling)
        assert not pooled.is_static and pooled.embedding_length == 32
        out_first = pooled([Sentence(["the", "cat"])])[0]
        assert torch.allclose(out_first[1], torch.cat([cat_1, cat_1]), atol=1e-6)
        out = pooled([Sentence(["a", "cat", "the"])])[0]
        assert torch.allclose(out[1, :16], cat_2, atol=1e-6)
        assert torch.allclose(out[1, 16:], memory, atol=1e-6), pooling
        pooled.train()  # a training run starts with an empty memory, as in Flair
        assert pooled.word_embeddings == {}


def test_a_model_file_config_cannot_name_a_file_or_a_download(tmp_path):
    from tagkit_core.component_specs import component_spec
    from tagkit_core.model_schema import ModelFileError
    from tagkit_core.persistence import build_component

    spec = component_spec(FlairEmbeddings(tiny_lm()), "embedding")
    rebuilt = build_component("embedding", spec)
    assert rebuilt.get_config() == spec["config"]
    for hostile in ({"name_or_path": "news-forward"}, {"path": str(tmp_path / "lm.pt")}):
        bad = {**spec, "config": {**spec["config"], **hostile}}
        with pytest.raises(ModelFileError, match="is unknown"):
            build_component("embedding", bad)
    bad = {**spec, "config": {**spec["config"], "language_model": "news-forward"}}
    with pytest.raises(ModelFileError, match="language_model"):
        build_component("embedding", bad)
    for precision in ("float16", "__import__('os')", ["bfloat16"], True):
        bad = {**spec, "config": {**spec["config"], "precision": precision}}
        with pytest.raises(ModelFileError, match="precision"):
            build_component("embedding", bad)


def test_bfloat16_precision_is_close_to_float32_and_kept_in_the_config():
    lm = tiny_lm(nlayers=2)
    sentences = [WORDS, ["a", "dog"], WORDS[::-1] * 3]
    full = FlairEmbeddings(lm)([Sentence(list(w)) for w in sentences])
    low = FlairEmbeddings(lm, precision="bfloat16")
    half = low([Sentence(list(w)) for w in sentences])
    assert half.dtype == torch.float32 and lm.encoder.weight.dtype == torch.float32
    assert torch.allclose(full, half, atol=2e-2) and not torch.equal(full, half)
    config = low.get_config()
    assert config["precision"] == "bfloat16"
    assert FlairEmbeddings.from_config(config).precision == "bfloat16"
    del config["precision"]  # a file written before the option: float32
    assert FlairEmbeddings.from_config(config).precision == "float32"
    with pytest.raises(ValueError, match="precision must be one of 'float32', 'bfloat16'"):
        FlairEmbeddings(lm, precision="float16")


def test_the_bfloat16_copy_follows_the_weights():
    lm = tiny_lm()
    embedding = FlairEmbeddings(lm, precision="bfloat16")
    before = embedding([Sentence(list(WORDS))])
    with torch.no_grad():
        lm.rnn.weight_hh_l0.mul_(-1)  # an in-place change (as an optimizer step makes)
    after = embedding([Sentence(list(WORDS))])
    reference = FlairEmbeddings(lm)([Sentence(list(WORDS))])
    assert not torch.allclose(before, after, atol=2e-2)
    assert torch.allclose(after, reference, atol=2e-2)


def test_a_fine_tuned_bfloat16_embedding_trains_the_float32_weights():
    tuned = FlairEmbeddings(tiny_lm(), fine_tune=True, precision="bfloat16")
    tuned.train()
    tuned([Sentence(list(WORDS))]).sum().backward()
    grad = tuned.lm.rnn.weight_hh_l0.grad
    assert grad is not None and grad.dtype == torch.float32 and grad.abs().sum() > 0
