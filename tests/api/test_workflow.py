"""The issue's promise: a script with only a token drives a project through every phase."""

import json
import urllib.error
import urllib.request

import pytest

from api.services import token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class Script:
    """What a CI job would do: plain HTTP with a bearer token, nothing else."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base.rstrip("/") + "/api/v1", token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def ok(self, method: str, path: str, body: dict | None = None) -> dict:
        status, data = self.call(method, path, body)
        assert 200 <= status < 300, (status, data)
        return data


def test_a_script_with_a_token_walks_a_project_through_every_phase(live_server):
    owner = UserFactory()
    _, secret = token_create(user=owner, name="ci")
    api = Script(live_server.url, secret)

    project = api.ok(
        "POST",
        "/projects/",
        {
            "name": "Churn prediction",
            "lifecycle": "mlops-lifecycle",
            "success_metric": "val_auc",
            "success_target": 0.85,
        },
    )
    slug = project["slug"]
    assert (project["current_phase"]["name"], project["your_role"]) == ("Scoping", "manager")

    refusals = []
    phases = api.ok("GET", f"/phases/?project={slug}&ordering=order")["results"]
    for index, phase in enumerate(phases):
        extra = api.ok(
            "POST", "/tasks/", {"phase": phase["id"], "title": f"Review {phase['name']}"}
        )
        status, refused = api.call("POST", f"/projects/{slug}/advance/", {})
        if index == len(phases) - 1:
            break
        assert status == 409
        assert refused["code"] == "gate_not_met"
        assert all(not c["met"] and c["message"] for c in refused["details"])
        refusals.append(len(refused["details"]))

        tasks = api.ok("GET", f"/tasks/?phase={phase['id']}&page_size=100")["results"]
        assert extra["id"] in {t["id"] for t in tasks}
        for task in tasks:
            api.ok("PATCH", f"/tasks/{task['id']}/", {"status": "done"})
        gate = api.ok("GET", f"/projects/{slug}/gate/")
        assert [c["kind"] for c in gate["unmet"]] == ["outcome"]

        for outcome in api.ok("GET", f"/outcomes/?phase={phase['id']}")["results"]:
            api.ok(
                "POST", f"/outcomes/{outcome['id']}/submit/", {"evidence_url": "https://x.org/e"}
            )
            accepted = api.ok("POST", f"/outcomes/{outcome['id']}/accept/", {"note": "ok"})
            assert accepted["review_status"] == "accepted"
        assert api.ok("GET", f"/projects/{slug}/gate/")["met"] is True

        moved = api.ok("POST", f"/projects/{slug}/advance/", {"reason": f"{phase['name']} done"})
        assert (moved["kind"], moved["from_phase"]["name"]) == ("forward", phase["name"])
        assert moved["to_phase"]["name"] == phases[index + 1]["name"]

    assert refusals == [3, 4, 4]  # one outcome plus the template's tasks plus the added one
    assert status == 409 and refused["code"] == "no_next_phase"
    final = api.ok("GET", f"/projects/{slug}/")
    assert final["current_phase"]["name"] == "Deployment"
    history = api.ok("GET", f"/transitions/?project={slug}&ordering=created_at")["results"]
    assert [t["kind"] for t in history] == ["start", "forward", "forward", "forward"]
    assert all(t["by"] == owner.username for t in history)


def test_a_viewers_token_cannot_change_anything(live_server):
    manager, viewer = UserFactory(), UserFactory()
    api = Script(live_server.url, token_create(user=manager, name="m")[1])
    slug = api.ok("POST", "/projects/", {"name": "Fraud", "lifecycle": "ml-development-phases"})[
        "slug"
    ]
    api.ok("POST", "/memberships/", {"project": slug, "user": viewer.username, "role": "viewer"})
    phase = api.ok("GET", f"/projects/{slug}/")["current_phase"]
    task = api.ok("GET", f"/tasks/?project={slug}")["results"][0]
    outcome = api.ok("GET", f"/outcomes/?project={slug}")["results"][0]

    as_viewer = Script(live_server.url, token_create(user=viewer, name="v")[1])
    attempts = [
        ("PATCH", f"/projects/{slug}/", {"name": "Renamed"}),
        ("DELETE", f"/projects/{slug}/", None),
        ("POST", f"/projects/{slug}/advance/", {}),
        ("POST", f"/projects/{slug}/move-back/", {"to_phase": phase["id"], "reason": "x"}),
        ("POST", "/tasks/", {"phase": phase["id"], "title": "Sneaky"}),
        ("PATCH", f"/tasks/{task['id']}/", {"status": "done"}),
        ("DELETE", f"/tasks/{task['id']}/", None),
        ("POST", f"/outcomes/{outcome['id']}/submit/", {}),
        ("POST", f"/outcomes/{outcome['id']}/accept/", {}),
        ("PATCH", f"/phases/{phase['id']}/", {"due_date": "2030-01-01"}),
        ("POST", "/memberships/", {"project": slug, "user": viewer.username, "role": "manager"}),
    ]
    for method, path, body in attempts:
        status, error = as_viewer.call(method, path, body)
        assert status == 403, (method, path, status, error)
        assert error["code"] == "permission_denied"
        assert "role" in error["message"]

    after = api.ok("GET", f"/projects/{slug}/")
    assert after["name"] == "Fraud"
    assert api.ok("GET", f"/tasks/{task['id']}/")["status"] == "todo"
    assert as_viewer.ok("GET", f"/projects/{slug}/")["your_role"] == "viewer"
