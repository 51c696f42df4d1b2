"""Registrations and alias moves from several clients at once, on real PostgreSQL
connections: the registered model's row lock makes them take turns, so version numbers never
collide and every move of the production alias is recorded once, in order."""

import threading

import pytest
from django.db import connection

from experiments import services as tracking
from registry import services
from registry.models import DeploymentEvent, ModelAlias
from tests.factories import UserFactory, make_project

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_concurrent_registrations_and_promotions_stay_consistent(on_postgres):
    owner = UserFactory()
    project = make_project(owner=owner, name="Busy")
    experiment = tracking.experiment_create(project=project, name="e", by=owner)
    run = tracking.run_create(experiment=experiment, by=owner)
    registered = services.registered_model_create(project=project, name="churn", by=owner)
    errors, made = [], []

    def client() -> None:
        try:
            for _ in range(5):
                version = services.model_version_create(
                    registered_model=registered,
                    by=owner,
                    source=run.artifact_uri,
                    storage_location=run.artifact_uri,
                    run=run,
                )
                made.append(version.version)
                services.alias_set(version=version, alias="champion", by=owner)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(made) == list(range(1, 21))
    events = list(DeploymentEvent.objects.filter(project=project).order_by("pk"))
    assert len(events) == 20
    # Each event replaced what the one before it put there: no move was lost or doubled.
    assert [e.previous_version for e in events[1:]] == [e.version for e in events[:-1]]
    current = ModelAlias.objects.get(registered_model=registered, alias="champion")
    assert current.model_version.version == events[-1].version
