"""Prediction speed of tagkit and Flair, measured in alternation so that drift cancels.

This machine's speed drifts by 10 to 30% over minutes, and the training benchmark runs each
system in its own process minutes apart, so their prediction figures can meet different
machine speeds. Here one worker process per system (predict_worker.py) loads the saved model
once; then, round after round, each worker tags the test set once, one worker at a time (never
two torch processes at once on two cores). Each round gives a ratio of neighbouring calls;
the median ratio over the rounds is the figure.

    python benchmarks/predict_compare.py --tagkit-model M --flair-model F \\
        --flair-python P --test-file T [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Worker:
    def __init__(self, python: str, system: str, model: str, test_file: str, env=None) -> None:
        self.process = subprocess.Popen(
            [python, str(HERE / "predict_worker.py"), system, model, test_file],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for line in self.process.stdout:
            if line.strip() == "ready":
                break
        else:
            raise RuntimeError(f"{system} worker ended before it was ready")

    def predict(self, options: dict | None = None) -> dict:
        self.process.stdin.write(json.dumps({"options": options or {}}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("worker ended")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def compare(tagkit: Worker, flair: Worker, rounds: int) -> dict:
    variants = {"tagkit": (tagkit, {}), "tagkit bfloat16": (tagkit, {"precision": "bfloat16"}),
                "flair": (flair, {})}
    for worker, options in variants.values():  # warm-up: first-call costs are not the figure
        worker.predict(options)
    calls: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (worker, options) in variants.items():
            calls[name].append(worker.predict(options))
    tokens = calls["flair"][0]["tokens"]
    result = {name: {"tokens_per_second": [tokens / c["seconds"] for c in made],
                     "accuracy": made[-1]["accuracy"]} for name, made in calls.items()}
    for name in ("tagkit", "tagkit bfloat16"):
        per_round = [f["seconds"] / t["seconds"] for t, f in zip(calls[name], calls["flair"])]
        result[name]["ratio_to_flair_each_round"] = per_round
        result[name]["ratio_to_flair"] = statistics.median(per_round)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tagkit-model", required=True)
    parser.add_argument("--flair-model", required=True)
    parser.add_argument("--flair-python", required=True)
    parser.add_argument("--test-file", required=True)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    tagkit = Worker(sys.executable, "tagkit", args.tagkit_model, args.test_file)
    flair = Worker(args.flair_python, "flair", args.flair_model, args.test_file)
    try:
        print(json.dumps(compare(tagkit, flair, args.rounds)))
    finally:
        tagkit.close()
        flair.close()


if __name__ == "__main__":
    main()
