"""tagkit-crf-tagger: the BiLSTM-CRF tagger (``from tagkit_crf_tagger import SequenceTagger``)."""

from tagkit_core.lazy import lazy_attributes
from tagkit_crf_tagger.tagger import SequenceTagger

__all__ = ["SequenceTagger", "__version__"]

# __version__: the installed distribution's, read on first access (pyproject.toml has it).
__getattr__, __dir__ = lazy_attributes(__name__, globals(), {}, "tagkit-crf-tagger")
