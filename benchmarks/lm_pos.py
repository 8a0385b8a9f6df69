"""Do a tagkit-trained character LM's FlairEmbeddings help a POS tagger? GloVe against
GloVe + FlairEmbeddings (forward and backward), same everything else, over several seeds.

The task: UD English EWT, label type ``upos``, trained on 10% of train (dev also downsampled
to 10%, as ``Corpus.downsample(0.1, downsample_test=False)``), scored on the full test set
(2077 sentences). The tagger: ``SequenceTagger(hidden_size=256, use_crf=True)``, SGD learning
rate 0.1, batch 32, ``--epochs`` epochs, storage mode ``cpu`` (the LM runs once per sentence),
two threads. For every seed both configurations are trained with that seed (the same
downsample, the same initial weights of the parts they share cannot be promised: the
embedding width differs) and their test accuracies printed as JSON lines, then a summary with
the means and the per-seed differences (also ``OUT/lm_pos.json``; every run is appended to
``OUT/runs.jsonl``, and ``--configs`` trains one configuration only, so the two can run as
separate commands).

The LMs come from ``benchmarks/lm_train.py``::

    python benchmarks/lm_train.py --out bench-out/lm-ewt --hidden 256 --epochs 4
    python benchmarks/lm_pos.py --lm bench-out/lm-ewt --out bench-out/lm-pos --epochs 5

Six trainings; on a quiet two-core machine a few minutes each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def train_one(args: argparse.Namespace, seed: int, with_flair: bool) -> dict:
    from tagkit_core import set_seed
    from tagkit_core.embeddings import StackedEmbeddings
    from tagkit_core.trainer import ModelTrainer
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_datasets import UD_ENGLISH
    from tagkit_embeddings import WordEmbeddings
    from tagkit_flair_embeddings import FlairEmbeddings

    corpus = UD_ENGLISH().downsample(0.1, downsample_test=False, seed=seed)
    dictionary = corpus.make_tag_dictionary("upos")
    set_seed(seed)
    parts = [WordEmbeddings("glove")]
    if with_flair:
        parts += [FlairEmbeddings(str(args.lm / "forward" / "best-lm.pt"),
                                  precision=args.precision),
                  FlairEmbeddings(str(args.lm / "backward" / "best-lm.pt"),
                                  precision=args.precision)]
    tagger = SequenceTagger(hidden_size=256, embeddings=StackedEmbeddings(parts),
                            tag_dictionary=dictionary, tag_type="upos", use_crf=True)
    name = "glove+flair" if with_flair else "glove"
    if with_flair and args.precision != "float32":
        name += f"-{args.precision}"
    started = time.perf_counter()
    result = ModelTrainer(tagger, corpus).train(
        args.out / f"{name}-seed{seed}", learning_rate=0.1, mini_batch_size=32,
        max_epochs=args.epochs, embeddings_storage_mode="cpu", seed=seed,
        show_progress=False)
    return {"embeddings": name, "seed": seed, "test_accuracy": round(result["test_score"], 4),
            "train": len(corpus.train), "dev": len(corpus.dev), "test": len(corpus.test),
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", type=Path, required=True,
                        help="lm_train.py's --out (forward/ and backward/best-lm.pt)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="FlairEmbeddings' precision (the row is named glove+flair-PRECISION "
                             "when not float32)")
    parser.add_argument("--configs", default="glove,glove+flair",
                        help="which of the two to train now; every run is appended to "
                             "OUT/runs.jsonl and the summary covers all runs there, so the "
                             "two may run as separate (parallel) commands")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    configs = args.configs.split(",")
    for seed in (int(s) for s in args.seeds.split(",")):
        for with_flair in (False, True):
            if ("glove+flair" if with_flair else "glove") not in configs:  # any precision
                continue
            row = {**train_one(args, seed, with_flair), "epochs": args.epochs}
            with open(args.out / "runs.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    rows = [json.loads(line) for line in
            (args.out / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["epochs"] == args.epochs]
    glove = {r["seed"]: r["test_accuracy"] for r in rows if r["embeddings"] == "glove"}
    flair_name = "glove+flair" + ("" if args.precision == "float32" else f"-{args.precision}")
    flair = {r["seed"]: r["test_accuracy"] for r in rows if r["embeddings"] == flair_name}
    both = sorted(set(glove) & set(flair))
    if not both:
        return 0
    summary = {"epochs": args.epochs, "seeds": both,
               "glove_mean": round(statistics.mean(glove[s] for s in both), 4),
               "glove_flair_mean": round(statistics.mean(flair[s] for s in both), 4),
               "per_seed_gain": {s: round(flair[s] - glove[s], 4) for s in both},
               "flair_better_every_seed": all(flair[s] > glove[s] for s in both)}
    (args.out / "lm_pos.json").write_text(json.dumps({"summary": summary, "runs": rows},
                                                     indent=2) + "\n")
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
