"""Optuna, asked and told: the sweep's own rows are the truth, and Optuna only proposes.

Optuna's storage is never the record. When a worker starts a trial it rebuilds an in-memory
study from the sweep's trials (finished ones with their values and per-fold intermediate
values, running ones as running, so TPE's constant liar spreads concurrent trials apart),
asks it for the next params, and writes them to the trial row in the transaction that
claims it, under the sweep's lock: two workers never ask at once, so they never get the
same proposal. At each fold the same kind of study answers the pruner. Grid sweeps take
their points from the rows (one point per trial number, fixed at creation) instead of
Optuna's grid sampler, which picks points per worker and can run one twice.
"""

import datetime as dt
import math
import warnings

from experiments.choices import Pruner, Strategy, TrialStatus
from experiments.sweeps.families import CATEGORICAL, INT, LOG_FLOAT

FAMILY = "family"


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def distribution(dimension: dict):
    from optuna import distributions

    kind = dimension["type"]
    if kind == CATEGORICAL:
        return distributions.CategoricalDistribution(dimension["choices"])
    if kind == INT:
        return distributions.IntDistribution(dimension["low"], dimension["high"])
    return distributions.FloatDistribution(
        dimension["low"], dimension["high"], log=kind == LOG_FLOAT
    )


def _qualified(family: str, name: str) -> str:
    """Optuna's name of a family's param: families may share a name with other ranges."""
    return f"{family}.{name}"


def distributions_of(sweep, params: dict) -> tuple[dict, dict]:
    """``params`` (plain names, with ``family``) in Optuna's names, with their distributions."""
    from optuna.distributions import CategoricalDistribution

    family = params[FAMILY]
    named = {FAMILY: family}
    found = {FAMILY: CategoricalDistribution(sweep.families)}
    for name, dimension in sweep.space.get(family, {}).items():
        if name in params:
            named[_qualified(family, name)] = params[name]
            found[_qualified(family, name)] = distribution(dimension)
    return named, found


def _frozen(sweep, trial, *, state=None):
    optuna = _optuna()
    states = optuna.trial.TrialState
    if state is None:
        state = {
            TrialStatus.SUCCEEDED: states.COMPLETE,
            TrialStatus.PRUNED: states.PRUNED,
            TrialStatus.FAILED: states.FAIL,
            TrialStatus.RUNNING: states.RUNNING,
        }[trial.status]
    params, distributions = distributions_of(sweep, trial.params)
    intermediate = {step: value for step, value in enumerate(trial.intermediate) if _finite(value)}
    value = trial.value if state == states.COMPLETE else None
    if state == states.COMPLETE and not _finite(value):
        state = states.FAIL
        value = None
    return optuna.trial.create_trial(
        state=state,
        value=value,
        params=params,
        distributions=distributions,
        system_attrs=dict(trial.sampler_attrs),
        intermediate_values=intermediate,
    )


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def _sampler(sweep, number: int):
    optuna = _optuna()
    seed = sweep.seed + number
    if sweep.strategy == Strategy.RANDOM:
        return optuna.samplers.RandomSampler(seed=seed)
    startup = max(2, min(10, sweep.max_trials // 4))
    return optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=startup, multivariate=True, group=True, constant_liar=True
    )


def _pruner(sweep):
    optuna = _optuna()
    if sweep.pruner == Pruner.MEDIAN:
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if sweep.pruner == Pruner.SUCCESSIVE_HALVING:
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    return optuna.pruners.NopPruner()


def study_of(sweep, trials, *, number: int = 0):
    """An in-memory study holding ``trials`` (the sweep's rows that have params)."""
    optuna = _optuna()
    study = optuna.create_study(
        direction=sweep.direction, sampler=_sampler(sweep, number), pruner=_pruner(sweep)
    )
    for trial in trials:
        if trial.params and trial.status in (
            TrialStatus.SUCCEEDED, TrialStatus.PRUNED, TrialStatus.FAILED, TrialStatus.RUNNING,
        ):  # fmt: skip
            study.add_trial(_frozen(sweep, trial))
    return study


def ask(sweep, trials, *, number: int) -> tuple[dict, dict]:
    """The params of trial ``number`` (plain names, with ``family``) and the sampler's
    attributes of it, asked of a study rebuilt from the sweep's ``trials``."""
    study = study_of(sweep, trials, number=number)
    asked = study.ask()
    family = asked.suggest_categorical(FAMILY, sweep.families)
    params = {FAMILY: family}
    for name, dimension in sweep.space[family].items():
        qualified = _qualified(family, name)
        kind = dimension["type"]
        if kind == CATEGORICAL:
            params[name] = asked.suggest_categorical(qualified, dimension["choices"])
        elif kind == INT:
            params[name] = asked.suggest_int(qualified, dimension["low"], dimension["high"])
        else:
            params[name] = asked.suggest_float(
                qualified, dimension["low"], dimension["high"], log=kind == LOG_FLOAT
            )
    attrs = {key: value for key, value in study.trials[-1].system_attrs.items() if _jsonable(value)}
    return params, attrs


def should_prune(sweep, finished, trial, intermediate: list[float]) -> tuple[bool, dict]:
    """Whether the pruner stops ``trial`` after its latest fold, judged against the sweep's
    ``finished`` trials; and the trial's sampler attributes after the verdict (successive
    halving records its rungs there)."""
    optuna = _optuna()
    if sweep.pruner == Pruner.NONE:
        return False, dict(trial.sampler_attrs)
    study = study_of(sweep, finished)
    trial.intermediate = intermediate
    current = _frozen(sweep, trial, state=optuna.trial.TrialState.RUNNING)
    study.add_trial(current)
    frozen = study.trials[-1]
    verdict = study.pruner.prune(study, frozen)
    attrs = {k: v for k, v in study.trials[-1].system_attrs.items() if _jsonable(v)}
    return bool(verdict), attrs


def _jsonable(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def importances(sweep, trials) -> dict[str, float]:
    """Optuna's parameter importances (fANOVA, seeded) over the sweep's succeeded trials of
    the best family: parameters of other families mean nothing for its trials. Needs two
    such trials at least; an empty dict otherwise."""
    optuna = _optuna()
    done = [t for t in trials if t.status == TrialStatus.SUCCEEDED and _finite(t.value)]
    if len(done) < 2:
        return {}
    sign = 1 if sweep.direction == "maximize" else -1
    best = max(done, key=lambda t: sign * t.value)
    family = best.params[FAMILY]
    same = [t for t in done if t.params.get(FAMILY) == family]
    names = [n for n in sweep.space.get(family, {}) if all(n in t.params for t in same)]
    if len(same) < 2 or not names:
        return {}
    study = study_of(sweep, same)
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=sweep.seed)
    try:
        found = optuna.importance.get_param_importances(
            study, evaluator=evaluator, params=[_qualified(family, n) for n in names]
        )
    except (RuntimeError, ValueError):
        return {}
    return {name.split(".", 1)[1]: float(value) for name, value in found.items()}


def elapsed(start: dt.datetime | None, end: dt.datetime) -> float | None:
    return (end - start).total_seconds() if start else None
