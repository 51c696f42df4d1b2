"""One trial's work: cross-validate the trial's estimator on the sweep's dataset, fold by
fold, calling back after each fold so the ledger can renew the lease, see a cancel and ask
the pruner. Nothing here writes to the database."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from experiments.choices import Task
from experiments.sweeps import datasets
from experiments.sweeps.families import FAMILIES, metric
from experiments.sweeps.sampling import FAMILY


class Stop(Exception):
    """Raised by the fold callback: the trial stops here (cancelled, pruned, lease lost, over
    its time limit)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome: Outcome | None = None


@dataclass
class Outcome:
    """What the folds measured: per metric, each fold's score, and each fold's fit time and
    scoring time (as scikit-learn's ``cross_validate`` reports them)."""

    scores: dict[str, list[float]] = field(default_factory=dict)
    fit_times: list[float] = field(default_factory=list)
    score_times: list[float] = field(default_factory=list)
    estimator_params: dict[str, str] = field(default_factory=dict)

    def mean(self, key: str) -> float:
        return float(np.mean(self.scores[key]))


def estimator(sweep, params: dict):
    """The trial's pipeline: the dataset's preprocessing, then the family's estimator."""
    from sklearn.pipeline import Pipeline

    family = FAMILIES[sweep.task][params[FAMILY]]
    arguments = dict(family.fixed)
    arguments.update({k: v for k, v in params.items() if k != FAMILY})
    if family.seeded:
        arguments["random_state"] = sweep.seed
    needs_proba = any(metric(sweep.task, m).needs_proba for m in sweep.metrics)
    if family.key == "svm" and sweep.task == Task.CLASSIFICATION and needs_proba:
        arguments["probability"] = True
    table = datasets.load(sweep.dataset, target=sweep.target)
    return Pipeline(
        [("preprocess", datasets.preprocessor(table.columns)), ("model", family.build(**arguments))]
    ), table


def folds_of(sweep, table):
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (StratifiedKFold if sweep.task == Task.CLASSIFICATION else KFold)(
        n_splits=sweep.folds, shuffle=True, random_state=sweep.seed
    )
    return splitter.split(table.features, table.target)


def cross_validate(sweep, params: dict, *, after_fold: Callable[[int, float], None]) -> Outcome:
    """Fit and score fold by fold; ``after_fold(fold, running mean of the objective)`` may
    raise :class:`Stop`. The folds are the same for every trial of the sweep (its seed)."""
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    pipeline, table = estimator(sweep, params)
    metrics = [metric(sweep.task, key) for key in sweep.metrics]
    scorers = {m.key: (get_scorer(m.scorer), m.sign) for m in metrics}
    outcome = Outcome(scores={m.key: [] for m in metrics})
    objective = metrics[0].key
    features, target = table.features, table.target
    for fold, (train, test) in enumerate(folds_of(sweep, table)):
        model = clone(pipeline)
        started = time.perf_counter()
        model.fit(features.iloc[train], target[train])
        fitted = time.perf_counter()
        outcome.fit_times.append(fitted - started)
        for key, (scorer, sign) in scorers.items():
            outcome.scores[key].append(
                float(sign * scorer(model, features.iloc[test], target[test]))
            )
        outcome.score_times.append(time.perf_counter() - fitted)
        if fold == 0:
            outcome.estimator_params = {
                str(k): repr(v)[:500] for k, v in model.named_steps["model"].get_params().items()
            }
        try:
            after_fold(fold, float(np.mean(outcome.scores[objective])))
        except Stop as stop:
            stop.outcome = outcome
            raise
    return outcome
