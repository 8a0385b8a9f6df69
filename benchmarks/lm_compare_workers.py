"""The workers of ``lm_compare.py``: one measurement each, in a fresh process.

``lm_compare.py --worker chars|train|floor|embed`` calls these, in tagkit's interpreter or in
Flair's (a worker imports only the system it measures, inside the function), and prints the
returned dict as one JSON line. The driver, the alternation and the summary are in
``lm_compare.py``; what is measured is described in its module docstring.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# lm_train.py beside this file imports neither tagkit nor Flair, so Flair's worker can use it.
from lm_train import head_chars, sentence_texts

HERE = Path(__file__).resolve()
EWT = HERE.parent.parent.parent / "shared" / "datasets" / "ud_english_ewt"
FLAIR_ENV = Path("/work/flair-env")
COMMON_CHARACTERS = FLAIR_ENV / "flaircache" / "datasets" / "common_characters"


def conllu_tokens(path: Path) -> list[list[str]]:
    """The word forms of every sentence (multi-word token ranges and empty nodes skipped)."""
    sentences, words = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line:
                if words:
                    sentences.append(words)
                words = []
            elif not line.startswith("#"):
                cols = line.split("\t")
                if cols[0].isdigit():
                    words.append(cols[1])
    if words:
        sentences.append(words)
    return sentences


def write_corpus(folder: Path, train_chars: int) -> int:
    """Flair's layout; returns the training characters (newlines included)."""
    train = head_chars(sentence_texts(EWT / "en_ewt-ud-train.conllu"), train_chars)
    (folder / "train").mkdir(parents=True, exist_ok=True)
    (folder / "train" / "train_split_1").write_text("\n".join(train) + "\n", encoding="utf-8")
    dev = head_chars(sentence_texts(EWT / "en_ewt-ud-dev.conllu"), 20_000)
    for name in ("valid.txt", "test.txt"):
        (folder / name).write_text("\n".join(dev) + "\n", encoding="utf-8")
    return sum(len(t) + 1 for t in train)


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- workers (one per process)

def flair_characters(out: Path) -> None:
    from flair.data import Dictionary

    dictionary = Dictionary.load_from_file(str(COMMON_CHARACTERS))
    items = [item.decode("utf-8") for item in dictionary.idx2item]
    out.write_text(json.dumps(items), encoding="utf-8")


def warm_up_optimizer() -> None:
    """One SGD step on a scalar. A process's first optimizer step makes torch import its
    compiler stack (``torch._dynamo``, sympy: 2 to 6 s here); importing flair already does
    that, importing tagkit does not, so without this the tagkit figure alone would carry it.
    Both workers take the step before the clock starts."""
    import torch

    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    weight.sum().backward()
    optimizer.step()


def train_worker(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    warm_up_optimizer()
    lm_out = Path(args.lm_out)
    if args.system == "flair":
        from flair.data import Dictionary
        from flair.models import LanguageModel
        from flair.trainers.language_model_trainer import LanguageModelTrainer, TextCorpus

        dictionary = Dictionary.load_from_file(str(COMMON_CHARACTERS))
        lm = LanguageModel(dictionary, is_forward_lm=True, hidden_size=args.hidden, nlayers=1)
        corpus = TextCorpus(args.corpus, dictionary, forward=True, character_level=True)
        trainer = LanguageModelTrainer(lm, corpus)
        cpu_started, started = time.process_time(), time.perf_counter()
        trainer.train(lm_out, sequence_length=args.sequence_length,
                      mini_batch_size=args.batch, learning_rate=20, max_epochs=1)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    else:
        from tagkit_flair_embeddings import (
            LanguageModel,
            LanguageModelTrainer,
            TextCorpus,
            character_dictionary,
        )

        items = json.loads(Path(args.chars).read_text(encoding="utf-8"))
        dictionary = character_dictionary(["".join(i for i in items if len(i) == 1)])
        lm = LanguageModel(dictionary, is_forward_lm=True, hidden_size=args.hidden, nlayers=1)
        corpus = TextCorpus(args.corpus, dictionary, forward=True)
        cpu_started, started = time.process_time(), time.perf_counter()
        LanguageModelTrainer(lm, corpus).train(
            lm_out, sequence_length=args.sequence_length, mini_batch_size=args.batch,
            learning_rate=20, max_epochs=1, log_every=1000, precision=args.precision,
            batch_threads=int(args.batch_threads))
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    chars = int(args.train_chars)
    return {"seconds": round(seconds, 2), "chars_per_second": round(chars / seconds),
            "chars_per_cpu_second": round(chars / cpu_seconds), "dictionary": len(dictionary)}


def floor_worker(args: argparse.Namespace) -> dict:
    """The bare LSTM's forward and backward at the benchmark's sizes (see the module doc)."""
    import torch

    from tagkit_core.allocator import keep_freed_memory

    keep_freed_memory()  # as tagkit's trainer does: the floor runs with the same malloc
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(100, args.hidden)
    inputs = torch.randn(args.sequence_length, args.batch, 100)
    steps = max(1, int(args.train_chars) // (args.sequence_length * args.batch))

    groups = int(args.batch_threads)
    bounds = [args.batch * i // groups for i in range(groups + 1)]
    if groups > 1:
        torch.set_num_threads(1)
    pool = ThreadPoolExecutor(groups - 1) if groups > 1 else None

    def half(start: int, stop: int) -> None:
        if groups > 1:
            torch.set_num_threads(1)  # the pool thread's own setting
        with torch.autocast("cpu", dtype=torch.bfloat16,
                            enabled=args.precision == "bfloat16"):
            output, _ = lstm(inputs[:, start:stop])
        output.float().sum().backward()

    def step() -> None:
        futures = [pool.submit(half, a, b) for a, b in zip(bounds[1:-1], bounds[2:])] \
            if pool else []
        half(bounds[0], bounds[1])
        for future in futures:
            future.result()

    step()  # oneDNN sets its kernels up for the shape once
    cpu_started, started = time.process_time(), time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - started
    chars = steps * args.sequence_length * args.batch
    return {"seconds": round(seconds, 2), "chars_per_second": round(chars / seconds),
            "chars_per_cpu_second": round(chars / (time.process_time() - cpu_started))}


def embed_worker(args: argparse.Namespace) -> dict:
    """Embed EWT test twice, each time on fresh sentences: the first pass is the figure (a
    cold process, as a user's one-off run), the second (``warm_*``) the steady state of a
    process that has embedded before (an epoch after the first, a long prediction run)."""
    import torch

    torch.set_num_threads(args.threads)
    words = conllu_tokens(EWT / "en_ewt-ud-test.conllu")
    tokens = sum(len(w) for w in words)
    if args.system == "flair":
        from flair.data import Sentence
        from flair.embeddings import FlairEmbeddings
        from flair.training_utils import store_embeddings

        embedding = FlairEmbeddings(str(args.lm))

        def embed(batch):
            embedding.embed(batch)
            store_embeddings(batch, args.mode)

        def kept(sentences):
            return sum(1 for s in sentences for t in s if t.get_embedding().numel())

        def predict_order(sentences):  # flair.models.SequenceTagger.predict's sort
            return sorted(sentences, key=len, reverse=True)

        def train_batches(sentences):  # ModelTrainer's DataLoader: shuffled batches of 32
            order = list(sentences)
            random.Random(1).shuffle(order)
            return [order[i: i + 32] for i in range(0, len(order), 32)]
    else:
        from tagkit_core.data import Sentence
        from tagkit_core.storage import resolve_storage_mode
        from tagkit_flair_embeddings import FlairEmbeddings

        embedding = FlairEmbeddings(str(args.lm), precision=args.precision)
        mode = resolve_storage_mode(args.mode, torch.device("cpu"))

        def embed(batch):
            with torch.no_grad():
                embedding(batch, storage=mode)
            mode.after_batch(batch)

        def kept(sentences):
            return sum(len(s) for s in sentences if embedding.name in s.embeddings)

        def predict_order(sentences):  # SequenceTagger.predict's sort
            from tagkit_core.embeddings import longest_first

            return longest_first(embedding, sentences)

        def train_batches(sentences):  # ModelTrainer's batches (seed 1, epoch 1) and chunks
            from tagkit_core.trainer.batching import (
                by_length,
                chunk,
                group_chunk_size,
                make_batches,
            )

            batches = make_batches(sentences, [len(s) for s in sentences], 32, shuffle=True,
                                   bucketing=True, seed=1, epoch=1, groups=2)
            return [part for batch in batches
                    for part in chunk(by_length(batch), group_chunk_size(32, 2))]

    def one_pass() -> tuple[float, float, list]:
        sentences = [Sentence(w) for w in words]
        cpu_started, started = time.process_time(), time.perf_counter()
        if args.order == "predict":
            sentences = predict_order(sentences)
        elif args.order == "tokens":
            sentences = sorted(sentences, key=len, reverse=True)
        if args.order == "train":
            for batch in train_batches(sentences):
                embed(batch)
        else:
            for i in range(0, len(sentences), 32):
                embed(sentences[i: i + 32])
        return time.perf_counter() - started, time.process_time() - cpu_started, sentences

    before = rss_mb()
    seconds, cpu_seconds, sentences = one_pass()
    result = {"seconds": round(seconds, 3), "tokens_per_second": round(tokens / seconds),
              "cpu_seconds": round(cpu_seconds, 3),
              "tokens_per_cpu_second": round(tokens / cpu_seconds),
              "tokens": tokens, "tokens_kept": kept(sentences),
              "peak_rss_mb": round(peak_mb(), 1), "rss_growth_mb": round(peak_mb() - before, 1)}
    del sentences
    warm_seconds, _, _ = one_pass()
    result.update(warm_seconds=round(warm_seconds, 3),
                  warm_tokens_per_second=round(tokens / warm_seconds))
    return result


# ---------------------------------------------------------------- the driver
