"""Reads of the model registry, shaped for the MLflow endpoints, the gates and the pages, and
free of N+1 queries. Callers pass querysets already cut to what the caller may see."""

import math
from collections.abc import Iterable

from experiments.models import MetricSeries
from registry.models import LoggedModelMetric, ModelVersion


def _finite_or_none(value: float, is_nan: bool) -> float | None:
    return None if is_nan or not math.isfinite(value) else value


def many_version_metrics(versions: Iterable[ModelVersion]) -> dict[int, dict[str, float | None]]:
    """Each version's metric values by key, in two queries for any number of versions: the
    logged model's own metrics (its latest point of each key, MLflow's order: newest
    timestamp, then highest step), then, for keys the model has not logged, its run's latest
    value. NaN and infinities are None: no measurement a gate or a card can compare (and
    JSON, where deployment events keep them, has no spelling for them)."""
    versions = list(versions)
    by_model: dict[int, list[int]] = {}
    by_run: dict[int, list[int]] = {}
    for version in versions:
        if version.logged_model_id is not None:
            by_model.setdefault(version.logged_model_id, []).append(version.pk)
        if version.run_id is not None:
            by_run.setdefault(version.run_id, []).append(version.pk)
    found: dict[int, dict[str, float | None]] = {version.pk: {} for version in versions}
    if by_model:
        points = (
            LoggedModelMetric.objects.filter(model_id__in=by_model)
            .order_by("model_id", "key", "-timestamp", "-step", "-pk")
            .values_list("model_id", "key", "value", "is_nan")
        )
        for model_id, key, value, is_nan in points:
            for pk in by_model[model_id]:
                found[pk].setdefault(key, _finite_or_none(value, is_nan))
    if by_run:
        latest = MetricSeries.objects.filter(run_id__in=by_run).values_list(
            "run_id", "key", "latest_value", "latest_is_nan"
        )
        for run_id, key, value, is_nan in latest:
            for pk in by_run[run_id]:
                found[pk].setdefault(key, _finite_or_none(value, is_nan))
    return {pk: dict(sorted(values.items())) for pk, values in found.items()}


def version_metrics(version: ModelVersion) -> dict[str, float | None]:
    return many_version_metrics([version])[version.pk]
