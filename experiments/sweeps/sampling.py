"""Optuna, asked and told: the sweep's own rows are the truth, and Optuna only proposes.

Optuna's storage is never the record. When a worker starts a trial it asks an in-memory
study that mirrors the sweep's trials (finished ones with their values and per-fold
intermediate values, running ones as running, so TPE's constant liar spreads concurrent
trials apart) for the next params, and writes them to the trial row in the transaction
that claims it, under the sweep's lock: two workers never ask at once, so they never get
the same proposal. Each worker process keeps its study between asks and brings it up to
date with the rows (trials it has not seen are added, running ones that have ended are
told); when the rows say anything a study cannot follow (a trial gone, or back to the
queue), it is rebuilt from them. At each fold a study of the finished rows answers the
pruner. Grid sweeps take their points from the rows (one point per trial number, fixed at
creation) instead of Optuna's grid sampler, which picks points per worker and can run
one twice.
"""

import datetime as dt
import functools
import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

from experiments.choices import Pruner, Strategy, TrialStatus
from experiments.sweeps.families import CATEGORICAL, INT, LOG_FLOAT

FAMILY = "family"


def _optuna():
    """Optuna, quiet (its log level set once: that clears every logger's cache)."""
    optuna = _imported()
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


@functools.cache
def _imported():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
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


# The rows a study holds: the trials that ran or run, with their params.
IN_STUDY = (TrialStatus.SUCCEEDED, TrialStatus.PRUNED, TrialStatus.FAILED, TrialStatus.RUNNING)


def _state_of(trial):
    """Optuna's state and value of a row (a success without a finite value counts as
    failed)."""
    states = _optuna().trial.TrialState
    state = {
        TrialStatus.SUCCEEDED: states.COMPLETE,
        TrialStatus.PRUNED: states.PRUNED,
        TrialStatus.FAILED: states.FAIL,
        TrialStatus.RUNNING: states.RUNNING,
    }[trial.status]
    if state != states.COMPLETE:
        return state, None
    if not finite(trial.value):
        return states.FAIL, None
    return state, trial.value


def _intermediate(trial) -> dict[int, float]:
    return {step: value for step, value in enumerate(trial.intermediate) if finite(value)}


def _frozen(sweep, trial, *, state=None):
    optuna = _optuna()
    if state is None:
        state, value = _state_of(trial)
    else:
        value = None
    params, distributions = distributions_of(sweep, trial.params)
    return optuna.trial.create_trial(
        state=state,
        value=value,
        params=params,
        distributions=distributions,
        system_attrs=dict(trial.sampler_attrs),
        intermediate_values=_intermediate(trial),
    )


def finite(value) -> bool:
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
    return _Mirror.of(sweep, trials, number=number).study


@dataclass
class _Mirror:
    """A study that mirrors a sweep's rows: which row is which of its trials, and the
    status and params each had when the study last saw it."""

    study: object  # optuna.Study
    storage: object  # its InMemoryStorage
    study_id: int
    seen: dict[int, tuple[int, str, dict]] = field(default_factory=dict)  # pk: id, status, params

    @classmethod
    def of(cls, sweep, trials, *, number: int) -> "_Mirror":
        optuna = _optuna()
        storage = optuna.storages.InMemoryStorage()
        study = optuna.create_study(
            storage=storage,
            direction=sweep.direction,
            sampler=_sampler(sweep, number),
            pruner=_pruner(sweep),
        )
        mirror = cls(study, storage, storage.get_study_id_from_name(study.study_name))
        for trial in trials:
            if trial.params and trial.status in IN_STUDY:
                mirror.add(sweep, trial)
        return mirror

    def add(self, sweep, trial) -> None:
        self.study.add_trial(_frozen(sweep, trial))
        self.seen[trial.pk] = (self.trial_id(), trial.status, trial.params)

    def trial_id(self, number: int | None = None) -> int:
        """The storage's id of the study's trial ``number`` (by default its last)."""
        if number is None:
            number = self.storage.get_n_trials(self.study_id) - 1
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def follow(self, sweep, trials) -> bool:
        """Bring the study up to date with ``trials`` (all the sweep's rows that have
        params but the one being claimed); False when it cannot follow them."""
        rows = {trial.pk: trial for trial in trials if trial.params}
        if any(pk not in rows for pk in self.seen):
            return False  # a row gone, or its params cleared
        for pk, trial in rows.items():
            known = self.seen.get(pk)
            if known is None:
                if trial.status in IN_STUDY:
                    self.add(sweep, trial)
                continue
            trial_id, status, params = known
            if trial.params != params:
                return False  # another worker's proposal for a trial this one asked for
            if trial.status == status:
                continue
            if status != TrialStatus.RUNNING or trial.status not in IN_STUDY:
                return False  # ended trials never change, and a study never forgets one
            self._tell(trial_id, trial)
            self.seen[pk] = (trial_id, trial.status, params)
        return True

    def _tell(self, trial_id: int, trial) -> None:
        """A trial the study holds as running has ended: its values, attributes, state."""
        storage = self.storage
        for step, value in _intermediate(trial).items():
            storage.set_trial_intermediate_value(trial_id, step, value)
        for key, value in trial.sampler_attrs.items():
            storage.set_trial_system_attr(trial_id, key, value)
        state, value = _state_of(trial)
        storage.set_trial_state_values(trial_id, state, None if value is None else [value])


# Each worker process's studies, by sweep: the last few sweeps it asked for.
_MIRRORS: "OrderedDict[tuple, _Mirror]" = OrderedDict()
_MIRRORS_KEPT = 8
_MIRRORS_LOCK = threading.Lock()


def _mirror(sweep, trials, *, number: int) -> _Mirror:
    key = (sweep.pk, sweep.created_at)
    mirror = _MIRRORS.pop(key, None)
    try:
        followed = mirror is not None and mirror.follow(sweep, trials)
    except (KeyError, RuntimeError, ValueError):  # Optuna's refusals: rebuild, as for a miss
        followed = False
    if not followed:
        mirror = _Mirror.of(sweep, trials, number=number)
    mirror.study.sampler = _sampler(sweep, number)
    _MIRRORS[key] = mirror
    while len(_MIRRORS) > _MIRRORS_KEPT:
        _MIRRORS.popitem(last=False)
    return mirror


def ask(sweep, trials, *, number: int, trial_pk: int | None = None) -> tuple[dict, dict]:
    """The params of trial ``number`` (plain names, with ``family``) and the sampler's
    attributes of it, asked of this process's study of the sweep brought up to date with
    ``trials`` (the sweep's other rows). ``trial_pk``: the row asked for, which the study
    then holds as running (if its claim is rolled back, the study is rebuilt next time)."""
    with _MIRRORS_LOCK:
        mirror = _mirror(sweep, trials, number=number)
        asked = mirror.study.ask()
        params = _suggest(sweep, asked)
        trial_id = mirror.trial_id(asked.number)
        attrs = mirror.storage.get_trial_system_attrs(trial_id)
        if trial_pk is None:
            _MIRRORS.pop((sweep.pk, sweep.created_at), None)
        else:
            mirror.seen[trial_pk] = (trial_id, TrialStatus.RUNNING, params)
        return params, {key: value for key, value in attrs.items() if _jsonable(value)}


def _suggest(sweep, asked) -> dict:
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
    return params


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


@dataclass(frozen=True, slots=True)
class Importances:
    """The params' importances within one family's trials, and which family that is: a
    reader must know the shares are of that family alone, not of the whole sweep."""

    family: str  # the family's key ("random_forest"); "" when there are no importances
    values: dict[str, float] = field(default_factory=dict)  # a param's plain name: its share


def importances(sweep, trials) -> Importances:
    """Optuna's parameter importances (fANOVA, seeded) over the sweep's succeeded trials of
    the best family: parameters of other families mean nothing for its trials. Needs two
    such trials at least; none otherwise."""
    optuna = _optuna()
    done = [t for t in trials if t.status == TrialStatus.SUCCEEDED and finite(t.value)]
    if len(done) < 2:
        return Importances(family="")
    sign = 1 if sweep.maximizes else -1
    best = max(done, key=lambda t: sign * t.value)
    family = best.params[FAMILY]
    same = [t for t in done if t.params.get(FAMILY) == family]
    names = [n for n in sweep.space.get(family, {}) if all(n in t.params for t in same)]
    if len(same) < 2 or not names:
        return Importances(family="")
    study = study_of(sweep, same)
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=sweep.seed)
    try:
        found = optuna.importance.get_param_importances(
            study, evaluator=evaluator, params=[_qualified(family, n) for n in names]
        )
    except (RuntimeError, ValueError):
        return Importances(family="")
    values = {name.split(".", 1)[1]: float(value) for name, value in found.items()}
    return Importances(family=family, values=values)


def elapsed(start: dt.datetime | None, end: dt.datetime) -> float | None:
    return (end - start).total_seconds() if start else None
