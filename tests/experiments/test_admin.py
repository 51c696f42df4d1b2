"""The admin shows what tools logged, read-only, and links runs to outcomes as evidence."""

import pytest
from django.urls import reverse

from experiments import services
from experiments.models import RunEvidence
from tests.experiments.helpers import experiment_and_run
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def run():
    owner = UserFactory()
    run = experiment_and_run(make_project(owner=owner, name="Admin"), by=owner)[1]
    services.log_batch(
        run=run, by=owner, metrics=[services.MetricIn("auc", 0.9, 1)], params=[("lr", "0.1")]
    )
    return run


def test_experiments_and_runs_are_shown_read_only(admin_client, run, django_assert_max_num_queries):
    for name in ("experiment", "run", "runevidence"):
        with django_assert_max_num_queries(12):
            assert (
                admin_client.get(reverse(f"admin:experiments_{name}_changelist")).status_code == 200
            )
    page = admin_client.get(reverse("admin:experiments_run_change", args=[run.pk]))
    assert page.status_code == 200
    assert b"auc" in page.content and b"0.1" in page.content
    assert admin_client.get(reverse("admin:experiments_run_add")).status_code == 403
    assert admin_client.get(reverse("admin:experiments_experiment_add")).status_code == 403


def test_evidence_is_linked_through_the_service_and_only_within_a_project(admin_client, run):
    outcome = run.experiment.project.current_phase.outcomes.first()
    add = reverse("admin:experiments_runevidence_add")

    response = admin_client.post(add, {"outcome": outcome.pk, "run": run.pk, "note": " best "})
    assert response.status_code == 302
    evidence = RunEvidence.objects.get()
    assert (evidence.run, evidence.outcome, evidence.note) == (run, outcome, "best")
    assert evidence.linked_by.username == "root"

    stranger = make_project(owner=UserFactory(), name="Other").current_phase.outcomes.first()
    refused = admin_client.post(add, {"outcome": stranger.pk, "run": run.pk, "note": ""})
    assert refused.status_code == 200
    assert b"another project" in refused.content
    assert RunEvidence.objects.count() == 1
