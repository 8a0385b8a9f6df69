"""Entry point of tagkit-loggers: registers the ``tensorboard`` and ``mlflow`` loggers.

The logger modules import neither tensorboard nor mlflow at import time, so registering them is
cheap and works whether or not the extras are installed.
"""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_loggers(register):
    from tagkit_loggers.mlflow_logger import MLflowLogger
    from tagkit_loggers.tensorboard_logger import TensorBoardLogger

    register(TensorBoardLogger)
    register(MLflowLogger)
