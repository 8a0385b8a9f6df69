"""Side-by-side benchmark: tagkit vs Flair 0.15.1 on UD English EWT POS, plus the bare-LSTM floor.

Each system runs in its own process (tagkit in this interpreter's environment, Flair in the
environment built by ../shared/flair-reference/setup.sh), on the same data, GloVe vectors and
hyper-parameters. Prints a table and the ratios the issue sets as targets, and writes
results.json and results.md into --out.

    python benchmarks/run_all.py --epochs 1 --out bench-out
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"


def run_json(command: list[str], env: dict[str, str], log: Path) -> dict:
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT, check=True)
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    result = json.loads(lines[-1])
    result["wall_seconds"] = time.perf_counter() - started
    return result


def ensure_flair(flair_dir: Path) -> Path:
    python = flair_dir / "venv" / "bin" / "python"
    if not (python.exists() and (flair_dir / "glove.gensim").exists()):
        subprocess.run(["bash", str(SHARED / "flair-reference" / "setup.sh"), str(flair_dir)],
                       check=True)
    return python


def median_epoch(result: dict) -> float:
    return statistics.median(result["epoch_seconds"])


def table(rows: list[tuple[str, dict]], floor: dict) -> str:
    lines = ["| run | epochs | s/epoch (median) | test accuracy | predict tokens/s, new text "
             "(median of 3: each call) | accuracy of those tags | predict tokens/s, corpus "
             "test (FIGURES.md) | peak RSS MB | model file MB | corpus load s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        each = ", ".join(f"{x / 1000:.1f}k" for x in r["predict_fresh_tokens_per_second_each"])
        lines.append(f"| {name} | {r['epochs']} | {median_epoch(r):.1f} | "
                     f"{r['test_accuracy']:.4f} | {r['predict_tokens_per_second']:,.0f} "
                     f"({each}) | {r['predict_accuracy']:.4f} | "
                     f"{r['predict_corpus_test_tokens_per_second']:,.0f} | "
                     f"{r['peak_rss_mb']:,.0f} | "
                     f"{r['model_file_mb']:.1f} | {r['corpus_load_seconds']:.1f} |")
        for v in r.get("predict_variants", {}).values():
            each = ", ".join(f"{x / 1000:.1f}k" for x in v["each"])
            options = ", ".join(f"{key}={value!r}" for key, value in v["options"].items())
            lines.append(f"| {name}, predict({options}) | | | | "
                         f"{v['tokens_per_second']:,.0f} ({each}) | {v['accuracy']:.4f} | "
                         "| | | |")
    b, o, s = floor["bucketed"], floor["bucketed, one group"], floor["shuffled"]
    lines += ["", "Floor (bare torch BiLSTM 50->2x256 + linear, forward+backward+SGD, "
              "no CRF, no lookup):", "",
              "| batches | padding | s/epoch | tokens/s |", "|---|---|---|---|",
              f"| tagkit's length-bucketed, two length groups per batch (default) | "
              f"{b['padding_ratio']:.2f} | {b['epoch_seconds']:.1f} "
              f"| {b['train_tokens_per_second']:,.0f} |",
              f"| length-bucketed, one group per batch | {o['padding_ratio']:.2f} | "
              f"{o['epoch_seconds']:.1f} | {o['train_tokens_per_second']:,.0f} |",
              f"| plain shuffled | {s['padding_ratio']:.2f} | {s['epoch_seconds']:.1f} | "
              f"{s['train_tokens_per_second']:,.0f} |"]
    u = floor.get("unidirectional, one group")
    if u:
        lines.append(f"| reference only: a unidirectional LSTM (50->256), one group per batch | "
                     f"{u['padding_ratio']:.2f} | {u['epoch_seconds']:.1f} | "
                     f"{u['train_tokens_per_second']:,.0f} |")
    lines += [f"| predict (forward only, length-sorted) | | | "
              f"{floor['predict_tokens_per_second']:,.0f} |",
              f"| predict, LSTM in bfloat16 | | | "
              f"{floor.get('predict_bfloat16_tokens_per_second', float('nan')):,.0f} |"]
    return "\n".join(lines)


def ratios(pairs: list[tuple[str, dict, dict]], floor: dict) -> str:
    lines = ["| embeddings | tagkit epoch / Flair epoch (target <= 0.33) | "
             "tagkit predict / Flair predict, new text (target >= 5) | same, tagkit with "
             "precision='bfloat16' | same, corpus test | accuracy tagkit - Flair | "
             "tagkit epoch / floor epoch (target <= 2, glove) |",
             "|---|---|---|---|---|---|---|"]
    key = "predict_corpus_test_tokens_per_second"
    for name, ours, theirs in pairs:
        flair_predict = theirs["predict_tokens_per_second"]
        half = ours.get("predict_variants", {}).get("bfloat16")
        half_ratio = f"{half['tokens_per_second'] / flair_predict:.1f}" if half else "-"
        lines.append(
            f"| {name} | {median_epoch(ours) / median_epoch(theirs):.3f} | "
            f"{ours['predict_tokens_per_second'] / flair_predict:.1f} | {half_ratio} | "
            f"{ours[key] / theirs[key]:.1f} | "
            f"{ours['test_accuracy'] - theirs['test_accuracy']:+.4f} | "
            f"{median_epoch(ours) / floor['bucketed']['epoch_seconds']:.2f} |")
    return "\n".join(lines)


def alternating(results: dict[str, dict]) -> str:
    lines = ["| embeddings | system | tokens/s, median (min to max) | accuracy | "
             "tagkit / Flair, median of the rounds' ratios (target >= 5) |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        for system in ("tagkit", "tagkit bfloat16", "flair"):
            speeds = r[system]["tokens_per_second"]
            ratio = r[system].get("ratio_to_flair")
            lines.append(f"| {name} | {system} | {statistics.median(speeds):,.0f} "
                         f"({min(speeds):,.0f} to {max(speeds):,.0f}) | "
                         f"{r[system]['accuracy']:.4f} | "
                         f"{'' if ratio is None else f'{ratio:.1f}'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the glove-only runs")
    parser.add_argument("--char-epochs", type=int, default=1, help="epochs of glove+chars runs")
    parser.add_argument("--out", default=str(REPO / "bench-out"))
    parser.add_argument("--flair-dir", default=os.environ.get("TAGKIT_FLAIR_DIR",
                                                              str(REPO / ".nox" / "flair-ref")))
    parser.add_argument("--skip-flair", action="store_true")
    parser.add_argument("--skip-chars", action="store_true")
    parser.add_argument("--rounds", type=int, default=15,
                        help="rounds of the alternating prediction comparison")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("TAGKIT_DATASETS_MIRROR", str(SHARED / "datasets"))
    env.setdefault("PYTHONUNBUFFERED", "1")
    ewt = Path(env["TAGKIT_DATASETS_MIRROR"]) / "ud_english_ewt"

    results: dict[str, dict] = {}
    results["floor"] = run_json([sys.executable, str(HERE / "floor.py"), "--train-file",
                                 str(ewt / "en_ewt-ud-train.conllu"), "--test-file",
                                 str(ewt / "en_ewt-ud-test.conllu")], env, out / "floor.log")
    variants = [("glove", [], args.epochs)]
    if not args.skip_chars:
        variants.append(("glove+chars", ["--chars"], args.char_epochs))
    flair_python = None if args.skip_flair else ensure_flair(Path(args.flair_dir))
    for name, flags, epochs in variants:
        results[f"tagkit {name}"] = run_json(
            [sys.executable, str(HERE / "tagkit_pos.py"), "--epochs", str(epochs),
             "--out", str(out / f"tagkit-{name}"), *flags], env, out / f"tagkit-{name}.log")
        if flair_python:
            flair_env = dict(env, FLAIR_CACHE_ROOT=str(Path(args.flair_dir) / "flaircache"))
            results[f"flair {name}"] = run_json(
                [str(flair_python), str(HERE / "flair_pos.py"), "--epochs", str(epochs),
                 "--glove", str(Path(args.flair_dir) / "glove.gensim"),
                 "--out", str(out / f"flair-{name}"), *flags], flair_env,
                out / f"flair-{name}.log")
    if flair_python:
        flair_env = dict(env, FLAIR_CACHE_ROOT=str(Path(args.flair_dir) / "flaircache"))
        for name, _, _ in variants:
            results[f"alternating {name}"] = run_json(
                [sys.executable, str(HERE / "predict_compare.py"),
                 "--tagkit-model", str(out / f"tagkit-{name}" / "final-model.pt"),
                 "--flair-model", str(out / f"flair-{name}" / "final-model.pt"),
                 "--flair-python", str(flair_python), "--rounds", str(args.rounds),
                 "--test-file", str(ewt / "en_ewt-ud-test.conllu")], flair_env,
                out / f"alternating-{name}.log")
    rows = [(k, v) for k, v in results.items() if k.startswith(("tagkit", "flair"))]
    report = table(rows, results["floor"])
    pairs = [(name, results[f"tagkit {name}"], results[f"flair {name}"])
             for name, _, _ in variants if f"flair {name}" in results]
    if pairs:
        report += "\n\nRatios:\n\n" + ratios(pairs, results["floor"])
        report += ("\n\nPrediction in alternation (predict_compare.py: saved models, one "
                   f"call per system per round, {args.rounds} rounds):\n\n")
        report += alternating({name: results[f"alternating {name}"]
                               for name, _, _ in variants if f"alternating {name}" in results})
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
