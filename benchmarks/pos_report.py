"""The measurement both POS benchmark scripts end with, so tagkit and Flair are measured alike.

Plain Python (no tagkit or Flair import): each script runs in its own environment and imports
this module from the benchmarks folder.
"""

import json
import os
import resource
import time


def report(system, args, tagger, corpus, sentence_cls, epoch_seconds, test_score,
           load_seconds):
    """Time ``predict`` on new text and print the run's figures as one JSON line.

    New text means fresh sentence objects built from the test words, so nothing the final
    evaluation computed or stored on the corpus's sentences is reused.
    """
    test = [sentence_cls([token.text for token in sentence]) for sentence in corpus.test]
    tokens = sum(len(s) for s in test)
    started = time.perf_counter()
    tagger.predict(test, mini_batch_size=32)
    predict_seconds = time.perf_counter() - started
    print(json.dumps({
        "system": system, "epochs": args.epochs, "chars": args.chars,
        "epoch_seconds": epoch_seconds, "test_accuracy": test_score,
        "predict_tokens_per_second": tokens / predict_seconds,
        "predict_sentences_per_second": len(test) / predict_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "model_file_mb": os.path.getsize(os.path.join(args.out, "final-model.pt")) / 2**20,
        "corpus_load_seconds": load_seconds,
    }))
