"""Experiment jobs: sweeps over estimator families and hyperparameters that Celery workers
run trial by trial, each trial a ledger row claimed once and a run of the sweep's
experiment. ``experiments/README.md`` ("Sweeps") says how the pieces fit."""

from experiments.sweeps.datasets import BUILTIN_DATASETS
from experiments.sweeps.families import FAMILIES, METRICS

__all__ = ["BUILTIN_DATASETS", "FAMILIES", "METRICS"]
