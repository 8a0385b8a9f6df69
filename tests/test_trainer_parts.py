"""The trainer's pieces that need no model: batching, options, checkpoint safety, scores."""

import pickle

import pytest
import torch

from tagkit_core.evaluation import sequence_labelling_result, token_accuracy
from tagkit_core.trainer import TrainingConfig
from tagkit_core.trainer.batching import (
    by_length,
    chunk,
    make_batches,
    padding_ratio,
    run_sizes,
)
from tagkit_core.trainer.checkpoint import optimizer_class, read_checkpoint


def test_bucketed_batches_cover_everything_once_and_cut_padding():
    lengths = [(i * 37) % 60 + 1 for i in range(2000)]
    items = [["x"] * n for n in lengths]
    plain = make_batches(items, lengths, 32, shuffle=True, bucketing=False, seed=1, epoch=1)
    bucketed = make_batches(items, lengths, 32, shuffle=True, bucketing=True, seed=1, epoch=1)
    assert sorted(map(id, sum(bucketed, []))) == sorted(map(id, items))
    assert padding_ratio(bucketed) < 1.1 < 1.5 < padding_ratio(plain)


def test_grouped_batches_join_runs_of_similar_length_from_different_places():
    lengths = [(i * 37) % 60 + 1 for i in range(2000)]
    items = [["x"] * n for n in lengths]
    batches = make_batches(items, lengths, 32, shuffle=True, bucketing=True, seed=1, epoch=1,
                           groups=2)
    assert sorted(map(id, sum(batches, []))) == sorted(map(id, items))
    assert sum(len(b) != 32 for b in batches) <= 2  # only the runs cut short at the end
    runs = [part for b in batches for part in chunk(by_length(b), 16)]
    assert padding_ratio(runs) < 1.1  # each run is one length band...
    spans = [max(map(len, b)) - min(map(len, b)) for b in batches]
    assert sum(spans) / len(spans) > 10  # ...and a batch mixes two bands


def test_one_group_is_plain_bucketing_and_sizes_always_add_up():
    lengths = [(i * 13) % 40 + 1 for i in range(500)]
    items = [["x"] * n for n in lengths]
    kw = dict(shuffle=True, bucketing=True, seed=3, epoch=2)
    one = make_batches(items, lengths, 16, groups=1, **kw)
    assert padding_ratio(one) < 1.1 and sum(len(b) != 16 for b in one) <= 1
    assert run_sizes(32, 2) == [16, 16]
    assert run_sizes(25, 3) == [9, 8, 8]
    assert run_sizes(2, 4) == [1, 1]
    assert sum(len(b) != 25 for b in make_batches(items, lengths, 25, groups=3, **kw)) <= 3


def test_batches_depend_only_on_seed_and_epoch():
    lengths = list(range(1, 200))
    def ids(**kw):
        return [[len(x) for x in b] for b in make_batches(
            [["x"] * n for n in lengths], lengths, 16, shuffle=True, bucketing=True, groups=2,
            **kw)]
    assert ids(seed=1, epoch=3) == ids(seed=1, epoch=3)
    assert ids(seed=1, epoch=3) != ids(seed=1, epoch=4)


def test_chunks_of_a_length_sorted_batch_carry_less_padding():
    batch = [["x"] * n for n in (3, 40, 5, 38, 2, 41, 4, 39)]
    sorted_chunks = chunk(by_length(batch), 4)
    assert sorted(map(len, by_length(batch))) == sorted(map(len, batch))
    assert [len(s) for s in sorted_chunks[0]] == [41, 40, 39, 38]
    assert padding_ratio(sorted_chunks) < padding_ratio(chunk(batch, 4))


def test_chunk():
    assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunk([1, 2], None) == [[1, 2]]


def test_config_rejects_unknown_and_bad_options():
    with pytest.raises(TypeError):
        TrainingConfig(learning_rat=0.1)
    with pytest.raises(ValueError, match="mini_batch_size"):
        TrainingConfig(mini_batch_size=0)
    assert TrainingConfig(mini_batch_size=8).eval_mini_batch_size == 32


def test_checkpoint_reader_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    path = tmp_path / "checkpoint.pt"
    path.write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(ValueError, match="not a readable tagkit checkpoint"):
        read_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_only_torch_optimizers_are_named_in_checkpoints():
    assert optimizer_class("torch.optim.sgd.SGD") is torch.optim.SGD
    with pytest.raises(ValueError):
        optimizer_class("os.system")


def test_accuracy_and_span_main_scores():
    assert token_accuracy([["A", "B"], ["C"]], [["A", "C"], ["C"]]) == pytest.approx(2 / 3)
    pos = sequence_labelling_result([["NOUN", "VERB"]], [["NOUN", "NOUN"]], loss=0.5)
    assert pos.main_score_name == "accuracy" and pos.main_score == 0.5 and pos.loss == 0.5
    ner = sequence_labelling_result([["B-PER", "O"]], [["B-PER", "O"]])
    assert ner.main_score_name == "micro_f1" and ner.main_score == 1.0
    assert "PER" in ner.detailed_results
