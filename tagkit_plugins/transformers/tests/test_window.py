"""Sentences longer than the model's maximum: overlapping windows, each piece read from the
window where it has most context; a sentence that fits is exactly the windowless input."""

from __future__ import annotations

import pytest
import torch

from tagkit_core.data import Sentence
from tagkit_transformers import TransformerWordEmbeddings
from tagkit_transformers.window import plan_windows, window_starts

CAPACITY = 14  # 16 positions minus [CLS] and [SEP]


@pytest.fixture(scope="module")
def embedding(bert_dir):
    return TransformerWordEmbeddings(str(bert_dir))


def embed(embedding, *word_lists):
    with torch.no_grad():
        return embedding([Sentence(list(words)) for words in word_lists])


def expected_by_brute_force(reference, ids: list[int]) -> torch.Tensor:
    """The rule spelled out: for each piece, over every window that holds it, the one with the
    largest min(pieces before, pieces after) (the first on a tie)."""
    starts = window_starts(len(ids), CAPACITY)
    runs = {s: reference(ids[s: s + CAPACITY])[1:-1] for s in starts}
    rows = []
    for p in range(len(ids)):
        best, best_context = None, -1
        for s in starts:
            if s <= p < s + CAPACITY:
                context = min(p - s, s + CAPACITY - 1 - p)
                if context > best_context:
                    best, best_context = s, context
        rows.append(runs[best][p - best])
    return torch.stack(rows)


def test_window_starts_cover_the_sentence_with_half_overlap():
    assert window_starts(14, 14) == [0]
    assert window_starts(15, 14) == [0, 1]
    starts = window_starts(100, 14)
    assert starts[0] == 0 and starts[-1] == 100 - 14
    assert all(b - a <= 7 for a, b in zip(starts, starts[1:]))


def test_a_sentence_that_fits_is_the_windowless_result(embedding, reference, pieces_of,
                                                      filler):
    words = filler(CAPACITY, seed=3)
    got = embed(embedding, words)[0]
    assert torch.allclose(got, reference(pieces_of(words))[1:-1], atol=1e-5)


def test_a_100_token_sentence_gets_a_vector_per_token_from_its_best_window(
        embedding, reference, pieces_of, filler):
    words = filler(100, seed=5)
    got = embed(embedding, words)[0]
    assert got.shape == (100, 32)
    assert bool((got.abs().sum(dim=1) > 0).all())
    expected = expected_by_brute_force(reference, pieces_of(words))
    assert torch.allclose(got, expected, atol=1e-5)


def test_multi_piece_words_across_window_borders(embedding, reference, pieces_of, filler):
    words = filler(10, seed=1) + ["unbelievable", "coops"] * 6 + filler(9, seed=2)
    ids = pieces_of(words)
    assert len(ids) > 3 * CAPACITY
    got = embed(embedding, words)[0]
    pieces = expected_by_brute_force(reference, ids)
    first = torch.tensor([0] + [len(pieces_of(words[:i])) for i in range(1, len(words))])
    assert got.shape == (len(words), 32)
    assert torch.allclose(got, pieces[first], atol=1e-5)


def test_long_and_short_sentences_in_one_batch(embedding, filler):
    short, long = filler(5, seed=8), filler(60, seed=9)
    batch = embed(embedding, short, long, short)
    assert torch.allclose(batch[0, :5], embed(embedding, short)[0], atol=1e-5)
    assert torch.allclose(batch[1], embed(embedding, long)[0], atol=1e-5)
    assert torch.equal(batch[0], batch[2])


def test_without_long_sentences_the_tail_is_cut_off(bert_dir, reference, pieces_of, filler):
    embedding = TransformerWordEmbeddings(str(bert_dir), allow_long_sentences=False)
    words = filler(30, seed=4)
    got = embed(embedding, words)[0]
    assert got.shape == (30, 32)
    assert torch.allclose(got[:CAPACITY], reference(pieces_of(words[:CAPACITY]))[1:-1],
                          atol=1e-5)
    assert torch.count_nonzero(got[CAPACITY:]) == 0


def test_more_windows_than_one_pass_holds_run_in_groups_of_similar_length(
        bert_dir, filler, monkeypatch):
    """A batch of more than ``WINDOWS_PER_PASS`` windows (``embed`` on a whole corpus) runs as
    forwards over groups of that many windows of similar length, each cut to its own longest
    window: the same word and [CLS] vectors, and a fine-tuned model learns the same."""
    import tagkit_transformers.encoder as encoder
    from tagkit_transformers import TransformerDocumentEmbeddings

    texts = [filler(n, seed=n) for n in (3, 40, 7, 12, 2, 9, 30, 5)]  # one piece per word
    windows = sum(len(window_starts(len(words), CAPACITY)) for words in texts)  # 15
    word = TransformerWordEmbeddings(str(bert_dir))
    one_pass = embed(word, *texts)
    inputs, widths = [], []
    original = encoder.lean_last_hidden  # a frozen model predicting on the CPU: the lean pass

    def spy(model, input_ids, attention_mask, cls_only=False):
        inputs.append(attention_mask.sum(dim=1).tolist())
        widths.append(input_ids.shape[1])
        return original(model, input_ids, attention_mask, cls_only)

    monkeypatch.setattr(encoder, "lean_last_hidden", spy)
    monkeypatch.setattr(encoder, "WINDOWS_PER_PASS", 3)
    grouped = embed(word, *texts)
    assert torch.allclose(one_pass, grouped, atol=1e-5)
    lengths = sorted((n for group in inputs for n in group), reverse=True)
    assert [len(group) for group in inputs] == [3] * (windows // 3)
    assert inputs == [lengths[i:i + 3] for i in range(0, windows, 3)]  # longest first
    assert widths == [group[0] for group in inputs]  # each cut to its own longest window

    def gradients(cap: int) -> list[torch.Tensor]:
        monkeypatch.setattr(encoder, "WINDOWS_PER_PASS", cap)
        document = TransformerDocumentEmbeddings(str(bert_dir), fine_tune=True,
                                                 cls_pooling="cls").eval()  # no dropout
        document([Sentence(list(w)) for w in texts]).pow(2).sum().backward()
        return [p.grad for p in document.parameters() if p.grad is not None]

    single, several = gradients(100), gradients(3)
    assert len(single) == len(several) > 10
    for a, b in zip(single, several):
        assert torch.allclose(a, b, atol=1e-5)


def test_the_plan_by_hand_with_an_empty_sentence_and_the_pad_id_as_a_piece():
    """Capacity 4: the first sentence fits (and holds piece 0, the pad id, which the mask
    must keep), the second is empty, the third needs windows starting at 0 and 1."""
    plan = plan_windows([[5, 0, 7], [], [9, 9, 9, 9, 9]], capacity=4, prefix=[1], suffix=[2],
                        pad_id=0, allow_long=True)
    assert plan.input_ids.tolist() == [[1, 5, 0, 7, 2, 0], [1, 2, 0, 0, 0, 0],
                                       [1, 9, 9, 9, 9, 2], [1, 9, 9, 9, 9, 2]]
    assert plan.attention_mask.tolist() == [[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0],
                                            [1] * 6, [1] * 6]
    assert plan.attention_mask.dtype == plan.input_ids.dtype == torch.long
    # each piece from the window where it has most context (a tie: the earlier window)
    assert plan.piece_window.tolist() == [0, 0, 0, 2, 2, 2, 3, 3]
    assert plan.piece_position.tolist() == [1, 2, 3, 1, 2, 3, 3, 4]
    assert plan.first_window.tolist() == [0, 1, 2] and plan.kept == [3, 0, 5]
