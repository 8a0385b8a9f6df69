"""The floor: a bare torch BiLSTM (50 -> 2x256) + linear layer, forward, backward and SGD step.

Also, for reference only, the same with a unidirectional LSTM (50 -> 256): the issue's "about
70k tokens/s, about 3 s per epoch" matches that, while both systems train a BiLSTM.

No CRF, no embedding lookup, no Python objects: random inputs shaped like the real UD English
EWT train batches, made by tagkit's own batcher (length-bucketed with two length groups per
batch, each run as its own chunk, as the trainer makes them; with one group; and, for
reference, plain shuffled batches). Prints one JSON object (the last line of output).
"""

import argparse
import json
import time

import torch
from conllu_text import read_sentences
from torch import nn

from tagkit_core.trainer import TrainingConfig
from tagkit_core.trainer.batching import chunk, group_chunk_size, make_batches


def read_lengths(path: str) -> list[int]:
    return [len(words) for words, _ in read_sentences(path)]


def run(batches: list[list[int]], train: bool, chunk_size: int | None = None,
        dtype: torch.dtype = torch.float32, bidirectional: bool = True) -> float:
    """Seconds for one pass; with ``chunk_size`` each batch runs as length-sorted chunks
    with one optimiser step per batch, as the trainer runs grouped batches. ``dtype``
    (prediction only) is the LSTM's, as tagkit's ``predict(precision=...)`` sets it.
    ``bidirectional=False`` is only a reference: both systems train a BiLSTM."""
    torch.manual_seed(0)
    lstm = nn.LSTM(50, 256, bidirectional=bidirectional, batch_first=True)
    linear = nn.Linear(512 if bidirectional else 256, 18)
    params = list(lstm.parameters()) + list(linear.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1)
    started = time.perf_counter()
    for lengths in batches:
        if train:
            optimizer.zero_grad()
            parts = chunk(sorted(lengths, reverse=True), chunk_size) if chunk_size else [lengths]
            for part in parts:
                x = torch.randn(len(part), max(part), 50)
                linear(lstm(x)[0]).sum().backward()
            optimizer.step()
        else:
            with torch.no_grad():
                x = torch.randn(len(lengths), max(lengths), 50, dtype=dtype)
                linear(lstm.to(dtype)(x)[0].float())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-file", required=True)
    parser.add_argument("--test-file", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lengths = read_lengths(args.train_file)
    test_lengths = sorted(read_lengths(args.test_file), reverse=True)
    tokens = sum(lengths)
    results = {}
    groups = TrainingConfig().length_groups_per_batch  # what the trainer does by default
    for name, bucketing, n in (("bucketed", True, groups), ("bucketed, one group", True, 1),
                               ("shuffled", False, 1)):
        batches = make_batches(lengths, lengths, 32, shuffle=True, bucketing=bucketing, seed=1,
                               epoch=1, groups=n)
        size = group_chunk_size(32, n)
        runs = [part for b in batches for part in chunk(sorted(b, reverse=True), size)]
        padded = sum(len(r) * max(r) for r in runs) / tokens
        seconds = run(batches, train=True, chunk_size=size)
        results[name] = {"epoch_seconds": seconds, "train_tokens_per_second": tokens / seconds,
                         "padding_ratio": padded}
        if name == "bucketed, one group":  # the reference: half the model, one direction
            seconds = run(batches, train=True, chunk_size=size, bidirectional=False)
            results["unidirectional, one group"] = {
                "epoch_seconds": seconds, "train_tokens_per_second": tokens / seconds,
                "padding_ratio": padded}
    test_batches = [test_lengths[i:i + 32] for i in range(0, len(test_lengths), 32)]
    seconds = min(run(test_batches, train=False) for _ in range(3))  # the floor at its best
    results["predict_tokens_per_second"] = sum(test_lengths) / seconds
    seconds = min(run(test_batches, train=False, dtype=torch.bfloat16) for _ in range(3))
    results["predict_bfloat16_tokens_per_second"] = sum(test_lengths) / seconds
    print(json.dumps(results))


if __name__ == "__main__":
    main()
