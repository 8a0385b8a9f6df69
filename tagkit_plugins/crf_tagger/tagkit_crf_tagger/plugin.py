"""Entry point of tagkit-crf-tagger: registers the SequenceTagger model."""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_models(register):
    from tagkit_crf_tagger.tagger import SequenceTagger

    register(SequenceTagger)
