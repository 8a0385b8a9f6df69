"""tagkit side of the TREC-6 benchmark: the same recipes as trec_flair.py (see trec_report.py).

TREC_6 from tagkit-datasets (5452 train questions, 545 of them carved out as dev with seed 1,
500 test), label type ``class``, TextClassifier over the recipe's document embedding, seed 1,
storage mode cpu. Prints one JSON object (the last line of output).

    python benchmarks/trec_tagkit.py --recipe rnn --out /tmp/trec-tagkit-rnn
    python benchmarks/trec_tagkit.py --recipe bigru --out /tmp/trec-tagkit-bigru
    python benchmarks/trec_tagkit.py --recipe minilm --out /tmp/trec-tagkit-minilm
"""

import time

import torch
from trec_report import minilm_dir, parse_args, report


def document_embeddings(spec: dict):
    if spec["kind"] == "transformer":
        from tagkit_transformers import TransformerDocumentEmbeddings

        return TransformerDocumentEmbeddings(minilm_dir(), fine_tune=True,
                                             cls_pooling=spec["cls_pooling"])
    from tagkit_embeddings import DocumentRNNEmbeddings, WordEmbeddings

    options = {k: v for k, v in spec.items() if k != "kind"}
    return DocumentRNNEmbeddings([WordEmbeddings("glove")], **options)


def main() -> None:
    args = parse_args("tagkit")
    settings = args.settings
    torch.set_num_threads(args.threads)

    from tagkit_classifiers import TextClassifier
    from tagkit_core import set_seed
    from tagkit_core.corpus import Corpus
    from tagkit_core.data import Sentence
    from tagkit_core.hookspecs import hookimpl
    from tagkit_core.trainer import ModelTrainer
    from tagkit_datasets import TREC_6

    set_seed(args.seed)
    started = time.perf_counter()
    # The dev questions are carved with the run's seed, as Flair's flair.set_seed(seed) makes
    # its TREC_6 do: over seeds, both systems then train on as many different splits.
    corpus = TREC_6(seed=args.seed)
    load_seconds = time.perf_counter() - started
    if args.limit:
        corpus = Corpus(corpus.train[:args.limit], corpus.dev[:args.limit],
                        corpus.test[:args.limit], name=corpus.name)
    label_dictionary = corpus.make_label_dictionary()
    classifier = TextClassifier(document_embeddings(settings["document"]),
                                label_dictionary=label_dictionary)
    trainer = ModelTrainer(classifier, corpus,
                           optimizer=getattr(torch.optim, settings["optimizer"]))
    epoch_seconds = []

    class RecordEpochs:
        @hookimpl
        def on_epoch_end(self, trainer, epoch, metrics):
            epoch_seconds.append(metrics.seconds)

    trainer.plugins.append(RecordEpochs())
    epoch_cpu = []
    run_epoch = trainer._run_epoch

    def timed_epoch(*args, **kwargs):  # the training loop's CPU time, as Flair's side records
        started_cpu = time.process_time()
        metrics = run_epoch(*args, **kwargs)
        epoch_cpu.append(time.process_time() - started_cpu)
        return metrics

    trainer._run_epoch = timed_epoch
    options = {"learning_rate": settings["learning_rate"],
               "mini_batch_size": settings["mini_batch_size"],
               "max_epochs": settings["max_epochs"],
               "min_learning_rate": settings.get("min_learning_rate", 1e-4),
               "anneal_factor": settings["anneal_factor"], "patience": settings["patience"],
               "seed": args.seed, "train_with_dev": args.train_with_dev,
               **settings.get("tagkit_options", {})}
    if args.warmup_fraction is not None:  # as Flair's fine_tune: warm-up, then linear decay
        options.update(scheduler="linear", warmup_fraction=args.warmup_fraction)
    result = trainer.train(args.out, **options)
    test_texts = [[token.text for token in sentence] for sentence in corpus.test]
    gold = [sentence.get_labels("class")[0].value for sentence in corpus.test]
    report("tagkit", args, classifier, test_texts, gold, Sentence,
           lambda sentence: sentence.get_labels("class")[0].value, epoch_seconds,
           result["test_score"], load_seconds, epoch_cpu)


if __name__ == "__main__":
    main()
