"""Inputs checked at the edge, and answers that keep the schema's promises: what Schemathesis
and a careful read found answering 500, or answering outside the schema."""

import pytest
from django.urls import reverse

from phases.choices import Role
from phases.models import Membership, Outcome

pytestmark = pytest.mark.django_db


def test_a_membership_without_a_role_is_refused_naming_the_role(world):
    count = Membership.objects.count()

    response = world.client(Role.MANAGER).post(
        reverse("v1:membership-list"),
        {"project": world.project.slug, "user": world.newcomer.username},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["role"]
    assert Membership.objects.count() == count


@pytest.mark.parametrize("resource", ["task", "outcome"])
@pytest.mark.parametrize("phase", ["9223372036854775808", "-1", "0", "1" + "0" * 40])
def test_an_id_filter_out_of_range_is_refused_naming_it(world, resource, phase):
    response = world.client(Role.VIEWER).get(reverse(f"v1:{resource}-list"), {"phase": phase})

    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["phase"]


def test_the_largest_id_is_a_filter_that_finds_nothing(world):
    response = world.client(Role.VIEWER).get(reverse("v1:task-list"), {"phase": str(2**63 - 1)})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_outcome_update_answers_every_field_the_schema_promises(world, method):
    outcome = world.outcome
    body = {"description": "Now with a baseline."}
    if method == "put":
        body.update(name=outcome.name, kind=outcome.kind)

    response = getattr(world.client(Role.MANAGER), method)(
        reverse("v1:outcome-detail", kwargs={"pk": outcome.pk}), body, format="json"
    )

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["submitted_by"] is None
    assert answer["reviewer"] is None
    assert {"submitted_at", "reviewed_at", "review_status"} <= set(answer)


def test_a_submitted_outcome_names_who_submitted_it(world):
    outcome = world.outcome
    client = world.client(Role.CONTRIBUTOR)
    url = reverse("v1:outcome-submit", kwargs={"pk": outcome.pk})
    submitted = client.post(url, {"evidence_url": "https://example.com/r"}, format="json")
    assert submitted.status_code == 200, submitted.content

    response = client.patch(
        reverse("v1:outcome-detail", kwargs={"pk": outcome.pk}),
        {"evidence_url": "https://example.com/r2"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["submitted_by"] == Role.CONTRIBUTOR


@pytest.mark.parametrize(
    "url",
    [
        'https://example.com/"><script>alert(1)</script>',
        "https://example.com/a b",
        "https://example.com/<x>",
        "https://example.com/ünïcode",
    ],
)
@pytest.mark.parametrize("how", ["edit", "submit"])
def test_evidence_that_is_not_a_uri_is_refused(world, url, how):
    outcome = world.outcome
    client = world.client(Role.CONTRIBUTOR)
    if how == "edit":
        target = reverse("v1:outcome-detail", kwargs={"pk": outcome.pk})
        response = client.patch(target, {"evidence_url": url}, format="json")
    else:
        target = reverse("v1:outcome-submit", kwargs={"pk": outcome.pk})
        response = client.post(target, {"evidence_url": url}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["evidence_url"]
    assert Outcome.objects.get(pk=outcome.pk).evidence_url == outcome.evidence_url


def test_a_percent_encoded_uri_is_evidence(world):
    outcome = world.outcome
    url = "https://example.com/%C3%BCber?q=%22a%22"

    response = world.client(Role.CONTRIBUTOR).patch(
        reverse("v1:outcome-detail", kwargs={"pk": outcome.pk}),
        {"evidence_url": url},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["evidence_url"] == url


@pytest.mark.parametrize(
    "since",
    ["5198-01-21T08:06:12.0692-17:34", "2026-01-01T00:00:00+23:59", "0001-01-01T00:00:00+01:00"],
)
def test_a_since_with_any_offset_answers_without_a_server_error(world, since):
    response = world.client(Role.VIEWER).get(reverse("v1:transition-list"), {"since": since})
    assert response.status_code in (200, 400), response.content
