"""Fixtures of the monitoring tests: a project in production with a reference of two
numeric features, one categorical feature, a prediction and a label, and helpers that
send production rows through the services, as the API does."""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pytest
from django.utils import timezone

from monitoring import services
from monitoring.models import Deployment, Monitor
from phases.models import Project
from tests.factories import make_project

REFERENCE_ROWS = 2000
COLOURS = ["red", "green", "blue"]


def reference_columns(
    rng: np.random.Generator, rows: int = REFERENCE_ROWS, shift: float = 0.0
) -> dict:
    """Columns as the model saw them; ``shift`` moves x by that many standard deviations,
    and the model's score with it."""
    x = rng.normal(10 + 2 * shift, 2, rows)
    y = rng.uniform(0, 1, rows)
    colour = rng.choice(COLOURS, rows, p=[0.5, 0.3, 0.2]).tolist()
    score = 1 / (1 + np.exp(-(x - 10)))
    label = (rng.uniform(size=rows) < score).astype(int)
    return {
        "x": x.tolist(),
        "y": y.tolist(),
        "colour": colour,
        "score": score.tolist(),
        "label": label.tolist(),
    }


def production_columns(
    rng: np.random.Generator, rows: int, *, shift: float = 0.0, prefix: str = "r"
) -> dict:
    columns = reference_columns(rng, rows, shift)
    columns["row_id"] = [f"{prefix}{i}" for i in range(rows)]
    return columns


@dataclass
class Production:
    project: Project
    deployment: Deployment
    user: object
    rng: np.random.Generator

    def monitor(self, kind: str) -> Monitor:
        return Monitor.objects.get(project=self.project, kind=kind)

    def send(self, rows: int = 500, *, at: dt.datetime, labels: bool = False, **kwargs):
        columns = production_columns(self.rng, rows, prefix=f"{at:%Y%m%d%H%M}-", **kwargs)
        if not labels:
            columns.pop("label")
        batch, _ = services.batch_add(
            deployment=self.deployment, columns=columns, by=self.user, observed_at=at
        )
        return batch


@pytest.fixture
def production(db) -> Production:
    return build_production()


def build_production() -> Production:
    """A project in production: a deployment whose reference has 2,000 rows."""
    rng = np.random.default_rng(2026)
    project = make_project(success_metric="val_auc", success_target=0.7)
    start = timezone.now() - dt.timedelta(days=30)
    deployment = services.deployment_start(
        project=project, name="churn v1", by=project.owner, now=start
    )
    services.reference_set(
        deployment=deployment,
        columns=reference_columns(rng),
        prediction="score",
        label="label",
        by=project.owner,
    )
    deployment.refresh_from_db()
    return Production(project=project, deployment=deployment, user=project.owner, rng=rng)


def day(offset: int = 0) -> dt.datetime:
    """Noon UTC, ``offset`` days from today: inside the daily window that ends tonight."""
    today = timezone.now().astimezone(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return today + dt.timedelta(days=offset)


def monitored_for(project, *, days: int, drift_days: int = 2, rows: int = 1000, seed: int = 7):
    """``project`` in production for ``days`` daily windows, x drifting (1 sd) over the
    last ``drift_days``; every daily monitor has run on each window, so the page has
    series, the latest window per-feature drift, and the drift alert fires."""
    from monitoring.choices import MonitorKind

    rng = np.random.default_rng(seed)
    today = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    deployment = services.deployment_start(
        project=project, name="churn v2", by=project.owner, now=today - dt.timedelta(days=days + 1)
    )
    services.reference_set(
        deployment=deployment,
        columns=reference_columns(rng),
        prediction="score",
        label="label",
        by=project.owner,
    )
    drift = Monitor.objects.get(project=project, kind=MonitorKind.DATA_DRIFT)
    services.monitor_update(monitor=drift, by=None, config={"drift_share": 0.3})
    daily = Monitor.objects.filter(
        project=project, kind__in=[MonitorKind.DATA_DRIFT, MonitorKind.PREDICTION_DRIFT]
    )
    for day in range(days, 0, -1):
        shift = 1.0 if day <= drift_days else 0.0
        midnight = today - dt.timedelta(days=day)
        columns = production_columns(rng, rows, shift=shift, prefix=f"d{day}-")
        services.batch_add(
            deployment=deployment,
            columns=columns,
            by=project.owner,
            observed_at=midnight + dt.timedelta(hours=12),
        )
        for monitor in daily:
            services.monitor_run(
                monitor_id=monitor.pk, now=midnight + dt.timedelta(days=1, minutes=5)
            )
    return deployment


def iris_frame():
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame.columns = [str(c) for c in frame.columns]
    return frame


def iris_in_production(
    deployment: Deployment,
    *,
    labelled: int = 150,
    unlabelled: int = 0,
    at: dt.datetime | None = None,
    prefix: str = "p",
    relabelled: bool = False,
) -> Deployment:
    """A deployment of a model trained on iris (a builtin sweep dataset, target ``target``)
    serving iris: the reference is iris, then one batch of iris rows (jittered, cycled when
    more than 150), the first ``labelled`` of them sent with their species, or when
    ``relabelled`` with what production learnt to ask instead: is the sepal long (0 or 1)."""
    frame = iris_frame()
    if not deployment.reference_rows:
        reference = {c: frame[c].tolist() for c in frame.columns}
        reference["prediction"] = frame["target"].tolist()
        services.reference_set(
            deployment=deployment, columns=reference, prediction="prediction",
            label="target", by=None,
        )  # fmt: skip
        deployment.refresh_from_db()
    rng = np.random.default_rng(len(prefix) + labelled + unlabelled)
    rows = labelled + unlabelled
    taken = frame.iloc[[i % len(frame) for i in range(rows)]].reset_index(drop=True)
    columns: dict = {"row_id": [f"{prefix}{i}" for i in range(rows)]}
    for name in frame.columns[:-1]:
        columns[name] = (taken[name] + rng.normal(0, 0.01, rows)).round(3).tolist()
    columns["prediction"] = taken["target"].tolist()
    labels = (taken["sepal length (cm)"] > 5.8).astype(int) if relabelled else taken["target"]
    if labelled:
        columns["target"] = labels.tolist()[:labelled] + [None] * unlabelled
    services.batch_add(deployment=deployment, columns=columns, by=None, observed_at=at)
    return deployment
