"""Shared status links: one project's status page, read-only, for people without an account."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard import services, sharing
from dashboard.models import SharedLink
from mlprojects.exceptions import DomainError
from phases import services as phase_services
from tests.dashboard.conftest import advance, client_for
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def shared_url(link: SharedLink) -> str:
    return reverse("dashboard:shared", args=[sharing.token_for(link_id=link.pk, nonce=link.nonce)])


@pytest.fixture
def link(project, manager):
    return services.shared_link_create(project=project, by=manager, label="Steering committee")


def test_manager_creates_a_link_from_the_project_page(manager, project):
    client = client_for(manager)
    response = client.post(
        reverse("dashboard:shared-link-create", args=[project.slug]),
        {"label": "Sponsor", "expires_in_days": "7"},
    )
    assert response.status_code == 302
    link = SharedLink.objects.get(project=project)
    assert (link.label, link.created_by) == ("Sponsor", manager)
    assert link.expires_at - timezone.now() > dt.timedelta(days=6)

    html = client.get(reverse("dashboard:project", args=[project.slug])).content.decode()
    assert f"http://testserver{shared_url(link)}" in html
    assert "Revoke<span" in html


def test_the_link_opens_the_status_page_signed_out(link, project):
    advance(project, by=project.owner)
    response = Client().get(shared_url(link))
    assert response.status_code == 200
    html = response.content.decode()
    assert project.name in html
    assert "Gate to leave Experimentation" in html
    assert 'id="chart-timeline-data"' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def test_the_shared_page_has_no_action_and_no_way_elsewhere(link, project, manager):
    # Even a signed-in manager sees only the read-only page through the link.
    for client in (Client(), client_for(manager)):
        html = client.get(shared_url(link)).content.decode()
        assert "<form" not in html
        assert "<button" not in html
        assert "Advance to" not in html
        assert "Share a read-only link" not in html
        assert 'href="/"' not in html
        assert reverse("dashboard:project", args=[project.slug]) not in html
        assert "/admin/" not in html
        assert "Sign out" not in html


def test_the_link_reaches_nothing_else(link, project):
    client = Client()
    assert client.get(shared_url(link)).status_code == 200
    for url in (
        reverse("dashboard:portfolio"),
        reverse("dashboard:project", args=[project.slug]),
        reverse("dashboard:project-live", args=[project.slug]),
    ):
        assert client.get(url).status_code == 302
    assert client.post(reverse("dashboard:project-advance", args=[project.slug])).status_code == 302
    assert client.post(shared_url(link)).status_code == 405


def test_the_shared_live_fragment_follows_the_link(link, project):
    token = sharing.token_for(link_id=link.pk, nonce=link.nonce)
    response = Client().get(reverse("dashboard:shared-live", args=[token]))
    assert response.status_code == 200
    assert "Gate to leave" in response.content.decode()
    assert "<form" not in response.content.decode()
    services.shared_link_revoke(link=link, by=None)
    assert Client().get(reverse("dashboard:shared-live", args=[token])).status_code == 404


def test_revoked_link_is_404(link, manager, project):
    url = shared_url(link)
    response = client_for(manager).post(
        reverse("dashboard:shared-link-revoke", args=[project.slug, link.pk])
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert Client().get(url).status_code == 404


def test_revoking_twice_keeps_the_first_time(link):
    first = services.shared_link_revoke(link=link, by=None).revoked_at
    assert services.shared_link_revoke(link=link, by=None).revoked_at == first


def test_expired_link_is_404(project, manager):
    link = services.shared_link_create(
        project=project, by=manager, expires_at=timezone.now() + dt.timedelta(minutes=1)
    )
    url = shared_url(link)
    assert Client().get(url).status_code == 200
    SharedLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert Client().get(url).status_code == 404


def test_expiry_must_be_in_the_future(project, manager):
    with pytest.raises(DomainError):
        services.shared_link_create(project=project, by=manager, expires_at=timezone.now())


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: "2" + token[1:],
        lambda token: token.split(":")[0],
        lambda token: "garbage",
        lambda token: token + "x",
    ],
)
def test_tampered_token_is_404(link, tamper):
    token = sharing.token_for(link_id=link.pk, nonce=link.nonce)
    assert Client().get(reverse("dashboard:shared", args=[tamper(token)])).status_code == 404


def test_a_token_for_a_reused_id_with_another_nonce_is_404(link, project, manager):
    """A URL from a restored backup must not open a newer link that got the same id."""
    stale = sharing.token_for(link_id=link.pk, nonce="an-older-nonce")
    assert Client().get(reverse("dashboard:shared", args=[stale])).status_code == 404


def test_a_link_shows_only_its_own_project(link, manager):
    other = make_project(owner=manager, name="Another project")
    html = Client().get(shared_url(link)).content.decode()
    assert other.name not in html


def test_links_listed_only_while_usable(link, project, manager):
    revoked = services.shared_link_create(project=project, by=manager, label="Old one")
    services.shared_link_revoke(link=revoked, by=manager)
    html = client_for(manager).get(reverse("dashboard:project", args=[project.slug]))
    html = html.content.decode()
    assert "Steering committee" in html
    assert "Old one" not in html


def test_revoke_only_links_of_that_project(link, manager):
    other = make_project(owner=manager)
    response = client_for(manager).post(
        reverse("dashboard:shared-link-revoke", args=[other.slug, link.pk])
    )
    assert response.status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_viewer_cannot_revoke(link, viewer, project):
    response = client_for(viewer).post(
        reverse("dashboard:shared-link-revoke", args=[project.slug, link.pk])
    )
    assert response.status_code == 403
    link.refresh_from_db()
    assert link.revoked_at is None


def test_escaped_on_the_shared_page(project, manager):
    phase_services.project_update(project=project, by=manager, name="<script>alert(1)</script>")
    link = services.shared_link_create(project=project, by=manager)
    html = Client().get(shared_url(link)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
