"""Entry point of the tagkit-classifiers plugin: implements no hook yet (see the package doc)."""
