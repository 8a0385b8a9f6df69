"""A training run in its own process, for the kill-and-resume test (not collected by pytest).

Usage: python train_script.py fresh|kill|resume BASE_PATH MAX_EPOCHS [KILL_AT_EPOCH]
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
get_registry().add("embedding", ToyEmbeddings, plugin="tests")
corpus = Corpus(make_sentences(60, 1), make_sentences(10, 2), make_sentences(10, 3))


class WaitToBeKilled:
    @hookimpl
    def on_epoch_start(self, trainer, epoch, learning_rate):
        if mode == "kill" and epoch == kill_at:
            print("READY", flush=True)
            time.sleep(600)


if mode == "resume":
    trainer = ModelTrainer.load_checkpoint(Path(base) / "checkpoint.pt", corpus)
else:
    set_seed(7)
    tagger = SequenceTagger(16, ToyEmbeddings(VOCAB), corpus.make_tag_dictionary("pos"), "pos",
                            dropout=0.1)
    trainer = ModelTrainer(tagger, corpus, plugins=[WaitToBeKilled()])
result = trainer.train(base, max_epochs=max_epochs, checkpoint=True, mini_batch_size=8,
                       learning_rate=0.05, show_progress=False)
print("RESULT " + json.dumps(result), flush=True)
