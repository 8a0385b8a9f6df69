"""The tutorial's part-of-speech example with tagkit: train on 10% of UD English, print the test
accuracy, tag a sentence and draw the training curves (tagkit-plotters' Plotter).

This is the code of Flair's "Training a Sequence Labeling Model" with tagkit imports. It reads
UD English EWT from TAGKIT_DATASETS_MIRROR (nox's demo session points it at ../shared/datasets;
without it the loader downloads into TAGKIT_CACHE_DIR). TAGKIT_DEMO_EPOCHS sets the number of
epochs (default 40, under a minute on 2 cores; the tutorial uses 150). Expect test accuracy
about 0.83 and "I love Berlin" tagged I/PRON love/VERB; "Berlin" comes out PROPN in some runs
and wrong in others (ADP with the default seed): 10% of the data and GloVe alone make a small
model, and GloVe only knows "berlin" lower-cased. The pictures, training.png (loss and accuracy
per epoch, train and dev) and weights.png, are written beside loss.tsv and weights.txt in the
output folder (TAGKIT_DEMO_OUTPUT, default resources/taggers/example-pos).
"""

import os

from tagkit_core.corpus import Corpus
from tagkit_core.data import Sentence
from tagkit_core.embeddings import StackedEmbeddings
from tagkit_datasets import UD_ENGLISH
from tagkit_embeddings import WordEmbeddings

# 1. get the corpus
corpus: Corpus = UD_ENGLISH().downsample(0.1)
print(corpus)

# 2. what tag do we want to predict?
tag_type = "pos"

# 3. make the tag dictionary from the corpus
tag_dictionary = corpus.make_tag_dictionary(tag_type=tag_type)
print(tag_dictionary)

# 4. initialize embeddings
embedding_types = [
    WordEmbeddings("glove"),
    # comment in this line to use character embeddings
    # CharacterEmbeddings(),
]

embeddings: StackedEmbeddings = StackedEmbeddings(embeddings=embedding_types)

# 5. initialize sequence tagger
from tagkit_crf_tagger import SequenceTagger  # noqa: E402

tagger: SequenceTagger = SequenceTagger(hidden_size=256,
                                        embeddings=embeddings,
                                        tag_dictionary=tag_dictionary,
                                        tag_type=tag_type,
                                        use_crf=True)

# 6. initialize trainer
from tagkit_core.trainer import ModelTrainer  # noqa: E402

trainer: ModelTrainer = ModelTrainer(tagger, corpus)

# 7. start training
base_path = os.environ.get("TAGKIT_DEMO_OUTPUT", "resources/taggers/example-pos")
result = trainer.train(base_path,
                       learning_rate=0.1,
                       mini_batch_size=32,
                       max_epochs=int(os.environ.get("TAGKIT_DEMO_EPOCHS", "40")))
print(f"test accuracy: {result['test_score']:.4f}")

# load the model you trained
model = SequenceTagger.load(os.path.join(base_path, "final-model.pt"))

# create example sentence
sentence = Sentence("I love Berlin")

# predict tags and print
model.predict(sentence)

print(sentence.to_tagged_string())

# 8. plot the training curves and weights (Flair's "Plotting Training Curves and Weights")
from tagkit_plotters import Plotter  # noqa: E402

plotter = Plotter()
curves = plotter.plot_training_curves(os.path.join(base_path, "loss.tsv"))
weights = plotter.plot_weights(os.path.join(base_path, "weights.txt"))
print(f"training curves: {curves}\nweights: {weights}")
