"""tagkit-classifiers: text classification (``from tagkit_classifiers import TextClassifier``).

* :class:`TextClassifier` (registry name ``text_classifier``): a document embedding and a
  linear decoder, one label per text (cross-entropy) or several (``multi_label=True``, one
  sigmoid per class), Flair's arguments and defaults.
* :func:`classification_result`: accuracy, micro/macro F1, sample F1 and a per-class report
  from gold and predicted label sets (scikit-learn's definitions, no scikit-learn).

Names load on first access, so importing this package does not import torch.
"""

from __future__ import annotations

from tagkit_core.lazy import lazy_attributes

__all__ = ["TextClassifier", "classification_result", "__version__"]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "TextClassifier": "tagkit_classifiers.classifier",
    "classification_result": "tagkit_classifiers.metrics",
}, "tagkit-classifiers")
