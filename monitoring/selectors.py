"""Reads of the monitoring domain, shaped for evaluators, pages and endpoints."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from django.db.models import Max, Sum

from monitoring import batches, drift
from monitoring.choices import ColumnKind
from monitoring.models import Batch, Deployment, Record, ReferenceColumn
from phases.models import Project


def profile_of(column: ReferenceColumn) -> drift.Profile:
    if column.kind == ColumnKind.NUMERIC:
        sample = np.frombuffer(bytes(column.sample), dtype=np.float64)
        return drift.NumericProfile.from_dict(column.stats, sample)
    return drift.CategoricalProfile.from_dict(column.stats)


def reference_profiles(*, deployment: Deployment, role: str) -> dict[str, drift.Profile]:
    """The stored profiles of one role's columns, in reference order: one query."""
    columns = ReferenceColumn.objects.filter(deployment=deployment, role=role).order_by("position")
    return {column.name: profile_of(column) for column in columns}


def window_rows(
    *, deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> tuple[pa.Table | None, dict[str, int]]:
    """Every production row of the deployment observed in [start, end), and the values of
    the wrong type per column that ingest kept as missing."""
    tables, type_errors = [], defaultdict(int)
    rows = (
        Batch.objects.filter(deployment=deployment, observed_at__gte=start, observed_at__lt=end)
        .order_by("observed_at", "id")
        .values_list("data", "type_errors")
    )
    for data, errors in rows.iterator(chunk_size=50):
        tables.append(batches.decode(data))
        for name, count in errors.items():
            type_errors[name] += count
    return batches.concat(tables), dict(type_errors)


def labelled_pairs(
    *, deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> tuple[list, list]:
    """Labels and predictions of the rows observed in [start, end) that have a label."""
    pairs = Record.objects.filter(
        deployment=deployment,
        labelled_at__isnull=False,
        batch__observed_at__gte=start,
        batch__observed_at__lt=end,
    ).values_list("label", "prediction")
    labels, predictions = [], []
    for label, prediction in pairs.iterator(chunk_size=5000):
        if prediction is not None:
            labels.append(label)
            predictions.append(prediction)
    return labels, predictions


def latest_batch_time(*, deployment: Deployment) -> dt.datetime | None:
    return Batch.objects.filter(deployment=deployment).aggregate(latest=Max("received_at"))[
        "latest"
    ]


def project_health(*, project_id: int) -> Project:
    return Project.objects.only("health", "health_reasons").get(pk=project_id)


@dataclass(frozen=True)
class RetrainingPlan:
    """What a retraining sweep starts from when production asks for one: the deployed
    version's run (its params are the sweep's starting point) and the production rows
    seen since the deployment started, the labelled ones being the newer training data."""

    deployment: Deployment
    run_id: str | None
    params: dict[str, str]
    data_from: dt.datetime
    data_to: dt.datetime | None
    rows: int
    labelled_rows: int


def retraining_plan(*, deployment: Deployment) -> RetrainingPlan:
    """The prefill of a retraining sweep for ``deployment``; sweeps (experiment jobs) take
    it as their starting point. Three queries."""
    from experiments.models import Param

    version = deployment.model_version
    run = version.run if version is not None else None
    params = (
        dict(Param.objects.filter(run=run).values_list("key", "value")) if run is not None else {}
    )
    batches = Batch.objects.filter(deployment=deployment).aggregate(
        rows=Sum("rows"), last=Max("observed_at")
    )
    labelled = Record.objects.filter(deployment=deployment, labelled_at__isnull=False).count()
    return RetrainingPlan(
        deployment=deployment,
        run_id=run.run_id if run is not None else None,
        params=params,
        data_from=deployment.started_at,
        data_to=batches["last"],
        rows=batches["rows"] or 0,
        labelled_rows=labelled,
    )
