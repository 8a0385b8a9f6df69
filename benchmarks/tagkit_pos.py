"""tagkit side of the POS benchmark: the same task and hyper-parameters as flair_pos.py.

UD English EWT (full), label type upos, SequenceTagger(hidden_size=256, use_crf=True) over
GloVe 6B 50d (+ CharacterEmbeddings), SGD lr 0.1, batch 32, seed 1, storage mode cpu.
Prints one JSON object (the last line of output).
"""

import argparse
import time

import torch
from pos_report import report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--chars", action="store_true")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-bucketing", action="store_true")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="mini_batch_chunk_size (gradient accumulation over length-sorted "
                             "chunks of each batch)")
    parser.add_argument("--locked-dropout", type=float, default=0.5,
                        help="the tagger's locked dropout (Flair's default 0.5)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from tagkit_core import set_seed
    from tagkit_core.data import Sentence
    from tagkit_core.embeddings import StackedEmbeddings
    from tagkit_core.trainer import ModelTrainer
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_datasets import UD_ENGLISH
    from tagkit_embeddings import CharacterEmbeddings, WordEmbeddings

    set_seed(args.seed)
    started = time.perf_counter()
    corpus = UD_ENGLISH()
    load_seconds = time.perf_counter() - started
    dictionary = corpus.make_tag_dictionary("upos")
    embeddings = [WordEmbeddings("glove")] + ([CharacterEmbeddings()] if args.chars else [])
    tagger = SequenceTagger(hidden_size=256, embeddings=StackedEmbeddings(embeddings),
                            tag_dictionary=dictionary, tag_type="upos", use_crf=True,
                            locked_dropout=args.locked_dropout)
    trainer = ModelTrainer(tagger, corpus)
    epoch_seconds = []

    class RecordEpochs:
        from tagkit_core.hookspecs import hookimpl

        @hookimpl
        def on_epoch_end(self, trainer, epoch, metrics):
            epoch_seconds.append(metrics.seconds)

    trainer.plugins.append(RecordEpochs())
    result = trainer.train(args.out, learning_rate=0.1, mini_batch_size=32,
                           max_epochs=args.epochs, length_bucketing=not args.no_bucketing,
                           mini_batch_chunk_size=args.chunk_size,
                           seed=args.seed)
    report("tagkit", args, tagger, corpus, Sentence, epoch_seconds, result["test_score"],
           load_seconds, variants={"bfloat16": {"precision": "bfloat16"}})

if __name__ == "__main__":
    main()
