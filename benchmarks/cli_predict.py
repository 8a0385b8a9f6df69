"""``tagkit predict`` on a 100,000-line text file against the Python API: tokens/s and peak RSS.

What it does:

1. Builds plain-text inputs, one sentence per line, from the ``# text = `` lines of the UD
   English EWT CoNLL-U files (train, dev, test: 16,622 sentences), repeated: ``--lines`` lines
   (100,000) and ``--small-lines`` (10,000), plus an empty file.
2. Takes ``--model PATH``, or trains a small tagger: 1 epoch on 10% of UD_ENGLISH (upos), GloVe
   6B 50d, hidden size 256, CRF (the tutorial's tagger, shortened).
3. Runs ``tagkit predict MODEL FILE -o OUT`` as a child process under ``/usr/bin/time -v`` on
   each input: wall time and the child's peak RSS. The empty file measures start-up (imports,
   model loading), which is subtracted to get the command's prediction rate.
4. Runs the Python API in a child process the way a user writes it: read every line, build
   every ``Sentence(line)``, ``model.predict(sentences, mini_batch_size=...)``; its sentence
   building and prediction are timed separately, and its peak RSS is measured the same way.

Both children get the same thread count (``--threads``, through OMP_NUM_THREADS and
``torch.set_num_threads``) and mini-batch size. Tokens are counted with the core tokenizer the
command uses. Prints a table and one JSON object (the last line).

    python benchmarks/cli_predict.py [--model PATH] [--out bench-out/cli_predict]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

EWT = "ud_english_ewt"
TIME = "/usr/bin/time"


def build_inputs(datasets: Path, out: Path, lines: int, small: int) -> dict[str, Path]:
    texts = []
    for split in ("train", "dev", "test"):
        with open(datasets / EWT / f"en_ewt-ud-{split}.conllu", encoding="utf-8") as handle:
            texts += [line[len("# text = "):].rstrip("\n") for line in handle
                      if line.startswith("# text = ")]
    paths = {}
    for name, count in (("big", lines), ("small", small), ("empty", 0)):
        path = out / f"input-{name}.txt"
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines(texts[i % len(texts)] + "\n" for i in range(count))
        paths[name] = path
    return paths


def count_tokens(path: Path) -> int:
    from tagkit_core.tokenization import tokenize

    with open(path, encoding="utf-8") as handle:
        return sum(len(tokenize(line.rstrip("\n"))) for line in handle)


def train_small_tagger(out: Path) -> Path:
    from tagkit_core import set_seed
    from tagkit_core.trainer import ModelTrainer
    from tagkit_crf_tagger import SequenceTagger
    from tagkit_datasets import UD_ENGLISH
    from tagkit_embeddings import WordEmbeddings

    set_seed(1)
    corpus = UD_ENGLISH().downsample(0.1)
    tagger = SequenceTagger(WordEmbeddings("glove"), corpus.make_tag_dictionary("upos"), "upos",
                            hidden_size=256)
    ModelTrainer(tagger, corpus).train(out / "tagger", learning_rate=0.1, mini_batch_size=32,
                                       max_epochs=1, seed=1)
    return out / "tagger" / "final-model.pt"


def timed_child(command: list[str], threads: int) -> dict:
    """Run ``command`` under ``/usr/bin/time -v``: wall seconds, peak RSS (MB), its stdout."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    started = time.perf_counter()
    done = subprocess.run([TIME, "-v", *command], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
    return {"wall_s": wall, "peak_rss_mb": rss_kb / 1024, "stdout": done.stdout}


def api_worker(model_path: str, input_path: str, mini_batch_size: int, threads: int) -> None:
    """The Python API as a user writes it; prints the phases' seconds as JSON."""
    import torch

    torch.set_num_threads(threads)
    from tagkit_core.data import Sentence
    from tagkit_core.persistence import load_model

    model = load_model(model_path, device="cpu")
    started = time.perf_counter()
    with open(input_path, encoding="utf-8") as handle:
        sentences = [Sentence(line.rstrip("\n")) for line in handle]
    built = time.perf_counter()
    model.predict(sentences, mini_batch_size=mini_batch_size)
    predicted = time.perf_counter()
    print(json.dumps({"build_s": built - started, "predict_s": predicted - built,
                      "tokens": sum(len(s) for s in sentences)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("bench-out/cli_predict"))
    parser.add_argument("--datasets", type=Path,
                        default=Path(os.environ.get("TAGKIT_DATASETS_MIRROR",
                                                    "/work/shared/datasets")))
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--small-lines", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--mini-batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--api-worker", nargs=2, metavar=("MODEL", "INPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.api_worker:
        api_worker(*args.api_worker, args.mini_batch_size, args.threads)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    inputs = build_inputs(args.datasets, args.out, args.lines, args.small_lines)
    model = args.model or train_small_tagger(args.out)
    tokens = {name: count_tokens(path) for name, path in inputs.items()}
    cli = [sys.executable, "-m", "tagkit_core.cli", "predict", "--device", "cpu",
           "--chunk-size", str(args.chunk_size), "--mini-batch-size", str(args.mini_batch_size),
           str(model)]
    runs = {name: timed_child([*cli, str(path), "-o", str(args.out / f"out-{name}.txt")],
                              args.threads)
            for name, path in (("empty", inputs["empty"]), ("small", inputs["small"]),
                               ("big", inputs["big"]))}
    api = timed_child([sys.executable, __file__, "--api-worker", str(model), str(inputs["big"]),
                       "--mini-batch-size", str(args.mini_batch_size),
                       "--threads", str(args.threads)], args.threads)
    phases = json.loads(api.pop("stdout").strip().splitlines()[-1])
    startup = runs["empty"]["wall_s"]
    result = {"model": str(model), "lines": args.lines, "tokens": tokens["big"],
              "chunk_size": args.chunk_size, "mini_batch_size": args.mini_batch_size,
              "threads": args.threads, "cli_startup_s": startup}
    for name in ("small", "big"):
        run = runs[name]
        net = run["wall_s"] - startup
        result[f"cli_{name}"] = {"lines": args.small_lines if name == "small" else args.lines,
                                 "tokens": tokens[name], "wall_s": run["wall_s"],
                                 "tokens_per_s": tokens[name] / net,
                                 "peak_rss_mb": run["peak_rss_mb"]}
    result["cli_empty_peak_rss_mb"] = runs["empty"]["peak_rss_mb"]
    result["api"] = {"tokens": phases["tokens"], "build_s": phases["build_s"],
                     "predict_s": phases["predict_s"],
                     "predict_tokens_per_s": phases["tokens"] / phases["predict_s"],
                     "build_and_predict_tokens_per_s":
                         phases["tokens"] / (phases["build_s"] + phases["predict_s"]),
                     "wall_s": api["wall_s"], "peak_rss_mb": api["peak_rss_mb"]}
    print(f"{'run':<28}{'tokens':>10}{'tokens/s':>12}{'peak RSS MB':>13}")
    for name in ("small", "big"):
        row = result[f"cli_{name}"]
        print(f"{'tagkit predict ' + str(row['lines']) + ' lines':<28}{row['tokens']:>10,}"
              f"{row['tokens_per_s']:>12,.0f}{row['peak_rss_mb']:>13,.0f}")
    row = result["api"]
    print(f"{'API predict() only':<28}{row['tokens']:>10,}{row['predict_tokens_per_s']:>12,.0f}"
          f"{row['peak_rss_mb']:>13,.0f}")
    print(f"{'API Sentence() + predict()':<28}{row['tokens']:>10,}"
          f"{row['build_and_predict_tokens_per_s']:>12,.0f}")
    print(f"tagkit predict start-up (empty input): {startup:.1f} s, "
          f"{result['cli_empty_peak_rss_mb']:.0f} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
