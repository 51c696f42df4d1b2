"""Every list of ``/api/v1/`` costs the same number of queries for 2 rows and for 12.

The count is measured on the small case, not written down, so the test pins "no N+1"
without breaking each time a list legitimately gains a join.
"""

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.services import token_create
from api.v1.urls import router
from experiments import services as experiments
from monitoring import services as monitoring
from phases import services
from phases.choices import Role, TaskStatus
from phases.models import (
    LifecycleTemplate,
    OutcomeTemplate,
    PhaseTemplate,
    TaskTemplate,
    TransitionRule,
)
from registry import services as registry
from tests.api.conftest import bearer
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

LISTS = sorted(
    basename
    for _prefix, viewset, basename in router.registry
    if any(
        "list" in router.get_method_map(viewset, route.mapping).values()
        for route in router.get_routes(viewset)
    )
)
_numbers = itertools.count(1)


def add_lifecycle() -> None:
    """A two-phase lifecycle with a task, an outcome and a loop back: every prefetched
    relation of the lifecycle list has rows."""
    n = next(_numbers)
    lifecycle = LifecycleTemplate.objects.create(name=f"Custom {n}", slug=f"custom-{n}")
    phases = [
        PhaseTemplate.objects.create(lifecycle=lifecycle, order=order, name=name, goal=name)
        for order, name in enumerate(["Build", "Run"], start=1)
    ]
    for phase in phases:
        TaskTemplate.objects.create(phase=phase, title=f"Work on {phase.name}")
        OutcomeTemplate.objects.create(phase=phase, name=f"Result of {phase.name}")
    TransitionRule.objects.create(source=phases[0], target=phases[1])
    TransitionRule.objects.create(source=phases[1], target=phases[0])


def add_project(manager) -> None:
    """A project of ``manager`` with a viewer, an assigned task, reviewed outcomes, a
    forward transition and a run with metrics: every related row the lists serialize is
    there."""
    project = make_project(owner=manager)
    viewer = UserFactory()
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    phase = project.current_phase
    for task in phase.tasks.all():
        services.task_update(task=task, by=manager, status=TaskStatus.DONE, assignee=viewer)
    for outcome in phase.outcomes.all():
        services.outcome_submit(outcome=outcome, by=viewer, evidence_url="https://example.com/r")
        services.outcome_accept(outcome=outcome, by=manager)
    services.phase_advance(project=project, by=manager)
    experiment = experiments.experiment_create(project=project, name="baseline", by=manager)
    run = experiments.run_create(experiment=experiment, by=manager)
    metrics = [experiments.MetricIn(key, 0.5, experiments.now_ms()) for key in ("loss", "auc")]
    experiments.log_batch(run=run, by=manager, metrics=metrics, params=[("lr", "0.1")])
    # Two versions registered, one at the production alias with a tag, one with another.
    model = registry.registered_model_create(
        project=project, name="churn", by=manager, tags=[("team", "retention")]
    )
    for _ in range(2):
        version = registry.model_version_create(
            registered_model=model,
            by=manager,
            source=f"runs:/{run.run_id}/model",
            storage_location=f"{run.artifact_uri}/model",
            run=run,
            tags=[("validated", "yes")],
        )
        registry.alias_set(version=version, alias="challenger", by=manager)
    registry.alias_set(version=version, alias=registry.production_alias(project), by=manager)
    # A dataset and a sweep with its queued trials.
    dataset = experiments.dataset_create(project=project, user=manager, name="iris", builtin="iris")
    experiments.sweep_create(
        project=project, user=manager, name="knn", dataset=dataset, families=["knn"],
        strategy="random", max_trials=2, folds=2,
    )  # fmt: skip
    # In production, with a reference and a result of every monitor, and an open alert.
    deployment = monitoring.deployment_start(project=project, name="v1", by=manager)
    monitoring.reference_set(
        deployment=deployment,
        columns={"x": [1.0, 2.0], "c": ["a", "b"], "score": [0.2, 0.8]},
        prediction="score",
        by=manager,
    )
    for monitor in project.monitors.all():
        monitoring.monitor_run(monitor_id=monitor.pk)
    stale = project.monitors.get(kind="freshness")  # two days without a batch: it fires
    monitoring.monitor_run(monitor_id=stale.pk, now=timezone.now() + dt.timedelta(days=2))


def add_rows(manager, n: int) -> None:
    for _ in range(n):
        add_lifecycle()
        add_project(manager)
        token_create(user=manager, name=f"token {next(_numbers)}")


@pytest.mark.parametrize("basename", LISTS)
def test_list_queries_do_not_grow_with_rows(
    basename, db, fresh_throttles, fast_passwords, django_assert_num_queries
):
    manager = UserFactory()
    _, secret = token_create(user=manager, name="main")
    client = bearer(secret)
    if basename == "token":  # tokens are listed from a signed-in session only
        client = bearer()
        client.force_login(manager)
    url = reverse(f"v1:{basename}-list")
    all_rows = {"page_size": 500}
    add_rows(manager, 2)
    client.get(url)  # the token's first use is recorded once; later requests only read

    with CaptureQueriesContext(connection) as small:
        few = client.get(url, all_rows).json()
    add_rows(manager, 10)
    with django_assert_num_queries(len(small)):
        many = client.get(url, all_rows).json()

    assert many["count"] > few["count"] >= 2
    assert len(many["results"]) == many["count"]
