"""A long-lived prediction process for predict_compare.py, for tagkit or Flair.

Loads a saved SequenceTagger and the UD English EWT test words (read from the CoNLL-U file
here, so both systems get the very same input), prints ``ready``, then answers each line of
JSON on stdin (``{"options": {...}}``: extra ``predict`` arguments) with one line of JSON: the
seconds of one ``predict(fresh sentences, mini_batch_size=32)`` call and the accuracy of the
tags it wrote. Plain Python apart from the system's own imports.
"""

import argparse
import json
import sys
import time

import torch
from conllu_text import read_sentences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=["tagkit", "flair"])
    parser.add_argument("model")
    parser.add_argument("test_file")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.system == "tagkit":
        from tagkit_core.data import Sentence
        from tagkit_crf_tagger import SequenceTagger
    else:
        from flair.data import Sentence
        from flair.models import SequenceTagger
    tagger = SequenceTagger.load(args.model)
    test = read_sentences(args.test_file)
    gold = [tag for _, tags in test for tag in tags]
    print("ready", flush=True)
    for line in sys.stdin:
        options = json.loads(line).get("options", {})
        sentences = [Sentence(list(words)) for words, _ in test]
        started = time.perf_counter()
        tagger.predict(sentences, mini_batch_size=32, **options)
        seconds = time.perf_counter() - started
        predicted = [token.get_label("upos").value for s in sentences for token in s]
        correct = sum(p == g for p, g in zip(predicted, gold))
        print(json.dumps({"seconds": seconds, "tokens": len(gold),
                          "accuracy": correct / len(gold)}), flush=True)


if __name__ == "__main__":
    main()
