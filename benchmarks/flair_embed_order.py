"""What the batch order costs FlairEmbeddings: EWT test in batches of 32 cut from three orders.

Prediction sorts a whole set by ``Embeddings.batching_lengths`` before cutting mini-batches.
For FlairEmbeddings that is the character count its LM reads; it used to be the token count
(the default). This embeds UD English EWT test (2077 sentences) with one tagkit language model
in batches of ``--batch`` cut from the file's order, the token-sorted order and the
character-sorted order, ``--rounds`` times in rotation in one process (after one untimed pass
per order, so every kernel shape has been set up), each pass on fresh sentences, the sort
inside the timed part, storage mode ``none``. Prints one JSON line per round and the medians::

    python benchmarks/lm_train.py --out bench-out/lm-ewt --epochs 1 --precision bfloat16
    python benchmarks/flair_embed_order.py --lm bench-out/lm-ewt/forward/best-lm.pt

Any language model file works (``lm_compare.py`` writes one too); the order's effect does not
depend on the weights.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from lm_compare_workers import EWT, conllu_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", required=True, help="a tagkit language model file")
    parser.add_argument("--precision", default="bfloat16")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from tagkit_core.data import Sentence
    from tagkit_core.embeddings import longest_first
    from tagkit_core.storage import resolve_storage_mode
    from tagkit_flair_embeddings import FlairEmbeddings

    embedding = FlairEmbeddings(args.lm, precision=args.precision)
    storage = resolve_storage_mode("none", torch.device("cpu"))
    words = conllu_tokens(EWT / "en_ewt-ud-test.conllu")
    orders = {  # the sort as prediction does it: longest first, ties in file order
        "file": lambda sentences: sentences,
        "tokens": lambda sentences: sorted(sentences, key=len, reverse=True),
        "characters": lambda sentences: longest_first(embedding, sentences),
    }

    def one_pass(order) -> float:
        sentences = [Sentence(w) for w in words]
        started = time.perf_counter()
        sentences = order(sentences)
        with torch.no_grad():
            for i in range(0, len(sentences), args.batch):
                batch = sentences[i:i + args.batch]
                embedding(batch, storage=storage)
                storage.after_batch(batch)
        return time.perf_counter() - started

    for order in orders.values():
        one_pass(order)
    seconds: dict[str, list[float]] = {name: [] for name in orders}
    for round_ in range(args.rounds):
        for name, order in orders.items():
            seconds[name].append(round(one_pass(order), 3))
        print(json.dumps({"round": round_, **{n: s[-1] for n, s in seconds.items()}}),
              flush=True)
    print(json.dumps({"median_seconds": {n: statistics.median(s) for n, s in seconds.items()},
                      "lm": args.lm, "precision": args.precision, "batch": args.batch}))


if __name__ == "__main__":
    main()
