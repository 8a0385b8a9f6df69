"""Entry point of tagkit-embeddings: registers its embedding classes with the core registry.

The classes are imported inside the hook, so discovering the plugin (``tagkit plugins``) costs
nothing until the registry actually collects components.
"""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_embeddings(register):
    from tagkit_embeddings.character import CharacterEmbeddings
    from tagkit_embeddings.document import DocumentPoolEmbeddings, DocumentRNNEmbeddings
    from tagkit_embeddings.word import WordEmbeddings

    for cls in (WordEmbeddings, CharacterEmbeddings, DocumentRNNEmbeddings,
                DocumentPoolEmbeddings):
        register(cls)
