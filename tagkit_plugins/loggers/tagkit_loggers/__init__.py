"""tagkit-loggers: experiment loggers for tagkit's trainer, written as any third party would.

``TensorBoardLogger`` writes TensorBoard event files, ``MLflowLogger`` an MLflow run in a local
store; both are registered components of kind ``logger`` (``tensorboard``, ``mlflow``), so
``ModelTrainer.train(base_path, loggers=["tensorboard"])`` or ``tagkit train --logger
tensorboard`` activates them. They implement the core's lifecycle hooks and nothing else.
The classes load on first access, and tensorboard/mlflow only when a logger is built, so the
plugin loads (and ``tagkit components logger`` lists them) without either library installed.
"""

from __future__ import annotations

from tagkit_core.lazy import lazy_attributes

__all__ = ["MLflowLogger", "MissingExtraError", "TensorBoardLogger", "__version__"]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "MLflowLogger": "tagkit_loggers.mlflow_logger",
    "MissingExtraError": "tagkit_loggers.extras",
    "TensorBoardLogger": "tagkit_loggers.tensorboard_logger",
}, "tagkit-loggers")
