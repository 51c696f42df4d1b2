"""The monitoring demo on a fresh `make run`: grid load forecasting's month in production
has the labels a retraining on the newer data needs, from the dashboard's button to a
trial; card fraud detection's deployment has no reference, and its monitors, run once by
the demo's last beat, say so rather than raise a false alarm."""

import pytest
from django.urls import reverse
from django.utils import timezone

from experiments.choices import DatasetSource, TrialStatus
from experiments.sweeps import ledger
from monitoring import retraining, services
from monitoring.choices import MonitorKind, ResultStatus
from monitoring.management import demo
from monitoring.models import Alert, Deployment, Monitor
from tests.dashboard.conftest import client_for
from tests.phases.test_demo_data import LoadedOnce, demo_once  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


class TestTheMonitoringDemo(LoadedOnce):
    def test_retraining_on_the_newer_data_starts_from_the_dashboard_and_runs(self, loaded):
        deployment = Deployment.objects.get(project__slug=demo.PROJECT, ended_at=None)
        owner = deployment.project.owner
        client = client_for(owner)
        retrain = reverse("dashboard:sweep-retrain", args=[demo.PROJECT, deployment.pk])
        page = client.get(reverse("dashboard:project", args=[demo.PROJECT])).content.decode()
        assert f'action="{retrain}"' in page

        form = client.post(retrain, follow=True)

        exported = form.context["plan"].export
        assert exported.source == DatasetSource.PRODUCTION
        # Every day's meter readings but yesterday's, which are not in yet.
        assert exported.rows == (demo.DAYS - 1) * demo.ROWS_A_DAY
        assert exported.origin["unlabelled_rows_left_out"] == demo.ROWS_A_DAY
        assert exported.target == "load_mw" and exported.task == "regression"
        assert set(exported.columns) == {
            "temperature_c", "hour", "wind_speed_ms", "region", "day_type",
        }  # fmt: skip
        assert form.context["form"].initial["dataset"] == exported.pk

        sweep = retraining.retraining_sweep_start(
            deployment=deployment, user=owner, families=["ridge"], max_trials=1, folds=2
        )
        assert sweep.dataset == exported
        trial = sweep.trials.get()
        ledger.run_trial(trial.pk, owner=ledger.new_owner("test"))
        trial.refresh_from_db()
        assert trial.status == TrialStatus.SUCCEEDED, trial.error

    def test_the_fraud_deployment_without_a_reference_raises_no_false_alarm(self, loaded):
        deployment = Deployment.objects.get(project__slug="card-fraud-detection", ended_at=None)
        assert deployment.reference_rows == 0
        monitors = Monitor.objects.filter(project=deployment.project).exclude(
            kind=MonitorKind.HEALTH
        )
        assert {m.kind for m in monitors} >= {MonitorKind.FRESHNESS, MonitorKind.DATA_DRIFT}
        for monitor in monitors:  # the demo's last beat left each a result that says why
            (shown,) = monitor.results.all()
            assert shown.status == ResultStatus.NOT_ENOUGH_DATA
            assert "no reference data yet" in shown.summary
        for monitor in monitors:
            result = services.monitor_run(monitor_id=monitor.pk, now=timezone.now())
            assert result.status == ResultStatus.NOT_ENOUGH_DATA, (monitor.kind, result.summary)
            assert "no reference data yet" in result.summary
        assert not Alert.objects.filter(monitor__in=monitors).exists()
