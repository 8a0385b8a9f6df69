"""tagkit plugin package for TransformerEmbeddings and TransformerDocumentEmbeddings.

The components arrive with their own issue; until then the plugin is installed, discovered
through the ``tagkit`` entry-point group and registers nothing.
"""

__version__ = "0.1.0"
