"""Flair 0.15.1 side of the POS benchmark (run with the Flair environment's python).

Same task as tagkit_pos.py: UD English EWT, label type upos, SequenceTagger(hidden_size=256,
use_crf=True) over GloVe 6B 50d (+ CharacterEmbeddings), SGD lr 0.1, batch 32, seed 1.
Prints one JSON object (the last line of output).
"""

import argparse
import os
import re
import time

import torch
from pos_report import report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--glove", required=True, help="GloVe as a gensim KeyedVectors file")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--chars", action="store_true")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import flair
    from flair.data import Sentence
    from flair.datasets import UD_ENGLISH
    from flair.embeddings import CharacterEmbeddings, StackedEmbeddings, WordEmbeddings
    from flair.models import SequenceTagger
    from flair.trainers import ModelTrainer

    flair.set_seed(args.seed)
    started = time.perf_counter()
    corpus = UD_ENGLISH()
    load_seconds = time.perf_counter() - started
    dictionary = corpus.make_label_dictionary("upos")
    embeddings = [WordEmbeddings(args.glove)] + ([CharacterEmbeddings()] if args.chars else [])
    tagger = SequenceTagger(hidden_size=256, embeddings=StackedEmbeddings(embeddings),
                            tag_dictionary=dictionary, tag_type="upos", use_crf=True)
    result = ModelTrainer(tagger, corpus).train(args.out, learning_rate=0.1, mini_batch_size=32,
                                                max_epochs=args.epochs)
    log = open(os.path.join(args.out, "training.log"), encoding="utf-8").read()
    epoch_seconds = []
    for block in re.split(r"EPOCH \d+ done", log)[:-1]:
        times = re.findall(r"time \(sec\): ([0-9.]+)", block)
        if times:
            epoch_seconds.append(float(times[-1]))
    report("flair 0.15.1", args, tagger, corpus, Sentence, epoch_seconds, result["test_score"],
           load_seconds)

if __name__ == "__main__":
    main()
