"""Each kind of monitor on crafted production data, run through ``monitor_run`` on its
window, and results that stay one per monitor and window however often a run repeats."""

import datetime as dt

import numpy as np
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring import services
from monitoring.choices import MonitorKind, ResultStatus
from monitoring.models import Monitor, Result
from monitoring.tasks import run_monitor
from tests.factories import make_project
from tests.monitoring.conftest import day

pytestmark = pytest.mark.django_db
TONIGHT = day(0).replace(hour=0, minute=5)  # a run just after midnight judges yesterday


def run(monitor: Monitor, now: dt.datetime = TONIGHT) -> Result:
    result = services.monitor_run(monitor_id=monitor.pk, now=now)
    assert result is not None
    return result


def features(result: Result) -> dict:
    return {f["name"]: f for f in result.details["features"]}


def test_a_deployment_gets_the_default_monitors_with_schedules(production):
    monitors = Monitor.objects.filter(project=production.project).select_related("schedule")
    assert {m.kind for m in monitors} == set(MonitorKind.values)
    for monitor in monitors:
        assert monitor.schedule.task == services.RUN_MONITOR_TASK
        assert monitor.schedule.queue == "scheduled"
        assert monitor.schedule.args == f"[{monitor.pk}]"
        expected = None if monitor.kind == MonitorKind.HEALTH else production.deployment
        assert monitor.deployment == expected


def test_data_drift_ok_on_data_like_the_reference(production):
    production.send(600, at=day(-1))
    result = run(production.monitor(MonitorKind.DATA_DRIFT))
    assert result.status == ResultStatus.OK, result.summary
    assert result.window_end - result.window_start == dt.timedelta(days=1)
    assert result.rows == 600
    assert {f["method"] for f in result.details["features"]} == {"wasserstein", "jensenshannon"}
    assert result.value == 0.0


def test_data_drift_names_the_drifted_feature_and_passes_the_share(production):
    production.send(600, at=day(-1), shift=0.5)
    monitor = production.monitor(MonitorKind.DATA_DRIFT)
    result = run(monitor)
    assert result.status == ResultStatus.WARNING  # 1 of 3 features: below the 0.5 share
    assert features(result)["x"]["drifted"] and not features(result)["y"]["drifted"]
    assert result.value == pytest.approx(1 / 3)
    assert "x" in result.summary

    monitor.config = {"drift_share": 0.3}
    monitor.save()
    production.send(600, at=day(-2), shift=0.5)
    result = run(monitor, TONIGHT - dt.timedelta(days=1))
    assert result.status == ResultStatus.ALERT
    assert result.threshold == 0.3


def test_data_drift_thresholds_per_feature(production):
    production.send(600, at=day(-1), shift=0.5)
    monitor = production.monitor(MonitorKind.DATA_DRIFT)
    monitor.config = {"features": {"x": {"threshold": 0.9}}}
    monitor.save()
    result = run(monitor)
    assert features(result)["x"]["threshold"] == 0.9
    assert result.status == ResultStatus.OK


def test_not_enough_data_instead_of_an_alarm(production):
    production.send(40, at=day(-1), shift=3)
    result = run(production.monitor(MonitorKind.DATA_DRIFT))
    assert result.status == ResultStatus.NOT_ENOUGH_DATA
    empty = run(production.monitor(MonitorKind.DATA_DRIFT), TONIGHT - dt.timedelta(days=3))
    assert empty.status == ResultStatus.NOT_ENOUGH_DATA
    assert "No production rows" in empty.summary


def test_prediction_drift(production):
    production.send(600, at=day(-1))
    production.send(600, at=day(-2), shift=1)
    monitor = production.monitor(MonitorKind.PREDICTION_DRIFT)
    assert run(monitor).status == ResultStatus.OK
    moved = run(monitor, TONIGHT - dt.timedelta(days=1))
    assert moved.status == ResultStatus.ALERT
    assert moved.details["features"][0]["name"] == "score"


def test_performance_against_the_project_target(production):
    monitor = production.monitor(MonitorKind.PERFORMANCE)
    production.send(600, at=day(-1), labels=True)
    good = run(monitor)
    assert good.status == ResultStatus.OK, good.summary
    assert good.value > 0.7 and good.threshold == 0.7
    assert good.details["metric"] == "auc"

    # Labels that arrive later, joined by row id: the model got them backwards.
    batch = production.send(600, at=day(-2))
    records = list(batch.records.values_list("row_id", "prediction"))
    services.labels_add(
        deployment=production.deployment,
        labels={rid: int(p < 0.5) for rid, p in records},
        by=production.user,
    )
    bad = run(monitor, TONIGHT - dt.timedelta(days=1))
    assert bad.status == ResultStatus.ALERT
    assert bad.value < 0.3
    assert "short of the target 0.7" in bad.summary

    production.send(600, at=day(-3))  # no labels yet
    assert run(monitor, TONIGHT - dt.timedelta(days=2)).status == ResultStatus.NOT_ENOUGH_DATA


def test_performance_needs_a_metric_it_knows(production):
    production.project.success_metric = "val_bleu"
    production.project.save()
    production.send(600, at=day(-1), labels=True)
    result = run(production.monitor(MonitorKind.PERFORMANCE))
    assert result.status == ResultStatus.ERROR
    assert "val_bleu" in result.summary


def test_data_quality_limits_learned_from_the_reference(production):
    monitor = production.monitor(MonitorKind.DATA_QUALITY)
    production.send(600, at=day(-1))
    assert run(monitor).status == ResultStatus.OK

    columns = {
        "row_id": [f"q{i}" for i in range(400)],
        "x": [None] * 100 + [1e6] * 20 + ["n/a"] * 10 + [10.0] * 270,
        "y": [0.5] * 400,
        "colour": ["purple"] * 40 + ["red"] * 360,
        "score": [0.5] * 400,
    }
    services.batch_add(
        deployment=production.deployment, columns=columns, by=None, observed_at=day(-2)
    )
    bad = run(monitor, TONIGHT - dt.timedelta(days=1))
    assert bad.status == ResultStatus.ALERT
    by_name = {c["name"]: c for c in bad.details["columns"]}
    x, colour = by_name["x"], by_name["colour"]
    assert x["type_errors"] == 10
    assert x["missing_share"] == pytest.approx(110 / 400)
    assert x["out_of_range_share"] == pytest.approx(20 / 290)
    assert len(x["violations"]) == 3
    assert colour["unseen_share"] == pytest.approx(0.1)
    assert colour["unseen_examples"] == ["purple"]
    assert by_name["y"]["violations"] == []


def test_freshness(production):
    monitor = production.monitor(MonitorKind.FRESHNESS)
    now = timezone.now()
    # Batches can come once the reference is set (today; the deployment is a month old).
    assert run(monitor, now).status == ResultStatus.OK
    never = run(monitor, now + dt.timedelta(hours=25))
    assert never.status == ResultStatus.ALERT
    assert "the reference was set, and no batch since" in never.summary
    production.send(200, at=day(-1))
    assert run(monitor, now + dt.timedelta(hours=2)).status == ResultStatus.OK
    late = run(monitor, now + dt.timedelta(hours=30))
    assert late.status == ResultStatus.ALERT
    assert late.value == pytest.approx(30, abs=0.1)


def test_freshness_without_a_reference_is_not_enough_data_not_an_alarm():
    """A deployment without a reference cannot be sent batches: nothing is late."""
    project = make_project()
    started = timezone.now() - dt.timedelta(days=100)
    services.deployment_start(project=project, name="v1", by=None, now=started)
    monitor = Monitor.objects.get(project=project, kind=MonitorKind.FRESHNESS)
    result = run(monitor, timezone.now())
    assert result.status == ResultStatus.NOT_ENOUGH_DATA
    assert "no reference data yet" in result.summary
    assert not monitor.alerts.exists()


def test_health_is_a_monitor_like_the_others(production):
    late = make_project(start_date=timezone.localdate() - dt.timedelta(days=40))
    monitor = services.monitor_create(
        project=late,
        kind=MonitorKind.HEALTH,
        name="Health",
        window=dt.timedelta(minutes=10),
        by=None,
    )
    result = run(monitor, timezone.now())
    assert result.status == ResultStatus.ALERT
    assert result.details["health"] == "red"
    assert "overdue" in result.summary
    fine = run(production.monitor(MonitorKind.HEALTH), timezone.now())
    assert fine.status == ResultStatus.OK


def test_one_result_per_monitor_and_window_under_redelivery(production):
    production.send(600, at=day(-1))
    monitor = production.monitor(MonitorKind.DATA_DRIFT)
    first = run(monitor)
    again = run(monitor, TONIGHT + dt.timedelta(hours=5))  # a later retry, same window
    assert again.pk == first.pk
    # The task as a worker runs it, delivered twice (acks_late redelivery).
    monitor.window = dt.timedelta(days=10_000)  # a window that contains now
    monitor.save()
    run_monitor(monitor.pk)
    run_monitor(monitor.pk)
    assert Result.objects.filter(monitor=monitor).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Result.objects.create(
            monitor=monitor,
            window_start=first.window_start,
            window_end=first.window_end,
            status=ResultStatus.OK,
            summary="twice",
            computed_at=timezone.now(),
        )


def test_a_disabled_or_missing_monitor_does_nothing(production):
    monitor = production.monitor(MonitorKind.DATA_DRIFT)
    monitor.enabled = False
    monitor.save()
    assert services.monitor_run(monitor_id=monitor.pk) is None
    assert services.monitor_run(monitor_id=10**9) is None
    assert not Result.objects.filter(monitor=monitor).exists()


def test_an_invalid_config_is_an_error_result_not_a_crash(production):
    monitor = production.monitor(MonitorKind.DATA_DRIFT)
    Monitor.objects.filter(pk=monitor.pk).update(config={"drift_share": "lots"})
    result = run(monitor)
    assert result.status == ResultStatus.ERROR
    assert "drift_share" in result.summary


def test_monitor_create_refuses_bad_config(production):
    from mlprojects.exceptions import DomainError

    with pytest.raises(DomainError) as refused:
        services.monitor_create(
            project=production.project,
            kind=MonitorKind.DATA_DRIFT,
            name="strict",
            window=dt.timedelta(hours=1),
            config={"method": "magic"},
            by=None,
        )
    assert "config.method" in refused.value.fields
    assert not Monitor.objects.filter(name="strict").exists()


def test_windows_are_whole_and_aligned():
    monitor = Monitor(window=dt.timedelta(hours=6))
    now = dt.datetime(2026, 3, 4, 13, 30, tzinfo=dt.UTC)
    assert services.window_for(monitor, now) == (
        dt.datetime(2026, 3, 4, 6, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC),
    )
    assert np.isclose(services.window_for(monitor, now + dt.timedelta(hours=1))[0].hour, 6)
