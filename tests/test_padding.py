"""pad_ids: the id batches of word embeddings and gold tags."""

import pytest
import torch

from tagkit_core.embeddings import pad_ids


def test_pad_ids_matches_pad_sequence():
    rows = [[5, 1, 7], [2], [], [9, 9]]
    expected = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(r, dtype=torch.long) for r in rows], batch_first=True, padding_value=-1)
    padded = pad_ids(rows, pad=-1)
    assert padded.dtype == torch.long
    assert torch.equal(padded, expected)


def test_pad_ids_pads_to_a_given_width():
    padded = pad_ids([[1, 2], [3]], width=4)
    assert padded.tolist() == [[1, 2, 0, 0], [3, 0, 0, 0]]
    assert pad_ids([]).shape == (0, 0)


def test_pad_ids_refuses_a_width_shorter_than_a_row():
    with pytest.raises(RuntimeError):
        pad_ids([[1, 2, 3]], width=2)
