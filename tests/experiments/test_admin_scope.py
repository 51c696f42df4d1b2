"""The experiment-tracking and sweep admins for managers: as the manager of project A (only
a contributor on B), every list holds A's rows, B's neither open nor change, an evidence
link or a trial cap cannot name B's rows, and the autocompletes offer A's only."""

import pytest

from experiments import services
from experiments.models import (
    Dataset,
    Experiment,
    Run,
    RunEvidence,
    Sweep,
    Trial,
    TrialQuota,
)
from tests.admin_scope import (
    autocomplete,
    build_world,
    check_add_refused,
    check_scoped,
    client_for,
)
from tests.experiments.helpers import experiment_and_run
from tests.experiments.sweeps.conftest import spec

pytestmark = pytest.mark.django_db


def fill(project, *, by) -> dict:
    """An experiment with a run that logged, a dataset, a sweep with its trials, a trial
    cap and an evidence link: one row at least of every model the admin shows."""
    experiment, run = experiment_and_run(project, by=by)
    services.log_batch(run=run, by=by, metrics=[services.MetricIn("auc", 0.9, 1)])
    iris = services.dataset_create(project=project, user=by, name="iris", builtin="iris")
    services.sweep_create(project=project, user=by, **spec(iris, max_trials=2))
    services.trial_quota_set(project=project, max_concurrent=3, by=by)
    outcome = project.current_phase.outcomes.first()
    services.run_evidence_link(run=run, outcome=outcome, by=by)
    second = services.run_create(experiment=experiment, by=by)
    return {"run": run, "second": second, "outcome": outcome}


@pytest.fixture
def world(settings, tmp_path):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    world = build_world()
    world.rows_a = fill(world.a, by=world.manager)
    world.rows_b = fill(world.b, by=world.b.owner)
    return world


@pytest.mark.parametrize("model", [Experiment, Run, RunEvidence, Dataset, Sweep, Trial, TrialQuota])
def test_a_manager_lists_and_opens_only_the_rows_of_their_projects(world, model):
    check_scoped(world, model)


def test_a_run_page_shows_its_inlines_to_the_manager(world):
    run = world.rows_a["run"]
    page = client_for(world.manager).get(f"/admin/experiments/run/{run.pk}/change/")
    assert page.status_code == 200
    assert "auc" in page.content.decode()


def test_an_evidence_link_cannot_name_another_projects_run_or_outcome(world):
    a, b = world.rows_a, world.rows_b
    data = {"run": a["second"].pk, "outcome": a["outcome"].pk, "note": ""}
    check_add_refused(world, RunEvidence, data, foreign={"run": b["second"].pk})
    RunEvidence.objects.filter(run=a["second"]).delete()
    check_add_refused(world, RunEvidence, data, foreign={"outcome": b["outcome"].pk})


def test_the_autocompletes_of_an_evidence_link_offer_the_managed_projects_only(world):
    manager, root = client_for(world.manager), client_for(world.root)
    runs_a = {
        str(pk)
        for pk in Run.objects.filter(experiment__project=world.a).values_list("pk", flat=True)
    }
    assert autocomplete(manager, RunEvidence, "run") == runs_a
    assert autocomplete(root, RunEvidence, "run") == {
        str(pk) for pk in Run.objects.values_list("pk", flat=True)
    }
    outcomes = autocomplete(manager, RunEvidence, "outcome")
    assert outcomes and str(world.rows_b["outcome"].pk) not in outcomes
    assert str(world.rows_a["outcome"].pk) in outcomes
    assert autocomplete(manager, TrialQuota, "project") == {str(world.a.pk)}


def test_a_trial_cap_is_set_for_a_managed_project_only(world):
    TrialQuota.objects.filter(project=world.a).delete()
    check_add_refused(
        world,
        TrialQuota,
        {"project": world.a.pk, "max_concurrent": 2},
        foreign={"project": world.b.pk},
    )
    assert TrialQuota.objects.get(project=world.b).max_concurrent == 3
