"""The starter configs ``tagkit init config --task TASK`` writes: the tutorial's three models.

``examples/pos-ud-english.toml``, ``examples/ner-wnut17.toml`` and
``examples/classify-trec6.toml`` are these texts, written by ``tagkit init config --task TASK
-o examples/FILE`` (a test keeps them equal). Each trains as it is with ``tagkit train``; the
header says how to make a quick, tiny run of it.
"""

from __future__ import annotations

__all__ = ["TEMPLATES", "EXAMPLE_FILES", "render"]

_HEADER = """\
# {title}
#   tagkit train {file}
# A quick try on 1% of the data, one epoch:
#   tagkit train {file} --set corpus.downsample=0.01 --set trainer.max_epochs=1 -o /tmp/try
#
# Each `type` is a registry name: 'tagkit components' lists them (datasets, embeddings,
# models, storage modes). The other keys of a table are that component's constructor
# arguments; [trainer] takes every option of ModelTrainer.train (help(ModelTrainer.train)),
# plus base_path (the output folder) and optimizer (a torch.optim class name, default SGD).
# Relative paths are relative to the working directory.
"""

_POS = _HEADER.format(title="The tutorial's part-of-speech tagger (UD English EWT, GloVe, "
                            "BiLSTM-CRF).", file="@FILE@") + """
[corpus]
type = "ud_english"        # UD English EWT (tagkit-datasets)
downsample = 0.1           # keep 10% of each split, as the tutorial does

[[embeddings]]
type = "word"              # WordEmbeddings('glove') (tagkit-embeddings)
name_or_path = "glove"

# Several [[embeddings]] tables are stacked. Uncomment to add character embeddings:
# [[embeddings]]
# type = "character"

[model]
type = "sequence_tagger"   # SequenceTagger (tagkit-crf-tagger)
tag_type = "pos"           # universal POS tags (UPOS); the tag dictionary is made from the corpus
hidden_size = 256
use_crf = true

[trainer]
base_path = "resources/taggers/example-pos"
learning_rate = 0.1
mini_batch_size = 32
max_epochs = 150
# embeddings_storage_mode = "cpu"   # 'none', 'cpu' or 'gpu' (tagkit-storage)
# checkpoint = true                 # write checkpoint.pt each epoch, for 'tagkit resume'
"""

_NER = _HEADER.format(title="The tutorial's named entity tagger (WNUT-17, GloVe + character "
                            "embeddings, BiLSTM-CRF), resumable.",
                      file="@FILE@") + """\
# It writes a checkpoint after every epoch: stop it (Ctrl-C) and continue with
#   tagkit resume resources/taggers/example-ner/checkpoint.pt

[corpus]
type = "wnut_17"           # WNUT 2017 emerging entities (tagkit-datasets)
downsample = 0.1

[[embeddings]]
type = "word"
name_or_path = "glove"

[[embeddings]]
type = "character"         # CharacterEmbeddings: a character BiLSTM per word

[model]
type = "sequence_tagger"
tag_type = "ner"
hidden_size = 256
use_crf = true

[trainer]
base_path = "resources/taggers/example-ner"
learning_rate = 0.1
mini_batch_size = 32
max_epochs = 150
checkpoint = true
"""

_CLASSIFY = _HEADER.format(title="The tutorial's text classifier (TREC-6 questions, a GRU over "
                                 "GloVe).", file="@FILE@") + """
[corpus]
type = "trec_6"            # TREC question classification, 6 coarse classes

[[embeddings]]
type = "document_rnn"      # DocumentRNNEmbeddings: an RNN over the word embeddings below
hidden_size = 256
embeddings = [{ type = "word", name_or_path = "glove" }]

[model]
type = "text_classifier"   # TextClassifier (tagkit-classifiers)
label_type = "class"       # the label dictionary is made from the corpus

[trainer]
base_path = "resources/taggers/trec"
learning_rate = 0.1
mini_batch_size = 32
anneal_factor = 0.5
patience = 5
max_epochs = 150
"""

TEMPLATES = {"pos": _POS, "ner": _NER, "classify": _CLASSIFY}
EXAMPLE_FILES = {"pos": "pos-ud-english.toml", "ner": "ner-wnut17.toml",
                 "classify": "classify-trec6.toml"}


def render(task: str, file: str = "CONFIG.toml") -> str:
    """The starter config of ``task``, its header naming ``file`` in the commands it shows."""
    return TEMPLATES[task].replace("@FILE@", file)
