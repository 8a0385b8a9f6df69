"""Time and memory of ``embeddings.embed(corpus)`` in one call: UD English EWT test (2,077
sentences) with a forward + backward FlairEmbeddings stack or with MiniLM's
TransformerWordEmbeddings.

Prints the seconds, the growth of the peak resident size during the call, and how much of it
stays resident afterwards (the stored vectors and whatever they keep alive). ``--chunk``
overrides ``tagkit_core.embeddings.EMBED_CHUNK`` (a huge value: the whole corpus as one batch,
as ``embed`` did before it chunked)::

    python benchmarks/lm_train.py --out bench-out/lm-ewt --epochs 1 --precision bfloat16
    python benchmarks/embed_corpus.py --kind flair --lm bench-out/lm-ewt
    python benchmarks/embed_corpus.py --kind flair --lm bench-out/lm-ewt --chunk 100000
    python benchmarks/embed_corpus.py --kind transformer
"""

from __future__ import annotations

import argparse
import gc
import json
import time

import torch
from lm_compare_workers import EWT, conllu_tokens, peak_mb, rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["flair", "transformer"], required=True)
    parser.add_argument("--lm", help="flair: a lm_train.py output folder (forward/, backward/)")
    parser.add_argument("--chunk", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import tagkit_core.embeddings as core
    from tagkit_core.data import Sentence

    if args.kind == "flair":
        from tagkit_flair_embeddings import FlairEmbeddings

        embedding = core.StackedEmbeddings([
            FlairEmbeddings(f"{args.lm}/{direction}/best-lm.pt", precision="bfloat16")
            for direction in ("forward", "backward")])
    else:
        from trec_report import minilm_dir

        from tagkit_transformers import TransformerWordEmbeddings

        embedding = TransformerWordEmbeddings(minilm_dir())
    if args.chunk:
        core.EMBED_CHUNK = args.chunk
    embedding.embed([Sentence(["warm", "up"])])
    words = conllu_tokens(EWT / "en_ewt-ud-test.conllu")
    sentences = [Sentence(w) for w in words]
    gc.collect()
    resident, peak = rss_mb(), peak_mb()
    started = time.perf_counter()
    embedding.embed(sentences)
    seconds = time.perf_counter() - started
    gc.collect()
    print(json.dumps({"kind": args.kind, "chunk": core.EMBED_CHUNK, "sentences": len(sentences),
                      "seconds": round(seconds, 2), "peak_growth_mb": round(peak_mb() - peak),
                      "kept_mb": round(rss_mb() - resident)}))


if __name__ == "__main__":
    main()
