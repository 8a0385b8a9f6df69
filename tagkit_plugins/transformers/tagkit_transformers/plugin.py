"""Entry point of tagkit-transformers: registers the two transformer embeddings.

The classes are imported inside the hook, so discovering the plugin costs nothing (no torch,
no transformers) until the registry actually collects components.
"""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_embeddings(register):
    from tagkit_transformers.document import TransformerDocumentEmbeddings
    from tagkit_transformers.word import TransformerWordEmbeddings

    register(TransformerWordEmbeddings)
    register(TransformerDocumentEmbeddings)
