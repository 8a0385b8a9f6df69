"""Opening a model file for a command: any tagkit model, its errors as one-line messages.

``predict`` and ``evaluate`` take whatever model a file holds (a sequence tagger, a text
classifier, a third party's model): :func:`tagkit_core.persistence.load_model` finds its class
through the registry. What a user can get wrong (no such file, not a model file, a plugin not
installed) becomes a :class:`click.ClickException` with the loader's message, which names the
file and, for a missing plugin, the distribution to install.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import click

__all__ = ["load_cli_model", "label_name_of", "precision_option", "precision_options",
           "streams_option", "streams_options", "passed_option"]


def load_cli_model(path: Path, device: str | None = None) -> Any:
    """The model in ``path``, in eval mode, on ``device`` (default: the GPU when there is one)."""
    from tagkit_core.model_schema import ModelFileError
    from tagkit_core.persistence import load_model
    from tagkit_core.registry import ComponentNotFound, DuplicateComponent

    _check_device(device)
    try:
        return load_model(path, device=device)
    except (ModelFileError, ComponentNotFound, DuplicateComponent, OSError) as error:
        raise click.ClickException(str(error)) from None
    except RuntimeError as error:  # e.g. an unknown or unavailable --device
        raise click.ClickException(f"{path}: cannot load the model on device {device!r}: "
                                   f"{error}") from None


def _check_device(device: str | None) -> None:
    """Refuse a device torch cannot use here before the model is read (torch's own error for
    a missing GPU is an AssertionError deep in the loading)."""
    if device is None:
        return
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError as error:
        raise click.BadParameter(str(error).split(" at start")[0] + f", got {device!r}",
                                 param_hint="--device") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise click.BadParameter(f"{device!r}: CUDA is not available on this machine (use cpu)",
                                 param_hint="--device")


def label_name_of(model: Any) -> str:
    """The label type the model predicts (a tagger's tag type, a classifier's label type)."""
    name = getattr(model, "label_type", None) or getattr(model, "tag_type", None)
    return name if isinstance(name, str) and name else "label"


#: ``--precision`` of ``predict`` and ``evaluate``: passed on to the model's method.
precision_option = click.option(
    "--precision", default=None, metavar="NAME",
    help="The model's arithmetic, as its predict(precision=...) takes it: float32 (the "
         "default), bfloat16, or int8 (text classifiers, on the CPU).")


def precision_options(model: Any, precision: str | None, method: str) -> dict[str, str]:
    """The keyword for ``--precision`` (see :func:`passed_option`)."""
    return passed_option(model, method, "precision", precision)


def passed_option(model: Any, method: str, keyword: str, value: Any) -> dict[str, Any]:
    """The keyword a command passes on to the model's ``method`` (``predict`` or
    ``evaluate``), checked before any data is read: the method must name a ``keyword``
    parameter, and ``predict`` must accept the value (asked with no sentences, so nothing runs;
    with the label name the commands use, so a classifier without a label type need not find
    one). ``None`` (the option not given) passes nothing."""
    if value is None:
        return {}
    if keyword not in inspect.signature(getattr(model, method)).parameters:
        raise click.BadParameter(f"{type(model).__name__}.{method} takes no {keyword}",
                                 param_hint=f"--{keyword}")
    try:
        model.predict([], label_name=label_name_of(model), **{keyword: value})
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=f"--{keyword}") from None
    return {keyword: value}


#: ``--streams`` of ``predict`` and ``evaluate``: passed on to the model's method.
streams_option = click.option(
    "--streams", type=click.IntRange(min=1), default=None, metavar="N",
    help="Mini-batches predicted at once, each in its own thread with its share of torch's "
         "threads, as the model's predict(streams=...) takes it (text classifiers, on the "
         "CPU): faster for a small transformer on short texts, with the same labels.")


def streams_options(model: Any, streams: int | None, method: str) -> dict[str, int]:
    """The keyword for ``--streams`` (see :func:`passed_option`; off the CPU it is refused)."""
    return passed_option(model, method, "streams", streams)
