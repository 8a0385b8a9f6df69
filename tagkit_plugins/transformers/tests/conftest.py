"""A tiny random BERT written into a temporary directory: real WordPiece, no download.

The vocabulary is the test's own, so every alignment case (a word in several pieces, a
character the normaliser drops, a word with no piece at all) is known exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "dog", "cat", "runs",
         "sleeps", "here", "in", "new", "york", "berlin", "anna", "visits", "we", "love",
         "un", "##believ", "##able", "co", "##op", "##s", ".", ",", "!", "?", "what", "is"]
#: Words that are one piece each (for filler sentences).
WORDS = [w for w in VOCAB[5:] if not w.startswith("##") and w not in ("un", "co")]
MAX_POSITIONS = 16  # so a sentence of more than 14 pieces needs windows


def write_tiny_bert(folder: Path, max_positions: int = MAX_POSITIONS, seed: int = 0) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    BertTokenizer(vocab={w: i for i, w in enumerate(VOCAB)}).save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=48,
                        max_position_embeddings=max_positions)
    BertModel(config).eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory) -> Path:
    """A tiny BERT directory (hidden 32, 2 layers, 2 heads, 16 positions)."""
    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def hf_bert(bert_dir):
    """The same model through transformers directly, the reference for expected vectors."""
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(bert_dir).eval(), AutoTokenizer.from_pretrained(bert_dir)


@pytest.fixture(scope="session")
def reference(hf_bert):
    """``reference(piece_ids, all_layers=False)``: the model run alone on ``[CLS] ids [SEP]``.

    Returns ``(length, 32)`` last-layer vectors, or the list of every hidden state.
    """
    model, tokenizer = hf_bert

    def run(ids: list[int], all_layers: bool = False):
        batch = torch.tensor([[tokenizer.cls_token_id, *ids, tokenizer.sep_token_id]])
        with torch.no_grad():
            out = model(input_ids=batch, output_hidden_states=True)
        return [h[0] for h in out.hidden_states] if all_layers else out.last_hidden_state[0]

    return run


@pytest.fixture(scope="session")
def pieces_of(hf_bert):
    """``pieces_of(words)``: the WordPiece ids of the words, each tokenized alone."""
    tokenizer = hf_bert[1]

    def ids(words: list[str]) -> list[int]:
        return [tokenizer.convert_tokens_to_ids(p) for w in words for p in tokenizer.tokenize(w)]

    return ids


@pytest.fixture
def filler():
    """``filler(n, seed)``: n one-piece words, deterministic."""
    import random

    def words(n: int, seed: int = 0) -> list[str]:
        rng = random.Random(seed)
        return [rng.choice(WORDS) for _ in range(n)]

    return words
