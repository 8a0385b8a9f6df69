"""Training: ModelTrainer, its options (TrainingConfig) and the per-epoch metrics."""

from tagkit_core.trainer.config import EpochMetrics, TrainingConfig
from tagkit_core.trainer.trainer import ModelTrainer, NonFiniteLossError

__all__ = ["ModelTrainer", "TrainingConfig", "EpochMetrics", "NonFiniteLossError"]
