"""The measurement both POS benchmark scripts end with, so tagkit and Flair are measured alike.

Plain Python (no tagkit or Flair import): each script runs in its own environment and imports
this module from the benchmarks folder.
"""

import json
import os
import resource
import statistics
import time


def report(system, args, tagger, corpus, sentence_cls, epoch_seconds, test_score,
           load_seconds, variants=None):
    """Time ``predict`` two ways and print the run's figures as one JSON line.

    1. ``predict(test, mini_batch_size=32)`` on the corpus's own test sentences, right after
       training, as ../shared/flair-reference/FIGURES.md measured Flair. Stored embeddings (and
       tagkit's per-sentence cache of ids) are cleared first, so nothing the final evaluation
       computed is reused.
    2. The same on new text: fresh sentence objects built from the test words, three times
       (a new set each time); the median counts. Flair's figure moves a lot from call to call
       (Python's garbage collector scans the whole corpus when a full collection falls inside
       a call), so every call's figure is printed too. The accuracy of these predictions
       against the gold tags is reported with them.

    ``variants`` maps a name to extra ``predict`` keyword arguments (tagkit's
    ``{"bfloat16": {"precision": "bfloat16"}}``): each is timed as in 2, after the default.
    """
    corpus_test = list(corpus.test)
    # predict() below writes its tags over the gold ones (label name = tag type, in both
    # systems), so the gold tags are read first.
    gold = [[token.get_label("upos").value for token in sentence] for sentence in corpus_test]
    for sentence in corpus_test:
        sentence.clear_embeddings()
        if hasattr(sentence, "cache"):  # tagkit: word ids, tag ids... computed by the evaluation
            sentence.cache.clear()
    tokens = sum(len(s) for s in corpus_test)
    started = time.perf_counter()
    tagger.predict(corpus_test, mini_batch_size=32)
    corpus_seconds = time.perf_counter() - started
    fresh = {name: _time_fresh(tagger, corpus_test, gold, sentence_cls, options, tokens)
             for name, options in [("default", {})] + list((variants or {}).items())}
    default = fresh.pop("default")
    print(json.dumps({
        "system": system, "epochs": args.epochs, "chars": args.chars,
        "epoch_seconds": epoch_seconds, "test_accuracy": test_score,
        "predict_tokens_per_second": default["tokens_per_second"],
        "predict_sentences_per_second": default["sentences_per_second"],
        "predict_accuracy": default["accuracy"],
        "predict_corpus_test_tokens_per_second": tokens / corpus_seconds,
        "predict_fresh_tokens_per_second_each": default["each"],
        "predict_variants": fresh,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "model_file_mb": os.path.getsize(os.path.join(args.out, "final-model.pt")) / 2**20,
        "corpus_load_seconds": load_seconds,
    }))


def _time_fresh(tagger, corpus_test, gold, sentence_cls, options, tokens):
    """Three ``predict`` calls on new sentences made of the test words: median and each call's
    tokens/s, and the accuracy of the last call's tags against the gold ``upos`` tags."""
    seconds = []
    for _ in range(3):
        test = [sentence_cls([token.text for token in sentence]) for sentence in corpus_test]
        started = time.perf_counter()
        tagger.predict(test, mini_batch_size=32, **options)
        seconds.append(time.perf_counter() - started)
    correct = sum(token.get_label("upos").value == tag
                  for predicted, reference in zip(test, gold)
                  for token, tag in zip(predicted, reference))
    median = statistics.median(seconds)
    return {"tokens_per_second": tokens / median,
            "sentences_per_second": len(test) / median,
            "each": [tokens / s for s in seconds], "accuracy": correct / tokens,
            "options": options}
