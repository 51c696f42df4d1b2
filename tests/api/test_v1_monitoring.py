"""The monitoring resources of /api/v1/ used as tools use them: batches in three formats,
refusals that name the rule, labels, and the alert -> follow-up task -> move back flow."""

import datetime as dt

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from api.services import token_create
from monitoring import services
from monitoring.choices import AlertState, MonitorKind, ResultStatus
from monitoring.models import Alert, Batch, Monitor, Record, Result
from phases.choices import Role, TransitionKind
from phases.services import membership_set
from tests.api.conftest import bearer
from tests.factories import UserFactory
from tests.monitoring.conftest import build_production, production_columns
from tests.monitoring.test_loop import in_production

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(db):
    return build_production()


@pytest.fixture
def api(production, fresh_throttles):
    contributor = UserFactory()
    membership_set(project=production.project, user=contributor, role=Role.CONTRIBUTOR)
    _, secret = token_create(user=contributor, name="pipeline")
    return bearer(secret)


def batches_url(production) -> str:
    return reverse("v1:deployment-batches", args=[production.deployment.pk])


def csv_of(columns: dict) -> bytes:
    names = list(columns)
    lines = [",".join(names)]
    rows = len(columns[names[0]])
    lines += [
        ",".join("" if columns[n][i] is None else str(columns[n][i]) for n in names)
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_batches_in_each_format_stored_once(api, production):
    columns = production_columns(np.random.default_rng(1), 5)
    columns.pop("label")
    url = batches_url(production)
    first = api.post(url, csv_of(columns), content_type="text/csv")
    assert first.status_code == 201, first.json()
    assert first.json()["rows"] == 5 and first.json()["stored"]
    rows = [{name: columns[name][i] for name in columns} for i in range(5)]
    again = api.post(url, {"rows": rows}, format="json")
    assert again.status_code == 200 and not again.json()["stored"]
    assert again.json()["id"] == first.json()["id"]
    more = production_columns(np.random.default_rng(2), 3, prefix="n")
    more.pop("label")
    ndjson = "\n".join(
        __import__("json").dumps({name: more[name][i] for name in more}) for i in range(3)
    )
    third = api.post(url, ndjson.encode(), content_type="application/x-ndjson")
    assert third.status_code == 201
    assert Batch.objects.count() == 2 and Record.objects.count() == 8


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b"row_id,x\nr1,1\n", "text/csv", 400, "y"),
        (b'{"rows": [{"row_id": "a", "nope": 1}]}', "application/json", 400, "nope"),
        (b"<xml/>", "application/xml", 415, None),
        (b"{", "application/json", 400, "body"),
    ],
)
def test_a_batch_that_does_not_fit_is_refused_with_the_rule(
    api, production, body, content_type, status, field
):
    response = api.post(batches_url(production), body, content_type=content_type)
    assert response.status_code == status, response.json()
    if field:
        assert field in response.json()["fields"]
    assert not Batch.objects.exists()


def test_labels_by_row_id(api, production):
    columns = production_columns(np.random.default_rng(3), 4)
    labels = columns.pop("label")
    api.post(batches_url(production), csv_of(columns), content_type="text/csv")
    url = reverse("v1:deployment-labels", args=[production.deployment.pk])
    body = "row_id,label\n" + "\n".join(
        f"{r},{lab}" for r, lab in zip(columns["row_id"], labels, strict=True)
    )
    response = api.post(url, body.encode(), content_type="text/csv")
    assert response.status_code == 200, response.json()
    assert response.json() == {"labelled": 4, "unchanged": 0}
    unknown = api.post(url, {"rows": [{"row_id": "zz", "label": 1}]}, format="json")
    assert unknown.status_code == 400 and "row_id" in unknown.json()["fields"]


def test_labelled_rows_exported_as_a_dataset_or_refused_with_the_reason(api, production, settings):
    settings.MONITORING_EXPORT_MIN_ROWS = 100
    url = reverse("v1:deployment-export", args=[production.deployment.pk])
    columns = production_columns(np.random.default_rng(6), 160)
    labels = columns.pop("label")
    api.post(batches_url(production), csv_of(columns), content_type="text/csv")

    few = api.post(url, {}, format="json")
    assert few.status_code == 409
    assert few.json()["code"] == "not_enough_labels"
    assert few.json()["details"] == {"labelled_rows": 0, "min_rows": 100}
    labelled = dict(zip(columns["row_id"][:120], labels[:120], strict=True))
    services.labels_add(deployment=production.deployment, labels=labelled, by=None)
    assert api.post(url, {"since": "last week"}, format="json").json()["fields"].keys() == {"since"}
    backwards = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
    assert api.post(url, backwards, format="json").json()["fields"] == {
        "until": ["must be after since"]
    }
    training = api.post(url, {"with_training": True}, format="json")
    assert training.status_code == 409 and training.json()["code"] == "no_training_data"

    made = api.post(url, {"name": "spring labels"}, format="json")

    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["name"], body["source"], body["rows"], body["target"]) == (
        "spring labels",
        "production",
        120,
        "label",
    )
    assert body["columns"] == {"x": "numeric", "y": "numeric", "colour": "categorical"}
    assert body["origin"]["unlabelled_rows_left_out"] == 40
    assert body["origin"]["deployment"] == production.deployment.pk
    assert api.post(url, {"name": "spring labels"}, format="json").status_code == 409
    viewer = UserFactory()
    membership_set(project=production.project, user=viewer, role=Role.VIEWER)
    _, secret = token_create(user=viewer, name="notebook")
    assert bearer(secret).post(url, {}, format="json").status_code == 403


def test_reference_upload_and_results(api, production):
    url = reverse("v1:deployment-reference", args=[production.deployment.pk])
    columns = production_columns(np.random.default_rng(4), 200)
    columns.pop("row_id")
    response = api.post(
        f"{url}?prediction=score&label=label", csv_of(columns), content_type="text/csv"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["reference_rows"] == 200
    assert {c["name"]: c["role"] for c in body["reference_columns"]}["score"] == "prediction"
    monitor = production.monitor(MonitorKind.FRESHNESS)
    services.monitor_run(monitor_id=monitor.pk)
    listed = api.get(reverse("v1:result-list"), {"monitor": monitor.pk}).json()
    assert listed["count"] == 1 and "details" not in listed["results"][0]
    detail = api.get(reverse("v1:result-detail", args=[listed["results"][0]["id"]])).json()
    assert "latest_batch_at" in detail["details"]


def test_an_alert_opens_a_task_and_a_manager_moves_back_through_the_api(fresh_throttles):
    project = in_production()
    _, manager_secret = token_create(user=project.owner, name="manager")
    manager = bearer(manager_secret)
    viewer = UserFactory()
    membership_set(project=project, user=viewer, role=Role.VIEWER)
    monitor = Monitor.objects.get(project=project, kind=MonitorKind.DATA_DRIFT)
    monitor.for_duration = dt.timedelta(hours=6)
    monitor.save()
    now = timezone.now()
    result = Result.objects.create(
        monitor=monitor, window_start=now - dt.timedelta(days=1), window_end=now,
        status=ResultStatus.ALERT, summary="x drifted", computed_at=now,
    )  # fmt: skip
    alert = services.alert_evaluate(monitor=monitor, result=result, now=now)
    assert alert.state == AlertState.PENDING and alert.follow_up_task is None

    listed = manager.get(reverse("v1:alert-list"), {"state": "pending"}).json()
    assert [a["id"] for a in listed["results"]] == [alert.pk]
    task = manager.post(reverse("v1:alert-follow-up", args=[alert.pk]))
    assert task.status_code == 201, task.json()
    assert task.json()["title"] == f"Act on alert #{alert.pk} of “Data drift”"
    _, viewer_secret = token_create(user=viewer, name="viewer")
    refused = bearer(viewer_secret).post(reverse("v1:alert-move-back", args=[alert.pk]))
    assert refused.status_code == 403
    refused = bearer(viewer_secret).post(reverse("v1:alert-resolve", args=[alert.pk]))
    assert refused.status_code == 403
    assert "contributor role on this project to handle alerts;" in str(refused.json())
    bad = manager.post(reverse("v1:alert-move-back", args=[alert.pk]), {"due_date": "soon"})
    assert bad.status_code == 400 and "due_date" in bad.json()["fields"], bad.json()
    due = timezone.localdate() + dt.timedelta(days=30)
    moved = manager.post(
        reverse("v1:alert-move-back", args=[alert.pk]),
        {"due_date": due.isoformat(), "note": "Retrain first."},
    )
    assert moved.status_code == 201, moved.json()
    assert moved.json()["kind"] == TransitionKind.BACK
    assert moved.json()["reason"].startswith(f"Alert #{alert.pk}")
    assert moved.json()["reason"].endswith("Retrain first.")
    project.refresh_from_db()
    assert project.current_phase.name == "Experimentation"
    assert project.current_phase.due_date == due
    again = manager.post(reverse("v1:alert-move-back", args=[alert.pk]))
    assert again.status_code == 409 and again.json()["code"] == "already_moved_back"
    acknowledged = manager.post(reverse("v1:alert-acknowledge", args=[alert.pk])).json()
    assert acknowledged["acknowledged_by"] == project.owner.username
    resolved = manager.post(
        reverse("v1:alert-resolve", args=[alert.pk]), {"note": "retrained"}
    ).json()
    assert resolved["state"] == "resolved" and resolved["resolution"] == "retrained"
    assert Alert.objects.get(pk=alert.pk).state == AlertState.RESOLVED


def test_a_manager_tunes_a_monitor(production, fresh_throttles):
    _, secret = token_create(user=production.user, name="m")
    client = bearer(secret)
    monitor = production.monitor(MonitorKind.DATA_DRIFT)
    url = reverse("v1:monitor-detail", args=[monitor.pk])
    bad = client.patch(url, {"config": {"drift_share": 2}}, format="json")
    assert bad.status_code == 400 and "config.drift_share" in bad.json()["fields"]
    good = client.patch(
        url, {"config": {"drift_share": 0.3}, "for_duration": 600, "enabled": False}, format="json"
    )
    assert good.status_code == 200, good.json()
    monitor.refresh_from_db()
    assert monitor.config == {"drift_share": 0.3} and not monitor.enabled
    assert monitor.for_duration == dt.timedelta(minutes=10) and not monitor.schedule.enabled
