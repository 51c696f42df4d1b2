"""A worker keeps its database connection from one trial to the next. Celery's Django fixup
closes it around every task unless ``CELERY_DB_REUSE_MAX`` is set: each trial then paid a
new PostgreSQL connection and a server process with cold caches."""

import pytest
from django.db import connection

from experiments.models import Trial
from tests.experiments.sweeps.test_worker import finished, project, start  # noqa: F401
from tests.experiments.sweeps.workers import until, workers

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SMALL = {"random_forest": {"n_estimators": {"type": "int", "low": 5, "high": 10}}}


def other_backends():
    """When each other session on the test database started."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT backend_start FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_worker_keeps_its_database_connection_from_one_trial_to_the_next(
    project,  # noqa: F811 (the fixture)
    tmp_path,
):
    spec = {
        "concurrency": 1,
        "DATABASE_CONN_MAX_AGE": "60",
        "EXPERIMENTS_TRIAL_LEASE_SECONDS": "60",
    }
    with workers(tmp_path, spec) as (worker,):
        sweep = start(project, trials=4, name="small", space=SMALL)
        until(finished(sweep), timeout=90, what="the sweep to finish", logs=[worker])
        first = Trial.objects.filter(sweep=sweep).order_by("finished_at").first()
        # The pool process's one connection, opened for the first trial, is still open
        # (closed around each task, none would be left).
        sessions = other_backends()
    assert len(sessions) == 1, sessions
    assert sessions[0] < first.finished_at
