"""Deployments and their reference data: a new version at the production alias starts one."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from monitoring import drift
from monitoring.batches import ROW_ID
from monitoring.choices import (
    OPEN_ALERT_STATES,
    ColumnKind,
    ColumnRole,
    MonitorKind,
    ReferenceSource,
)
from monitoring.models import (
    Alert,
    Deployment,
    Monitor,
    ReferenceColumn,
)
from monitoring.services.alerts import _resolve
from monitoring.services.common import NAME_LIMIT, User
from monitoring.services.monitors import monitor_create
from phases.models import Project

log = logging.getLogger(__name__)


# --- Deployments and their reference -----------------------------------------------------

# The monitors a deployment gets when its project has none: (kind, name, window, every).
DEFAULT_MONITORS = (
    (MonitorKind.DATA_DRIFT, "Data drift", dt.timedelta(days=1)),
    (MonitorKind.PREDICTION_DRIFT, "Prediction drift", dt.timedelta(days=1)),
    (MonitorKind.PERFORMANCE, "Model performance", dt.timedelta(days=1)),
    (MonitorKind.DATA_QUALITY, "Data quality", dt.timedelta(days=1)),
    (MonitorKind.FRESHNESS, "Freshness", dt.timedelta(hours=1)),
    (MonitorKind.HEALTH, "Project health", dt.timedelta(minutes=10)),
)


@transaction.atomic
def deployment_start(
    *,
    project: Project,
    name: str,
    by: User | None,
    now: dt.datetime | None = None,
    model_version=None,
    event=None,
) -> Deployment:
    """A new deployment of ``project``: the previous one ends, monitors are re-baselined on
    the new one (their open alerts about the old one are resolved, since what they were
    about is no longer in production), and a project without monitors gets the defaults."""
    now = now or timezone.now()
    project = locked(project)
    current = Deployment.objects.filter(project=project, ended_at__isnull=True).first()
    if current is not None and now < current.started_at:
        raise DomainError.invalid(
            "now", f"the current deployment {current.name} started before that"
        )
    if current is not None:
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    deployment = Deployment.objects.create(
        project=project,
        name=name[:NAME_LIMIT],
        model_version=model_version,
        event=event,
        started_at=now,
        started_by=by,
    )
    if not _rebaseline(project, deployment, now=now, by=by):
        for kind, monitor_name, window in DEFAULT_MONITORS:
            monitor_create(project=project, kind=kind, name=monitor_name, window=window, by=by)
    return deployment


def _rebaseline(
    project: Project, deployment: Deployment | None, *, now: dt.datetime, by: User | None
) -> list[Monitor]:
    """Point the project's deployment monitors at ``deployment`` (None: nothing deployed)
    and resolve their open alerts, which were about what ran before."""
    why = (
        f"Re-baselined on the new deployment {deployment.name}."
        if deployment is not None
        else "The production alias was withdrawn: nothing is deployed."
    )
    monitors = list(Monitor.objects.select_for_update().filter(project=project))
    for monitor in monitors:
        if monitor.kind == MonitorKind.HEALTH:
            continue
        open_alerts = Alert.objects.filter(monitor=monitor, state__in=OPEN_ALERT_STATES)
        for alert in open_alerts.select_for_update():
            _resolve(alert, now=now, by=by, note=why)
        monitor.deployment = deployment
        monitor.baseline_at = now
        monitor.save(update_fields=["deployment", "baseline_at"])
    return monitors


@transaction.atomic
def deployment_end(*, project: Project, by: User | None, now: dt.datetime | None = None) -> None:
    """Nothing of ``project`` is in production any more (its production alias went away)."""
    now = now or timezone.now()
    project = locked(project)
    current = Deployment.objects.filter(project=project, ended_at__isnull=True).first()
    if current is None:
        return
    current.ended_at = max(now, current.started_at)
    current.save(update_fields=["ended_at"])
    _rebaseline(project, None, now=current.ended_at, by=by)


def production_alias_moved(*, event) -> None:
    """The registry's hook (``registry.hooks``), inside the transaction that moved the
    alias: a promoted version starts a deployment, with its reference taken from the
    training data of the version's run when the run holds one; a withdrawal ends it."""
    from registry.choices import DeploymentKind

    if event.kind != DeploymentKind.PROMOTED:
        deployment_end(project=event.project, by=event.by, now=event.created_at)
        return
    deployment = deployment_start(
        project=event.project,
        name=f"{event.model_name} v{event.version}",
        by=event.by,
        now=event.created_at,
        model_version=event.model_version,
        event=event,
    )
    try:
        reference_from_run(deployment=deployment, by=event.by)
    except DomainError as error:
        # The alias moved all the same; the reference can be uploaded instead.
        log.info("No reference from the run of %s: %s", deployment, error.message)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _column_kind(values: Sequence[Any]) -> str:
    """Numeric when every present value is a number or text that reads as one (CSV), else
    categorical; booleans are categories."""
    present = [
        v
        for v in values
        if v is not None and v != "" and not (isinstance(v, float) and np.isnan(v))
    ]
    if present and all(_is_number(v) for v in present):
        return ColumnKind.NUMERIC
    return ColumnKind.CATEGORICAL


def _categorical(values: Sequence[Any]) -> list[str | None]:
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        else:
            out.append(str(value))
    return out


@transaction.atomic
def reference_set(
    *,
    deployment: Deployment,
    columns: Mapping[str, Sequence[Any]],
    by: User | None,
    prediction: str = "",
    label: str = "",
    kinds: Mapping[str, str] | None = None,
    source: str = ReferenceSource.UPLOADED,
) -> Deployment:
    """Profile the reference data of a deployment once and keep the profiles.

    ``columns`` maps each column name to its values (all of one length). ``prediction`` and
    ``label`` name the columns that hold those; every other column is a feature. A column's
    kind is numeric when every value is a number, unless ``kinds`` says otherwise.
    """
    kinds = dict(kinds or {})
    if not columns:
        raise DomainError.invalid("columns", "the reference needs at least one column")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise DomainError.invalid("columns", "every column must have the same number of rows")
    (rows,) = lengths
    if rows == 0:
        raise DomainError.invalid("columns", "the reference has no rows")
    for role, name in (("prediction", prediction), ("label", label)):
        if name and name not in columns:
            raise DomainError.invalid(role, f"“{name}” is not a column of the reference")
    features = [name for name in columns if name not in (prediction, label)]
    if not features:
        raise DomainError.invalid("columns", "the reference needs at least one feature column")
    for name in columns:
        if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
            raise DomainError.invalid(
                "columns", f"column names must be 1 to {NAME_LIMIT} characters"
            )
        if name == ROW_ID:
            raise DomainError.invalid("columns", f"“{ROW_ID}” is reserved for production row ids")
    unknown = sorted(set(kinds) - set(columns))
    if unknown:
        raise DomainError.invalid("kinds", f"“{unknown[0]}” is not a column of the reference")
    bad = sorted(name for name, kind in kinds.items() if kind not in ColumnKind.values)
    if bad:
        raise DomainError.invalid("kinds", f"{bad[0]}: must be numeric or categorical")

    deployment = locked(deployment)
    ReferenceColumn.objects.filter(deployment=deployment).delete()
    made = []
    for position, (name, values) in enumerate(columns.items()):
        kind = kinds.get(name) or _column_kind(values)
        role = (
            ColumnRole.PREDICTION
            if name == prediction
            else ColumnRole.LABEL
            if name == label
            else ColumnRole.FEATURE
        )
        if kind == ColumnKind.NUMERIC:
            try:
                array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            except (TypeError, ValueError):
                raise DomainError.invalid(
                    "kinds", f"{name}: holds values that are not numbers"
                ) from None
            prof = drift.profile_numeric(array)
            sample = prof.sample.astype(np.float64).tobytes()
        else:
            prof = drift.profile_categorical(_categorical(values))
            sample = b""
        made.append(
            ReferenceColumn(
                deployment=deployment,
                name=name,
                position=position,
                role=role,
                kind=kind,
                stats=prof.as_dict(),
                sample=sample,
            )
        )
    ReferenceColumn.objects.bulk_create(made)
    deployment.reference_rows = rows
    deployment.reference_source = source
    deployment.reference_set_at = timezone.now()
    deployment.save(update_fields=["reference_rows", "reference_source", "reference_set_at"])
    return deployment


def reference_from_run(*, deployment: Deployment, by: User | None) -> Deployment:
    """Take the reference from the training data of the deployed version's run
    (``monitoring.reference`` says where it looks)."""
    from monitoring import reference

    version = deployment.model_version
    run = version.run if version is not None else None
    if run is None:
        raise DomainError(
            "no_training_run",
            f"{deployment.name} has no run on this server to take training data from; "
            "upload the reference instead.",
        )
    run = type(run).objects.select_related("experiment").get(pk=run.pk)
    path = reference.training_file(run)
    if path is None:
        raise DomainError(
            "no_training_data",
            f"The run {run.run_id} has no training data among its artifacts (a train dataset "
            "input's file, or reference.csv, training_data.csv, ...); upload the reference "
            "instead.",
        )
    parsed = reference.read(path)
    columns = dict(parsed.columns)
    columns.pop(ROW_ID, None)
    prediction, label = reference.roles(columns)
    return reference_set(
        deployment=deployment,
        columns=columns,
        prediction=prediction,
        label=label,
        by=by,
        source=ReferenceSource.TRAINING_RUN,
    )
