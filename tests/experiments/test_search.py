"""MLflow's search grammar, parsed, and run and experiment searches answered from it."""

import math

import pytest

from experiments import selectors, services
from experiments.choices import ViewType
from experiments.models import Experiment, Run
from experiments.search import (
    EXPERIMENTS,
    RUNS,
    Clause,
    OrderBy,
    parse_filter,
    parse_order_by,
)
from experiments.services import MetricIn
from mlprojects.exceptions import DomainError
from tests.factories import UserFactory, make_project

# --- The grammar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("", []),
        ("metrics.acc > 0.9", [Clause("metric", "acc", ">", 0.9)]),
        ("metric.acc>=-1e-3", [Clause("metric", "acc", ">=", -0.001)]),
        (
            "params.model = 'xgb' and tags.`team name` != \"growth\"",
            [Clause("param", "model", "=", "xgb"), Clause("tag", "team name", "!=", "growth")],
        ),
        ('metrics."val loss" <= 2', [Clause("metric", "val loss", "<=", 2.0)]),
        (
            "params.lr LIKE '0.%' AND params.lr ILIKE '%1'",
            [
                Clause("param", "lr", "LIKE", "0.%"),
                Clause("param", "lr", "ILIKE", "%1"),
            ],
        ),
        ("attributes.status = 'FINISHED'", [Clause("attribute", "status", "=", "FINISHED")]),
        ("run_name = 'a'", [Clause("attribute", "run_name", "=", "a")]),
        ("attr.created > 5", [Clause("attribute", "start_time", ">", 5)]),
        ("attributes.run_id IN ('a', 'b')", [Clause("attribute", "run_id", "IN", ("a", "b"))]),
        ("run.run_id not in ('a')", [Clause("attribute", "run_id", "NOT IN", ("a",))]),
        ("tags.t IS NULL", [Clause("tag", "t", "IS NULL", None)]),
        ("params.p is not null", [Clause("param", "p", "IS NOT NULL", None)]),
        ("datasets.name = 'train'", [Clause("dataset", "name", "=", "train")]),
        ("metrics.a.b = 1", [Clause("metric", "a.b", "=", 1.0)]),
    ],
)
def test_run_filters_parse(text, clauses):
    assert parse_filter(text, RUNS) == clauses


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.acc > 0.9 OR metrics.acc < 0.1", "Only AND"),
        ("(metrics.acc > 0.9)", "Expected an identifier"),
        ("metrics.acc", "expected a comparator"),
        ("metrics.acc >", "ends too early"),
        ("metrics.acc > 'high'", "Expected numeric value type for metric"),
        ("params.model = xgb", "Expected a quoted string"),
        ("foo.bar = 'x'", "Invalid entity type 'foo'"),
        ("attributes.color = 'red'", "Invalid attribute key 'color'"),
        ("metrics.acc LIKE '1%'", "Invalid comparator 'LIKE'"),
        ("metrics.acc IS NULL", "Invalid comparator 'IS NULL'"),
        ("attributes.status IN ('A')", "Invalid comparator 'IN'"),
        ("attributes.start_time = 'yesterday'", "Expected numeric value type"),
        ("params.a = 'x' AND", "ends too early"),
        ("params.a = 'x' params.b = 'y'", "Only AND"),
        ("params.a = 'x' ; drop table", "cannot parse"),
    ],
)
def test_bad_run_filters_are_refused_with_a_reason(text, message):
    with pytest.raises(DomainError, match=message) as refused:
        parse_filter(text, RUNS)
    assert refused.value.code == "invalid"


def test_experiment_filters_know_only_experiment_keys():
    assert parse_filter("name LIKE 'churn%' and tags.owner = 'ana'", EXPERIMENTS) == [
        Clause("attribute", "name", "LIKE", "churn%"),
        Clause("tag", "owner", "=", "ana"),
    ]
    with pytest.raises(DomainError, match="Invalid entity type"):
        parse_filter("metrics.acc > 1", EXPERIMENTS)


def test_order_by_clauses_parse_and_refuse_duplicates():
    assert parse_order_by(["metrics.acc DESC", "params.`a b`", "start_time asc"], RUNS) == [
        OrderBy("metric", "acc", False),
        OrderBy("param", "a b", True),
        OrderBy("attribute", "start_time", True),
    ]
    for bad in (["metrics.acc sideways"], ["metrics.acc DESC extra"], ["'x'"]):
        with pytest.raises(DomainError, match="Could not be parsed"):
            parse_order_by(bad, RUNS)
    with pytest.raises(DomainError, match="duplicate"):
        parse_order_by(["metrics.acc", "metric.acc DESC"], RUNS)


# --- Searches ---------------------------------------------------------------------------


@pytest.fixture
def runs(db):
    """Four runs of one experiment, each with a different story."""
    owner = UserFactory()
    project = make_project(owner=owner, name="Search")
    experiment = services.experiment_create(project=project, name="exp", by=owner)
    made = {}
    for name, start, acc, params, tags in (
        ("alpha", 1000, 0.9, {"model": "xgb", "lr": "0.1"}, {"team": "growth"}),
        ("beta", 2000, 0.7, {"model": "XGB-large"}, {"team": "risk"}),
        ("gamma", 3000, math.nan, {"model": "logreg"}, {}),
        ("delta", 4000, None, {}, {}),
    ):
        run = services.run_create(experiment=experiment, by=owner, name=name, start_time=start)
        services.log_batch(
            run=run,
            by=owner,
            metrics=[MetricIn("acc", acc, 1)] if acc is not None else [],
            params=list(params.items()),
            tags=list(tags.items()),
        )
        made[name] = run
    services.run_update(run=made["alpha"], by=owner, status="FINISHED", end_time=1500)
    services.run_delete(run=made["delta"], by=owner)
    return experiment, made


def names(page) -> list[str]:
    return [run.name for run in page.items]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["gamma", "beta", "alpha"]),
        ("metrics.acc > 0.8", ["alpha"]),
        ("metrics.acc >= 0", ["beta", "alpha"]),
        ("metrics.acc != 0.9", ["gamma", "beta"]),
        ("params.model LIKE 'xgb%'", ["alpha"]),
        ("params.model ILIKE 'xgb%'", ["beta", "alpha"]),
        ("params.model != 'xgb'", ["gamma", "beta"]),
        ("params.lr IS NULL", ["gamma", "beta"]),
        ("tags.team IS NOT NULL AND tags.team = 'risk'", ["beta"]),
        ("attributes.status = 'FINISHED'", ["alpha"]),
        ("attributes.end_time != 1", ["alpha"]),
        ("attributes.run_name LIKE '%a'", ["gamma", "beta", "alpha"]),
        ("attributes.start_time < 2500", ["beta", "alpha"]),
    ],
)
def test_run_search_filters(runs, text, expected):
    experiment, _ = runs
    page = selectors.search_runs(
        runs=Run.objects.all(), experiment_ids=[experiment.pk], filter_string=text
    )
    assert names(page) == expected


def test_run_search_by_id_and_view_type(runs):
    experiment, made = runs
    ids = f"('{made['alpha'].run_id}', '{made['delta'].run_id}')"
    page = selectors.search_runs(
        runs=Run.objects.all(),
        experiment_ids=[experiment.pk],
        filter_string=f"attributes.run_id IN {ids}",
        view_type=ViewType.ALL,
    )
    assert names(page) == ["delta", "alpha"]
    deleted = selectors.search_runs(
        runs=Run.objects.all(), experiment_ids=[experiment.pk], view_type=ViewType.DELETED_ONLY
    )
    assert names(deleted) == ["delta"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # Missing values last whichever the direction, and NaN just before them.
        (["metrics.acc DESC"], ["alpha", "beta", "gamma", "delta"]),
        (["metrics.acc"], ["beta", "alpha", "gamma", "delta"]),
        (["params.model"], ["beta", "gamma", "alpha", "delta"]),
        (["attributes.start_time"], ["alpha", "beta", "gamma", "delta"]),
        (["attributes.end_time DESC"], ["alpha", "delta", "gamma", "beta"]),
    ],
)
def test_run_search_orders_like_mlflow(runs, order_by, expected):
    experiment, _ = runs
    page = selectors.search_runs(
        runs=Run.objects.all(),
        experiment_ids=[experiment.pk],
        order_by=order_by,
        view_type=ViewType.ALL,
    )
    assert names(page) == expected


def test_run_search_pages_and_costs_the_same_for_any_page_size(runs, django_assert_num_queries):
    experiment, _ = runs
    seen = []
    for offset in (0, 2):
        with django_assert_num_queries(5):
            page = selectors.search_runs(
                runs=Run.objects.all(),
                experiment_ids=[experiment.pk],
                view_type=ViewType.ALL,
                offset=offset,
                limit=2,
            )
            for run in page.items:
                run.experiment, list(run.params.all()), list(run.metric_series.all())
        seen += names(page)
        assert page.more == (offset == 0)
    assert seen == ["delta", "gamma", "beta", "alpha"]


def test_experiment_search(db):
    owner = UserFactory()
    project = make_project(owner=owner, name="Experiments")
    for name in ("churn-a", "churn-b", "fraud"):
        experiment = services.experiment_create(
            project=project, name=name, by=owner, tags=[("owner", name[0])]
        )
    services.experiment_delete(experiment=experiment, by=owner)
    default = services.ensure_default_experiment(project=project)
    every = Experiment.objects.filter(project=project)

    def search(**kwargs):
        return [e.name for e in selectors.search_experiments(experiments=every, **kwargs).items]

    assert search(filter_string="name LIKE 'churn%'", order_by=["name DESC"]) == [
        "churn-b",
        "churn-a",
    ]
    assert search(filter_string="tags.owner = 'f'", view_type=ViewType.ALL) == ["fraud"]
    assert search(filter_string="attribute.experiment_id = '0'", zero_is_default=True) == [
        default.name
    ]
    assert search(order_by=["experiment_id"]) == ["churn-a", "churn-b", "Default"]
