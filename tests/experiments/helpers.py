"""Helpers shared by the experiment-tracking tests and the MLflow API tests."""

import json

from django.db.models import Sum

from experiments import services
from experiments.models import Experiment, MetricChunk, Run


def api(path: str, *, project: str | None = None) -> str:
    """An MLflow URL: under the project's tracking URI, or at the root when ``project`` is
    None. ``path`` starts with ``mlflow/`` or ``mlflow-artifacts/``."""
    prefix = f"/projects/{project}" if project else ""
    return f"{prefix}/api/2.0/{path}"


def send(client, method: str, url: str, body: dict | None = None, **extra):
    """``body`` goes as JSON for POST, as the query string for GET."""
    if method == "GET":
        return client.get(url, body or {}, **extra)
    return client.generic(
        method, url, json.dumps(body or {}), content_type="application/json", **extra
    )


def experiment_and_run(project, *, by, name: str = "exp") -> tuple[Experiment, Run]:
    experiment = services.experiment_create(project=project, name=name, by=by)
    return experiment, services.run_create(experiment=experiment, by=by)


def error(response) -> tuple[int, str]:
    """The status and MLflow ``error_code`` of a refusal, after checking the body's shape."""
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["message"], body
    return response.status_code, body["error_code"]


def stored_points(run: Run | None = None) -> int:
    """Points held in the chunks of ``run`` (of every run when None), counted from the
    chunks themselves rather than from the series' counts that ingest keeps."""
    chunks = (
        MetricChunk.objects.all() if run is None else MetricChunk.objects.filter(series__run=run)
    )
    return chunks.aggregate(n=Sum("size"))["n"] or 0
