"""A sweep's specification, checked before anything is created: each refusal names the
field (``families``, ``space.svm.C``, ``metrics``…) and the rule it broke."""

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from experiments.choices import Pruner, Strategy, Task
from experiments.sweeps.datasets import CATEGORICAL as CATEGORICAL_COLUMN
from experiments.sweeps.families import (
    CATEGORICAL,
    DEFAULT_METRICS,
    FAMILIES,
    INT,
    LOG_FLOAT,
    METRICS,
    PARAM_TYPES,
    metric,
)
from mlprojects.exceptions import DomainError

MAX_FOLDS = 20
# Points per numeric param when a grid is made of a range (ints take every value up to it).
GRID_STEPS = 5
SPEC_FIELDS = frozenset(
    {
        "name", "dataset", "task", "target", "families", "space", "strategy", "pruner",
        "max_trials", "max_seconds", "folds", "metrics", "seed", "max_concurrent",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Spec:
    name: str
    dataset: Any
    task: str
    target: str
    families: list[str]
    space: dict[str, dict[str, dict]]
    strategy: str
    pruner: str
    max_trials: int
    max_seconds: int | None
    folds: int
    metrics: list[str]
    direction: str
    seed: int
    max_concurrent: int | None
    grid: list[dict] | None


def invalid(field: str, rule: str) -> DomainError:
    return DomainError.invalid(field, rule)


def _integer(spec: dict, field: str, *, low: int, high: int | None = None, default=None):
    value = spec.get(field, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, "must be a whole number")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(field, f"must be {bounds}")
    return value


def _choice(spec: dict, field: str, choices, default=None) -> str:
    value = spec.get(field, default)
    if value not in choices.values:
        raise invalid(field, f"must be one of {', '.join(choices.values)}")
    return value


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(field, "must be a finite number")
    return float(value)


def check_param(task: str, family: str, name: str, dimension) -> dict:
    """One dimension of a family's space, normalised: ``{"type", "low", "high"}`` or
    ``{"type": "categorical", "choices"}``."""
    field = f"space.{family}.{name}"
    rules = FAMILIES[task][family].params
    if name not in rules:
        raise invalid(field, f"{family} has no such hyperparameter (it has {', '.join(rules)})")
    rule = rules[name]
    if not isinstance(dimension, dict):
        raise invalid(field, "must be an object with a type")
    kind = dimension.get("type")
    if kind not in PARAM_TYPES:
        raise invalid(f"{field}.type", f"must be one of {', '.join(PARAM_TYPES)}")
    if kind not in rule.types:
        raise invalid(f"{field}.type", f"{name} takes {' or '.join(rule.types)}")
    if kind == CATEGORICAL:
        choices = dimension.get("choices")
        if not isinstance(choices, list) or not choices:
            raise invalid(f"{field}.choices", "must be a non-empty list")
        unknown = [c for c in choices if c not in rule.choices]
        if unknown:
            allowed = ", ".join("null" if c is None else str(c) for c in rule.choices)
            raise invalid(f"{field}.choices", f"{unknown[0]!r} is not allowed (allowed: {allowed})")
        if len(set(map(repr, choices))) != len(choices):
            raise invalid(f"{field}.choices", "must not repeat a choice")
        return {"type": kind, "choices": choices}
    low = _number(dimension.get("low"), f"{field}.low")
    high = _number(dimension.get("high"), f"{field}.high")
    if kind == INT and (low != int(low) or high != int(high)):
        raise invalid(field, "an int range needs whole-number bounds")
    if not low < high:
        raise invalid(field, "low must be below high")
    if low < rule.low or high > rule.high:
        raise invalid(field, f"must lie within {rule.low:g} and {rule.high:g}")
    if kind == LOG_FLOAT and low <= 0:
        raise invalid(f"{field}.low", "a log_float range must start above 0")
    if kind == INT:
        return {"type": kind, "low": int(low), "high": int(high)}
    return {"type": kind, "low": low, "high": high}


def check_space(task: str, families: list[str], space) -> dict[str, dict[str, dict]]:
    """The families' spaces; a family the space leaves out searches its default space, but
    an empty space (or an empty family in it) is refused."""
    if space is None:
        space = {}
    elif not isinstance(space, dict):
        raise invalid("space", "must be an object: family -> param -> range")
    elif not space:
        raise invalid("space", "must not be empty (leave it out for the default spaces)")
    extra = [f for f in space if f not in families]
    if extra:
        raise invalid(f"space.{extra[0]}", "is not one of the sweep's families")
    checked = {}
    for family in families:
        given = space.get(family)
        if given is None:
            given = FAMILIES[task][family].default_space
        elif not isinstance(given, dict) or not given:
            raise invalid(f"space.{family}", "must not be empty")
        checked[family] = {
            name: check_param(task, family, name, dimension) for name, dimension in given.items()
        }
    return checked


def grid_values(dimension: dict) -> list:
    kind = dimension["type"]
    if kind == CATEGORICAL:
        return list(dimension["choices"])
    low, high = dimension["low"], dimension["high"]
    if kind == INT:
        if high - low < GRID_STEPS:
            return list(range(low, high + 1))
        step = (high - low) / (GRID_STEPS - 1)
        return sorted({round(low + i * step) for i in range(GRID_STEPS)})
    if kind == LOG_FLOAT:
        ratio = (high / low) ** (1 / (GRID_STEPS - 1))
        return [float(f"{low * ratio**i:.6g}") for i in range(GRID_STEPS)]
    # FLOAT
    return [float(f"{low + i * (high - low) / (GRID_STEPS - 1):.6g}") for i in range(GRID_STEPS)]


def grid_points(space: dict[str, dict[str, dict]]) -> list[dict]:
    """Every point of the grid, family by family (a family's params only with that family),
    in a fixed order: point ``i`` is trial ``i``, so no point is run twice."""
    from sklearn.model_selection import ParameterGrid

    grids = [
        {"family": [family], **{name: grid_values(d) for name, d in dimensions.items()}}
        for family, dimensions in space.items()
    ]
    return [dict(sorted(point.items())) for point in ParameterGrid(grids)]


def check(*, project, spec: dict, dataset) -> Spec:
    unknown = sorted(set(spec) - SPEC_FIELDS)
    if unknown:
        raise invalid(unknown[0], "is not a field of a sweep")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("name", "must not be blank")
    name = name.strip()
    if len(name) > 200:
        raise invalid("name", "must be at most 200 characters")
    task = _choice(spec, "task", Task, default=dataset.task if dataset else None)
    target = spec.get("target") or (dataset.target if dataset else None)
    if dataset is not None and target != dataset.target and target not in dataset.columns:
        raise invalid("target", f"the dataset has no column “{target}”")
    if (
        dataset is not None
        and task == Task.REGRESSION
        and (dataset.columns.get(target) == CATEGORICAL_COLUMN)
    ):
        raise invalid("task", f"regression needs a numeric target; “{target}” is categorical")
    families = spec.get("families")
    if not isinstance(families, list) or not families:
        raise invalid("families", "name at least one estimator family")
    allowed = FAMILIES[task]
    for family in families:
        if family not in allowed:
            raise invalid(
                "families",
                f"“{family}” is not a {task} family (allowed: {', '.join(allowed)})",
            )
    if len(set(families)) != len(families):
        raise invalid("families", "must not repeat a family")
    space = check_space(task, families, spec.get("space"))
    strategy = _choice(spec, "strategy", Strategy, default=Strategy.TPE)
    pruner = _choice(spec, "pruner", Pruner, default=Pruner.NONE)
    cap = settings.EXPERIMENTS_MAX_TRIALS
    max_seconds = _integer(spec, "max_seconds", low=1)
    max_trials = _integer(spec, "max_trials", low=1, high=cap)
    if max_trials is None and max_seconds is None:
        raise invalid("max_trials", "set a trial count, a wall time (max_seconds), or both")
    grid = None
    if strategy == Strategy.GRID:
        grid = grid_points(space)
        if len(grid) > cap:
            raise invalid("space", f"the grid has {len(grid):,} points, over the cap of {cap:,}")
        max_trials = min(max_trials or len(grid), len(grid))
        grid = grid[:max_trials]
    max_trials = max_trials or cap
    folds = _integer(spec, "folds", low=2, high=MAX_FOLDS, default=3)
    metrics = spec.get("metrics")
    if metrics is None:
        metrics = _default_metrics(project, task)
    if not isinstance(metrics, list) or not metrics:
        raise invalid("metrics", "name at least one metric; the first is the objective")
    for key in metrics:
        if not isinstance(key, str) or metric(task, key) is None:
            raise invalid(
                "metrics",
                f"“{key}” is not a {task} metric (allowed: {', '.join(METRICS[task])})",
            )
    if len(set(metrics)) != len(metrics):
        raise invalid("metrics", "must not repeat a metric")
    seed = _integer(spec, "seed", low=0, high=2**32 - 1, default=0)
    max_concurrent = _integer(spec, "max_concurrent", low=1)
    return Spec(
        name=name,
        dataset=dataset,
        task=task,
        target=target,
        families=families,
        space=space,
        strategy=strategy,
        pruner=pruner,
        max_trials=max_trials,
        max_seconds=max_seconds,
        folds=folds,
        metrics=metrics,
        direction=metric(task, metrics[0]).direction,
        seed=seed,
        max_concurrent=max_concurrent,
        grid=grid,
    )


def _default_metrics(project, task: str) -> list[str]:
    """The project's success metric first when it is one a sweep can compute, then the
    task's default."""
    found = []
    if project.success_metric and metric(task, project.success_metric) is not None:
        found.append(project.success_metric)
    found += [m for m in DEFAULT_METRICS[task] if metric(task, m).key not in found]
    return found
