"""Who manages API tokens: a signed-in session, never a token.

A token bound to one project, or expiring in seconds, could mint an unbound token that never
expires and revoke its owner's other tokens. Now no token, whatever its reach, lists,
creates or revokes tokens (403); a revoked or expired one is not even a caller (401). The
session keeps doing all three, with Django's CSRF check as for any browser write.
"""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import token_create, token_revoke
from tests.api.conftest import bearer
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

WIDER = {"name": "wider", "expires_at": None}


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def tokens(owner):
    """The owner's tokens of every kind, and one more that nothing may revoke but them."""
    project = make_project(owner=owner, name="Bound")
    soon = timezone.now() + dt.timedelta(seconds=5)
    made = {
        "unbound": token_create(user=owner, name="unbound"),
        "bound to a project": token_create(user=owner, name="bound", project=project),
        "expiring in 5 s": token_create(user=owner, name="expiring", expires_at=soon),
    }
    other, _ = token_create(user=owner, name="other")
    return made, other


KINDS = ["unbound", "bound to a project", "expiring in 5 s"]


def refused(response) -> None:
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "permission_denied"
    assert "signed-in session" in response.json()["message"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "body",
    [WIDER, {"name": "same reach"}, {"name": "later", "expires_at": "2999-01-01T00:00:00Z"}],
)
def test_no_token_creates_a_token(tokens, kind, body):
    made, _ = tokens
    _, secret = made[kind]
    count = ApiToken.objects.count()

    refused(bearer(secret).post("/api/v1/tokens/", body, format="json"))

    assert ApiToken.objects.count() == count


@pytest.mark.parametrize("kind", KINDS)
def test_no_token_revokes_its_owners_other_tokens_or_itself(tokens, kind):
    made, other = tokens
    token, secret = made[kind]

    refused(bearer(secret).delete(f"/api/v1/tokens/{other.pk}/"))
    refused(bearer(secret).delete(f"/api/v1/tokens/{token.pk}/"))

    assert ApiToken.objects.usable().filter(pk__in=[other.pk, token.pk]).count() == 2


@pytest.mark.parametrize("kind", KINDS)
def test_no_token_lists_or_reads_tokens(tokens, kind):
    made, other = tokens
    _, secret = made[kind]

    refused(bearer(secret).get("/api/v1/tokens/"))
    refused(bearer(secret).get(f"/api/v1/tokens/{other.pk}/"))


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_dead_token_is_not_a_caller_at_all(tokens, state):
    made, other = tokens
    token, secret = made["unbound"]
    if state == "revoked":
        token_revoke(token=token)
    else:
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))

    for response in (
        bearer(secret).post("/api/v1/tokens/", WIDER, format="json"),
        bearer(secret).delete(f"/api/v1/tokens/{other.pk}/"),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"
    assert ApiToken.objects.usable().filter(pk=other.pk).exists()


def test_a_session_manages_tokens(owner, tokens):
    _, other = tokens
    session = APIClient()
    session.force_login(owner)

    created = session.post("/api/v1/tokens/", {"name": "laptop"}, format="json")
    listed = session.get("/api/v1/tokens/")
    revoked = session.delete(f"/api/v1/tokens/{other.pk}/")

    assert created.status_code == 201
    assert listed.status_code == 200
    assert listed.json()["count"] == 5
    assert revoked.status_code == 204
    assert not ApiToken.objects.usable().filter(pk=other.pk).exists()


def test_a_session_write_needs_the_csrf_token(owner):
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(owner)

    response = session.post("/api/v1/tokens/", {"name": "laptop"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not ApiToken.objects.filter(name="laptop").exists()


def test_a_token_still_does_everything_else_it_may(tokens):
    made, _ = tokens
    _, secret = made["bound to a project"]

    response = bearer(secret).get("/api/v1/projects/")

    assert response.status_code == 200
    assert [p["slug"] for p in response.json()["results"]] == ["bound"]


def test_a_user_with_only_tokens_is_told_where_to_manage_them():
    _, secret = token_create(user=UserFactory(), name="ci")

    response = bearer(secret).post("/api/v1/tokens/", {"name": "x"}, format="json")

    assert "/api/v1/tokens/" in response.json()["message"]
