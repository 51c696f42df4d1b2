"""The health job: called directly, and run on schedule by a real Celery worker and beat."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from mlprojects.celery import Queue
from phases.choices import Health
from phases.tasks import HEALTH_TASK, refresh_project_health
from tests.factories import make_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_task_recomputes_health():
    project = make_project(start_date=timezone.localdate() - dt.timedelta(days=40))
    assert refresh_project_health() is None
    project.refresh_from_db()
    assert project.health == Health.RED


@pytest.mark.django_db
def test_the_schedule_is_stored_in_the_database():
    task = PeriodicTask.objects.get(task=HEALTH_TASK)
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (10, IntervalSchedule.MINUTES)
    assert task.queue == Queue.SCHEDULED


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_schedules_and_a_real_worker_runs_the_health_job(on_postgres, tmp_path):
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if os.environ.get("CI"):
        assert broker.startswith("redis://"), "CI runs the worker test against Redis"
    elif not broker.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL to a redis:// URL")
    late = make_project(start_date=timezone.localdate() - dt.timedelta(days=40))
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.filter(task=HEALTH_TASK).update(interval=every_second)

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "DATABASE_CONN_MAX_AGE": "0",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "mlprojects", "worker", "--beat",
                "--pool", "solo", "--queues", ",".join(Queue), "--loglevel", "INFO",
                "--schedule", str(tmp_path / "beat-schedule"),
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and worker.poll() is None:
                late.refresh_from_db()
                if late.health_checked_at is not None:
                    break
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    output = log.read_text()
    assert late.health_checked_at is not None, output
    assert late.health == Health.RED
    assert f"Sending due task Recompute project health ({HEALTH_TASK})" in output
    assert f"Task {HEALTH_TASK}" in output and "succeeded" in output
