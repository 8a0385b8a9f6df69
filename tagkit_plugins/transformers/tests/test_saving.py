"""Saved embeddings carry everything: JSON config + state dict rebuild identical vectors
offline, with an empty Hugging Face cache and the model directory gone; remote code is refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import save_file

from tagkit_core.data import Sentence
from tagkit_core.registry import get_registry
from tagkit_transformers import (
    RemoteCodeRefused,
    TransformerDocumentEmbeddings,
    TransformerWordEmbeddings,
)
from tagkit_transformers.files import TOKENIZER_FILES, rebuild

SENTENCES = [["anna", "visits", "unbelievable", "\u200b", "berlin", "!"], ["we", "love"],
             ["the", "dog"] * 12]


def embed(embedding):
    embedding.eval()
    with torch.no_grad():
        return embedding([Sentence(list(words)) for words in SENTENCES])


@pytest.mark.parametrize(("cls", "options"), [
    (TransformerWordEmbeddings, {"layers": "-1,-2", "subtoken_pooling": "mean"}),
    (TransformerWordEmbeddings, {"fine_tune": True, "subtoken_pooling": "first_last"}),
    (TransformerDocumentEmbeddings, {"cls_pooling": "max", "layers": "all",
                                     "layer_mean": True}),
])
def test_config_through_json_and_state_dict_give_identical_vectors(bert_dir, cls, options):
    original = cls(str(bert_dir), **options)
    config = json.loads(json.dumps(original.get_config()))
    assert set(config["tokenizer_files"]) <= set(TOKENIZER_FILES)
    assert "tokenizer.json" in config["tokenizer_files"]
    rebuilt = cls.from_config(config)
    assert not torch.allclose(embed(rebuilt), embed(original))  # random until loaded
    rebuilt.load_state_dict(original.state_dict())
    assert rebuilt.name == original.name and rebuilt.get_config() == original.get_config()
    assert torch.equal(embed(rebuilt), embed(original))


def test_the_registry_knows_both_embeddings():
    registry = get_registry()
    assert registry.resolve("embedding", "transformer_word") is TransformerWordEmbeddings
    assert registry.resolve("embedding", "transformer_document") is TransformerDocumentEmbeddings


OFFLINE_SCRIPT = textwrap.dedent("""
    import json, sys
    import torch
    from safetensors.torch import load_file
    from tagkit_core.data import Sentence
    from tagkit_transformers import TransformerWordEmbeddings

    folder = sys.argv[1]
    config = json.load(open(folder + "/config.json"))
    embedding = TransformerWordEmbeddings.from_config(config)
    embedding.load_state_dict(load_file(folder + "/weights.safetensors"))
    embedding.eval()
    words = json.load(open(folder + "/sentences.json"))
    with torch.no_grad():
        got = embedding([Sentence(w) for w in words])
    expected = load_file(folder + "/expected.safetensors")["vectors"]
    print("IDENTICAL", torch.equal(got, expected))
    try:
        TransformerWordEmbeddings("some-org/some-model")
    except OSError as error:
        print("HUB", error)
""")


def test_rebuilt_offline_with_an_empty_cache_and_no_model_directory(tmp_path, bert_dir):
    copy = shutil.copytree(bert_dir, tmp_path / "model")
    original = TransformerWordEmbeddings(str(copy), subtoken_pooling="last")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "config.json").write_text(json.dumps(original.get_config()))
    save_file({k: v.contiguous() for k, v in original.state_dict().items()},
              saved / "weights.safetensors")
    (saved / "sentences.json").write_text(json.dumps(SENTENCES))
    save_file({"vectors": embed(original).contiguous()}, saved / "expected.safetensors")
    shutil.rmtree(copy)  # nothing to read the model from but the saved data
    hf_home = tmp_path / "empty-hf-home"
    hf_home.mkdir()
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    env.pop("TRANSFORMERS_CACHE", None)
    result = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT, str(saved)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "IDENTICAL True" in result.stdout
    hub_error = result.stdout.split("HUB ", 1)[1]
    assert "'some-org/some-model'" in hub_error and "local model directory" in hub_error
    assert not any(hf_home.rglob("*.safetensors"))  # nothing was fetched into the cache


def test_a_model_directory_with_auto_map_is_refused(tmp_path, bert_dir):
    folder = shutil.copytree(bert_dir, tmp_path / "remote")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(RemoteCodeRefused, match="auto_map.*never runs"):
        TransformerWordEmbeddings(str(folder))


def test_a_saved_config_with_auto_map_is_refused(bert_dir):
    config = TransformerDocumentEmbeddings(str(bert_dir)).get_config()
    config["hf_config"]["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    with pytest.raises(RemoteCodeRefused, match="auto_map"):
        TransformerDocumentEmbeddings.from_config(config)


def test_a_saved_config_with_other_tokenizer_files_is_refused(bert_dir):
    config = TransformerWordEmbeddings(str(bert_dir)).get_config()
    with pytest.raises(ValueError, match="tokenizer files"):
        rebuild(config["hf_config"], {**config["tokenizer_files"], "pytorch_model.bin": "x"})
    with pytest.raises(ValueError, match="tokenizer.json"):
        rebuild(config["hf_config"], {"vocab.txt": "[PAD]"})


def test_a_missing_directory_says_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        TransformerWordEmbeddings(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no model directory"):
        TransformerWordEmbeddings(str(tmp_path / "absent"))


def test_a_tokenizer_auto_map_is_dropped_not_followed(bert_dir):
    config = TransformerWordEmbeddings(str(bert_dir)).get_config()
    files = dict(config["tokenizer_files"])
    tokenizer_config = json.loads(files["tokenizer_config.json"])
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["evil.EvilTokenizer", None]}
    files["tokenizer_config.json"] = json.dumps(tokenizer_config)
    _, tokenizer = rebuild(config["hf_config"], files)
    assert type(tokenizer).__module__.startswith("transformers.")
    assert tokenizer.tokenize("unbelievable") == ["un", "##believ", "##able"]
