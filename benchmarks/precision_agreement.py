"""How many predictions ``predict(precision=...)`` changes against float32, per saved model.

    python benchmarks/precision_agreement.py bench-out/tagkit-glove/final-model.pt [...]
    python benchmarks/precision_agreement.py bench-out/s31-trec/tk-s*/final-model.pt [...]

A SequenceTagger (of UPOS tags, under any tag type) tags UD English test's 2,077 sentences
(as new text) in float32 and bfloat16; one JSON line per model: tokens, tags that differ, each
precision's accuracy against the gold UPOS tags.

A TextClassifier classifies TREC-6's 500 test questions (as new text): in float32 with the
model's own attention kernel (``sdpa``: what prediction ran before
``tagkit_transformers.cpu_attention``), then in float32, bfloat16 and int8 as ``predict`` runs
them now; one JSON line per model: each run's accuracy and how many of its labels equal the
first run's.
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


def tagger_row(path: str, tagger) -> dict:
    from tagkit_core.data import Sentence
    from tagkit_datasets import UD_ENGLISH

    test = list(UD_ENGLISH().test)
    gold = [token.get_tag("upos") for sentence in test for token in sentence]
    tags = {}
    for precision in ("float32", "bfloat16"):
        sentences = [Sentence([token.text for token in s]) for s in test]
        tagger.predict(sentences, mini_batch_size=32, precision=precision)
        tags[precision] = [token.get_tag(tagger.tag_type) for s in sentences for token in s]
    return {"model": path, "tokens": len(gold),
            "tags_that_differ": sum(a != b for a, b in zip(tags["float32"], tags["bfloat16"])),
            **{f"accuracy_{p}": sum(t == g for t, g in zip(tags[p], gold)) / len(gold)
               for p in tags}}


def classifier_row(path: str, classifier) -> dict:
    from tagkit_core.data import Sentence
    from tagkit_datasets import TREC_6

    test = list(TREC_6().test)
    texts = [[token.text for token in sentence] for sentence in test]
    gold = [sentence.get_labels("class")[0].value for sentence in test]

    def labels(precision):
        sentences = [Sentence(words) for words in texts]
        classifier.predict(sentences, mini_batch_size=32, precision=precision)
        return [sentence.get_labels("class")[0].value for sentence in sentences]

    with models_own_attention():
        reference = labels("float32")
    row = {"model": path, "float32, sdpa": {
        "accuracy": sum(a == b for a, b in zip(reference, gold)) / len(gold)}}
    for precision in ("float32", "bfloat16", "int8"):
        found = labels(precision)
        row[precision] = {"accuracy": sum(a == b for a, b in zip(found, gold)) / len(gold),
                          "equal": sum(a == b for a, b in zip(found, reference))}
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from tagkit_core.persistence import load_model

    for path in args.models:
        model = load_model(path)
        row = (classifier_row if type(model).__name__ == "TextClassifier" else tagger_row)(
            path, model)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
