"""Reads of sweeps shaped for the dashboard and the API; query counts are pinned in tests."""

import math

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from experiments.choices import TRIAL_RAN, SweepStatus, TrialStatus
from experiments.models import Param, Run, RunTag, Sweep, Trial
from experiments.sweeps import sampling
from experiments.sweeps.sampling import FAMILY

# The tags MLflow's scikit-learn autologging puts on a run: the estimator's dotted class
# path, then its class name.
ESTIMATOR_TAGS = ("estimator_class", "estimator_name")

_COUNTS = {
    f"{status}_count": Count("trials", filter=Q(trials__status=status))
    for status in TrialStatus.values
}


def sweeps_of_project(project) -> QuerySet[Sweep]:
    """The project's sweeps, newest first, each with ``<status>_count`` per trial status
    and ``trial_count`` annotated, the dataset and the best trial joined."""
    return (
        Sweep.objects.filter(project=project)
        .select_related("dataset", "best_trial")
        .annotate(trial_count=Count("trials"), **_COUNTS)
        .order_by("-created_at", "-pk")
    )


def sweep_progress(sweep: Sweep) -> dict:
    """k of n (``done``: the trials that ran to an end, ``TRIAL_RAN``; the cancelled ones
    are counted apart), by status, the best so far, and the time spent and (roughly) left:
    none for a sweep that stopped short (cancelling, cancelled, failed), whose trials left
    will not run. Two queries: the counts, and the sweep's current row with its best trial."""
    counts = dict(
        Trial.objects.filter(sweep_id=sweep.pk)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    current = Sweep.objects.select_related("best_trial").get(pk=sweep.pk)
    total = sum(counts.values())
    done = sum(counts.get(s, 0) for s in TRIAL_RAN)
    end = current.finished_at or timezone.now()
    elapsed = (end - current.started_at).total_seconds() if current.started_at else 0.0
    remaining = None
    left = counts.get(TrialStatus.QUEUED, 0) + counts.get(TrialStatus.RUNNING, 0)
    if current.status in (SweepStatus.QUEUED, SweepStatus.RUNNING) and done and elapsed:
        remaining = elapsed / done * left
        if current.max_seconds:
            remaining = min(remaining, max(0.0, current.max_seconds - elapsed))
    elif current.status == SweepStatus.FINISHED:
        remaining = 0.0
    best = current.best_trial
    return {
        "status": current.status,
        "total": total,
        "done": done,
        **{status: counts.get(status, 0) for status in TrialStatus.values},
        "best_value": best.value if best else None,
        "best_trial": best.number if best else None,
        "elapsed_seconds": round(elapsed, 3),
        "remaining_seconds": None if remaining is None else round(remaining, 3),
    }


_RANK = {TrialStatus.SUCCEEDED: 0, TrialStatus.RUNNING: 1, TrialStatus.QUEUED: 2,
         TrialStatus.PRUNED: 3, TrialStatus.FAILED: 4, TrialStatus.CANCELLED: 5}  # fmt: skip


def sweep_trials(sweep: Sweep) -> list[Trial]:
    """The leaderboard: succeeded trials best first (ties to the lower number), then
    running, queued, pruned, failed and cancelled ones by number. One query."""
    trials = list(Trial.objects.filter(sweep_id=sweep.pk).select_related("run"))
    sign = -1 if sweep.maximizes else 1

    def key(trial: Trial):
        if trial.status == TrialStatus.SUCCEEDED and sampling.finite(trial.value):
            return (0, sign * trial.value, trial.number)
        # A succeeded trial without a finite score ranks with the failed ones.
        rank = _RANK[trial.status] if trial.status != TrialStatus.SUCCEEDED else 4
        return (rank, 0.0, trial.number)

    return sorted(trials, key=key)


def sweep_best_so_far(sweep: Sweep) -> list[tuple[int, float]]:
    """(trial number, best value of the succeeded trials numbered up to it), in number
    order: the best-score curve, monotone in the trial number it is drawn against, as
    Optuna's optimization history draws it. Parallel workers finish trials out of order,
    so a trial that ends late may still raise the curve at its own number. One query."""
    rows = (
        Trial.objects.filter(sweep_id=sweep.pk, status=TrialStatus.SUCCEEDED, value__isnull=False)
        .order_by("number")
        .values_list("number", "value")
    )
    best, curve = None, []
    better = max if sweep.maximizes else min
    for number, value in rows:
        if not sampling.finite(value):
            continue
        best = value if best is None else better(best, value)
        curve.append((number, best))
    return curve


def sweep_importances(sweep: Sweep) -> sampling.Importances:
    """Optuna's parameter importances (fANOVA) of the best family's params, and that family:
    as the sweep keeps them (``Sweep.importances``) while they are current, else computed."""
    trials = list(Trial.objects.filter(sweep_id=sweep.pk, status=TrialStatus.SUCCEEDED))
    kept = sweep.importances
    if kept and kept.get("succeeded") == len(trials):
        return sampling.Importances(family=kept["family"], values=kept["values"])
    return sampling.importances(sweep, trials)


def sweep_spec_from_run(run: Run) -> dict:
    """A spec that prefills a new sweep from ``run``: its sweep's dataset, task, target,
    folds, metrics and seed, its family, and a space around its params (numbers within a
    factor of three, categories as they were). For a run that no sweep made, the family
    and params it logged when they name a family of the allowlist, else the scikit-learn
    estimator MLflow's autologging tagged it with."""
    trial = Trial.objects.filter(run=run).select_related("sweep").first()
    params = dict(Param.objects.filter(run=run).values_list("key", "value"))
    spec: dict = {}
    sweep = trial.sweep if trial else None
    if sweep is not None:
        spec.update(
            dataset=sweep.dataset_id, task=sweep.task, target=sweep.target, folds=sweep.folds,
            metrics=list(sweep.metrics), seed=sweep.seed, strategy="tpe", pruner=sweep.pruner,
            max_trials=sweep.max_trials,
        )  # fmt: skip
        values = dict(trial.params)
    else:
        values = params
    found = _family_of(run, values, spec.get("task"))
    if found is not None:
        task, family = found
        spec.setdefault("task", task)
        spec["families"] = [family.key]
        spec["space"] = {family.key: _space_around(family, sweep, values)}
    spec["name"] = f"{run.name or run.run_id[:8]} retrained"
    return spec


def _family_of(run: Run, values: dict, task: str | None):
    """The task and family ``run`` names: a ``family`` among ``values`` (of ``task`` when a
    sweep set it), else, for a run no sweep made, its autologging tags' estimator."""
    from experiments.sweeps.families import FAMILIES, family_of_estimator

    key = values.get(FAMILY)
    for candidate in [task] if task else list(FAMILIES):
        if key in FAMILIES[candidate]:
            return candidate, FAMILIES[candidate][key]
    if task:
        return None
    tags = dict(RunTag.objects.filter(run=run, key__in=ESTIMATOR_TAGS).values_list("key", "value"))
    for tag in ESTIMATOR_TAGS:
        found = family_of_estimator(tags.get(tag, ""))
        if found is not None:
            return found
    return None


def _space_around(family, sweep, values: dict) -> dict:
    from experiments.sweeps.families import CATEGORICAL, INT, LOG_FLOAT

    space = {}
    base = (sweep.space.get(family.key) if sweep else None) or family.default_space
    for name, dimension in base.items():
        rule = family.params[name]
        value = _parsed(values.get(name))
        if dimension["type"] == CATEGORICAL or value is None or isinstance(value, str | bool):
            space[name] = dict(dimension)
            continue
        low = max(rule.low, value / 3) if value > 0 else rule.low
        high = min(rule.high, value * 3) if value > 0 else rule.high
        if dimension["type"] == INT:
            low, high = int(max(rule.low, math.floor(low))), int(min(rule.high, math.ceil(high)))
            if low >= high:
                high = low + 1
            space[name] = {"type": INT, "low": low, "high": high}
        else:
            kind = LOG_FLOAT if dimension["type"] == LOG_FLOAT else dimension["type"]
            space[name] = {"type": kind, "low": float(low), "high": float(high)}
    return space


def _parsed(value):
    if not isinstance(value, str):
        return value
    for parse in (int, float):
        try:
            return parse(value)
        except ValueError:
            continue
    return value
