"""tagkit-crf-tagger: the BiLSTM-CRF tagger (``from tagkit_crf_tagger import SequenceTagger``)."""

from tagkit_crf_tagger.tagger import SequenceTagger

__all__ = ["SequenceTagger"]
__version__ = "0.1.0"
