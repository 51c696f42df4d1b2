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


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_retraining_sweep_started_from_a_deployment_runs_on_a_real_worker_on_the_export(
    on_postgres, tmp_path, settings
):
    """The API starts the sweep; a real worker, reading the dataset files from the same
    folder, runs its trials on production's exported rows."""
    from experiments import services as experiments
    from experiments.choices import SweepStatus, TrialStatus
    from experiments.models import Sweep
    from experiments.sweeps import execution
    from monitoring import retraining
    from tests.api.test_permissions import deploy_run
    from tests.experiments.sweeps.conftest import run_all, spec
    from tests.experiments.sweeps.workers import purge, until, workers
    from tests.monitoring.conftest import iris_in_production

    root = tmp_path / "datasets"
    settings.EXPERIMENTS_DATASET_ROOT = root
    settings.MONITORING_EXPORT_MIN_ROWS = 100
    purge()
    project = make_project(success_metric="accuracy", success_target=0.9)
    iris = experiments.dataset_create(
        project=project, user=project.owner, name="iris", builtin="iris"
    )
    first = experiments.sweep_create(
        project=project, user=project.owner, **spec(iris, max_trials=1)
    )
    run_all(first)
    first.refresh_from_db()
    deployment = deploy_run(project, first.best_trial.run, by=project.owner)
    iris_in_production(deployment, labelled=150, unlabelled=20, relabelled=True)

    with workers(tmp_path, {"EXPERIMENTS_DATASET_ROOT": str(root)}) as (worker,):
        sweep = retraining.retraining_sweep_start(
            deployment=deployment, user=project.owner, max_trials=3
        )

        def finished():
            current = Sweep.objects.get(pk=sweep.pk)
            return current if current.status == SweepStatus.FINISHED else None

        done = until(finished, timeout=120, what="the retraining sweep", logs=[worker])
    purge()
    assert done.dataset.source == "production" and done.dataset.rows == 150
    trials = list(done.trials.order_by("number"))
    assert [t.status for t in trials] == [TrialStatus.SUCCEEDED] * 3
    # The worker's scores are the export's: the same folds of the same rows score the same
    # here, and production's two-class question is not iris's three species.
    for trial in trials:
        scored = execution.cross_validate(done, trial.params, after_fold=lambda *_: None)
        assert trial.value == pytest.approx(scored.mean(done.metrics[0]))
    assert set(execution.datasets.load(done.dataset).target) == {0, 1}
