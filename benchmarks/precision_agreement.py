"""How many tags ``predict(precision="bfloat16")`` changes against float32, on UD English test.

    python benchmarks/precision_agreement.py bench-out/tagkit-glove/final-model.pt [...]

Tags the 2,077 test sentences (as new text) both ways with each saved SequenceTagger and prints
one JSON line per model: tokens, tags that differ, and each precision's accuracy.
"""

import argparse
import json

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from tagkit_core.data import Sentence
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_datasets import UD_ENGLISH

    test = list(UD_ENGLISH().test)
    gold = [token.get_tag("upos") for sentence in test for token in sentence]
    for path in args.models:
        tagger = SequenceTagger.load(path)
        tags = {}
        for precision in ("float32", "bfloat16"):
            sentences = [Sentence([token.text for token in s]) for s in test]
            tagger.predict(sentences, mini_batch_size=32, precision=precision)
            tags[precision] = [token.get_tag("upos") for s in sentences for token in s]
        print(json.dumps({
            "model": path, "tokens": len(gold),
            "tags_that_differ": sum(a != b for a, b in zip(tags["float32"], tags["bfloat16"])),
            **{f"accuracy_{p}": sum(t == g for t, g in zip(tags[p], gold)) / len(gold)
               for p in tags}}))


if __name__ == "__main__":
    main()
