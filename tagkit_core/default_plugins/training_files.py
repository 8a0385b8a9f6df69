"""Writes loss.tsv, weights.txt and training.log through the lifecycle hooks (filled in with the trainer)."""
