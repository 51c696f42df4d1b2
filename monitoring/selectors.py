"""Reads of the monitoring domain, shaped for evaluators, pages and endpoints."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from django.db.models import Count, Max, Sum

from monitoring import batches, drift
from monitoring.choices import AlertState, ColumnKind, MonitorKind
from monitoring.models import Alert, Batch, Deployment, Record, ReferenceColumn
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


def firing_alert_counts(project_ids: list[int] | None) -> dict[int, int]:
    """Firing alerts by project id, for project health (``phases.health``), in one query.

    The health monitor's own alerts are left out: it fires on red health, and counting it
    would keep health amber once the rest is well, so the alert would never resolve."""
    alerts = Alert.objects.filter(state=AlertState.FIRING).exclude(monitor__kind=MonitorKind.HEALTH)
    if project_ids is not None:
        alerts = alerts.filter(monitor__project_id__in=project_ids)
    counts = alerts.order_by().values("monitor__project_id").annotate(n=Count("pk"))
    return {row["monitor__project_id"]: row["n"] for row in counts}


# --- Production's labelled rows as a dataset ---------------------------------------------

EXPORT_KIND = "production"  # ``Dataset.origin["kind"]`` of an export


def iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def records_in(*, deployment: Deployment, since: dt.datetime | None, until: dt.datetime | None):
    """The deployment's production rows whose batch was observed in [since, until)."""
    records = Record.objects.filter(deployment=deployment)
    if since is not None:
        records = records.filter(batch__observed_at__gte=since)
    if until is not None:
        records = records.filter(batch__observed_at__lt=until)
    return records


def label_counts(
    *, deployment: Deployment, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict:
    """The rows of the window with a label and without, and the newest label's time:
    what says whether an export still holds every labelled row. Two queries."""
    records = records_in(deployment=deployment, since=since, until=until)
    labelled = records.filter(labelled_at__isnull=False).aggregate(
        rows=Count("pk"), last=Max("labelled_at")
    )
    return {
        "labelled_rows": labelled["rows"],
        "unlabelled_rows": records.filter(labelled_at__isnull=True).count(),
        "last_labelled_at": iso(labelled["last"]),
    }


def production_dataset_current(*, deployment: Deployment, with_training: bool = False):
    """The newest whole export of ``deployment`` (no window) that still holds every
    labelled row, or None: what a retraining sweep starts from. Three queries."""
    from experiments.choices import DatasetSource
    from experiments.models import Dataset

    newest = (
        Dataset.objects.filter(
            project=deployment.project_id,
            source=DatasetSource.PRODUCTION,
            origin__kind=EXPORT_KIND,
            origin__deployment=deployment.pk,
            origin__since=None,
            origin__until=None,
            origin__with_training=with_training,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if newest is None:
        return None
    counts = label_counts(deployment=deployment)
    held = (newest.origin.get("production_rows"), newest.origin.get("last_labelled_at"))
    return newest if held == (counts["labelled_rows"], counts["last_labelled_at"]) else None


@dataclass(frozen=True)
class RetrainingPlan:
    """What a retraining sweep starts from when production asks for one: the deployed
    version's run (its params are the sweep's starting point) and the production rows
    seen since the deployment started, the labelled ones being the newer training data,
    with the export of them that is still current, if there is one."""

    deployment: Deployment
    run_id: str | None
    params: dict[str, str]
    data_from: dt.datetime
    data_to: dt.datetime | None
    rows: int
    labelled_rows: int
    export: object | None = None  # experiments.Dataset


def retraining_plan(*, deployment: Deployment) -> RetrainingPlan:
    """The prefill of a retraining sweep for ``deployment``; sweeps (experiment jobs) take
    it as their starting point. Six queries."""
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
        export=production_dataset_current(deployment=deployment) if labelled else None,
    )
