"""Flair 0.15.1 side of the TREC-6 benchmark (run with the Flair environment's python).

The same recipes as trec_tagkit.py (see trec_report.py): Flair's TREC_6 (5452 train questions,
dev carved from train, 500 test; label type ``question_class``), TextClassifier over the
recipe's document embedding, seed 1. Prints one JSON object (the last line of output).

    FLAIR_CACHE_ROOT=/work/flair-env/flaircache /work/flair-env/venv/bin/python \\
        benchmarks/trec_flair.py --recipe rnn --glove /work/flair-env/glove.gensim \\
        --out /tmp/trec-flair-rnn
"""

import os
import re
import time

import torch
from trec_report import minilm_dir, parse_args, report


def document_embeddings(spec: dict, glove: str | None):
    if spec["kind"] == "transformer":
        from flair.embeddings import TransformerDocumentEmbeddings

        return TransformerDocumentEmbeddings(minilm_dir(), fine_tune=True,
                                             cls_pooling=spec["cls_pooling"])
    from flair.embeddings import DocumentRNNEmbeddings, WordEmbeddings

    if glove is None:
        raise SystemExit("--glove (GloVe 6B 50d as a gensim file) is needed for this recipe")
    options = {k: v for k, v in spec.items() if k != "kind"}
    return DocumentRNNEmbeddings([WordEmbeddings(glove)], **options)


def epoch_times(log_path: str) -> list[float]:
    log = open(log_path, encoding="utf-8").read()
    seconds = []
    for block in re.split(r"EPOCH \d+ done", log)[:-1]:
        times = re.findall(r"time \(sec\): ([0-9.]+)", block)
        if times:
            seconds.append(float(times[-1]))
    return seconds


def epoch_cpu_plugin(epoch_cpu: list[float]):
    """A Flair trainer plugin that appends each training loop's process CPU time (between
    Flair's ``before_training_epoch`` and ``after_training_epoch``, i.e. before evaluation)."""
    from flair.trainers.plugins import TrainerPlugin

    class EpochCPU(TrainerPlugin):
        @TrainerPlugin.hook
        def before_training_epoch(self, **kwargs):
            self.started = time.process_time()

        @TrainerPlugin.hook
        def after_training_epoch(self, **kwargs):
            epoch_cpu.append(time.process_time() - self.started)

    return EpochCPU()


def main() -> None:
    args = parse_args("flair")
    settings = args.settings
    torch.set_num_threads(args.threads)

    import flair
    from flair.data import Corpus, Sentence
    from flair.datasets import TREC_6
    from flair.models import TextClassifier
    from flair.trainers import ModelTrainer

    flair.set_seed(args.seed)
    started = time.perf_counter()
    corpus = TREC_6()
    load_seconds = time.perf_counter() - started
    if args.limit:
        corpus = Corpus(list(corpus.train)[:args.limit], list(corpus.dev)[:args.limit],
                        list(corpus.test)[:args.limit], name="trec_6")
    label_type = "question_class"
    label_dictionary = corpus.make_label_dictionary(label_type)
    classifier = TextClassifier(document_embeddings(settings["document"], args.glove),
                                label_type=label_type, label_dictionary=label_dictionary)
    trainer = ModelTrainer(classifier, corpus)
    epoch_cpu = []
    plugin = epoch_cpu_plugin(epoch_cpu)
    options = {"learning_rate": settings["learning_rate"],
               "mini_batch_size": settings["mini_batch_size"],
               "max_epochs": settings["max_epochs"],
               "optimizer": getattr(torch.optim, settings["optimizer"]),
               "train_with_dev": args.train_with_dev}
    if args.warmup_fraction is not None:
        # fine_tune: a linear warm-up then a linear decay; the final model is tested
        result = trainer.fine_tune(args.out, warmup_fraction=args.warmup_fraction,
                                   plugins=[plugin], **options)
    else:
        result = trainer.train(args.out, anneal_factor=settings["anneal_factor"],
                               min_learning_rate=settings.get("min_learning_rate", 1e-4),
                               patience=settings["patience"], plugins=[plugin], **options)
    test_texts = [[token.text for token in sentence] for sentence in corpus.test]
    gold = [sentence.get_label(label_type).value for sentence in corpus.test]
    report("flair 0.15.1", args, classifier, test_texts, gold, Sentence,
           lambda sentence: sentence.get_label(label_type).value,
           epoch_times(os.path.join(args.out, "training.log")), result["test_score"],
           load_seconds, epoch_cpu)


if __name__ == "__main__":
    main()
