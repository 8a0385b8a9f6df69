"""Entry point of the tagkit-transformers plugin: implements no hook yet (see the package doc)."""
