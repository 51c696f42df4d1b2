"""A fresh `make run` survives the hostile suite's inputs sent over HTTP: every body of the
corpora to every parser that takes one (MLflow JSON, v1 JSON, the three bulk formats) and
hostile artifact paths, each answered below 500, and afterwards the very same gunicorn
workers, Celery worker and beat are still running."""

import pytest
import requests

from tests.hostile import corpus
from tests.processes import answers, children

pytestmark = [pytest.mark.server, pytest.mark.hostile]

HOSTILE_PATHS = [
    "../escape.txt",
    "%2e%2e/escape.txt",
    "a/../../b",
    "/etc/passwd",
    "C:/x",
    "a\\b",
    ".upload-x",
    "a%00b",
    "x" * 5000,
    "ok/" + "é" * 200,
]


@pytest.fixture(scope="module")
def caller(made_run):
    """A demo contributor's API token, made through the API as a user would, and a run of
    theirs made through the MLflow API."""
    session = requests.Session()
    session.get(made_run.url + "/accounts/login/", timeout=10)
    signed_in = session.post(
        made_run.url + "/accounts/login/",
        data={
            "username": "contributor",
            "password": made_run.demo_password(),
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=30,
    )
    assert signed_in.url == made_run.url + "/", signed_in.text[:500]
    created = session.post(
        made_run.url + "/api/v1/tokens/",
        json={"name": "hostile"},
        headers={"X-CSRFToken": session.cookies["csrftoken"]},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    headers = {"Authorization": f"Bearer {created.json()['token']}"}
    projects = requests.get(made_run.url + "/api/v1/projects/", headers=headers, timeout=10)
    slug = next(p["slug"] for p in projects.json()["results"] if p["your_role"] == "contributor")
    base = f"{made_run.url}/projects/{slug}/api/2.0"
    experiment = requests.post(
        f"{base}/mlflow/experiments/create", json={"name": "hostile"}, headers=headers, timeout=10
    ).json()["experiment_id"]
    run = requests.post(
        f"{base}/mlflow/runs/create",
        json={"experiment_id": experiment},
        headers=headers,
        timeout=10,
    ).json()["run"]["info"]
    return {"headers": headers, "base": base, "run": run}


def test_make_run_survives_every_hostile_body_and_path(made_run, caller):
    before = made_run.pids()
    workers = children(before["web"])
    assert len(workers) == 2
    headers, base, run = caller["headers"], caller["base"], caller["run"]
    sent = []

    def send(method: str, url: str, body: bytes = b"", content_type: str = "") -> None:
        extra = {"Content-Type": content_type} if content_type else {}
        response = requests.request(
            method, url, data=body, headers={**headers, **extra}, timeout=60
        )
        sent.append((response.status_code, method, url[-60:], body[:60]))

    for body in corpus.JSON.values():
        for path in ("runs/log-batch", "runs/search", "experiments/create"):
            send("POST", f"{base}/mlflow/{path}", body, "application/json")
        send("POST", f"{made_run.url}/api/v1/tokens/", body, "application/json")
    metrics = f"{made_run.url}/api/v1/runs/{run['run_id']}/metrics/"
    for media_type, bodies in (
        ("text/csv", corpus.CSV),
        ("application/x-ndjson", corpus.NDJSON),
        ("application/json", corpus.JSON),
    ):
        for body in bodies.values():
            send("POST", metrics, body, media_type)
    prefix = f"{run['experiment_id']}/{run['run_id']}/artifacts"
    for path in HOSTILE_PATHS:
        send("PUT", f"{base}/mlflow-artifacts/artifacts/{prefix}/{path}", b"x")
        send("GET", f"{base}/mlflow-artifacts/artifacts/{prefix}/{path}")

    errors = [answer for answer in sent if answer[0] >= 500]
    assert errors == []
    assert made_run.pids() == before
    assert children(before["web"]) == workers, made_run.output()[-3000:]
    assert answers(made_run.url + "/healthz")
