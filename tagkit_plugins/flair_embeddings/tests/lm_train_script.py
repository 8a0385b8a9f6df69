"""A language-model training run, in its own process for the kill-and-resume test (not
collected by pytest; the test also imports :func:`run` to train the uninterrupted reference).

Usage: python lm_train_script.py fresh|kill|resume CORPUS BASE_PATH MAX_EPOCHS
"kill" prints READY and waits to be killed when it is about to train epoch 2's second split
(so the checkpoint on disk is the one written after epoch 2's first split).
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from flair_lm_helpers import tiny_dictionary, tiny_lm  # noqa: E402

from tagkit_flair_embeddings import LanguageModelTrainer, TextCorpus  # noqa: E402


def run(mode: str, corpus_path: str, base: str, max_epochs: int) -> dict:
    corpus = TextCorpus(corpus_path, tiny_dictionary(), forward=False)
    if mode == "resume":
        trainer = LanguageModelTrainer.load_checkpoint(Path(base) / "checkpoint.pt", corpus)
    else:
        trainer = LanguageModelTrainer(tiny_lm(forward=False, seed=11), corpus)
    if mode == "kill":
        original = trainer._train_split

        def train_split(file, optimizer, state, options, device):
            if (state["epoch"], state["split"]) == (1, 1):
                print("READY", flush=True)
                time.sleep(600)
            return original(file, optimizer, state, options, device)

        trainer._train_split = train_split
    result = trainer.train(base, sequence_length=10, mini_batch_size=4, learning_rate=5.0,
                           max_epochs=max_epochs, patience=0, anneal_factor=0.5, seed=1)
    for row in result["history"]:
        row.pop("chars_per_second")
    return result


if __name__ == "__main__":
    # One thread: for a model this small, OpenMP threads on a busy machine cost more than they
    # give (a run took 12 s with two threads, 3 s with one, on two shared cores).
    import torch

    torch.set_num_threads(1)
    outcome = run(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
    print("RESULT " + json.dumps(outcome), flush=True)
