"""The ``[trainer]`` section of a run config: ``ModelTrainer.train``'s options, checked.

The options are :class:`~tagkit_core.trainer.config.TrainingConfig`'s fields (its annotations
give the types, its validators the ranges), plus ``base_path`` (the output folder) and
``optimizer`` (a ``torch.optim`` class name, matched case-insensitively). A storage mode and,
when tagkit has a ``logger`` kind, each logger name must be registered.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tagkit_core.run_config_checks import (
    RunConfigError,
    WrongValue,
    check_annotation,
    show,
    unknown_key,
)

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.registry import Registry

__all__ = ["resolve_trainer", "TRAINER_EXTRAS"]

TRAINER_EXTRAS = ("base_path", "optimizer")


def resolve_trainer(registry: Registry, table: Any) -> dict[str, Any]:
    """The ``[trainer]`` table checked, every option's default filled in."""
    import attrs

    from tagkit_core.registry import KINDS
    from tagkit_core.trainer.config import TrainingConfig

    if not isinstance(table, dict):
        raise RunConfigError("trainer", f"trainer = {show(table)}: expected a table")
    fields = {field.name: field for field in attrs.fields(TrainingConfig)}
    for key in table:
        if key == "loggers" and key not in fields:
            raise RunConfigError("trainer.loggers", "trainer.loggers (--logger): this tagkit's "
                                 "trainer has no loggers option; update tagkit-core")
        if key not in fields and key not in TRAINER_EXTRAS:
            raise unknown_key(["trainer"], key, [*fields, *TRAINER_EXTRAS])
    base_path = table.get("base_path")
    if base_path is None:
        raise RunConfigError("trainer.base_path", "trainer.base_path: missing; the folder the "
                             "model is written to (or pass --output DIR)")
    if not isinstance(base_path, str) or not base_path:
        raise RunConfigError("trainer.base_path", f"trainer.base_path = {show(base_path)}: "
                                                  "expected a path (a string)")
    optimizer = _check_optimizer(table.get("optimizer", "SGD"))
    mode = table.get("embeddings_storage_mode")
    if isinstance(mode, str):
        modes = sorted(c.name for c in registry.components("storage_mode"))
        if mode not in modes:
            raise RunConfigError("trainer.embeddings_storage_mode",
                                 f"trainer.embeddings_storage_mode = {show(mode)}: not a "
                                 f"registered storage mode (available: {', '.join(modes)})")
    if "logger" in KINDS and isinstance(table.get("loggers"), list):
        names = sorted(c.name for c in registry.components("logger"))
        for i, logger in enumerate(table["loggers"]):
            if logger not in names:
                raise RunConfigError(f"trainer.loggers[{i}]", f"trainer.loggers[{i}] = "
                                     f"{show(logger)}: no logger of that name is registered "
                                     f"(available: {', '.join(names) or 'none'})")
    options = {key: value for key, value in table.items() if key in fields}
    for key, value in options.items():
        try:
            check_annotation(fields[key].type, value)
        except WrongValue as wrong:
            raise RunConfigError(f"trainer.{key}", f"trainer.{key} = {show(value)}: expected "
                                 f"{wrong.expected}") from None
    try:
        TrainingConfig(**options)
    except (TypeError, ValueError) as error:
        match = re.match(r"option (\w+) (.*)", str(error))
        key = match.group(1) if match and match.group(1) in options else None
        reason = re.sub(r", got .*$", "", match.group(2)) if match else str(error)
        where = f"trainer.{key}" if key else "trainer"
        shown = f" = {show(options[key])}" if key else ""
        raise RunConfigError(where, f"{where}{shown}: {reason}") from None
    out: dict[str, Any] = {"base_path": base_path, "optimizer": optimizer}
    for name, field in fields.items():
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        out[name] = options.get(name, default)
    return out


def _check_optimizer(name: Any) -> str:
    """The torch.optim class name (matched case-insensitively: ``adamw`` is ``AdamW``)."""
    import torch

    allowed = sorted(n for n in dir(torch.optim) if isinstance(getattr(torch.optim, n), type)
                     and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
                     and n != "Optimizer")
    same = [n for n in allowed if isinstance(name, str) and n.lower() == name.lower()]
    if not same:
        raise RunConfigError("trainer.optimizer", f"trainer.optimizer = {show(name)}: expected "
                             f"a torch.optim optimizer (one of {', '.join(allowed)})")
    return same[0]
