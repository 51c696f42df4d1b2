"""The gate criterion "a registered version of this project is at the production alias and
meets the target", judged from what is deployed, and reached through the gate itself."""

import pytest

from experiments import services as tracking
from phases import gates
from phases import services as phase_services
from phases.choices import EvidenceRule, MetricDirection
from registry import services
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    owner = UserFactory()
    project = make_project(owner=owner, name="Churn", success_metric="auc", success_target=0.8)
    outcome = project.phases.get(order=4).outcomes.first()
    phase_services.outcome_update(
        outcome=outcome, by=owner, evidence_rule=EvidenceRule.PRODUCTION_VERSION_MEETS_TARGET
    )
    return project


def outcome_of(project):
    return project.phases.get(order=4).outcomes.first()


def judge(project):
    """The criterion as the gate reports it, through ``phases.gates``."""
    return gates.evidence_criterion(outcome_of(project))


def deploy(project, name: str, auc: float | None, *, alias: str = "champion"):
    owner = project.owner
    experiment = tracking.experiment_create(project=project, name=f"exp-{name}", by=owner)
    run = tracking.run_create(experiment=experiment, by=owner)
    if auc is not None:
        tracking.log_batch(run=run, by=owner, metrics=[tracking.MetricIn("auc", auc, 1, 0)])
    registered = services.registered_model_create(project=project, name=name, by=owner)
    version = services.model_version_create(
        registered_model=registered,
        by=owner,
        source=run.artifact_uri,
        storage_location=run.artifact_uri,
        run=run,
    )
    services.alias_set(version=version, alias=alias, by=owner)
    return version


def test_nothing_at_the_production_alias_is_unmet_and_says_so(project):
    deploy(project, "staged", 0.95, alias="staging")
    criterion = judge(project)
    assert not criterion.met
    assert "production alias “champion”" in criterion.message


def test_the_best_deployed_version_is_judged_against_the_target(project):
    deploy(project, "a-weak", 0.7)
    criterion = judge(project)
    assert not criterion.met
    assert criterion.evidence["gap"] == pytest.approx(0.1)
    deploy(project, "b-strong", 0.85)
    criterion = judge(project)
    assert criterion.met
    assert (criterion.evidence["model"], criterion.evidence["version"]) == ("b-strong", 1)
    assert "b-strong v1 at “champion” has auc 0.85, which meets" in criterion.message


def test_lower_is_better_projects_take_the_lowest(project):
    project.success_metric, project.success_target = "auc", 0.3
    project.success_direction = MetricDirection.MINIMIZE
    project.save()
    deploy(project, "high", 0.5)
    deploy(project, "low", 0.2)
    assert judge(project).evidence["model"] == "low"
    assert judge(project).met


def test_a_deployed_version_without_the_metric_is_unmet(project):
    deploy(project, "silent", None)
    criterion = judge(project)
    assert not criterion.met
    assert "has no value of auc" in criterion.message


def test_the_project_must_set_its_metric_first(project):
    project.success_target = None
    project.save()
    assert "set its success target" in judge(project).message
