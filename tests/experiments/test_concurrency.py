"""Batches of one run from several clients at once, on real PostgreSQL connections: the run's
row lock makes them take turns, so none deadlocks or loses a point."""

import threading

import pytest
from django.db import connection

from experiments import services
from experiments.models import MetricSeries
from experiments.services import MetricIn
from tests.experiments.helpers import experiment_and_run, stored_points
from tests.factories import UserFactory, make_project

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_concurrent_batches_of_one_run_all_land(on_postgres):
    owner = UserFactory()
    run = experiment_and_run(make_project(owner=owner, name="Busy"), by=owner)[1]
    errors = []

    def client(offset: int) -> None:
        try:
            for batch in range(5):
                steps = range(offset * 1000 + batch * 200, offset * 1000 + (batch + 1) * 200)
                metrics = [MetricIn(f"m{k}", float(s), s, s) for s in steps for k in range(5)]
                # Each batch is sent again in part, as a retrying client would.
                services.log_batch(run=run, by=owner, metrics=metrics)
                services.log_batch(run=run, by=owner, metrics=metrics[:100])
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert stored_points(run) == 4 * 5 * 200 * 5
    latest = MetricSeries.objects.filter(run=run).values_list("latest_step", flat=True)
    assert set(latest) == {3999}
