"""Sweeps in the admin: read-only pages of datasets, sweeps and trials (the services and the
workers write them), and a project's cap on running trials, which managers set here."""

import pytest
from django.urls import reverse

from experiments import services
from experiments.models import TrialQuota
from tests.experiments.sweeps.conftest import run_all, spec
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_sweeps_are_shown_read_only_and_a_cap_is_set_here(
    admin_client, project, user, iris, django_assert_max_num_queries
):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=2))
    run_all(sweep)
    for name, row in (("dataset", iris), ("sweep", sweep), ("trial", sweep.trials.first())):
        with django_assert_max_num_queries(12):
            page = admin_client.get(reverse(f"admin:experiments_{name}_changelist"))
        assert page.status_code == 200
        change = admin_client.get(reverse(f"admin:experiments_{name}_change", args=[row.pk]))
        assert change.status_code == 200
        assert admin_client.get(reverse(f"admin:experiments_{name}_add")).status_code == 403
    assert (
        b"Succeeded"
        in admin_client.get(reverse("admin:experiments_sweep_change", args=[sweep.pk])).content
    )
    added = admin_client.post(
        reverse("admin:experiments_trialquota_add"), {"project": project.pk, "max_concurrent": 2}
    )
    assert added.status_code == 302
    assert TrialQuota.objects.get(project=project).max_concurrent == 2
