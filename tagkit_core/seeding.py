"""Reproducible runs: the seed behind initial weights, and the one behind a run's draws.

Flair users build the model first and train it after, as the tutorial does; torch's default
generator starts from a different seed in every process, so seeding only inside ``train`` left
the initial weights different from run to run. tagkit therefore draws every component's
initial weights from a generator of its own, seeded when the component is built:

* each top-level construction of a :class:`~tagkit_core.model.Model` or
  :class:`~tagkit_core.embeddings.Embeddings` (nested constructions share it) runs under
  ``torch.random.fork_rng`` seeded with ``(base seed, construction number)``, so the same
  script builds the same weights in every process, and building a model draws nothing from
  (and leaves untouched) the global generator the user may rely on;
* :func:`set_seed` (as ``flair.set_seed``) sets the base seed (default 1) and restarts the
  numbering, and seeds Python's, NumPy's and torch's global generators;
* ``ModelTrainer.train(seed=...)`` seeds the run's own draws (batch order, dropout masks) at the
  start of a fresh run; a resumed run restores the generators' states instead.

This is Lightning's ``seed_everything`` and Hugging Face's ``Trainer(seed=, model_init=)`` done
for the tutorial's order of calls: the model's initialisation is reproducible without the user
handing the trainer a factory. What stays nondeterministic on a GPU, and the switch for it, is in
docs/architecture.md ("Reproducibility").
"""

from __future__ import annotations

import contextlib
import functools
import random
import sys
import threading
from typing import Any, Callable, Iterator

__all__ = ["set_seed", "seed_generators", "seeded_construction", "construction_seed"]

_state = threading.local()
_base = {"seed": 1, "count": 0}
_lock = threading.Lock()


def set_seed(seed: int) -> None:
    """Make model initialisation and training repeatable, like Flair's ``flair.set_seed``.

    Seeds the global generators and restarts the construction numbering from ``seed``, so the
    components built after this call get the same initial weights in every process.
    """
    with _lock:
        _base["seed"], _base["count"] = int(seed), 0
    seed_generators(seed)


def seed_generators(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator (if NumPy is loaded) and torch's
    CPU and CUDA generators."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if "numpy" in sys.modules:
        import numpy

        numpy.random.seed(seed % 2**32)


def construction_seed() -> int:
    """The seed of the next top-level construction (and count it)."""
    with _lock:
        seed = (_base["seed"] * 1_000_003 + _base["count"]) % 2**63
        _base["count"] += 1
    return seed


@contextlib.contextmanager
def _constructing() -> Iterator[None]:
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        if depth:  # nested: the outer construction's generator is already in place
            yield
            return
        import torch

        with torch.random.fork_rng(devices=[]):
            # The CPU generator only: torch.manual_seed would also reseed (and, outside the
            # fork, change) every CUDA generator.
            torch.default_generator.manual_seed(construction_seed())
            yield
    finally:
        _state.depth = depth


def seeded_construction(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a component's ``__init__`` so its random draws come from its own seeded generator
    (the base classes apply this to every subclass's ``__init__``)."""
    if getattr(init, "_tagkit_seeded", False):
        return init

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        with _constructing():
            init(self, *args, **kwargs)

    __init__._tagkit_seeded = True  # type: ignore[attr-defined]
    return __init__
