"""Query counts of the experiment pages do not grow with the runs: pinned at 3 and at 30
runs (and, for a run page, at 12 and at 30 metrics), since a project of a thousand runs
must cost its page what a project of three does.

``experiments.series`` reads all the series a page draws in one query (their chunks) or
two (long ones from their rollups); the series each page asks for are also counted apart,
and must stay within the page's cap whatever the number of runs.
"""

import pytest
from django.urls import reverse

from dashboard import selectors, sharing
from dashboard import services as dashboard_services
from experiments import series
from experiments import services as runs
from tests.dashboard.conftest import client_for
from tests.dashboard.test_experiments_views import log_run, sweep
from tests.dashboard.test_queries import count

pytestmark = pytest.mark.django_db

# Session and user (2), the project (1), then each page's own reads; see dashboard.selectors.
# A page that draws series reads their chunks in one more query.
PROJECT_MAX = 22  # the monitoring, models and sweeps sections read their first table once each;
# the leaderboard asks when the current phase was last reopened (what its gate reads)
# Session, user, project; the search form's experiments, metric and param keys; the count,
# the page, its params and its metrics' latest values.
RUNS_MAX = 10
# The run and its parts, four for its place in the ranking, then the charts' series, their
# chunks and their rollups (see series.run_series).
RUN_MAX = 8 + 4 + 3
COMPARE_MAX = 8


@pytest.fixture
def series_read(monkeypatch):
    """How many series each call of ``experiments.series`` was asked for, call by call."""
    calls: list[int] = []
    compare, metric_series, run_series = series.compare, series.metric_series, series.run_series

    def counted_compare(*, runs, **kwargs):
        calls.append(len(runs))
        return compare(runs=runs, **kwargs)

    def counted_series(**kwargs):
        calls.append(1)
        return metric_series(**kwargs)

    def counted_run_series(*, keys, **kwargs):
        calls.append(len(keys))
        return run_series(keys=keys, **kwargs)

    monkeypatch.setattr(series, "compare", counted_compare)
    monkeypatch.setattr(series, "run_series", counted_run_series)
    monkeypatch.setattr(series, "metric_series", counted_series)
    return calls


def url(project, name: str, *args) -> str:
    return reverse(f"dashboard:{name}", args=[project.slug, *args])


@pytest.mark.parametrize("who", ["manager", "viewer"])
def test_project_page_costs_the_same_with_3_and_30_runs(
    request, who, manager, project, series_read
):
    client = client_for(request.getfixturevalue(who))
    sweep(project, by=manager, n=3)
    few = count(client, url(project, "project"))
    sweep(project, by=manager, n=27, experiment="more")
    series_read.clear()
    many = count(client, url(project, "project"))
    assert few == many
    assert many <= PROJECT_MAX
    assert series_read == [selectors.CURVE_RUNS]


def test_shared_page_costs_the_same_with_3_and_30_runs(client, manager, project):
    link = dashboard_services.shared_link_create(project=project, by=manager)
    shared = reverse(
        "dashboard:shared", args=[sharing.token_for(link_id=link.pk, nonce=link.nonce)]
    )
    sweep(project, by=manager, n=3)
    few = count(client, shared)
    sweep(project, by=manager, n=27, experiment="more")
    many = count(client, shared)
    assert few == many


def test_run_list_costs_the_same_with_3_and_30_runs(manager, viewer, project):
    client = client_for(viewer)
    sweep(project, by=manager, n=3)
    few = count(client, url(project, "runs"))
    sweep(project, by=manager, n=27, experiment="more")
    many = count(client, url(project, "runs"))
    assert few == many
    assert many <= RUNS_MAX


def test_a_searched_sorted_run_list_costs_the_same_with_3_and_30_runs(manager, viewer, project):
    client = client_for(viewer)
    searched = url(project, "runs") + (
        "?filter=metrics.val_auc+>+0.1+and+params.optimizer+!=+'x'&status=FINISHED"
        "&order=params.max_depth+DESC&cols=metrics.loss&cols=params.seed"
    )
    sweep(project, by=manager, n=3)
    few = count(client, searched)
    sweep(project, by=manager, n=27, experiment="more")
    many = count(client, searched)
    assert few == many
    assert many <= RUNS_MAX


def test_run_page_costs_the_same_with_12_and_30_metrics(manager, viewer, project, series_read):
    experiment = runs.experiment_create(project=project, name="wide", by=manager)
    twelve = log_run(
        experiment,
        by=manager,
        name="twelve",
        params={f"p{i}": str(i) for i in range(5)},
        # val_auc, the success metric: the run has a place in the ranking to read too.
        metrics={"val_auc": [0.5, 0.6]} | {f"m{i:02d}": [1.0, 2.0] for i in range(12)},
    )
    thirty = log_run(
        experiment,
        by=manager,
        name="thirty",
        params={f"p{i}": str(i) for i in range(50)},
        metrics={"val_auc": [0.5, 0.7]} | {f"m{i:02d}": [1.0, 2.0, 3.0] for i in range(30)},
    )
    sweep(project, by=manager, n=30)
    client = client_for(viewer)
    few = count(client, url(project, "run", twelve.run_id))
    series_read.clear()
    many = count(client, url(project, "run", thirty.run_id))
    assert few == many
    assert many <= RUN_MAX
    assert sum(series_read) == selectors.RUN_CHARTS


def test_comparison_costs_the_same_in_a_project_of_3_and_of_30_runs(manager, viewer, project):
    client = client_for(viewer)
    compared = sweep(project, by=manager, n=3)
    target = url(project, "run-compare") + "?runs=" + ",".join(r.run_id for r in compared)
    few = count(client, target)
    sweep(project, by=manager, n=27, experiment="more")
    many = count(client, target)
    assert few == many


def test_comparison_is_bounded_however_many_runs_are_asked_for(
    manager, viewer, project, series_read
):
    made = sweep(project, by=manager, n=25)
    target = url(project, "run-compare") + "?runs=" + ",".join(r.run_id for r in made)
    assert count(client_for(viewer), target) <= COMPARE_MAX
    assert series_read == [selectors.MAX_COMPARED]
