"""tagkit-flair-embeddings: contextual string embeddings (Flair embeddings) trained by tagkit.

``LanguageModel`` and ``LanguageModelTrainer`` train a forward or backward character language
model on a ``TextCorpus``; ``FlairEmbeddings`` and ``PooledFlairEmbeddings`` embed tokens with
one; ``convert_flair_language_model`` turns Flair's pickled LMs into safe tagkit files.
"""

from tagkit_core.lazy import lazy_attributes
from tagkit_flair_embeddings.convert import FlairConversionError, convert_flair_language_model
from tagkit_flair_embeddings.corpus import TextCorpus
from tagkit_flair_embeddings.flair_embeddings import FlairEmbeddings
from tagkit_flair_embeddings.language_model import (
    LanguageModel,
    LanguageModelFileError,
    character_dictionary,
)
from tagkit_flair_embeddings.lm_file import load_language_model, save_language_model
from tagkit_flair_embeddings.lm_trainer import LanguageModelTrainer
from tagkit_flair_embeddings.pooled import PooledFlairEmbeddings
from tagkit_flair_embeddings.pretrained import PRETRAINED_LANGUAGE_MODELS

__all__ = ["LanguageModel", "LanguageModelTrainer", "TextCorpus", "FlairEmbeddings",
           "PooledFlairEmbeddings", "character_dictionary", "save_language_model",
           "load_language_model", "LanguageModelFileError", "convert_flair_language_model",
           "FlairConversionError", "PRETRAINED_LANGUAGE_MODELS", "__version__"]

# __version__: the installed distribution's, read on first access (pyproject.toml has it).
__getattr__, __dir__ = lazy_attributes(__name__, globals(), {}, "tagkit-flair-embeddings")
