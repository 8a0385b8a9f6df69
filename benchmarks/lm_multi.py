"""The tutorial's multi-dataset block, full size, with a multilingual LM trained by tagkit.

1. A forward and a backward character LM on English and German text: the ``# text =`` lines
   of UD English EWT train (the first ``--english-chars`` characters) and of UD German GSD dev
   (all but its last 80 sentences), one train split per language; validation: EWT dev's first
   300 sentences and GSD dev's last 80; test: EWT test's and GSD test's first 300 each.
2. ``MultiCorpus([UD_ENGLISH(), german]).downsample(0.1)``, where ``german`` is
   ``UniversalDependenciesCorpus`` with GSD dev as train and GSD test as test (the GSD train
   file is absent here; dev is then sampled from train); label type ``upos``.
3. The tutorial's tagger: ``StackedEmbeddings([FlairEmbeddings(fw), FlairEmbeddings(bw)])``,
   ``SequenceTagger(hidden_size=256, use_crf=True)``, learning rate 0.1, batch 32,
   ``--epochs`` epochs (the tutorial's 150 are cut), storage mode ``cpu``.

Prints the LMs' test perplexities and the tagger's overall and per-corpus test accuracy (the
``Result.scores`` entries ``ud_english_accuracy`` and ``ud_german_gsd_accuracy``) and the
per-corpus columns of loss.tsv, as JSON (also ``OUT/lm_multi.json``)::

    python benchmarks/lm_multi.py --out bench-out/lm-multi

The CI version of this (tiny LM, tiny sample, one epoch) is
tagkit_plugins/flair_embeddings/tests/test_multilingual.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parent.parent / "shared" / "datasets"


def sentence_texts(path: Path) -> list[str]:
    prefix = "# text = "
    with open(path, encoding="utf-8") as handle:
        return [line[len(prefix):].rstrip("\n") for line in handle if line.startswith(prefix)]


def write_corpus(data: Path, folder: Path, english_chars: int) -> list[str]:
    """Flair's layout in ``folder``; returns all training lines (for the dictionary)."""
    english, total = [], 0
    for text in sentence_texts(data / "ud_english_ewt" / "en_ewt-ud-train.conllu"):
        if total >= english_chars:
            break
        english.append(text)
        total += len(text) + 1
    german_dev = sentence_texts(data / "ud_german_gsd" / "de_gsd-ud-dev.conllu")
    german = german_dev[:-80]
    (folder / "train").mkdir(parents=True, exist_ok=True)
    (folder / "train" / "english").write_text("\n".join(english) + "\n", encoding="utf-8")
    (folder / "train" / "german").write_text("\n".join(german) + "\n", encoding="utf-8")
    valid = sentence_texts(data / "ud_english_ewt" / "en_ewt-ud-dev.conllu")[:300] \
        + german_dev[-80:]
    test = sentence_texts(data / "ud_english_ewt" / "en_ewt-ud-test.conllu")[:300] \
        + sentence_texts(data / "ud_german_gsd" / "de_gsd-ud-test.conllu")[:300]
    (folder / "valid.txt").write_text("\n".join(valid) + "\n", encoding="utf-8")
    (folder / "test.txt").write_text("\n".join(test) + "\n", encoding="utf-8")
    return english + german


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATASETS)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--english-chars", type=int, default=400_000)
    parser.add_argument("--hidden", type=int, default=128, help="the LMs' hidden size")
    parser.add_argument("--lm-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5, help="the tagger's epochs")
    parser.add_argument("--fraction", type=float, default=0.1, help="downsample fraction")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import torch

    from tagkit_core.corpus import MultiCorpus
    from tagkit_core.embeddings import StackedEmbeddings
    from tagkit_core.seeding import set_seed
    from tagkit_core.trainer import ModelTrainer
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_datasets import UD_ENGLISH, UniversalDependenciesCorpus
    from tagkit_flair_embeddings import (
        FlairEmbeddings,
        LanguageModel,
        LanguageModelTrainer,
        TextCorpus,
        character_dictionary,
    )

    torch.set_num_threads(args.threads)
    report: dict = {"english_chars": args.english_chars, "hidden": args.hidden,
                    "lm_epochs": args.lm_epochs, "epochs": args.epochs}
    corpus_dir = args.out / "lm-corpus"
    lines = write_corpus(args.data, corpus_dir, args.english_chars)
    dictionary = character_dictionary(lines + ["\n"])
    for direction in ("forward", "backward"):
        forward = direction == "forward"
        set_seed(args.seed)
        lm = LanguageModel(dictionary, is_forward_lm=forward, hidden_size=args.hidden)
        started = time.perf_counter()
        result = LanguageModelTrainer(lm, TextCorpus(corpus_dir, dictionary, forward)).train(
            args.out / direction, sequence_length=250, mini_batch_size=32,
            max_epochs=args.lm_epochs, seed=args.seed, log_every=50)
        report[f"{direction}_test_perplexity"] = round(result["test_perplexity"], 3)
        report[f"{direction}_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps({direction: report[f"{direction}_test_perplexity"]}), flush=True)

    gsd = args.data / "ud_german_gsd"
    german = UniversalDependenciesCorpus(gsd, train_file=gsd / "de_gsd-ud-dev.conllu",
                                         test_file=gsd / "de_gsd-ud-test.conllu",
                                         name="ud_german_gsd")
    corpus = MultiCorpus([UD_ENGLISH(), german]).downsample(args.fraction)
    print(corpus, flush=True)
    tag_dictionary = corpus.make_tag_dictionary("upos")
    set_seed(args.seed)
    embeddings = StackedEmbeddings([FlairEmbeddings(str(args.out / "forward" / "best-lm.pt")),
                                    FlairEmbeddings(str(args.out / "backward" / "best-lm.pt"))])
    tagger = SequenceTagger(hidden_size=256, embeddings=embeddings,
                            tag_dictionary=tag_dictionary, tag_type="upos", use_crf=True)
    started = time.perf_counter()
    result = ModelTrainer(tagger, corpus).train(
        args.out / "tagger", learning_rate=0.1, mini_batch_size=32, max_epochs=args.epochs,
        embeddings_storage_mode="cpu", seed=args.seed, show_progress=False)
    report["tagger_seconds"] = round(time.perf_counter() - started, 1)
    report["sentences"] = {c.name: [len(c.train), len(c.dev), len(c.test)]
                           for c in corpus.corpora}
    report["test_scores"] = {k: round(v, 4) for k, v in result["test_scores"].items()}
    rows = (args.out / "tagger" / "loss.tsv").read_text().splitlines()
    header, last = rows[0].split("\t"), rows[-1].split("\t")
    report["loss_tsv_last_epoch"] = {h: v for h, v in zip(header, last) if "_ACCURACY" in h}
    (args.out / "lm_multi.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
