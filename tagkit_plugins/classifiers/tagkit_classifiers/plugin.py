"""Entry point of tagkit-classifiers: registers the TextClassifier model.

The class is imported inside the hook, so discovering the plugin costs nothing until the
registry actually collects components.
"""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_models(register):
    from tagkit_classifiers.classifier import TextClassifier

    register(TextClassifier)
