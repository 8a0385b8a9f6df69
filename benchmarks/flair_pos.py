"""Flair 0.15.1 side of the POS benchmark (run with the Flair environment's python).

Same task as tagkit_pos.py: UD English EWT, label type upos, SequenceTagger(hidden_size=256,
use_crf=True) over GloVe 6B 50d (+ CharacterEmbeddings), SGD lr 0.1, batch 32, seed 1.
Prints one JSON object (the last line of output).
"""

import argparse
import json
import os
import re
import resource
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--glove", required=True, help="GloVe as a gensim KeyedVectors file")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--chars", action="store_true")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import flair
    from flair.data import Sentence
    from flair.datasets import UD_ENGLISH
    from flair.embeddings import CharacterEmbeddings, StackedEmbeddings, WordEmbeddings
    from flair.models import SequenceTagger
    from flair.trainers import ModelTrainer

    flair.set_seed(1)
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
    # Prediction on new text: fresh Sentence objects built from the test words, so nothing the
    # final evaluation computed or stored on the corpus's sentences is reused.
    test = [Sentence([token.text for token in sentence]) for sentence in corpus.test]
    tokens = sum(len(s) for s in test)
    started = time.perf_counter()
    tagger.predict(test, mini_batch_size=32)
    predict_seconds = time.perf_counter() - started
    print(json.dumps({
        "system": "flair 0.15.1", "epochs": args.epochs, "chars": args.chars,
        "epoch_seconds": epoch_seconds, "test_accuracy": result["test_score"],
        "predict_tokens_per_second": tokens / predict_seconds,
        "predict_sentences_per_second": len(test) / predict_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "model_file_mb": os.path.getsize(os.path.join(args.out, "final-model.pt")) / 2**20,
        "corpus_load_seconds": load_seconds,
    }))


if __name__ == "__main__":
    main()
