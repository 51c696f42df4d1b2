"""A real Celery beat and worker, against Redis and PostgreSQL, run a monitor on the
schedule stored in the database; the alert it fires is delivered from the outbox by the
same worker to a webhook receiver on this machine."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from monitoring import services
from monitoring.choices import AlertState, ChannelKind, DeliveryStatus, MonitorKind, ResultStatus
from monitoring.models import Alert, Notification, Result
from tests.factories import make_project
from tests.monitoring.test_webhooks import Receiver, verify
from tests.phases.test_tasks import database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_and_a_real_worker_run_a_monitor_and_deliver_its_alert(
    on_postgres, tmp_path, settings
):
    settings.MONITORING_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if os.environ.get("CI"):
        assert broker.startswith("redis://"), "CI runs the worker test against Redis"
    elif not broker.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL to a redis:// URL")
    late = make_project(start_date=timezone.localdate() - dt.timedelta(days=40))
    monitor = services.monitor_create(
        project=late,
        kind=MonitorKind.HEALTH,
        name="Health every second",
        window=dt.timedelta(seconds=1),
        by=None,
    )
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    assert monitor.schedule.interval == every_second
    PeriodicTask.objects.exclude(pk=monitor.schedule_id).update(enabled=False)

    with Receiver() as receiver:
        channel = services.channel_create(
            project=late,
            kind=ChannelKind.WEBHOOK,
            name="ops hook",
            address=f"http://127.0.0.1:{receiver.port}/alerts",
            by=None,
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker,
            "DATABASE_CONN_MAX_AGE": "0",
            "MONITORING_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        }
        log = tmp_path / "worker.log"
        with log.open("w") as out:
            worker = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "mlprojects", "worker", "--beat",
                    "--pool", "solo", "--queues", "scheduled", "--loglevel", "INFO",
                    "--schedule", str(tmp_path / "beat-schedule"),
                ],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline and worker.poll() is None:
                    if Notification.objects.filter(status=DeliveryStatus.DELIVERED).exists():
                        break
                    time.sleep(0.5)
            finally:
                worker.terminate()
                worker.wait(timeout=30)

    output = log.read_text()
    results = Result.objects.filter(monitor=monitor)
    assert results.exists(), output
    assert {r.status for r in results} == {ResultStatus.ALERT}
    assert results.count() == results.values("window_start").distinct().count()
    alert = Alert.objects.get(monitor=monitor)
    assert alert.state == AlertState.FIRING
    notification = Notification.objects.get(alert=alert, channel=channel)
    assert notification.status == DeliveryStatus.DELIVERED, output
    headers, body = receiver.received[0]
    assert verify(channel.secret, headers, body)
    assert json.loads(body)["data"]["monitor"]["name"] == "Health every second"
    assert f"Task {services.RUN_MONITOR_TASK}" in output and "succeeded" in output
    assert f"Task {services.DELIVER_TASK}" in output
