"""Micro-benchmarks behind two choices of the tagger: the CRF's ``log Z`` and the reversal.

1. ``log Z`` with its gradient over one epoch of UD English EWT training chunk shapes (made by
   tagkit's own batcher, random emissions, 17 tags): the scaled forward pass with its
   closed-form gradient (``LogPartition``, the default) against autograd through log space.
2. Reversing each row of a ``(32, 20, 256)`` batch within its length: ``index_select`` over
   flattened positions (``tagkit_core.nn.reverse_rows``) against ``gather`` with an index
   expanded over the features.

    python benchmarks/crf_speed.py --train-file .../en_ewt-ud-train.conllu
"""

import argparse
import time

import torch
from floor import read_lengths

from tagkit_core.nn import reversal_rows, reverse_rows, reverse_within_length
from tagkit_core.trainer import TrainingConfig
from tagkit_core.trainer.batching import chunk, group_chunk_size, make_batches
from tagkit_crf_tagger.forward_backward import log_partition, log_space_partition


def best_of(repeats: int, function) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-file", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    lengths = read_lengths(args.train_file)
    groups = TrainingConfig().length_groups_per_batch
    batches = make_batches(lengths, lengths, 32, shuffle=True, bucketing=True, seed=1, epoch=1,
                           groups=groups)
    size = group_chunk_size(32, groups)
    chunks = [part for b in batches for part in chunk(sorted(b, reverse=True), size)]
    scores = [torch.nn.Parameter(torch.empty(shape).uniform_(-0.1, 0.1))
              for shape in ((17, 17), (17,), (17,))]
    data = []
    for part in chunks:
        part_lengths = torch.tensor(part)
        mask = torch.arange(max(part))[None] < part_lengths[:, None]
        data.append((torch.randn(len(part), max(part), 17, requires_grad=True), mask))

    def epoch(method):
        def run():
            for emissions, mask in data:
                method(emissions, *scores, mask).sum().backward()
        return run

    print(f"log Z + gradient, {len(chunks)} chunks of one EWT epoch (best of 3):")
    print(f"  scaled, closed-form gradient  {best_of(3, epoch(log_partition)):.2f} s")
    print(f"  log space, autograd           {best_of(3, epoch(log_space_partition)):.2f} s")

    x = torch.randn(32, 20, 256)
    row_lengths = torch.randint(10, 21, (32,))
    row_lengths[0] = 20
    index = reverse_within_length(row_lengths, 20).unsqueeze(2).expand(-1, -1, 256)
    rows = reversal_rows(row_lengths, 20)
    assert torch.equal(x.gather(1, index), reverse_rows(x, rows))

    def repeat(function, n=2000):
        def run():
            for _ in range(n):
                function()  # nothing kept: 2,000 results would cost more memory than time
        return run
    gather = best_of(3, repeat(lambda: x.gather(1, index))) / 2000 * 1e6
    select = best_of(3, repeat(lambda: reverse_rows(x, rows))) / 2000 * 1e6
    print("reverse (32, 20, 256) within lengths (best of 3):")
    print(f"  index_select (reverse_rows)   {select:.0f} us")
    print(f"  gather, expanded index        {gather:.0f} us")


if __name__ == "__main__":
    main()
