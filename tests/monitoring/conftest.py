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
