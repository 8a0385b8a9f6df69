"""Keep Python's cyclic garbage collector off the corpus while training and predicting.

A loaded corpus is millions of small Python objects (tokens, labels, their dictionaries) that
live as long as the run. Every full collection walks all of them: measured on UD English, after
training, ``predict`` on 2,077 new sentences ran at 21k tokens/s with the collector scanning the
corpus and at 41k tokens/s without. ``gc.freeze()`` moves every object that exists now into a
permanent generation the collector skips (they are still freed by reference counting when
dropped), so only the objects created inside the block are scanned; ``gc.unfreeze()`` on the
way out hands them back. Nested uses (``evaluate`` inside ``train``) freeze once.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

__all__ = ["existing_objects_frozen"]

_lock = threading.Lock()
_depth = 0


@contextlib.contextmanager
def existing_objects_frozen() -> Iterator[None]:
    """Exclude the objects that exist on entry from garbage-collector scans until exit."""
    global _depth
    with _lock:
        _depth += 1
        if _depth == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
