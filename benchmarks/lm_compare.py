"""tagkit against Flair 0.15.1: character-LM training speed and FlairEmbeddings embedding speed.

One run measures both systems, alternating tagkit and Flair, each measurement in a fresh
process (``flock /tmp/bench.lock`` around each, so no other benchmark on the machine overlaps
it), and prints the medians and the tagkit/Flair ratios as JSON (also ``OUT/lm_compare.json``).

* **LM training** (characters per second): a forward LM of the same size (``--hidden``, one
  layer, character embedding 100) on the same text (the first ``--train-chars`` characters of
  UD English EWT train's ``# text =`` lines, one split; dev's first 20k characters as
  valid.txt and test.txt), the same sequence length, batch and learning rate, one epoch:
  Flair's ``LanguageModelTrainer`` with its ``TextCorpus``, tagkit's with its own. Both use
  Flair's character dictionary (``common_characters``, 110 items), so the decoders have the
  same size. The figure is training characters / wall time of the whole ``train`` call (which
  for both includes one validation pass, saving the best model and the test pass).
* **Embedding** (tokens per second, seconds, peak memory): the EWT test set (2077 sentences,
  the CoNLL-U word lines, the same token lists for both) embedded with ``FlairEmbeddings`` in
  batches of 32, each system with the LM it trained in the first training repeat (Flair's from
  its own ``best-lm.pt``). After every batch the storage mode is applied: ``none`` drops the
  vectors, ``cpu`` keeps them (Flair: ``store_embeddings``; tagkit: the storage mode's
  ``after_batch``). Peak memory is the process's peak resident set (``ru_maxrss``) and its
  growth during the embedding. Every repeat runs both modes; ``*_ratio`` divides the medians,
  ``*_paired_ratio`` is the median of each repeat's tagkit/Flair ratio (runs next to each
  other, so less exposed to a load that drifts). Each worker embeds the set a second time, on
  fresh sentences (``warm_*``, ``*_warm_ratio``): the steady state of a process that has
  embedded before, without its first pass's one-off costs (kernels set up per new shape).
  ``--order file`` (the default) cuts the batches from the file's order, the same batches for
  both systems, as Flair's ``evaluate`` does. ``--order predict`` cuts them from the order each
  system's ``predict`` gives a whole set, sorted inside the timed pass: Flair's by token count
  (``sorted(sentences, key=len, reverse=True)``), tagkit's by the embedding's
  ``batching_lengths`` (characters, for FlairEmbeddings). ``--order tokens`` sorts both by
  token count (Flair's predict order; tagkit's before it sorted by characters). ``--order
  train`` embeds the batches each system's trainer would make of the set in a training epoch,
  where the storage modes matter: Flair's ``ModelTrainer`` shuffles and cuts batches of 32;
  tagkit's ``ModelTrainer`` makes its length-bucketed batches of 32 (seed 1, epoch 1) and
  embeds each as its two runs of 16 (``tagkit_core.trainer.batching``).

The training part also times the **floor**: a bare ``torch.nn.LSTM`` of the same size, forward
and backward over random input of the same shape (sequence length x batch x 100), as many
characters as the training text, nothing else (no embedding, dropout, decoder, loss, optimizer
or evaluation): what no trainer around that LSTM can beat. Its rate over Flair's is the most
any LM trainer could reach against Flair with that kernel. The floor's process keeps freed memory
for reuse as tagkit's trainer does (``tagkit_core.allocator``), so it stays a floor for tagkit;
Flair's processes run with malloc as Flair leaves it (the setting did not speed Flair's
trainer up: 42,178 characters/s without it, 40,355 with it, 2026-12-07).

``--precisions float32,bfloat16`` adds a tagkit row per precision (``precision=`` of
``LanguageModelTrainer.train`` and ``FlairEmbeddings``), each with its ratio to Flair (which
runs in float32); the embedding rows of a precision use the LM trained in float32
(``lm-tagkit-0``), or the first precision's where the run trains none in float32.
``--batch-threads 1,2`` adds a row per precision and value above 1 (``tagkit-bfloat16-t2``:
``LanguageModelTrainer.train(batch_threads=2)``; ``floor-bfloat16-t2``: the bare LSTM as two
half-batches in two threads, one core each). Embedding rows are the one-group ones only.

Two threads for both. About five minutes on two CPU cores with the defaults::

    python benchmarks/lm_compare.py --out bench-out/lm-compare

``--flair-python`` (default ``/work/flair-env/venv/bin/python``, run with
``FLAIR_CACHE_ROOT=/work/flair-env/flaircache``) is Flair's interpreter; this same file is its
worker (``--worker``: the functions of ``lm_compare_workers.py``), importing only Flair there.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from lm_compare_workers import (
    FLAIR_ENV,
    embed_worker,
    flair_characters,
    floor_worker,
    train_worker,
    write_corpus,
)

HERE = Path(__file__).resolve()

EMBED_KEYS = ("seconds", "tokens_per_second", "peak_rss_mb", "rss_growth_mb",
              "tokens_per_cpu_second", "warm_seconds", "warm_tokens_per_second")


def run_worker(python: str, argv: list[str], env: dict | None, lock: str) -> dict:
    command = (["flock", lock] if lock else []) + [python, str(HERE), *argv]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-chars", type=int, default=300_000,
                        help="training text (the worker gets the exact count)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--sequence-length", type=int, default=250)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--flair-python", default=str(FLAIR_ENV / "venv" / "bin" / "python"))
    parser.add_argument("--lock", default="/tmp/bench.lock",
                        help="flock file around each measurement ('' for none: smoke runs)")
    parser.add_argument("--phases", default="train,embed",
                        help="train (LM training speed), embed (needs the LMs a train phase "
                             "wrote to the same --out)")
    parser.add_argument("--worker", choices=["chars", "train", "floor", "embed"])
    parser.add_argument("--system", choices=["tagkit", "flair"])
    parser.add_argument("--corpus")
    parser.add_argument("--chars")
    parser.add_argument("--lm-out")
    parser.add_argument("--lm")
    parser.add_argument("--mode")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--precisions", default="float32",
                        help="tagkit's precisions, comma-separated (a row and a ratio each)")
    parser.add_argument("--order", choices=["file", "tokens", "predict", "train"], default="file",
                        help="embed: file (the same batches for both systems), tokens (both "
                             "sorted by token count), predict (each system's predict order) or "
                             "train (each system's training batches)")
    parser.add_argument("--batch-threads", default="1",
                        help="LanguageModelTrainer.train's batch_threads values, "
                             "comma-separated: a training row per precision and value (the "
                             "floor likewise runs the batch as that many threaded groups)")
    args = parser.parse_args(argv)

    if args.worker == "chars":
        flair_characters(Path(args.chars))
        return 0
    if args.worker in ("train", "floor"):
        work = train_worker if args.worker == "train" else floor_worker
        print(json.dumps(work(args)), flush=True)
        return 0
    if args.worker == "embed":
        print(json.dumps(embed_worker(args)), flush=True)
        return 0

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    flair_env = {**os.environ, "FLAIR_CACHE_ROOT": str(FLAIR_ENV / "flaircache")}
    precisions = args.precisions.split(",")
    # A row per tagkit precision ("tagkit" is float32, "tagkit-bfloat16"...), then Flair.
    # ... and per --batch-threads value above 1 ("tagkit-bfloat16-t2": batch_threads=2).
    tagkit_rows = {"tagkit" + ("" if p == "float32" else f"-{p}") + ("" if t == 1 else f"-t{t}"):
                   (p, t) for p in precisions for t in map(int, args.batch_threads.split(","))}
    systems = [*tagkit_rows, "flair"]
    pythons = {**{name: sys.executable for name in tagkit_rows}, "flair": args.flair_python}
    envs = {**{name: None for name in tagkit_rows}, "flair": flair_env}

    def worker_argv(name: str) -> list[str]:
        system = "flair" if name == "flair" else "tagkit"
        precision, threads = tagkit_rows.get(name, ("float32", 1))
        return ["--system", system, "--precision", precision, "--batch-threads", str(threads)]

    phases = args.phases.split(",")

    def embedding_lms() -> dict[str, Path] | None:
        """The LMs the embedding phase reads (repeat 0's): Flair's, and tagkit's float32 one or,
        where there is none, its first precision's; None if one is missing."""
        tagkit = [out / f"lm-{name}-0" / "best-lm.pt" for name in ("tagkit", *tagkit_rows)]
        lms = {"flair": out / "lm-flair-0" / "best-lm.pt",
               "tagkit": next((path for path in tagkit if path.exists()), tagkit[0])}
        return lms if all(path.exists() for path in lms.values()) else None

    if "embed" in phases and "train" not in phases and embedding_lms() is None:
        raise SystemExit(f"--phases embed reads lm-flair-0/ and lm-tagkit-0/ (or lm-<row>-0/) "
                         f"under {out}: train them first (--phases train,embed), or copy them "
                         "there")

    chars_file = out / "chars.json"
    run_worker_plain = [args.flair_python, str(HERE), "--out", str(out), "--worker", "chars",
                        "--chars", str(chars_file)]
    subprocess.run(run_worker_plain, check=True, env=flair_env)
    train_chars = write_corpus(out / "corpus", args.train_chars)
    common = ["--out", str(out), "--threads", str(args.threads), "--hidden", str(args.hidden),
              "--order", args.order]
    # The floor per precision ("floor" is float32, "floor-bfloat16"...), in the same rotation.
    floors = {name.replace("tagkit", "floor"): p for name, p in tagkit_rows.items()}
    runs: dict = {"train": {name: [] for name in [*systems, *floors]}}
    for repeat in range(args.repeats if "train" in phases else 0):
        order = [*systems, *floors]
        for name in (order if repeat % 2 == 0 else order[::-1]):
            if name in floors:
                row = run_worker(sys.executable, [
                    *common, "--worker", "floor", "--precision", floors[name][0],
                    "--batch-threads", str(floors[name][1]),
                    "--sequence-length", str(args.sequence_length), "--batch",
                    str(args.batch), "--train-chars", str(train_chars)], None, args.lock)
                runs["train"][name].append(row)
                print(json.dumps({"train": name, "repeat": repeat, **row}), flush=True)
                continue
            row = run_worker(pythons[name], [
                *common, "--worker", "train", *worker_argv(name), "--corpus",
                str(out / "corpus"), "--chars", str(chars_file), "--lm-out",
                str(out / f"lm-{name}-{repeat}"), "--sequence-length",
                str(args.sequence_length), "--batch", str(args.batch),
                "--train-chars", str(train_chars)], envs[name], args.lock)
            runs["train"][name].append(row)
            print(json.dumps({"train": name, "repeat": repeat, **row}), flush=True)
    modes = ("none", "cpu") if "embed" in phases else ()
    # batch_threads is the trainer's: the embedding rows are the one-group ones.
    embedders = [name for name in systems if tagkit_rows.get(name, ("", 1))[1] == 1]
    runs.update({mode: {name: [] for name in embedders} for mode in modes})
    lms = embedding_lms() if modes else {}
    # Both modes in every repeat, their order and the systems' alternating: a load that drifts
    # over minutes then weighs on both modes alike (one block per mode gave the later mode a
    # noisier machine: 2026-12-06, a 0.24 s gap that separate runs did not reproduce).
    for repeat in range(args.repeats if modes else 0):
        for mode in (modes if repeat % 2 == 0 else modes[::-1]):
            order = embedders if repeat % 2 == 0 else embedders[::-1]
            for name in order:
                lm = lms["flair" if name == "flair" else "tagkit"]
                row = run_worker(pythons[name], [
                    *common, "--worker", "embed", *worker_argv(name), "--mode", mode,
                    "--lm", str(lm)], envs[name], args.lock)
                runs[mode][name].append(row)
                print(json.dumps({"embed": name, "mode": mode, "repeat": repeat, **row}),
                      flush=True)

    def median(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    summary: dict = {"train_chars": train_chars, "hidden": args.hidden, "order": args.order,
                     "sequence_length": args.sequence_length, "batch": args.batch,
                     "threads": args.threads, "repeats": args.repeats,
                     "embedding_lms": {owner: str(path) for owner, path in lms.items()}}
    if runs["train"]["flair"]:
        flair_speed = median(runs["train"]["flair"], "chars_per_second")
        summary["train"] = {"flair_chars_per_second": flair_speed}
        for name in [*tagkit_rows, *floors]:
            speed = median(runs["train"][name], "chars_per_second")
            summary["train"][f"{name}_chars_per_second"] = speed
            summary["train"][f"{name}_ratio"] = round(speed / flair_speed, 2)
            summary["train"][f"{name}_cpu_ratio"] = round(
                median(runs["train"][name], "chars_per_cpu_second")
                / median(runs["train"]["flair"], "chars_per_cpu_second"), 2)
    for mode in modes:
        f = runs[mode]["flair"]
        summary[f"embed_{mode}"] = {f"flair_{key}": median(f, key) for key in EMBED_KEYS}
        for name in (n for n in tagkit_rows if n in runs[mode]):
            t = runs[mode][name]
            summary[f"embed_{mode}"].update(
                {f"{name}_{key}": median(t, key) for key in EMBED_KEYS})
            summary[f"embed_{mode}"][f"{name}_ratio"] = round(
                median(t, "tokens_per_second") / median(f, "tokens_per_second"), 2)
            summary[f"embed_{mode}"][f"{name}_cpu_ratio"] = round(
                median(t, "tokens_per_cpu_second") / median(f, "tokens_per_cpu_second"), 2)
            summary[f"embed_{mode}"][f"{name}_warm_ratio"] = round(
                median(t, "warm_tokens_per_second") / median(f, "warm_tokens_per_second"), 2)
            # Each repeat's tagkit and Flair ran minutes apart at most: their ratio, median.
            summary[f"embed_{mode}"][f"{name}_paired_ratio"] = round(statistics.median(
                a["tokens_per_second"] / b["tokens_per_second"] for a, b in zip(t, f)), 2)
    (out / "lm_compare.json").write_text(json.dumps({"summary": summary, "runs": runs},
                                                    indent=2) + "\n")
    print(json.dumps(summary, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
