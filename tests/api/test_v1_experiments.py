"""Experiment resources of ``/api/v1/``: the bulk metric upload, runs and experiments to
read, a run's downsampled series, one metric compared across runs, and the evidence
criterion in a project's gate."""

import json
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from experiments import services
from experiments.models import MetricSeries, Run
from experiments.services import MetricIn
from phases import services as phase_services
from phases.choices import EvidenceRule, Role
from tests.api.conftest import ANONYMOUS, OUTSIDER, STAFF, World
from tests.experiments.helpers import stored_points

pytestmark = pytest.mark.django_db

T0 = 1_700_000_000_000
CSV = "text/csv"
NDJSON = "application/x-ndjson"


def new_run(world: World, *, name: str = "", experiment: str = "exp", project=None) -> Run:
    project = project or world.project
    manager = world.users[Role.MANAGER]
    found = project.experiments.filter(name=experiment).first()
    found = found or services.experiment_create(project=project, name=experiment, by=manager)
    return services.run_create(experiment=found, by=manager, name=name)


def log(run: Run, key: str, values, *, start: int = 0) -> None:
    for offset in range(0, len(values), 1000):
        services.log_batch(
            run=run,
            by=None,
            metrics=[
                MetricIn(key, float(v), T0 + start + offset + i, start + offset + i)
                for i, v in enumerate(values[offset : offset + 1000])
            ],
        )


def metrics_url(run: Run) -> str:
    return reverse("v1:run-log-metrics", kwargs={"pk": run.run_id})


def history_url(run: Run) -> str:
    return reverse("v1:run-history", kwargs={"pk": run.run_id})


def post(world: World, caller: str, run: Run, body, content_type: str = "application/json"):
    data = json.dumps(body) if content_type == "application/json" else body
    return world.client(caller).post(metrics_url(run), data, content_type=content_type)


def csv_body(points) -> str:
    return "key,step,timestamp,value\n" + "".join(f"{k},{s},{t},{v}\n" for k, s, t, v in points)


# --- Bulk upload ------------------------------------------------------------------------


def test_a_contributor_uploads_columns_and_again_stores_nothing_new(world):
    run = new_run(world)
    body = {"key": "loss", "step": [0, 1, 2], "timestamp": [T0, T0 + 1, T0 + 2]}
    body["value"] = [0.9, "NaN", "-Infinity"]

    first = post(world, Role.CONTRIBUTOR, run, body)
    again = post(world, Role.CONTRIBUTOR, run, body)

    assert first.status_code == 201, first.json()
    assert first.json() == {"received": 3, "stored": 3, "series": 1}
    assert again.status_code == 200, again.json()
    assert again.json() == {"received": 3, "stored": 0, "series": 1}
    detail = world.client(Role.VIEWER).get(reverse("v1:run-detail", kwargs={"pk": run.run_id}))
    assert detail.json()["metrics"]["loss"] == {
        "value": "-Infinity",
        "step": 2,
        "timestamp": T0 + 2,
    }


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (CSV, csv_body([("loss", 0, T0, "NaN"), ("acc", 0, T0, "Infinity")])),
        (
            f"{NDJSON}; charset=utf-8",
            '{"key": "loss", "step": 0, "timestamp": 1, "value": "NaN"}\n'
            '{"key": "acc", "step": 0, "timestamp": 1, "value": 0.5}\n',
        ),
    ],
)
def test_csv_and_ndjson_are_taken_by_content_type(world, content_type, body):
    run = new_run(world)

    response = post(world, Role.CONTRIBUTOR, run, body, content_type)

    assert response.status_code == 201, response.json()
    assert response.json() == {"received": 2, "stored": 2, "series": 2}
    assert set(MetricSeries.objects.filter(run=run).values_list("key", flat=True)) == {
        "loss",
        "acc",
    }


def test_a_bad_line_answers_400_naming_it_and_stores_nothing(world):
    run = new_run(world)
    points = [("loss", i, T0, 0.5) for i in range(5)]
    points[3] = ("loss", 3, T0, "0.5x")

    response = post(world, Role.CONTRIBUTOR, run, csv_body(points), CSV)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == (
        "line 5: value must be a number, NaN, Infinity or -Infinity; got '0.5x'."
    )
    assert body["fields"] == {"value": ["line 5: must be a number, NaN, Infinity or -Infinity"]}
    assert body["details"] == {"field": "value", "line": 5}
    assert not MetricSeries.objects.filter(run=run).exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_another_content_type_answers_415(world, content_type):
    response = post(world, Role.CONTRIBUTOR, new_run(world), "loss,1,2,3", content_type)

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert "text/csv" in response.json()["message"]


def test_an_empty_body_answers_400(world):
    response = post(world, Role.CONTRIBUTOR, new_run(world), "", CSV)

    assert response.status_code == 400
    assert response.json()["message"].startswith("line 1: header must name the columns")


@pytest.mark.parametrize(
    ("caller", "status"),
    [(ANONYMOUS, 401), (OUTSIDER, 404), (Role.VIEWER, 403), (Role.MANAGER, 201), (STAFF, 201)],
)
def test_uploading_needs_the_contributor_role(world, caller, status):
    run = new_run(world)

    response = post(world, caller, run, csv_body([("loss", 0, T0, 1)]), CSV)

    assert response.status_code == status, response.json()
    assert bool(stored_points(run)) is (status == 201)


def test_a_run_id_that_cannot_exist_answers_404(world):
    for run_id in ("nothex", "0" * 31, "%00"):
        url = f"/api/v1/runs/{run_id}/metrics/"
        response = world.client(Role.MANAGER).post(url, "x", content_type=CSV)
        assert response.status_code == 404, (run_id, response.content)
        assert response.json()["code"] == "not_found"


def test_the_upload_path_has_its_own_body_limit(world, settings):
    settings.MLPROJECTS_API_BODY_LIMITS = {"/api/v1/": 100, "/api/v1/runs/": 1000}
    run = new_run(world)
    points = [("loss", i, T0, 0.5) for i in range(10)]

    taken = post(world, Role.CONTRIBUTOR, run, csv_body(points), CSV)
    refused = post(world, Role.CONTRIBUTOR, run, csv_body(points * 10), CSV)

    assert taken.status_code == 201
    assert refused.status_code == 413
    assert refused.json()["code"] == "too_large"


def test_a_200000_point_csv_upload_goes_through_http(world, settings):
    settings.MLPROJECTS_API_BODY_LIMITS = {"/api/v1/": 2**20, "/api/v1/runs/": 256 * 2**20}
    run = new_run(world)
    n = 200_000
    body = "key,step,timestamp,value\n" + "".join(
        f"loss,{i},{T0 + i},{math.cos(i / 500)!r}\n" for i in range(n)
    )

    response = post(world, Role.CONTRIBUTOR, run, body, CSV)

    assert response.status_code == 201, response.json()
    assert response.json() == {"received": n, "stored": n, "series": 1}
    assert MetricSeries.objects.get(run=run).point_count == n


# --- Runs and experiments ---------------------------------------------------------------


def test_a_run_shows_its_params_tags_and_latest_metrics(world):
    run = new_run(world, name="lr-0.01")
    services.log_batch(
        run=run,
        by=None,
        metrics=[MetricIn("val_auc", 0.8, T0, 1), MetricIn("loss", math.nan, T0, 3)],
        params=[("lr", "0.01")],
        tags=[("team", "churn")],
    )

    body = world.client(Role.VIEWER).get(reverse("v1:run-detail", kwargs={"pk": run.run_id}))

    assert body.status_code == 200
    got = body.json()
    assert (got["run_id"], got["name"], got["project"]) == (run.run_id, "lr-0.01", "churn-model")
    assert got["experiment_name"] == "exp"
    assert got["params"] == {"lr": "0.01"}
    assert got["tags"] == {"team": "churn", "mlflow.runName": "lr-0.01"}
    assert got["metrics"] == {
        "loss": {"value": "NaN", "step": 3, "timestamp": T0},
        "val_auc": {"value": 0.8, "step": 1, "timestamp": T0},
    }


def test_runs_list_only_the_callers_projects_with_filters(world):
    first = new_run(world, name="alpha", experiment="one")
    second = new_run(world, name="beta", experiment="two")
    services.run_update(run=second, by=None, status="FINISHED")
    deleted = new_run(world, name="gamma", experiment="two")
    services.run_delete(run=deleted, by=None)
    new_run(world, name="theirs", project=world.other)
    client = world.client(Role.VIEWER)
    url = reverse("v1:run-list")

    def names(**query):
        response = client.get(url, query)
        assert response.status_code == 200, response.json()
        return [row["name"] for row in response.json()["results"]]

    assert sorted(names()) == ["alpha", "beta", "lr-0.1"]  # the last is the world's baseline run
    assert names(experiment=first.experiment_id) == ["alpha"]
    assert names(status="FINISHED") == ["beta"]
    assert names(project=world.other.slug) == []
    assert names(lifecycle_stage="deleted") == ["gamma"]
    assert names(ordering="name") == ["alpha", "beta", "lr-0.1"]
    assert names(ordering="-name") == ["lr-0.1", "beta", "alpha"]
    assert names(search="bet") == ["beta"]
    assert client.get(url, {"status": "DONE"}).status_code == 400


def test_experiments_list_with_their_run_counts(world):
    new_run(world, experiment="one")
    new_run(world, experiment="one")
    new_run(world, experiment="two")
    new_run(world, experiment="elsewhere", project=world.other)

    body = world.client(Role.VIEWER).get(reverse("v1:experiment-list")).json()

    assert [(row["name"], row["run_count"]) for row in body["results"]] == [
        ("baseline", 1),
        ("one", 2),
        ("two", 1),
    ]
    assert {row["project"] for row in body["results"]} == {world.project.slug}


@pytest.mark.parametrize("basename", ["run", "experiment"])
def test_lists_cost_the_same_queries_for_few_and_many_runs(world, basename):
    """Every run with params, tags and several metrics: nothing is fetched per row."""

    def add(count: int) -> None:
        for index in range(count):
            run = new_run(world, experiment=f"exp {basename} {index % 3}")
            services.log_batch(
                run=run,
                by=None,
                metrics=[MetricIn("loss", 0.5, T0, 0), MetricIn("acc", 0.7, T0, 0)],
                params=[("lr", "0.1")],
                tags=[("t", "v")],
            )

    client = world.client(Role.VIEWER)
    url = reverse(f"v1:{basename}-list")
    add(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        small = client.get(url, {"page_size": 500}).json()
    add(10)
    with CaptureQueriesContext(connection) as many:
        large = client.get(url, {"page_size": 500}).json()

    assert large["count"] > small["count"]
    assert len(many) == len(few), [q["sql"] for q in many]


# --- History ----------------------------------------------------------------------------


def test_history_is_downsampled_keeping_both_ends_and_the_extremes(world):
    run = new_run(world)
    values = [math.sin(i / 40) for i in range(30_000)]
    values[12_345], values[20_001] = 5.0, -5.0
    log(run, "val_loss", values)

    response = world.client(Role.VIEWER).get(history_url(run), {"key": "val_loss", "points": 500})

    assert response.status_code == 200, response.json()
    got = response.json()
    assert got["run_id"] == run.run_id and got["key"] == "val_loss"
    assert (got["total_points"], got["downsampled"]) == (30_000, True)
    assert 10 <= len(got["steps"]) <= 500
    assert len(got["steps"]) == len(got["values"]) == len(got["timestamps"])
    assert got["steps"][0] == 0 and got["steps"][-1] == 29_999
    assert {12_345, 20_001} <= set(got["steps"])
    assert max(got["values"]) == 5.0 and min(got["values"]) == -5.0


def test_a_short_history_comes_back_whole_with_gaps(world):
    run = new_run(world)
    log(run, "loss", [1.0, math.nan, math.inf, 0.5])

    got = world.client(Role.VIEWER).get(history_url(run), {"key": "loss"}).json()

    assert got["values"] == [1.0, None, None, 0.5]
    assert got["downsampled"] is False


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"key": "loss", "points": 9}, "points"),
        ({"key": "loss", "points": 20_001}, "points"),
        ({"key": "loss", "points": "many"}, "points"),
        ({"points": 100}, "key"),
    ],
)
def test_history_refuses_a_bad_query(world, query, field):
    run = new_run(world)
    log(run, "loss", [1.0])

    response = world.client(Role.VIEWER).get(history_url(run), query)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_history_of_a_metric_never_logged_answers_404(world):
    response = world.client(Role.VIEWER).get(history_url(new_run(world)), {"key": "nope"})

    assert response.status_code == 404
    assert "has logged no metric" in response.json()["message"]


def test_history_of_another_projects_run_answers_404(world):
    theirs = new_run(world, project=world.other)
    log(theirs, "loss", [1.0])

    response = world.client(Role.VIEWER).get(history_url(theirs), {"key": "loss"})

    assert response.status_code == 404


# --- Compare ----------------------------------------------------------------------------


def compare(world: World, caller: str = Role.VIEWER, **query):
    return world.client(caller).get(reverse("v1:metric-compare"), query)


def test_compare_answers_each_runs_series_in_the_order_given(world):
    first, second, silent = new_run(world), new_run(world), new_run(world)
    log(first, "val_loss", [3.0, 2.0, 1.0])
    log(second, "val_loss", [float(i % 7) for i in range(5000)])
    ids = [second.run_id, silent.run_id, first.run_id]

    response = compare(world, key="val_loss", runs=",".join(ids), points=100)

    assert response.status_code == 200, response.json()
    got = response.json()
    assert [s["run_id"] for s in got["series"]] == [second.run_id, first.run_id]
    assert got["without_metric"] == [silent.run_id]
    assert len(got["series"][0]["steps"]) <= 100 and got["series"][0]["downsampled"]
    assert got["series"][1]["values"] == [3.0, 2.0, 1.0]


def test_compare_refuses_runs_the_caller_cannot_see_like_missing_ones(world):
    mine, theirs = new_run(world), new_run(world, project=world.other)
    missing = "f" * 32

    hidden = compare(world, key="loss", runs=f"{mine.run_id},{theirs.run_id}")
    absent = compare(world, key="loss", runs=f"{mine.run_id},{missing}")

    assert hidden.status_code == absent.status_code == 400
    assert list(hidden.json()["fields"]) == ["runs"]
    assert hidden.json()["message"].replace(theirs.run_id, missing) == absent.json()["message"]


@pytest.mark.parametrize(
    ("runs", "words"),
    [
        (",".join(f"{i:032x}" for i in range(21)), "at most 20 runs"),
        ("abc", "32 hexadecimal digits"),
        ("", "may not be blank"),
    ],
)
def test_compare_refuses_bad_run_lists(world, runs, words):
    response = compare(world, key="loss", runs=runs)

    assert response.status_code == 400
    assert words in response.json()["fields"]["runs"][0]


def test_compare_takes_twenty_runs_and_repeats_once(world):
    runs = [new_run(world) for _ in range(20)]
    ids = [run.run_id for run in runs]

    response = compare(world, key="loss", runs=",".join([*ids, ids[0]]))

    assert response.status_code == 200, response.json()
    assert response.json()["without_metric"] == ids


# --- The evidence criterion in the gate -------------------------------------------------


def test_the_gate_shows_the_best_run_against_the_target(world):
    manager = world.users[Role.MANAGER]
    phase_services.project_update(project=world.project, by=manager, success_target=0.85)
    phase_services.outcome_create(
        phase=world.phase,
        by=manager,
        name="Model good enough",
        evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET,
    )
    run = new_run(world, name="lr-0.01")
    log(run, "val_auc", [0.7, 0.82])

    body = world.client(Role.VIEWER).get(
        reverse("v1:project-gate", kwargs={"slug": world.project.slug})
    )

    assert body.status_code == 200
    evidence = [c for c in body.json()["criteria"] if c["kind"] == "evidence"]
    assert len(evidence) == 1
    assert evidence[0]["met"] is False
    assert evidence[0]["message"] == (
        f"Best val_auc 0.82 (run “lr-0.01”, {run.run_id[:8]}…) is 0.03 short of the target "
        "0.85 (higher is better)."
    )
    assert evidence[0]["evidence"]["run_id"] == run.run_id
    assert evidence[0]["evidence"]["gap"] == pytest.approx(0.03)


def test_a_stranger_cannot_tell_a_run_exists(world):
    theirs = new_run(world, project=world.other)

    response = world.client(OUTSIDER).get(reverse("v1:run-detail", kwargs={"pk": theirs.run_id}))
    missing = world.client(OUTSIDER).get(reverse("v1:run-detail", kwargs={"pk": "e" * 32}))

    assert (response.status_code, response.json()) == (missing.status_code, missing.json())
