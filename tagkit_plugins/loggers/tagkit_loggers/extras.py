"""The optional libraries: found when a logger is built, imported when its run starts.

A logger is built before training starts (``train(loggers=["mlflow"])`` resolves names first),
so checking there turns a missing library into an error at the call, naming the extra to
install, instead of a warning in the middle of a run after which nothing is logged.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["MissingExtraError", "load", "require"]


class MissingExtraError(ImportError):
    """A logger's library is not installed; the message names the extra to install."""


def require(package: str, extra: str, logger: str) -> None:
    """Raise :class:`MissingExtraError` unless the top-level ``package`` is installed (found
    without importing it)."""
    if importlib.util.find_spec(package) is None:
        raise MissingExtraError(
            f"the {logger} logger needs the {package!r} package, which is not installed: "
            f"pip install 'tagkit-loggers[{extra}]'")


def load(module: str, package: str, extra: str, logger: str) -> ModuleType:
    """Import ``module`` (which needs ``package``); a failure names the extra to install."""
    require(package, extra, logger)
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"the {logger} logger could not import {module} ({error}): "
            f"pip install 'tagkit-loggers[{extra}]'") from error
