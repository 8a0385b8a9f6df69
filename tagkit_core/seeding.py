"""Seed every random number generator a training run touches (Python, NumPy if present, torch)."""

from __future__ import annotations

import random
import sys

__all__ = ["set_seed"]


def set_seed(seed: int) -> None:
    """Make model initialisation and training repeatable, like Flair's ``flair.set_seed``."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    if "numpy" in sys.modules:
        import numpy

        numpy.random.seed(seed % 2**32)
