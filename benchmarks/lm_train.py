"""Train a forward and a backward character language model on UD English EWT's text.

The text is the ``# text =`` lines of the CoNLL-U files: train (cut into ``--splits`` files,
Flair's ``train/`` layout), dev as ``valid.txt`` and test as ``test.txt``. Each direction is
trained with :class:`tagkit_flair_embeddings.LanguageModelTrainer` (SGD, learning rate 20,
clipping 0.25, truncated BPTT) and its test perplexity, validation perplexities, characters per
second and wall time are printed as one JSON line per direction and written to
``OUT/lm_train.json``. ``OUT/forward/best-lm.pt`` and ``OUT/backward/best-lm.pt`` are then
ready for ``FlairEmbeddings(...)``.

About three minutes on two CPU cores (1.0 M training characters, five epochs, hidden size
256: a smoke run measured 64k characters per second for the forward LM)::

    python benchmarks/lm_train.py --out lm-out

A smoke run of a few seconds (20k characters, a tiny model)::

    python benchmarks/lm_train.py --out lm-smoke --max-chars 20000 --hidden 32 --epochs 1
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "datasets" / "ud_english_ewt"


def sentence_texts(path: Path) -> list[str]:
    """The ``# text = ...`` lines of a CoNLL-U file."""
    prefix = "# text = "
    with open(path, encoding="utf-8") as handle:
        return [line[len(prefix):].rstrip("\n") for line in handle if line.startswith(prefix)]


def head_chars(lines: list[str], limit: int) -> list[str]:
    """The first lines of ``lines`` until ``limit`` characters (a line break each) are reached."""
    kept, total = [], 0
    for line in lines:
        if total >= limit:
            break
        kept.append(line)
        total += len(line) + 1
    return kept


def write_corpus(data: Path, folder: Path, splits: int, max_chars: int | None) -> list[str]:
    """Flair's layout in ``folder``; returns the training sentences."""
    train = sentence_texts(data / "en_ewt-ud-train.conllu")
    if max_chars is not None:
        train = head_chars(train, max_chars)
    (folder / "train").mkdir(parents=True, exist_ok=True)
    size = -(-len(train) // splits)
    for i in range(splits):
        part = train[i * size: (i + 1) * size]
        (folder / "train" / f"train_split_{i + 1}").write_text("\n".join(part) + "\n",
                                                               encoding="utf-8")
    for name, split in (("valid.txt", "dev"), ("test.txt", "test")):
        texts = sentence_texts(data / f"en_ewt-ud-{split}.conllu")
        if max_chars is not None:
            texts = texts[: max(50, max_chars // 400)]
        (folder / name).write_text("\n".join(texts) + "\n", encoding="utf-8")
    return train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the EWT .conllu files")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--splits", type=int, default=4, help="train files (checkpoint each)")
    parser.add_argument("--max-chars", type=int, default=None,
                        help="use only this many training characters (smoke runs)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--embedding-size", type=int, default=100)
    parser.add_argument("--nlayers", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--sequence-length", type=int, default=250)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                        help="LanguageModelTrainer.train's precision")
    parser.add_argument("--batch-threads", type=int, default=1,
                        help="LanguageModelTrainer.train's batch_threads (2 on two cores: "
                             "each half of the streams on its own core)")
    parser.add_argument("--directions", default="forward,backward")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads (1 on a machine whose cores are shared)")
    parser.add_argument("--resume", action="store_true",
                        help="continue a direction from OUT/DIRECTION/checkpoint.pt where one "
                             "exists (exact resume: the result equals an uninterrupted run's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(args.threads)

    from tagkit_core.seeding import set_seed
    from tagkit_flair_embeddings import (
        LanguageModel,
        LanguageModelTrainer,
        TextCorpus,
        character_dictionary,
    )

    corpus_dir = args.out / "corpus"
    train = write_corpus(args.data, corpus_dir, args.splits, args.max_chars)
    dictionary = character_dictionary(train + ["\n"])
    results = {}
    for direction in args.directions.split(","):
        forward = direction == "forward"
        set_seed(args.seed)
        corpus = TextCorpus(corpus_dir, dictionary, forward=forward)
        checkpoint = args.out / direction / "checkpoint.pt"
        if args.resume and checkpoint.exists():
            trainer = LanguageModelTrainer.load_checkpoint(checkpoint, corpus)
        else:
            lm = LanguageModel(dictionary, is_forward_lm=forward, hidden_size=args.hidden,
                               nlayers=args.nlayers, embedding_size=args.embedding_size)
            trainer = LanguageModelTrainer(lm, corpus)
        started = time.perf_counter()
        result = trainer.train(
            args.out / direction, sequence_length=args.sequence_length,
            mini_batch_size=args.batch, learning_rate=args.lr, max_epochs=args.epochs,
            seed=args.seed, log_every=20, precision=args.precision,
            batch_threads=args.batch_threads)
        history = result["history"]
        results[direction] = {
            "test_perplexity": round(result["test_perplexity"], 4),
            "best_valid_perplexity": round(result["best_valid_perplexity"], 4),
            "valid_perplexities": [round(row["valid_perplexity"], 4) for row in history],
            "chars_per_second": round(sum(r["chars_per_second"] for r in history)
                                      / max(len(history), 1)),
            "train_characters": sum(len(t) + 1 for t in train), "epochs": result["epochs"],
            "hidden_size": args.hidden, "precision": args.precision,
            "batch_threads": args.batch_threads,
            "wall_seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps({"direction": direction, **results[direction]}), flush=True)
    summary = args.out / "lm_train.json"
    earlier = json.loads(summary.read_text()) if summary.exists() else {}
    summary.write_text(json.dumps({**earlier, **results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
