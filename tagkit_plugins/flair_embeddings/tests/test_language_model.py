"""LanguageModel: Flair's architecture, its safe file (round trip, hostile files refused)."""

from __future__ import annotations

import json

import pytest
import torch
from flair_lm_helpers import tiny_dictionary, tiny_lm
from safetensors.torch import load_file, save_file

from tagkit_core.tensor_files import tensors_digest
from tagkit_flair_embeddings import LanguageModel, LanguageModelFileError
from tagkit_flair_embeddings.lm_file import HEADER_KEY, load_language_model, save_language_model


def test_flair_state_dict_names_and_shapes():
    lm = tiny_lm(hidden=16)
    chars = len(tiny_dictionary())
    shapes = {k: tuple(v.shape) for k, v in lm.state_dict().items()}
    assert shapes == {"encoder.weight": (chars, 8), "rnn.weight_ih_l0": (64, 8),
                      "rnn.weight_hh_l0": (64, 16), "rnn.bias_ih_l0": (64,),
                      "rnn.bias_hh_l0": (64,), "decoder.weight": (chars, 16),
                      "decoder.bias": (chars,)}
    with_proj = tiny_lm(nout=6)
    assert with_proj.state_dict()["proj.weight"].shape == (6, 16)
    assert with_proj.output_size == 6


def test_construction_is_seeded():
    assert all(torch.equal(a, b) for a, b in zip(tiny_lm(seed=5).state_dict().values(),
                                                 tiny_lm(seed=5).state_dict().values()))
    assert not torch.equal(tiny_lm(seed=5).encoder.weight, tiny_lm(seed=6).encoder.weight)


def test_encode_maps_unknown_characters_to_unk():
    lm = tiny_lm()
    ids = lm.encode("cat€\n")
    assert ids.tolist() == [lm.dictionary.get_idx_for_item(c) for c in "cat"] + [
        0, lm.dictionary.get_idx_for_item("\n")]
    assert lm.dictionary.get_item_for_index(0) == "<unk>"


def test_save_load_round_trip(tmp_path):
    lm = tiny_lm(forward=False, nlayers=2, nout=5)
    path = save_language_model(lm, tmp_path / "lm.pt")
    loaded = load_language_model(path)
    assert isinstance(loaded, LanguageModel) and not loaded.training
    assert loaded.get_config() == lm.get_config()
    assert loaded.dictionary == lm.dictionary and not loaded.is_forward_lm
    for key, tensor in lm.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[key]), key


def _rewrite(path, header=None, tensors=None, digest=True):
    """Write a language model file with a changed header or tensors (and a valid checksum)."""
    tensors = tensors if tensors is not None else load_file(path)
    text = json.dumps(header)
    metadata = {HEADER_KEY: text}
    if digest:
        metadata[HEADER_KEY + "_sha256"] = tensors_digest(text, tensors)
    save_file(tensors, str(path), metadata=metadata)


@pytest.mark.parametrize("change, message", [
    (lambda h: h["config"].update(hidden_size=10**9), "config.hidden_size"),
    (lambda h: h["config"].update(path="/etc/passwd"), "config.path is unknown"),
    (lambda h: h["config"]["dictionary"].update(items=["a", "a"]), "holds an item twice"),
    (lambda h: h["config"].update(hidden_size=32), "disagree"),
    (lambda h: h.update(format="tagkit-model"), "not 'tagkit-language-model'"),
    (lambda h: h.update(format_version=99), "format_version"),
    (lambda h: h["config"].update(is_forward_lm="yes"), "config.is_forward_lm"),
])
def test_hostile_or_inconsistent_headers_are_refused(tmp_path, change, message):
    lm = tiny_lm()
    path = save_language_model(lm, tmp_path / "lm.pt")
    header = {"format": "tagkit-language-model", "format_version": 1,
              "config": lm.get_config()}
    change(header)
    _rewrite(path, header)
    with pytest.raises(LanguageModelFileError, match=message):
        load_language_model(path)


def test_a_changed_tensor_fails_the_checksum(tmp_path):
    path = save_language_model(tiny_lm(), tmp_path / "lm.pt")
    opened = load_file(path)
    from safetensors import safe_open

    with safe_open(str(path), "pt") as handle:
        metadata = handle.metadata()
    opened["decoder.bias"] = opened["decoder.bias"] + 1
    save_file(opened, str(path), metadata=metadata)
    with pytest.raises(LanguageModelFileError, match="checksum mismatch"):
        load_language_model(path)


def test_pickles_and_tagger_files_are_not_language_models(tmp_path):
    pickled = tmp_path / "flair.pt"
    torch.save({"state_dict": tiny_lm().state_dict()}, pickled)
    with pytest.raises(LanguageModelFileError, match="never unpickles"):
        load_language_model(pickled)
    other = tmp_path / "other.safetensors"
    save_file({"x": torch.zeros(1)}, str(other), metadata={"tagkit": "{}"})
    with pytest.raises(LanguageModelFileError, match="not a language model"):
        load_language_model(other)


def test_chunked_representation_equals_unchunked():
    lm = tiny_lm(nlayers=2).eval()
    strings = ["the cat sat on the mat .", "a dog", ""]
    with torch.no_grad():
        whole = lm.get_representation(strings, "\n", " ", chars_per_chunk=1000)
        for chunk in (1, 3, 7):
            chunked = lm.get_representation(strings, "\n", " ", chars_per_chunk=chunk)
            assert torch.allclose(whole, chunked, atol=1e-6), chunk


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("chunk", [3, 512])
def test_a_batch_of_unequal_strings_equals_each_string_alone(forward, chunk):
    """The batch runs packed (each string over its own characters, none over padding), chunk
    after chunk with strings ending inside or before a chunk; every string's positions equal
    those of the string run alone."""
    lm = tiny_lm(forward=forward).eval()
    strings = ["the cat sat on the mat .", "a dog", "the log", "the dog saw the cat"]
    with torch.no_grad():
        batch = lm.get_representation(strings, "\n", " ", chunk)
        for i, text in enumerate(strings):
            alone = lm.get_representation([text], "\n", " ", 10_000)[:, 0]
            assert torch.allclose(batch[: alone.shape[0], i], alone, atol=1e-6)
            assert not batch[alone.shape[0]:, i].any()  # past its end: nothing computed


@pytest.mark.parametrize("forward", [True, False])
def test_strings_of_many_lengths_in_any_order_each_equal_the_string_alone(forward):
    """Lengths from 0 to 150 characters, shuffled: the staircase sorts them, cuts the positions
    at string ends into segments of at least MIN_SEGMENT positions and drops each string once
    it has ended; every string must still get exactly its own pass, back in its column."""
    from tagkit_flair_embeddings.language_model import MIN_SEGMENT

    lm = tiny_lm(forward=forward, nlayers=2).eval()
    generator = torch.Generator().manual_seed(4)
    words = "the cat sat on a mat and saw dog".split()
    counts = [0, 1, 39] + torch.randint(0, 40, (20,), generator=generator).tolist()
    strings = [" ".join(words[int(i)] for i in torch.randint(len(words), (n,),
                                                              generator=generator))
               for n in counts]
    strings = [strings[int(i)] for i in torch.randperm(len(strings), generator=generator)]
    assert "" in strings and max(map(len, strings)) > 3 * MIN_SEGMENT
    with torch.no_grad():
        batch = lm.get_representation(strings, "\n", " ", 512)
        for i, text in enumerate(strings):
            alone = lm.get_representation([text], "\n", " ", 10_000)[:, 0]
            assert torch.allclose(batch[: alone.shape[0], i], alone, atol=1e-6), i
            assert not batch[alone.shape[0]:, i].any()


def test_the_staircase_gives_each_string_the_gradient_of_its_own_pass():
    lm = tiny_lm().eval()  # eval: no dropout, so the passes are comparable
    strings = ["the cat sat on the mat and the dog sat on the log . " * 2, "a dog", "the"]
    for i, text in enumerate(strings):
        lm.zero_grad()
        lm.get_representation(strings, "\n", " ", 512)[len(text) + 1, i].sum().backward()
        in_batch = lm.rnn.weight_hh_l0.grad.clone()
        lm.zero_grad()
        lm.get_representation([text], "\n", " ", 512)[len(text) + 1, 0].sum().backward()
        assert in_batch.abs().sum() > 0
        assert torch.allclose(in_batch, lm.rnn.weight_hh_l0.grad, atol=1e-6), i


@pytest.mark.parametrize("forward", [True, False])
def test_representation_at_reads_the_same_positions_as_the_full_tensor(forward):
    lm = tiny_lm(forward=forward).eval()
    strings = ["the cat sat on the mat and the dog sat on the log . " * 2, "a dog", "",
               "the cat saw a dog on the mat ."]
    generator = torch.Generator().manual_seed(2)
    pairs = [(int(p), column) for column, text in enumerate(strings)
             for p in torch.randint(0, len(text) + 2, (7,), generator=generator)]
    positions, columns = [p for p, _ in pairs], [c for _, c in pairs]
    with torch.no_grad():
        full = lm.get_representation(strings, "\n", " ", 512)
        for chunk in (5, 512):
            picked = lm.representation_at(strings, "\n", " ", positions, columns, chunk)
            assert torch.allclose(picked, full[positions, columns], atol=1e-6), chunk
