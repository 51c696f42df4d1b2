"""The experiment-tracking services: MLflow's ingest semantics, all-or-nothing batches, and
the lifecycle of experiments and runs."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments import selectors, services
from experiments.choices import LifecycleStage
from experiments.models import (
    Experiment,
    MetricChunk,
    MetricRollup,
    MetricSeries,
    Param,
    Run,
    RunEvidence,
    RunTag,
)
from experiments.services import MetricIn
from mlprojects.exceptions import DomainError
from tests.experiments.helpers import experiment_and_run, stored_points
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def project(owner):
    return make_project(owner=owner, name="Churn model")


@pytest.fixture
def run(project, owner) -> Run:
    return experiment_and_run(project, by=owner)[1]


def points(run: Run, key: str) -> list[tuple]:
    return selectors.metric_history(run=run, key=key).items


def latest(run: Run, key: str) -> tuple:
    series = MetricSeries.objects.get(run=run, key=key)
    return series.latest_step, series.latest_timestamp, series.latest_value, series.latest_is_nan


# --- Experiments ------------------------------------------------------------------------


def test_the_default_experiment_is_made_once_per_project(project, owner):
    first = services.ensure_default_experiment(project=project)
    again = services.ensure_default_experiment(project=project)
    other = services.ensure_default_experiment(project=make_project(owner=owner, name="Other"))

    assert first == again
    assert (first.name, first.is_default, first.lifecycle_stage) == ("Default", True, "active")
    assert other != first
    assert first.artifact_location == f"mlflow-artifacts:/{first.pk}"


def test_experiment_names_are_unique_within_a_project_only(project, owner):
    services.experiment_create(project=project, name="baseline", by=owner)
    services.experiment_create(
        project=make_project(owner=owner, name="Other"), name="baseline", by=owner
    )

    with pytest.raises(DomainError) as refused:
        services.experiment_create(project=project, name="baseline", by=owner)
    assert refused.value.code == "already_exists"


def test_deleting_an_experiment_deletes_its_runs_and_restoring_brings_them_back(run, owner):
    experiment = run.experiment

    services.experiment_delete(experiment=experiment, by=owner)
    run.refresh_from_db()
    assert run.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(DomainError, match="must be in the 'active' state"):
        services.log_batch(run=run, by=owner, params=[("a", "1")])

    services.experiment_restore(experiment=experiment, by=owner)
    run.refresh_from_db()
    assert run.lifecycle_stage == LifecycleStage.ACTIVE


def test_the_default_experiment_cannot_be_deleted(project, owner):
    default = services.ensure_default_experiment(project=project)
    with pytest.raises(DomainError, match="default experiment"):
        services.experiment_delete(experiment=default, by=owner)


# --- Runs -------------------------------------------------------------------------------


def test_a_runs_name_and_its_run_name_tag_always_agree(project, owner):
    experiment = services.experiment_create(project=project, name="exp", by=owner)
    run = services.run_create(experiment=experiment, by=owner, tags=[("mlflow.runName", "a")])
    assert run.name == "a"

    services.log_batch(run=run, by=owner, tags=[("mlflow.runName", "b")])
    run.refresh_from_db()
    assert run.name == "b"

    run = services.run_update(run=run, by=owner, name="c", status="FINISHED", end_time=5)
    assert RunTag.objects.get(run=run, key="mlflow.runName").value == "c"
    assert (run.name, run.status, run.end_time) == ("c", "FINISHED", 5)

    with pytest.raises(DomainError, match="different values"):
        services.run_create(
            experiment=experiment, by=owner, name="x", tags=[("mlflow.runName", "y")]
        )


def test_an_unnamed_run_gets_a_name_and_the_creators_username(project, owner):
    experiment = services.experiment_create(project=project, name="exp", by=owner)
    run = services.run_create(experiment=experiment, by=owner)
    assert run.name == f"run-{run.run_id[:8]}"
    assert (run.user_id, run.status, len(run.run_id)) == (owner.username, "RUNNING", 32)


# --- Ingest -----------------------------------------------------------------------------


def test_params_are_write_once(run, owner):
    services.log_batch(run=run, by=owner, params=[("lr", "0.1")])
    services.log_batch(run=run, by=owner, params=[("lr", "0.1"), ("depth", "3")])

    with pytest.raises(DomainError, match="Changing param values is not allowed") as refused:
        services.log_batch(run=run, by=owner, params=[("lr", "0.2")])
    assert refused.value.code == "invalid"
    assert dict(Param.objects.filter(run=run).values_list("key", "value")) == {
        "lr": "0.1",
        "depth": "3",
    }


def test_a_batch_may_not_hold_one_param_twice(run, owner):
    with pytest.raises(DomainError, match="Duplicate parameter keys"):
        services.log_batch(run=run, by=owner, params=[("lr", "0.1"), ("lr", "0.1")])


def test_tags_are_overwritten_and_the_last_of_a_batch_wins(run, owner):
    services.log_batch(run=run, by=owner, tags=[("stage", "a")])
    services.log_batch(run=run, by=owner, tags=[("stage", "b"), ("stage", "c")])
    assert RunTag.objects.get(run=run, key="stage").value == "c"

    services.run_delete_tag(run=run, key="stage", by=owner)
    assert not RunTag.objects.filter(run=run, key="stage").exists()
    with pytest.raises(DomainError) as refused:
        services.run_delete_tag(run=run, key="stage", by=owner)
    assert refused.value.code == "not_found"


def test_an_identical_point_is_stored_once(run, owner):
    batch = [MetricIn("loss", 0.5, 100, 1), MetricIn("loss", 0.5, 100, 1)]
    services.log_batch(run=run, by=owner, metrics=batch)
    services.log_batch(run=run, by=owner, metrics=batch)
    services.log_batch(run=run, by=owner, metrics=[MetricIn("loss", 0.4, 100, 1)])

    assert points(run, "loss") == [(1, 100, 0.4, False), (1, 100, 0.5, False)]


@pytest.mark.parametrize("extreme", [-(2**63), 2**63 - 1])
def test_steps_and_timestamps_at_the_ends_of_int64_update_a_series(run, owner, extreme):
    """A series that exists is updated in one statement; its values are cast in it, and
    -9223372036854775808::bigint (a cast before the minus) was out of range."""
    stamp = max(extreme, 1)  # a timestamp is never negative
    services.log_batch(run=run, by=owner, metrics=[MetricIn("loss", 0.4, stamp, extreme)])
    services.log_batch(run=run, by=owner, metrics=[MetricIn("loss", 0.3, stamp, extreme)])
    assert latest(run, "loss") == (extreme, stamp, 0.4, False)
    services.log_batch(run=run, by=owner, metrics=[MetricIn("loss", 0.5, 5, 0)])

    stored = sorted((step, time, value) for step, time, value, _ in points(run, "loss"))
    assert stored == sorted([(0, 5, 0.5), (extreme, stamp, 0.3), (extreme, stamp, 0.4)])
    assert latest(run, "loss")[:2] == max((0, 5), (extreme, stamp))


def test_nan_and_infinities_are_kept(run, owner):
    services.log_batch(
        run=run,
        by=owner,
        metrics=[
            MetricIn("x", math.nan, 1, 0),
            MetricIn("x", math.inf, 2, 1),
            MetricIn("x", -math.inf, 3, 2),
            MetricIn("x", 0.0, 4, 3),
        ],
    )
    services.log_batch(run=run, by=owner, metrics=[MetricIn("x", math.nan, 1, 0)])

    assert points(run, "x") == [
        (0, 1, 0.0, True),
        (1, 2, math.inf, False),
        (2, 3, -math.inf, False),
        (3, 4, 0.0, False),
    ]


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        # The greatest step wins, even when logged earlier or with an older timestamp.
        ([(1.0, 50, 2), (2.0, 99, 1)], (2, 50, 1.0, False)),
        # Same step: the later timestamp wins.
        ([(1.0, 60, 2), (2.0, 50, 2)], (2, 60, 1.0, False)),
        # Same step and timestamp: the greater value wins.
        ([(3.0, 50, 2), (1.0, 50, 2)], (2, 50, 3.0, False)),
        # A NaN counts as the 0 it is stored as.
        ([(-1.0, 50, 2), (math.nan, 50, 2)], (2, 50, 0.0, True)),
        ([(math.nan, 50, 2), (1.0, 50, 2)], (2, 50, 1.0, False)),
    ],
)
@pytest.mark.parametrize("split", [False, True], ids=["one batch", "two batches"])
def test_the_latest_value_follows_step_then_timestamp_then_value(
    run, owner, logged, expected, split
):
    metrics = [MetricIn("m", value, timestamp, step) for value, timestamp, step in logged]
    batches = [[m] for m in metrics] if split else [metrics]
    for batch in batches:
        services.log_batch(run=run, by=owner, metrics=batch)
    assert latest(run, "m") == expected


def test_a_batch_with_one_bad_item_writes_nothing(run, owner):
    with pytest.raises(DomainError):
        services.log_batch(
            run=run,
            by=owner,
            metrics=[MetricIn("ok", 1.0, 1, 0), MetricIn("../escape", 1.0, 1, 0)],
            params=[("p", "1")],
            tags=[("t", "1")],
        )
    services.log_batch(run=run, by=owner, params=[("lr", "0.1")])
    with pytest.raises(DomainError):
        services.log_batch(
            run=run,
            by=owner,
            metrics=[MetricIn("ok", 1.0, 1, 0)],
            params=[("fresh", "1"), ("lr", "0.2")],
            tags=[("t", "1")],
        )

    assert not MetricSeries.objects.filter(run=run).exists()
    assert not bool(stored_points(run))
    assert list(Param.objects.filter(run=run).values_list("key", flat=True)) == ["lr"]
    assert not RunTag.objects.filter(run=run, key="t").exists()


@pytest.mark.parametrize(
    ("metric", "params", "tags", "message"),
    [
        (MetricIn("a" * 251, 1.0, 1), (), (), "exceeds the maximum length of 250"),
        (MetricIn("a b/../c", 1.0, 1), (), (), "would resolve to"),
        (MetricIn("a;b", 1.0, 1), (), (), "Names may only contain"),
        (MetricIn("a", 1.0, -1), (), (), "Timestamp must be a nonnegative"),
        (MetricIn("a", 1.0, 1, 2**63), (), (), "64-bit integer"),
        (None, [("p", "v" * 6001)], (), "'Param value' exceeds the maximum length of 6000"),
        (None, [("k" * 251, "v")], (), "'Param key' exceeds the maximum length of 250"),
        (None, (), [("t", "v" * 8001)], "exceeds the maximum length of 8000"),
    ],
)
def test_mlflows_limits_on_names_and_values(run, owner, metric, params, tags, message):
    with pytest.raises(DomainError, match=message) as refused:
        services.log_batch(
            run=run, by=owner, metrics=[metric] if metric else [], params=params, tags=tags
        )
    assert refused.value.code == "invalid"


def test_a_retried_batch_reads_only_the_chunks_it_overlaps(run, owner, on_postgres):
    """What keeps a retried log-batch as cheap on a full run as on an empty one: one more
    statement, which reads the few chunks whose steps the batch covers, never the series."""
    batch = [MetricIn(f"m{i % 5}", float(i), 1_000 + i, 50_000 + i // 5) for i in range(1000)]
    fresh = experiment_and_run(run.experiment.project, by=owner, name="fresh")[1]
    history = [MetricIn(f"m{i % 5}", float(i), i, i // 5) for i in range(200_000)]
    services.log_batch(run=run, by=owner, metrics=history)
    assert stored_points(run) == 200_000

    with CaptureQueriesContext(connection) as on_empty:
        services.log_batch(run=fresh, by=owner, metrics=batch)
    services.log_batch(run=run, by=owner, metrics=batch)
    chunks = MetricChunk.objects.filter(series__run=run)
    total = chunks.count()
    with CaptureQueriesContext(connection) as on_full:
        services.log_batch(run=run, by=owner, metrics=batch)

    assert len(on_full) <= len(on_empty) + 1
    overlapping = chunks.filter(last_step__gte=50_000, first_step__lte=50_199).count()
    assert overlapping <= 5 * 2 < total
    reads = [q["sql"] for q in on_full if q["sql"].startswith('SELECT "experiments_metricchunk"')]
    assert len(reads) == 1 and "last_step" in reads[0] and "first_step" in reads[0]
    assert (
        stored_points(run)
        == 201_000
        == sum(MetricSeries.objects.filter(run=run).values_list("point_count", flat=True))
    )


def stored(run: Run) -> dict:
    """What a run holds, but its ids and name."""
    run.refresh_from_db()
    rollups = MetricRollup.objects.filter(series__run=run).order_by("series__key", "bucket")
    return {
        "run": (run.status, run.start_time, run.end_time, run.user_id, run.lifecycle_stage),
        "params": sorted(Param.objects.filter(run=run).values_list("key", "value")),
        "tags": sorted(
            RunTag.objects.filter(run=run).exclude(key="mlflow.runName").values_list("key", "value")
        ),
        "series": {s.key: (latest(run, s.key), s.point_count) for s in run.metric_series.all()},
        "points": {s.key: points(run, s.key) for s in run.metric_series.all()},
        "rollups": list(rollups.values_list("series__key", "bucket", "min_value", "max_value")),
    }


def test_a_run_recorded_whole_holds_what_create_batch_and_update_would_write(project, owner):
    experiment = services.experiment_create(project=project, name="sweep", by=owner)
    metrics = [
        MetricIn("acc_fold", 0.9, 500, 0), MetricIn("acc_fold", 0.8, 500, 1),
        MetricIn("acc_fold", 0.8, 500, 1), MetricIn("acc", 0.85, 500, 0),
        MetricIn("loss", math.nan, 500, 0), MetricIn("loss", 2.0, 400, 1),
    ]  # fmt: skip
    params = [("family", "knn"), ("n_neighbors", "5")]
    tags = [("sweep.id", "1"), ("estimator.p", "2")]
    made = services.run_create(experiment=experiment, by=owner, name="a", start_time=100)
    services.log_batch(run=made, by=owner, metrics=metrics, params=params, tags=tags)
    services.run_update(run=made, by=owner, status="FINISHED", end_time=600)

    with CaptureQueriesContext(connection) as queries:
        recorded = services.run_record(
            experiment=experiment, by=owner, name="b", start_time=100, end_time=600,
            status="FINISHED", metrics=metrics, params=params, tags=tags,
        )  # fmt: skip

    assert recorded.name == RunTag.objects.get(run=recorded, key="mlflow.runName").value == "b"
    assert stored(recorded) == stored(made)
    assert stored(recorded)["series"]["acc_fold"] == ((1, 500, 0.8, False), 2)
    writes = [q["sql"].split()[0] for q in queries if q["sql"].split()[0] in ("INSERT", "COPY")]
    assert len(writes) == 6  # the run, tags, params, series, chunks, rollups: once each


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tags": [("t", "v" * 8001)]}, "exceeds the maximum length of 8000"),
        ({"params": [("p", "1"), ("p", "2")]}, "Duplicate parameter keys"),
        ({"metrics": [MetricIn("a;b", 1.0, 1)]}, "Names may only contain"),
        ({"status": "DONE"}, "must be one of"),
        ({"end_time": 2**63}, "64-bit integer"),
    ],
)
def test_a_run_recorded_whole_with_one_bad_item_writes_nothing(project, owner, change, message):
    experiment = services.experiment_create(project=project, name="sweep", by=owner)
    fields = {"name": "r", "start_time": 1, "end_time": 2, "status": "FINISHED",
              "metrics": [MetricIn("m", 1.0, 1)], "params": [("p", "1")], "tags": []}  # fmt: skip
    fields.update(change)
    with pytest.raises(DomainError, match=message) as refused:
        services.run_record(experiment=experiment, by=owner, **fields)
    assert refused.value.code == "invalid"
    assert not Run.objects.filter(experiment=experiment).exists()
    assert not MetricSeries.objects.exists() and not Param.objects.exists()


# --- Evidence ---------------------------------------------------------------------------


def test_a_run_is_evidence_only_for_its_own_projects_outcomes(run, project, owner):
    outcome = project.current_phase.outcomes.first()
    evidence = services.run_evidence_link(run=run, outcome=outcome, by=owner, note=" best ")
    again = services.run_evidence_link(run=run, outcome=outcome, by=owner)

    assert evidence == again
    assert (evidence.note, evidence.linked_by) == ("best", owner)
    stranger = make_project(owner=owner, name="Other").current_phase.outcomes.first()
    with pytest.raises(DomainError, match="another project"):
        services.run_evidence_link(run=run, outcome=stranger, by=owner)
    assert RunEvidence.objects.count() == 1


def test_deleting_a_project_removes_its_tracking_data(run, owner):
    services.log_batch(run=run, by=owner, metrics=[MetricIn("m", 1.0, 1)])
    run.experiment.project.delete()
    assert not Experiment.objects.exists()
    assert not MetricSeries.objects.exists()
    assert not stored_points()
