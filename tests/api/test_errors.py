"""One error shape for every refusal: 400, 401, 403, 404, 405, 409, 413 and 429."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.services import token_create
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

SHAPE = {"code", "message", "fields", "details"}


@pytest.fixture
def manager():
    return UserFactory()


@pytest.fixture
def client(manager):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=manager, name='t')[1]}")
    return client


def test_400_names_each_field_and_rule(client):
    response = client.post(
        "/api/v1/projects/",
        {"name": "", "lifecycle": "no-such-lifecycle", "success_direction": "sideways"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == SHAPE
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"name", "lifecycle", "success_direction"}
    assert "lifecycle:" in body["message"]


def test_400_from_a_domain_rule_uses_the_same_shape(client, manager):
    project = make_project(owner=manager)
    response = client.post(
        f"/api/v1/projects/{project.slug}/move-back/",
        {"to_phase": project.current_phase.pk, "reason": "   "},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": ["This field may not be blank."]}


def test_401_without_credentials():
    response = APIClient().get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) == SHAPE


def test_404_hides_projects_of_others(client):
    stranger = make_project()
    for url in (
        f"/api/v1/projects/{stranger.slug}/",
        f"/api/v1/phases/{stranger.current_phase.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    advance = client.post(f"/api/v1/projects/{stranger.slug}/advance/", {}, format="json")
    assert advance.status_code == 404


def test_405_lists_the_allowed_methods(client):
    response = client.delete("/api/v1/transitions/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_409_carries_the_unmet_gate_criteria(client, manager):
    project = make_project(owner=manager)
    response = client.post(f"/api/v1/projects/{project.slug}/advance/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "gate_not_met"
    assert len(body["details"]) == 4
    assert {c["kind"] for c in body["details"]} == {"task", "outcome"}
    assert body["message"].startswith("Ideation and planning cannot move on to Experimentation")


def test_413_before_the_body_is_read(client, settings):
    settings.MLPROJECTS_API_BODY_LIMITS = {"/api/v1/": 1000}
    response = client.post(
        "/api/v1/projects/", {"name": "x" * 2000, "lifecycle": "mlops-lifecycle"}, format="json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "limit is 1000 bytes" in response.json()["message"]


def test_429_when_a_token_exceeds_its_rate(manager, monkeypatch):
    # DRF reads the rates once, into the throttle class; monkeypatch puts them back after.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"token": "3/min", "anon": "2/min"})
    cache.clear()
    try:
        first = APIClient()
        first.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=manager, name='a')[1]}")
        second = APIClient()
        second.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=manager, name='b')[1]}")
        codes = [first.get("/api/v1/lifecycles/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = first.get("/api/v1/lifecycles/")
        assert refused.json()["code"] == "throttled"
        assert int(refused["Retry-After"]) > 0
        # Each token has its own budget.
        assert second.get("/api/v1/lifecycles/").status_code == 200
        # Guessing tokens counts against the anonymous rate of the address.
        guesser = APIClient()
        guesser.credentials(HTTP_AUTHORIZATION="Bearer mlp_guess")
        guesses = [guesser.get("/api/v1/lifecycles/").status_code for _ in range(3)]
        assert guesses == [401, 401, 429]
    finally:
        cache.clear()


def test_413_on_the_mlflow_api_speaks_mlflows_error_body(client, settings):
    settings.MLPROJECTS_API_BODY_LIMITS = {"/api/v1/": 1000, "/api/2.0/": 500}
    for path in ("/api/2.0/mlflow/experiments/create", "/projects/p/api/2.0/mlflow/runs/create"):
        response = client.post(path, {"name": "x" * 1000}, format="json")
        assert response.status_code == 413
        assert set(response.json()) == {"error_code", "message"}
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert response.json()["message"].endswith("the limit is 500 bytes.")
