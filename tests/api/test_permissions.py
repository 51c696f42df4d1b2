"""Who may call what under ``/api/v1/``: one declared rule per endpoint and action, checked
for every kind of caller, each cell on fresh data.

A rule names the least role the action needs and what the action answers when it is
allowed. The answer when it is not follows from the caller: 401 for the anonymous caller,
404 on object URLs (and nothing in lists) for someone who is not a member, so a private
project's existence does not leak, and 403 for a member whose role is too low. A create that
names a parent the caller cannot see gets 400 "does not exist", as for a parent that does
not exist. Staff act as managers of every project. A refused request changes no row; an
accepted write changes some. Adding an endpoint or action without a rule fails
``test_every_routed_action_has_a_rule``.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone

import api.v1.urls
from api.models import ApiToken
from api.services import token_create, token_revoke
from experiments import services as experiments
from experiments.models import Dataset, Experiment, Run, Sweep
from monitoring import services as monitoring
from monitoring.choices import MonitorKind, ResultStatus
from monitoring.models import Alert, Deployment, Monitor, Result
from phases import services
from phases.choices import ReviewStatus, Role, TaskStatus
from phases.models import (
    LifecycleTemplate,
    Membership,
    Outcome,
    Phase,
    Project,
    Task,
    Transition,
)
from phases.selectors import next_phase
from registry import services as registry
from registry.models import DeploymentEvent, ModelVersion, RegisteredModel
from tests.api.conftest import ANONYMOUS, CALLERS, OUTSIDER, STAFF, World, bearer, routed_actions
from tests.experiments.sweeps.conftest import run_all
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

AUTHENTICATED = "authenticated"  # any signed-in caller; no project role involved
SESSION = "session"  # a signed-in session only: every caller here holds a bearer token
RANK = {Role.VIEWER: 1, Role.CONTRIBUTOR: 2, Role.MANAGER: 3}


@dataclass(frozen=True)
class Rule:
    """``needs`` a role, or AUTHENTICATED; ``status`` when allowed; ``target`` the object of
    a detail URL; ``rows`` what a list shows a member; ``parent`` the body field of a create
    that names the project-owned parent; ``prepare`` puts the project in the state the
    action needs to succeed (a gate that holds, a phase to loop back to)."""

    needs: str
    status: int
    target: Callable[[World, str], Model] | None = None
    body: Callable[[World], dict] | None = None
    prepare: Callable[[World], Any] | None = None
    rows: Callable[[World, str], QuerySet] | None = None
    parent: str = ""


def complete_current_phase(world: World) -> None:
    """Do everything the gate of the current phase asks for, through the services."""
    by = world.users[Role.MANAGER]
    phase = Project.objects.get(pk=world.project.pk).current_phase
    for task in phase.tasks.filter(required=True):
        services.task_set_status(task=task, status=TaskStatus.DONE, by=by)
    for outcome in phase.outcomes.filter(required=True):
        services.outcome_submit(outcome=outcome, by=by, evidence_url="https://example.com/doc")
        services.outcome_accept(outcome=outcome, by=by)


def enter_second_phase(world: World) -> None:
    complete_current_phase(world)
    services.phase_advance(project=world.project, by=world.users[Role.MANAGER])


def reach_the_end(world: World) -> None:
    """Walk the project to its last phase and meet that phase's gate, so it can complete;
    the outcome whose evidence comes from monitoring is waived (not required), as a sponsor
    may agree when production is watched elsewhere."""
    while next_phase(project=Project.objects.get(pk=world.project.pk)) is not None:
        enter_second_phase(world)
    last = Project.objects.get(pk=world.project.pk).current_phase
    for outcome in last.outcomes.filter(evidence_rule__gt=""):
        services.outcome_update(outcome=outcome, by=world.users[Role.MANAGER], required=False)
    complete_current_phase(world)


def of_project(model: type[Model], path: str) -> Callable[[World, str], QuerySet]:
    return lambda world, caller: model.objects.filter(**{path: world.project.pk})


def project(world: World, caller: str) -> Project:
    return world.project


def phase(world: World, caller: str) -> Phase:
    return world.phase


def task(world: World, caller: str) -> Task:
    return world.task


def outcome(world: World, caller: str) -> Outcome:
    return world.outcome


def membership(world: World, caller: str) -> Membership:
    return world.extra


def task_body(world: World) -> dict:
    return {"phase": world.phase.pk, "title": "Label 500 more examples", "status": "in_progress"}


def outcome_body(world: World) -> dict:
    return {
        "phase": world.phase.pk,
        "name": world.outcome.name,
        "evidence_url": "https://example.com/design-doc",
    }


def phase_dates(world: World) -> dict:
    start = world.phase.start_date
    return {
        "start_date": start.isoformat(),
        "due_date": (start + dt.timedelta(days=90)).isoformat(),
    }


def deploy(world: World) -> Deployment:
    """The project in production, with a small reference: a number, a category, a score."""
    deployment = monitoring.deployment_start(
        project=world.project, name="churn v1", by=world.users[Role.MANAGER]
    )
    return monitoring.reference_set(
        deployment=deployment,
        columns={"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "score": [0.1, 0.5, 0.9]},
        prediction="score",
        by=None,
    )


def deploy_with_a_row(world: World) -> None:
    monitoring.batch_add(
        deployment=deploy(world),
        columns={"row_id": ["r1"], "x": [1.5], "c": ["a"], "score": [0.4]},
        by=None,
    )


def alerting(world: World) -> Alert:
    """A pending drift alert (its "for" duration not over), with the result that opened it."""
    deploy(world)
    monitor = Monitor.objects.get(project=world.project, kind=MonitorKind.DATA_DRIFT)
    monitor.for_duration = dt.timedelta(hours=1)
    monitor.save()
    now = timezone.now()
    result = Result.objects.create(
        monitor=monitor, window_start=now - dt.timedelta(days=1), window_end=now,
        status=ResultStatus.ALERT, summary="x drifted", computed_at=now,
    )  # fmt: skip
    return monitoring.alert_evaluate(monitor=monitor, result=result, now=now)


def alerting_in_production(world: World) -> None:
    for _ in range(3):
        enter_second_phase(world)
    alerting(world)


SWEEP_SPACE = {"knn": {"n_neighbors": {"type": "int", "low": 1, "high": 15}}}
# More neighbours than a fold of iris has rows: the trial fails.
FOLD_TOO_SMALL = {"type": "int", "low": 100, "high": 200}


def deployed_from_a_sweep(world: World) -> None:
    """In production with a version whose run is a sweep's best trial, serving iris rows
    with their labels: enough for an export of them."""
    from tests.monitoring.conftest import iris_in_production

    with_finished_sweep(world)
    sweep = Sweep.objects.select_related("best_trial__run").get(project=world.project)
    iris_in_production(
        deploy_run(world.project, sweep.best_trial.run, by=world.users[Role.MANAGER])
    )


def deploy_run(project: Project, run: Run, *, by) -> Deployment:
    """``run``'s model registered and moved to the production alias, as a manager does."""
    model = registry.registered_model_create(project=project, name="churn", by=by)
    version = registry.model_version_create(
        registered_model=model,
        by=by,
        source=f"runs:/{run.run_id}/model",
        storage_location=f"mlflow-artifacts:/{run.experiment_id}/{run.run_id}/artifacts/model",
        run=run,
    )
    registry.alias_set(version=version, alias=registry.production_alias(project), by=by)
    return Deployment.objects.get(project=project, ended_at__isnull=True)


def current_deployment(world: World, caller: str) -> Deployment:
    return Deployment.objects.get(project=world.project, ended_at__isnull=True)


def drift_monitor(world: World, caller: str) -> Monitor:
    return Monitor.objects.get(project=world.project, kind=MonitorKind.DATA_DRIFT)


def the_alert(world: World, caller: str) -> Alert:
    return Alert.objects.get(monitor__project=world.project)


def the_result(world: World, caller: str) -> Result:
    return Result.objects.get(monitor__project=world.project)


MONITORING: dict[tuple[str, str], Rule] = {
    ("deployment", "list"): Rule(
        Role.VIEWER, 200, prepare=deploy, rows=of_project(Deployment, "project")
    ),
    ("deployment", "retrieve"): Rule(Role.VIEWER, 200, target=current_deployment, prepare=deploy),
    ("deployment", "reference"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=current_deployment,
        prepare=deploy,
        body=lambda world: {"columns": {"x": [4.0, 5.0], "c": ["b", "b"]}},
    ),
    ("deployment", "batches"): Rule(
        Role.CONTRIBUTOR,
        201,
        target=current_deployment,
        prepare=deploy,
        body=lambda world: {"rows": [{"row_id": "r9", "x": 2.5, "c": "a", "score": 0.7}]},
    ),
    ("deployment", "labels"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=current_deployment,
        prepare=deploy_with_a_row,
        body=lambda world: {"rows": [{"row_id": "r1", "label": 1}]},
    ),
    ("monitor", "list"): Rule(
        Role.VIEWER, 200, prepare=deploy, rows=of_project(Monitor, "project")
    ),
    ("monitor", "retrieve"): Rule(Role.VIEWER, 200, target=drift_monitor, prepare=deploy),
    ("monitor", "partial_update"): Rule(
        Role.MANAGER,
        200,
        target=drift_monitor,
        prepare=deploy,
        body=lambda world: {"config": {"drift_share": 0.3}, "enabled": False},
    ),
    ("result", "list"): Rule(
        Role.VIEWER, 200, prepare=alerting, rows=of_project(Result, "monitor__project")
    ),
    ("result", "retrieve"): Rule(Role.VIEWER, 200, target=the_result, prepare=alerting),
    ("alert", "list"): Rule(
        Role.VIEWER, 200, prepare=alerting, rows=of_project(Alert, "monitor__project")
    ),
    ("alert", "retrieve"): Rule(Role.VIEWER, 200, target=the_alert, prepare=alerting),
    ("alert", "acknowledge"): Rule(Role.CONTRIBUTOR, 200, target=the_alert, prepare=alerting),
    ("alert", "resolve"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=the_alert,
        prepare=alerting,
        body=lambda world: {"note": "a new upstream feed"},
    ),
    ("alert", "silence"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=the_alert,
        prepare=alerting,
        body=lambda world: {"until": (timezone.now() + dt.timedelta(hours=2)).isoformat()},
    ),
    ("alert", "follow_up"): Rule(Role.CONTRIBUTOR, 201, target=the_alert, prepare=alerting),
    ("alert", "move_back"): Rule(
        Role.MANAGER, 201, target=the_alert, prepare=alerting_in_production
    ),
}


def register(world: World) -> ModelVersion:
    """A registered model of the project with one version, from the project's run."""
    by, run = world.users[Role.MANAGER], world.run
    model = registry.registered_model_create(project=world.project, name="churn", by=by)
    return registry.model_version_create(
        registered_model=model,
        by=by,
        source=f"runs:/{run.run_id}/model",
        storage_location=f"{run.artifact_uri}/model",
        run=run,
    )


def register_with_challenger(world: World) -> None:
    registry.alias_set(version=register(world), alias="challenger", by=None)


def register_and_promote(world: World) -> None:
    version = register(world)
    registry.alias_set(version=version, alias=registry.production_alias(world.project), by=None)


def the_model(world: World, caller: str) -> RegisteredModel:
    return RegisteredModel.objects.get(project=world.project)


def the_version(world: World, caller: str) -> ModelVersion:
    return ModelVersion.objects.get(registered_model__project=world.project)


def the_event(world: World, caller: str) -> DeploymentEvent:
    return DeploymentEvent.objects.get(project=world.project)


REGISTRY: dict[tuple[str, str], Rule] = {
    ("registered-model", "list"): Rule(
        Role.VIEWER, 200, prepare=register, rows=of_project(RegisteredModel, "project")
    ),
    ("registered-model", "retrieve"): Rule(Role.VIEWER, 200, target=the_model, prepare=register),
    ("registered-model", "create"): Rule(
        Role.CONTRIBUTOR,
        201,
        body=lambda world: {"project": world.project.slug, "name": "churn-gbm"},
        parent="project",
    ),
    ("registered-model", "partial_update"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=the_model,
        prepare=register,
        body=lambda world: {"description": "Scores renewals weekly."},
    ),
    ("registered-model", "destroy"): Rule(Role.MANAGER, 204, target=the_model, prepare=register),
    ("registered-model", "remove_alias"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=the_model,
        prepare=register_with_challenger,
        body=lambda world: {"alias": "challenger"},
    ),
    ("model-version", "list"): Rule(
        Role.VIEWER,
        200,
        prepare=register,
        rows=of_project(ModelVersion, "registered_model__project"),
    ),
    ("model-version", "retrieve"): Rule(Role.VIEWER, 200, target=the_version, prepare=register),
    ("model-version", "create"): Rule(
        Role.CONTRIBUTOR,
        201,
        prepare=register,
        body=lambda world: {
            "registered_model": the_model(world, "").pk,
            "run": world.run.run_id,
        },
        parent="registered_model",
    ),
    ("model-version", "partial_update"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=the_version,
        prepare=register,
        body=lambda world: {"description": "Trained on the spring cohort."},
    ),
    ("model-version", "destroy"): Rule(Role.CONTRIBUTOR, 204, target=the_version, prepare=register),
    ("model-version", "alias"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=the_version,
        prepare=register,
        body=lambda world: {"alias": "challenger"},
    ),
    ("model-version", "promote"): Rule(Role.MANAGER, 200, target=the_version, prepare=register),
    ("model-version", "card"): Rule(Role.VIEWER, 200, target=the_version, prepare=register),
    ("model-version", "card_markdown"): Rule(
        Role.VIEWER, 200, target=the_version, prepare=register
    ),
    ("deployment-event", "list"): Rule(
        Role.VIEWER,
        200,
        prepare=register_and_promote,
        rows=of_project(DeploymentEvent, "project"),
    ),
    ("deployment-event", "retrieve"): Rule(
        Role.VIEWER, 200, target=the_event, prepare=register_and_promote
    ),
}


def with_dataset(world: World):
    return experiments.dataset_create(
        project=world.project, user=world.users[Role.MANAGER], name="iris", builtin="iris"
    )


def sweep_body(world: World) -> dict:
    return {
        "project": world.project.slug,
        "name": "knn on iris",
        "dataset": Dataset.objects.get(project=world.project).pk,
        "families": ["knn"],
        "space": SWEEP_SPACE,
        "strategy": "random",
        "max_trials": 2,
        "folds": 2,
    }


def with_sweep(world: World) -> Sweep:
    with_dataset(world)
    fields = sweep_body(world)
    fields.pop("project")
    return experiments.sweep_create(
        project=world.project, user=world.users[Role.CONTRIBUTOR], **fields
    )


def with_cancelled_sweep(world: World) -> None:
    experiments.sweep_cancel(sweep=with_sweep(world), user=world.users[Role.CONTRIBUTOR])


def with_failed_trial(world: World) -> None:
    with_dataset(world)
    fields = {**sweep_body(world), "space": {"knn": {"n_neighbors": FOLD_TOO_SMALL}}}
    fields.pop("project")
    sweep = experiments.sweep_create(
        project=world.project, user=world.users[Role.CONTRIBUTOR], **fields
    )
    run_all(sweep)


def with_finished_sweep(world: World) -> None:
    run_all(with_sweep(world))


def the_sweep(world: World, caller: str) -> Sweep:
    return Sweep.objects.get(project=world.project)


def the_dataset(world: World, caller: str) -> Dataset:
    return Dataset.objects.get(project=world.project)


SWEEPS: dict[tuple[str, str], Rule] = {
    ("dataset", "list"): Rule(
        Role.VIEWER, 200, prepare=with_dataset, rows=of_project(Dataset, "project")
    ),
    ("dataset", "retrieve"): Rule(Role.VIEWER, 200, target=the_dataset, prepare=with_dataset),
    ("dataset", "create"): Rule(
        Role.CONTRIBUTOR,
        201,
        body=lambda world: {"project": world.project.slug, "name": "wine", "builtin": "wine"},
        parent="project",
    ),
    ("sweep", "list"): Rule(
        Role.VIEWER, 200, prepare=with_sweep, rows=of_project(Sweep, "project")
    ),
    ("sweep", "retrieve"): Rule(Role.VIEWER, 200, target=the_sweep, prepare=with_sweep),
    ("sweep", "create"): Rule(
        Role.CONTRIBUTOR, 202, prepare=with_dataset, body=sweep_body, parent="project"
    ),
    ("sweep", "progress"): Rule(Role.VIEWER, 200, target=the_sweep, prepare=with_sweep),
    ("sweep", "trials"): Rule(Role.VIEWER, 200, target=the_sweep, prepare=with_sweep),
    ("sweep", "cancel"): Rule(Role.CONTRIBUTOR, 202, target=the_sweep, prepare=with_sweep),
    ("sweep", "resume"): Rule(
        Role.CONTRIBUTOR, 202, target=the_sweep, prepare=with_cancelled_sweep
    ),
    ("sweep", "retry_failed"): Rule(
        Role.CONTRIBUTOR, 202, target=the_sweep, prepare=with_failed_trial
    ),
    ("sweep", "best_as_evidence"): Rule(
        Role.MANAGER, 200, target=the_sweep, prepare=with_finished_sweep
    ),
    ("deployment", "retrain"): Rule(
        Role.CONTRIBUTOR, 202, target=current_deployment, prepare=deployed_from_a_sweep
    ),
    ("deployment", "export"): Rule(
        Role.CONTRIBUTOR, 201, target=current_deployment, prepare=deployed_from_a_sweep
    ),
}
MATRIX: dict[tuple[str, str], Rule] = {
    ("api-root", "root"): Rule(AUTHENTICATED, 200),
    ("lifecycle", "list"): Rule(
        AUTHENTICATED, 200, rows=lambda world, caller: LifecycleTemplate.objects.all()
    ),
    ("lifecycle", "retrieve"): Rule(
        AUTHENTICATED, 200, target=lambda world, caller: world.project.lifecycle
    ),
    ("project", "list"): Rule(Role.VIEWER, 200, rows=of_project(Project, "pk")),
    ("project", "create"): Rule(
        AUTHENTICATED, 201, body=lambda world: {"name": "Fraud", "lifecycle": "mlops-lifecycle"}
    ),
    ("project", "retrieve"): Rule(Role.VIEWER, 200, target=project),
    ("project", "update"): Rule(
        Role.MANAGER,
        200,
        target=project,
        body=lambda world: {"name": "Churn model v2", "lifecycle": world.project.lifecycle.slug},
    ),
    ("project", "partial_update"): Rule(
        Role.MANAGER, 200, target=project, body=lambda world: {"success_target": 0.9}
    ),
    ("project", "destroy"): Rule(Role.MANAGER, 204, target=project),
    ("project", "advance"): Rule(
        Role.MANAGER,
        201,
        target=project,
        prepare=complete_current_phase,
        body=lambda world: {"reason": "design approved"},
    ),
    ("project", "move_back"): Rule(
        Role.MANAGER,
        201,
        target=project,
        prepare=enter_second_phase,
        body=lambda world: {"to_phase": world.phase.pk, "reason": "the metric was wrong"},
    ),
    ("project", "complete"): Rule(
        Role.MANAGER,
        201,
        target=project,
        prepare=reach_the_end,
        body=lambda world: {"reason": "in production and monitored"},
    ),
    ("project", "gate"): Rule(Role.VIEWER, 200, target=project),
    ("membership", "list"): Rule(Role.VIEWER, 200, rows=of_project(Membership, "project")),
    ("membership", "create"): Rule(
        Role.MANAGER,
        201,
        body=lambda world: {
            "project": world.project.slug,
            "user": world.newcomer.username,
            "role": Role.CONTRIBUTOR,
        },
        parent="project",
    ),
    ("membership", "retrieve"): Rule(Role.VIEWER, 200, target=membership),
    ("membership", "update"): Rule(
        Role.MANAGER,
        200,
        target=membership,
        body=lambda world: {
            "project": world.project.slug,
            "user": world.extra.user.username,
            "role": Role.CONTRIBUTOR,
        },
    ),
    ("membership", "partial_update"): Rule(
        Role.MANAGER, 200, target=membership, body=lambda world: {"role": Role.CONTRIBUTOR}
    ),
    ("membership", "destroy"): Rule(Role.MANAGER, 204, target=membership),
    ("phase", "list"): Rule(Role.VIEWER, 200, rows=of_project(Phase, "project")),
    ("phase", "retrieve"): Rule(Role.VIEWER, 200, target=phase),
    ("phase", "update"): Rule(Role.MANAGER, 200, target=phase, body=phase_dates),
    ("phase", "partial_update"): Rule(
        Role.MANAGER, 200, target=phase, body=lambda world: {"due_date": "2099-01-31"}
    ),
    ("phase", "gate"): Rule(Role.VIEWER, 200, target=phase),
    ("task", "list"): Rule(Role.VIEWER, 200, rows=of_project(Task, "phase__project")),
    ("task", "create"): Rule(Role.CONTRIBUTOR, 201, body=task_body, parent="phase"),
    ("task", "retrieve"): Rule(Role.VIEWER, 200, target=task),
    ("task", "update"): Rule(Role.CONTRIBUTOR, 200, target=task, body=task_body),
    ("task", "partial_update"): Rule(
        Role.CONTRIBUTOR, 200, target=task, body=lambda world: {"status": "done"}
    ),
    ("task", "destroy"): Rule(Role.MANAGER, 204, target=task),
    ("outcome", "list"): Rule(Role.VIEWER, 200, rows=of_project(Outcome, "phase__project")),
    ("outcome", "create"): Rule(
        Role.MANAGER,
        201,
        body=lambda world: {"phase": world.phase.pk, "name": "Labelling guide", "kind": "document"},
        parent="phase",
    ),
    ("outcome", "retrieve"): Rule(Role.VIEWER, 200, target=outcome),
    ("outcome", "update"): Rule(Role.CONTRIBUTOR, 200, target=outcome, body=outcome_body),
    ("outcome", "partial_update"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=outcome,
        body=lambda world: {"evidence_url": "https://example.com/eval-report"},
    ),
    ("outcome", "destroy"): Rule(Role.MANAGER, 204, target=outcome),
    ("outcome", "submit"): Rule(
        Role.CONTRIBUTOR,
        200,
        target=outcome,
        body=lambda world: {"evidence_url": "https://example.com/design-doc"},
    ),
    ("outcome", "accept"): Rule(
        Role.MANAGER, 200, target=outcome, body=lambda world: {"note": "clear and complete"}
    ),
    ("outcome", "reject"): Rule(
        Role.MANAGER, 200, target=outcome, body=lambda world: {"note": "no baseline yet"}
    ),
    ("transition", "list"): Rule(Role.VIEWER, 200, rows=of_project(Transition, "project")),
    ("transition", "retrieve"): Rule(Role.VIEWER, 200, target=lambda world, caller: world.start),
    ("experiment", "list"): Rule(Role.VIEWER, 200, rows=of_project(Experiment, "project")),
    ("experiment", "retrieve"): Rule(
        Role.VIEWER, 200, target=lambda world, caller: world.experiment
    ),
    ("run", "list"): Rule(Role.VIEWER, 200, rows=of_project(Run, "experiment__project")),
    ("run", "retrieve"): Rule(Role.VIEWER, 200, target=lambda world, caller: world.run),
    ("run", "log_metrics"): Rule(
        Role.CONTRIBUTOR,
        201,
        target=lambda world, caller: world.run,
        body=lambda world: {"key": "val_loss", "step": [1], "timestamp": [1], "value": [0.3]},
    ),
    ("run", "history"): Rule(
        Role.VIEWER,
        200,
        target=lambda world, caller: world.run,
        body=lambda world: {"key": "val_loss"},
    ),
    ("metric", "compare"): Rule(
        Role.VIEWER,
        200,
        body=lambda world: {"key": "val_loss", "runs": world.run.run_id},
        parent="runs",
    ),
    # Tokens are managed from a session; tests/api/test_tokens.py has the session's side.
    ("token", "list"): Rule(SESSION, 200),
    ("token", "create"): Rule(SESSION, 201, body=lambda world: {"name": "nightly CI"}),
    ("token", "retrieve"): Rule(SESSION, 200, target=World.spare),
    ("token", "destroy"): Rule(SESSION, 204, target=World.spare),
    **MONITORING,
    **REGISTRY,
    **SWEEPS,
}


ENDPOINTS = routed_actions()


def test_every_routed_action_has_a_rule():
    assert set(ENDPOINTS) == set(MATRIX)


def test_every_v1_url_is_served_by_the_router():
    names = {pattern.name for pattern in api.v1.urls.urlpatterns}
    assert names - {"no-endpoint"} == {endpoint.url_name for endpoint in ENDPOINTS.values()}


@pytest.mark.parametrize("caller", [ANONYMOUS, Role.MANAGER])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_a_path_that_names_no_endpoint_answers_404_in_the_error_shape(world, caller, method):
    response = getattr(world.client(caller), method)("/api/v1/projects/a.b/gate/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def verdict(rule: Rule, caller: str) -> str:
    if caller == ANONYMOUS:
        return "unauthenticated"
    if rule.needs == SESSION:
        return "forbidden"
    if rule.needs == AUTHENTICATED or caller == STAFF:
        return "allowed"
    if caller == OUTSIDER:
        return "hidden"
    return "allowed" if RANK[caller] >= RANK[rule.needs] else "forbidden"


def snapshot() -> dict[str, list[dict]]:
    """Every row an API call could change (a token's last use aside)."""
    models = [*apps.get_app_config("phases").get_models()]
    models += apps.get_app_config("experiments").get_models()
    models += apps.get_app_config("registry").get_models()
    models += apps.get_app_config("monitoring").get_models()
    rows = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in models
        if not model._meta.model_name.endswith("template") and model.__name__ != "TransitionRule"
    }
    rows["ApiToken"] = list(
        ApiToken.objects.order_by("pk").values("pk", "name", "expires_at", "revoked_at")
    )
    return rows


def call(world: World, caller: str, key: tuple[str, str]):
    rule, endpoint = MATRIX[key], ENDPOINTS[key]
    kwargs = {}
    if endpoint.lookup:
        target = rule.target(world, caller)
        kwargs[endpoint.lookup] = getattr(target, endpoint.field)
    url = reverse(f"v1:{endpoint.url_name}", kwargs=kwargs)
    body = rule.body(world) if rule.body else None
    return getattr(world.client(caller), endpoint.method)(url, body, format="json")


def expected_count(rule: Rule, world: World, caller: str) -> int:
    rows = rule.rows(world, caller)
    if rule.needs == AUTHENTICATED:
        return rows.count()
    if caller == STAFF:
        return rows.model.objects.count()
    return 0 if caller == OUTSIDER else rows.count()


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("key", sorted(MATRIX), ids="-".join)
def test_permission_matrix(world, key, caller):
    rule, endpoint = MATRIX[key], ENDPOINTS[key]
    if rule.prepare:
        rule.prepare(world)
    before = snapshot()

    response = call(world, caller, key)

    expected = verdict(rule, caller)
    is_json = response.get("Content-Type", "").startswith("application/json")
    body = response.json() if response.content and is_json else None
    if expected == "unauthenticated":
        assert response.status_code == 401, body
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert body["code"] == "not_authenticated"
    elif expected == "forbidden":
        assert response.status_code == 403, body
        assert body["code"] == "permission_denied"
    elif expected == "hidden" and key[1] == "list":
        assert response.status_code == 200, body
        assert body["count"] == 0
        assert body["results"] == []
    elif expected == "hidden" and endpoint.lookup:
        assert response.status_code == 404, body
        assert body["code"] == "not_found"
    elif expected == "hidden":
        # A create naming a parent the caller cannot see: "does not exist", as for a
        # parent that does not exist at all.
        assert response.status_code == 400, body
        assert list(body["fields"]) == [rule.parent]
    else:
        assert response.status_code == rule.status, body
        if key[1] == "list":
            assert body["count"] == expected_count(rule, world, caller)
            assert len(body["results"]) == body["count"]

    after = snapshot()
    if expected != "allowed":
        assert after == before, "a refused request changed data"
    elif endpoint.method != "get":
        assert after != before, "an accepted write changed nothing"


# --- Fields that need more than the action's role ---------------------------------------


@pytest.mark.parametrize(("caller", "status"), [(Role.CONTRIBUTOR, 403), (Role.MANAGER, 201)])
def test_only_a_manager_creates_a_task_with_the_required_flag(world, caller, status):
    body = {"phase": world.phase.pk, "title": "Sign-off", "required": True}
    response = world.client(caller).post(reverse("v1:task-list"), body, format="json")
    assert response.status_code == status, response.json()


@pytest.mark.parametrize(("caller", "status"), [(Role.CONTRIBUTOR, 403), (Role.MANAGER, 200)])
def test_only_a_manager_changes_the_required_flag_of_a_task(world, caller, status):
    task_ = world.task
    url = reverse("v1:task-detail", kwargs={"pk": task_.pk})
    response = world.client(caller).patch(url, {"required": False}, format="json")
    assert response.status_code == status, response.json()
    task_.refresh_from_db()
    assert task_.required is (status != 200)


CHANGED = {
    "name": "Something else",
    "kind": "model",
    "required": False,
    "order": 9,
    "evidence_rule": "best_run_meets_target",
}


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_a_contributor_edits_an_outcomes_evidence_but_not_the_rest(world, field):
    url = reverse("v1:outcome-detail", kwargs={"pk": world.outcome.pk})
    body = {field: CHANGED[field]}

    refused = world.client(Role.CONTRIBUTOR).patch(url, body, format="json")
    assert refused.status_code == 403, refused.json()
    accepted = world.client(Role.MANAGER).patch(url, body, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()[field] == CHANGED[field]


def test_a_contributor_may_send_the_fields_they_cannot_change_unchanged(world):
    """A PUT replaces the whole outcome, so it carries the name; sending it as it is is not
    changing it."""
    outcome_ = world.outcome
    url = reverse("v1:outcome-detail", kwargs={"pk": outcome_.pk})
    body = {"name": outcome_.name, "kind": outcome_.kind, "evidence_url": "https://e.org/x"}
    response = world.client(Role.CONTRIBUTOR).put(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["evidence_url"] == "https://e.org/x"


def test_a_manager_cannot_accept_an_outcome_by_editing_it(world):
    url = reverse("v1:outcome-detail", kwargs={"pk": world.outcome.pk})
    response = world.client(Role.MANAGER).patch(url, {"review_status": "accepted"}, format="json")
    assert response.status_code == 200
    assert response.json()["review_status"] == ReviewStatus.PENDING


# --- Hiding what a caller may not see ---------------------------------------------------


def test_a_hidden_project_answers_exactly_like_a_missing_one(world):
    client = world.client(OUTSIDER)
    hidden = client.get(reverse("v1:project-detail", kwargs={"slug": world.project.slug}))
    missing = client.get(reverse("v1:project-detail", kwargs={"slug": "no-such-project"}))
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())

    body = {"phase": world.phase.pk, "title": "Probe"}
    hidden = client.post(reverse("v1:task-list"), body, format="json")
    missing_pk = Phase.objects.order_by("-pk").first().pk + 1000
    missing = client.post(reverse("v1:task-list"), {**body, "phase": missing_pk}, format="json")
    assert hidden.json()["message"] == missing.json()["message"].replace(
        str(missing_pk), str(world.phase.pk)
    )

    for phase_pk in (world.phase.pk, missing_pk):
        listed = client.get(reverse("v1:task-list"), {"phase": phase_pk})
        assert (listed.status_code, listed.json()["count"]) == (200, 0)


def test_members_see_their_projects_rows_and_nothing_of_others(world):
    client = world.client(Role.VIEWER)
    tasks = client.get(reverse("v1:task-list"), {"page_size": 500}).json()
    assert tasks["count"] == Task.objects.filter(phase__project=world.project).count()
    assert {row["project"] for row in tasks["results"]} == {world.project.slug}
    other = client.get(reverse("v1:task-list"), {"project": world.other.slug}).json()
    assert other["count"] == 0
    assert (
        client.get(reverse("v1:project-detail", kwargs={"slug": world.other.slug})).status_code
        == 404
    )


# --- Tokens -----------------------------------------------------------------------------


@pytest.fixture
def bound(world):
    """The contributor's token for ``project`` only, while the contributor also manages a
    second project of their own."""
    contributor = world.users[Role.CONTRIBUTOR]
    own = make_project(owner=contributor, name="Side project")
    _, secret = token_create(user=contributor, name="ci", project=world.project)
    return bearer(secret), own


def test_a_project_bound_token_reaches_that_project_only(world, bound):
    client, own = bound
    projects = client.get(reverse("v1:project-list")).json()
    assert projects["count"] == 1
    assert [row["slug"] for row in projects["results"]] == [world.project.slug]
    assert client.get(reverse("v1:project-detail", kwargs={"slug": own.slug})).status_code == 404
    tasks = client.get(reverse("v1:task-list"), {"page_size": 500}).json()
    assert {row["project"] for row in tasks["results"]} == {world.project.slug}

    own_phase = own.phases.order_by("order").first()
    response = client.post(
        reverse("v1:task-list"), {"phase": own_phase.pk, "title": "Sneak in"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["phase"]


def test_a_project_bound_token_cannot_create_projects(world, bound):
    client, _ = bound
    response = client.post(
        reverse("v1:project-list"),
        {"name": "Escape", "lifecycle": "mlops-lifecycle"},
        format="json",
    )
    assert response.status_code == 403
    assert not Project.objects.filter(name="Escape").exists()


def test_a_token_cannot_be_bound_to_a_project_the_caller_cannot_see(world):
    client = bearer()
    client.force_login(world.users[OUTSIDER])
    response = client.post(
        reverse("v1:token-list"), {"name": "ci", "project": world.project.slug}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["project"]


def test_a_revoked_token_gets_401(world):
    token = ApiToken.objects.get(user=world.users[Role.MANAGER], name="main")
    token_revoke(token=token)
    response = world.client(Role.MANAGER).get(reverse("v1:project-list"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_token_revoked_through_the_api_stops_working(world):
    session = bearer()
    session.force_login(world.users[Role.MANAGER])
    token = ApiToken.objects.get(user=world.users[Role.MANAGER], name="main")
    assert session.delete(reverse("v1:token-detail", kwargs={"pk": token.pk})).status_code == 204
    assert world.client(Role.MANAGER).get(reverse("v1:project-list")).status_code == 401


def test_an_expired_token_gets_401(world):
    token, secret = token_create(
        user=world.users[Role.MANAGER],
        name="short-lived",
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    assert bearer(secret).get(reverse("v1:project-list")).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = bearer(secret).get(reverse("v1:project-list"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_deactivated_users_token_gets_401(world):
    viewer = world.users[Role.VIEWER]
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])
    assert world.client(Role.VIEWER).get(reverse("v1:project-list")).status_code == 401


def test_removing_a_member_takes_their_access_away(world):
    viewer = world.users[Role.VIEWER]
    url = reverse("v1:project-detail", kwargs={"slug": world.project.slug})
    assert world.client(Role.VIEWER).get(url).status_code == 200
    membership_ = world.project.memberships.get(user=viewer)
    manager = world.client(Role.MANAGER)
    assert (
        manager.delete(reverse("v1:membership-detail", kwargs={"pk": membership_.pk})).status_code
        == 204
    )
    assert world.client(Role.VIEWER).get(url).status_code == 404


def test_new_users_see_no_projects_until_added(db, fresh_throttles, fast_passwords):
    user = UserFactory()
    _, secret = token_create(user=user, name="main")
    make_project(name="Private")
    body = bearer(secret).get(reverse("v1:project-list")).json()
    assert (body["count"], body["results"]) == (0, [])
