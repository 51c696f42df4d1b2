"""The monitoring demo step: grid load forecasting in production for a month, its
temperature feature drifting in a heat wave over the last week, and a firing drift alert.

The deployed version goes to the production alias through the registry, as a manager
would do it, so the deployment starts from the registry's hook; its history is then dated
back a month, like the portfolio's. Batches arrive daily with their labels a day later,
and every daily monitor runs on each past window, so its series and alert history are
what they would be after a month of beat.
"""

import datetime as dt
import random

import numpy as np

from experiments import services as experiments
from monitoring import services
from monitoring.choices import MonitorKind
from monitoring.models import Deployment, Monitor
from phases.management.steps import Built
from registry import services as registry
from registry.models import ModelVersion

PROJECT = "grid-load-forecasting"
MODEL = "grid-load"
DAYS = 30
ROWS_A_DAY = 1000  # enough for the distances to sit well below their thresholds
HEAT_WAVE_DAYS = 7
REGIONS = ["north", "south", "east", "west"]
DAY_TYPES = ["weekday", "weekend", "holiday"]


def _rows(rng: np.random.Generator, n: int, *, heat: float = 0.0, start: int = 0) -> dict:
    """Hourly load of a region: temperature (deg C) drives it, the model forecasts it well."""
    hour = rng.integers(0, 24, n)
    temperature = rng.normal(14 + 8 * heat, 6, n)
    wind = rng.gamma(2.0, 3.0, n)
    region = rng.choice(REGIONS, n, p=[0.3, 0.3, 0.2, 0.2])
    day_type = rng.choice(DAY_TYPES, n, p=[0.7, 0.27, 0.03])
    base = 900 + 12 * np.abs(temperature - 16) + 80 * np.sin(np.pi * hour / 12) - 3 * wind
    base = base * np.where(day_type == "weekday", 1.0, 0.85)
    forecast = base * rng.normal(1.0, 0.01, n)
    load = base * rng.normal(1.0, 0.035, n)
    return {
        "row_id": [f"h{start + i}" for i in range(n)],
        "temperature_c": np.round(temperature, 1).tolist(),
        "hour": hour.tolist(),
        "wind_speed_ms": np.round(wind, 2).tolist(),
        "region": region.tolist(),
        "day_type": day_type.tolist(),
        "forecast_mw": np.round(forecast, 1).tolist(),
        "load_mw": np.round(load, 1).tolist(),
    }


def _deploy(project, owner, at: dt.datetime) -> Deployment:
    current = Deployment.objects.filter(project=project, ended_at__isnull=True).first()
    if current is not None:
        return current
    # The registry's demo step (before this one) registered the model and its versions;
    # the newest goes to production. Without that step, a model and a run of its own.
    version = (
        ModelVersion.objects.filter(registered_model__project=project, registered_model__name=MODEL)
        .order_by("-version")
        .first()
    )
    if version is None:
        experiment = experiments.experiment_create(project=project, name="load-forecast", by=owner)
        run = experiments.run_create(experiment=experiment, by=owner, name="gbm-heat-features")
        model = registry.registered_model_create(project=project, name=MODEL, by=owner)
        version = registry.model_version_register(
            registered_model=model, by=owner, run=run, artifact_path="model"
        )
    # Dated back like the portfolio's history: the deployment went live a month ago.
    registry.alias_set(version=version, alias=registry.production_alias(project), by=owner, now=at)
    Monitor.objects.filter(project=project).exclude(kind=MonitorKind.HEALTH).update(baseline_at=at)
    return Deployment.objects.get(project=project, ended_at__isnull=True)


def build(*, portfolio: Built, rng: random.Random) -> str:
    project = portfolio.projects.get(PROJECT)
    if project is None:
        return ""
    owner = project.owner
    gen = np.random.default_rng(rng.getrandbits(32))
    today = portfolio.now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - dt.timedelta(days=DAYS + 2)
    deployment = _deploy(project, owner, start)

    reference = _rows(gen, 5000)
    reference.pop("row_id")
    services.reference_set(
        deployment=deployment,
        columns=reference,
        prediction="forecast_mw",
        label="load_mw",
        kinds={"hour": "numeric"},
        by=owner,
    )
    drift = Monitor.objects.get(project=project, kind=MonitorKind.DATA_DRIFT)
    # One drifted feature of five is enough to alert on for this grid.
    services.monitor_update(monitor=drift, by=owner, config={"drift_share": 0.2})

    daily = list(
        Monitor.objects.filter(
            project=project,
            kind__in=[
                MonitorKind.DATA_DRIFT,
                MonitorKind.PREDICTION_DRIFT,
                MonitorKind.PERFORMANCE,
                MonitorKind.DATA_QUALITY,
            ],
        )
    )
    for day in range(DAYS, 0, -1):
        midnight = today - dt.timedelta(days=day)
        heat = max(0.0, (HEAT_WAVE_DAYS - day + 1) / HEAT_WAVE_DAYS)
        rows = _rows(gen, ROWS_A_DAY, heat=heat, start=day * ROWS_A_DAY)
        # Meter readings come with the batch, except lately: the day before yesterday's
        # arrived on their own a day later, yesterday's are not in yet.
        late = day <= 2
        labels = dict(zip(rows["row_id"], rows.pop("load_mw") if late else [], strict=False))
        services.batch_add(
            deployment=deployment,
            columns=rows,
            by=owner,
            observed_at=midnight + dt.timedelta(hours=12),
        )
        if day == 2:
            services.labels_add(deployment=deployment, labels=labels, by=owner)
        for monitor in daily:
            services.monitor_run(
                monitor_id=monitor.pk, now=midnight + dt.timedelta(days=1, minutes=5)
            )
    for monitor in Monitor.objects.filter(
        project=project, kind__in=[MonitorKind.FRESHNESS, MonitorKind.HEALTH]
    ):
        services.monitor_run(monitor_id=monitor.pk, now=portfolio.now)
    others = _last_beat_elsewhere(project, portfolio.now)
    firing = deployment.alerts.filter(state="firing").count()
    return (
        f"Monitoring: {project.name} in production for {DAYS} days, {DAYS} batches of "
        f"{ROWS_A_DAY} rows, temperature drifting, {firing} firing alert"
        f"{'' if firing == 1 else 's'}; {others} other deployment"
        f"{'' if others == 1 else 's'} checked once."
    )


def _last_beat_elsewhere(project, now: dt.datetime) -> int:
    """Every monitor of the other deployed projects runs once, as beat last ran them, so
    their pages say what each found (a deployment without a reference says that it has
    none) rather than that nothing ran yet."""
    others = Deployment.objects.filter(ended_at__isnull=True).exclude(project=project)
    for monitor in Monitor.objects.filter(project__in=others.values("project")):
        services.monitor_run(monitor_id=monitor.pk, now=now)
    return others.count()
