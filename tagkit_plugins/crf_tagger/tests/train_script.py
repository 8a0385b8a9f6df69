"""A training run in its own process, for the kill-and-resume and the reproducibility tests
(not collected by pytest).

Usage: python train_script.py fresh|kill|killwrite|resume|tutorial BASE_PATH MAX_EPOCHS
[KILL_AT_EPOCH]
[EMBEDDINGS], EMBEDDINGS being "toy" (default), "toy+chars" or "word+chars" (a tiny word2vec
text file written beside BASE_PATH, and CharacterEmbeddings). "tutorial" builds the model with
no set_seed call, as the tutorial does, and trains with seed=1. "kill" waits to be killed at
the start of epoch KILL_AT_EPOCH; "killwrite" in the middle of that epoch's checkpoint write
(its temporary file written, not yet renamed).
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import VOCAB, ToyEmbeddings, make_sentences  # noqa: E402

from tagkit_core import set_seed  # noqa: E402
from tagkit_core.corpus import Corpus  # noqa: E402
from tagkit_core.hookspecs import hookimpl  # noqa: E402
from tagkit_core.registry import get_registry  # noqa: E402
from tagkit_core.trainer import ModelTrainer  # noqa: E402
from tagkit_crf_tagger import SequenceTagger  # noqa: E402

mode, base, max_epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
kill_at = int(sys.argv[4]) if len(sys.argv) > 4 else 0
kinds = sys.argv[5] if len(sys.argv) > 5 else "toy"
get_registry().add("embedding", ToyEmbeddings, plugin="tests")


def embeddings():
    from tagkit_core.embeddings import StackedEmbeddings
    from tagkit_embeddings import CharacterEmbeddings, WordEmbeddings

    if kinds == "toy":
        return ToyEmbeddings(VOCAB)
    first = ToyEmbeddings(VOCAB)
    if kinds == "word+chars":
        vectors = Path(base).parent / "vectors.txt"
        if not vectors.exists():
            rows = [f"{w.lower()} " + " ".join(f"{(i * 7 + j) % 11 / 10 - 0.5:.2f}"
                                               for j in range(6)) for i, w in enumerate(VOCAB)]
            vectors.write_text("\n".join(rows) + "\n", encoding="utf-8")
        first = WordEmbeddings(str(vectors))
    return StackedEmbeddings([first, CharacterEmbeddings(char_embedding_dim=6,
                                                         hidden_size_char=6)])

corpus = Corpus(make_sentences(60, 1), make_sentences(10, 2), make_sentences(10, 3))


class WaitToBeKilled:
    @hookimpl
    def on_epoch_start(self, trainer, epoch, learning_rate):
        if mode == "kill" and epoch == kill_at:
            print("READY", flush=True)
            time.sleep(600)


if mode == "killwrite":
    import tagkit_core.trainer.checkpoint as checkpoint_module

    real_write = checkpoint_module.write_tensor_file

    def write_then_wait(path, *args, **kwargs):
        real_write(path, *args, **kwargs)
        if json.loads(args[1])["epoch"] == kill_at:
            print("READY", flush=True)
            time.sleep(600)

    checkpoint_module.write_tensor_file = write_then_wait

if mode == "resume":
    trainer = ModelTrainer.load_checkpoint(Path(base) / "checkpoint.pt", corpus)
else:
    if mode != "tutorial":
        set_seed(7)
    tagger = SequenceTagger(embeddings(), corpus.make_tag_dictionary("pos"), "pos", hidden_size=16,
                            dropout=0.1)
    trainer = ModelTrainer(tagger, corpus, plugins=[WaitToBeKilled()])
result = trainer.train(base, max_epochs=max_epochs, checkpoint=True, mini_batch_size=8,
                       learning_rate=0.05, show_progress=False, seed=1, deterministic=True)
print("RESULT " + json.dumps(result), flush=True)
