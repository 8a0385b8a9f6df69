"""How many TREC-6 labels ``predict(precision=...)`` changes against float32, per saved classifier.

    python benchmarks/trec_precision_agreement.py bench-out/s31-trec/tk-s*/final-model.pt [...]

Classifies the 500 test questions (as new text, ``mini_batch_size=32``) with each saved
TextClassifier: in float32 with the model's own attention kernel (``sdpa``: what prediction ran
before ``tagkit_transformers.cpu_attention``), then in float32, bfloat16 and int8 as
``predict`` runs them now. Prints one JSON line per model: each run's test accuracy and how
many of its 500 labels equal the first run's.
"""

import argparse
import json
from contextlib import contextmanager

import torch


@contextmanager
def models_own_attention():
    import tagkit_transformers.cpu_attention as cpu_attention

    kept = cpu_attention._REPLACES
    cpu_attention._REPLACES = ()  # nothing to replace: the model's kernel runs
    try:
        yield
    finally:
        cpu_attention._REPLACES = kept


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from tagkit_classifiers import TextClassifier
    from tagkit_core.data import Sentence
    from tagkit_datasets import TREC_6

    test = list(TREC_6().test)
    texts = [[token.text for token in sentence] for sentence in test]
    gold = [sentence.get_labels("class")[0].value for sentence in test]

    def labels(classifier, precision):
        sentences = [Sentence(words) for words in texts]
        classifier.predict(sentences, mini_batch_size=32, precision=precision)
        return [sentence.get_labels("class")[0].value for sentence in sentences]

    for path in args.models:
        classifier = TextClassifier.load(path)
        with models_own_attention():
            reference = labels(classifier, "float32")
        row = {"model": path, "float32, sdpa": {
            "accuracy": sum(a == b for a, b in zip(reference, gold)) / len(gold)}}
        for precision in ("float32", "bfloat16", "int8"):
            found = labels(classifier, precision)
            row[precision] = {"accuracy": sum(a == b for a, b in zip(found, gold)) / len(gold),
                              "equal": sum(a == b for a, b in zip(found, reference))}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
