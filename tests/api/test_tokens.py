"""Personal API tokens: shown once, stored hashed, expiring, revocable, and visible to managers."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import token_create, token_digest, token_revoke
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_signed_in_user_creates_a_token_and_sees_the_secret_once():
    user = UserFactory()
    client = APIClient()
    client.force_login(user)

    created = client.post("/api/v1/tokens/", {"name": "laptop"}, format="json")

    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("mlp_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=created.json()["id"])
    assert stored.digest == token_digest(secret)
    assert secret not in {stored.digest, stored.prefix, stored.name}
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["laptop"]
    assert "token" not in listed[0]
    assert client.get(f"/api/v1/tokens/{stored.pk}/").json()["prefix"] == secret[:12]


def test_the_token_authenticates_and_records_its_last_use():
    user = UserFactory()
    token, secret = token_create(user=user, name="ci")
    assert token.last_used_at is None

    response = bearer(secret).get("/api/v1/projects/")

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_expired_and_unknown_tokens_are_refused_with_401():
    user = UserFactory()
    revoked, revoked_secret = token_create(user=user, name="old")
    client = APIClient()
    client.force_login(user)
    assert client.delete(f"/api/v1/tokens/{revoked.pk}/").status_code == 204
    revoked.refresh_from_db()
    assert revoked.revoked_at is not None

    expired, expired_secret = token_create(
        user=user, name="short", expires_at=timezone.now() + dt.timedelta(seconds=1)
    )
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(1))

    for secret in (revoked_secret, expired_secret, "mlp_not-a-token"):
        response = bearer(secret).get("/api/v1/projects/")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"
        assert response.json()["message"] == "The token is unknown, revoked or expired."
        assert response["WWW-Authenticate"] == 'Bearer realm="mlprojects"'


def test_a_malformed_authorization_header_names_the_rule():
    response = APIClient().get("/api/v1/projects/", HTTP_AUTHORIZATION="Bearer two parts")
    assert response.status_code == 401
    assert "with one token" in response.json()["message"]


def test_token_rules_name_the_field():
    client = APIClient()
    client.force_login(UserFactory())
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = client.post("/api/v1/tokens/", {"name": "x", "expires_at": past}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"expires_at": ["must be in the future"]}
    assert client.post("/api/v1/tokens/", {}, format="json").json()["fields"] == {
        "name": ["This field is required."]
    }


def test_users_see_and_revoke_only_their_own_tokens():
    alice, bob = UserFactory(), UserFactory()
    token, _ = token_create(user=bob, name="bob's")
    client = APIClient()
    client.force_login(alice)
    assert client.get("/api/v1/tokens/").json()["count"] == 0
    assert client.get(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert client.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_project_bound_token_reaches_that_project_only():
    user = UserFactory()
    mine, other = make_project(owner=user), make_project(owner=user)
    _, secret = token_create(user=user, name="ci", project=mine)
    client = bearer(secret)

    slugs = [p["slug"] for p in client.get("/api/v1/projects/").json()["results"]]
    assert slugs == [mine.slug]
    assert client.get(f"/api/v1/projects/{other.slug}/").status_code == 404
    assert {t["project"] for t in client.get("/api/v1/tasks/").json()["results"]} == {mine.slug}
    created = client.post(
        "/api/v1/projects/", {"name": "New", "lifecycle": "mlops-lifecycle"}, format="json"
    )
    assert created.status_code == 403


def test_managers_see_tokens_in_the_admin_and_can_revoke_them(admin_client):
    user = UserFactory()
    token, secret = token_create(user=user, name="notebook")

    page = admin_client.get("/admin/api/apitoken/")
    assert page.status_code == 200
    assert b"notebook" in page.content
    assert secret.encode() not in page.content
    assert admin_client.get("/admin/api/apitoken/add/").status_code == 403

    admin_client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get("/api/v1/projects/").status_code == 401


def test_a_tokens_use_costs_one_read_and_a_write_at_most_once_a_minute():
    user = UserFactory()
    token, secret = token_create(user=user, name="ci")
    client = bearer(secret)

    def token_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/projects/").status_code == 200
        on_tokens = [q["sql"] for q in queries if '"api_apitoken"' in q["sql"]]
        writes = [sql for sql in on_tokens if sql.startswith("UPDATE")]
        return len(on_tokens) - len(writes), len(writes)

    assert token_queries() == (1, 1)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert token_queries() == (1, 0)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - dt.timedelta(minutes=2))
    assert token_queries() == (1, 1)
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_a_revoked_token_is_refused_on_its_next_request():
    token, secret = token_create(user=UserFactory(), name="ci")
    client = bearer(secret)
    assert client.get("/api/v1/projects/").status_code == 200
    token_revoke(token=token)
    assert client.get("/api/v1/projects/").status_code == 401
