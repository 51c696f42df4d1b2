"""The evidence rule "best run meets target", judged from the stored runs through the gate
of ``phases``: met, short by a gap, nothing logged, nothing to judge against, either
direction, values that cannot count, runs that no longer count."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localtime

from experiments import ranking, services
from experiments.evidence import best_run_meets_target
from experiments.services import MetricIn
from phases import services as phase_services
from phases.choices import EvidenceRule, MetricDirection, TaskStatus
from phases.gates import Criterion, evidence_criterion
from phases.selectors import phase_gate
from phases.services import GateNotMet
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

T0 = 1_700_000_000_000


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def project(owner):
    return make_project(
        owner=owner, name="Churn model", success_metric="val_auc", success_target=0.85
    )


@pytest.fixture
def outcome(project, owner):
    return phase_services.outcome_create(
        phase=project.current_phase,
        by=owner,
        name="Model good enough",
        evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET,
    )


@pytest.fixture
def experiment(project, owner):
    return services.experiment_create(project=project, name="sweep", by=owner)


def run_with(experiment, owner, name: str, *values: float, key: str = "val_auc"):
    """A run whose ``key`` went through ``values``; the last one is its latest."""
    run = services.run_create(experiment=experiment, by=owner, name=name)
    metrics = [MetricIn(key, value, T0 + step, step) for step, value in enumerate(values)]
    services.log_batch(run=run, by=owner, metrics=metrics)
    return run


def judge(outcome) -> Criterion:
    return best_run_meets_target(outcome)


def set_project(project, owner, **fields):
    phase_services.project_update(project=project, by=owner, **fields)


def test_the_rule_is_registered_with_the_gates(outcome):
    assert evidence_criterion(outcome) == judge(outcome)


def test_met_when_the_best_run_reaches_the_target(outcome, experiment, owner):
    run_with(experiment, owner, "small", 0.80)
    best = run_with(experiment, owner, "lr-0.01", 0.70, 0.86)

    got = judge(outcome)

    assert got.met is True
    assert got.kind == "evidence" and got.subject == "Model good enough"
    assert got.message == (
        f"Best val_auc 0.86 (run “lr-0.01”, {best.run_id[:8]}…) meets the target 0.85 "
        "(higher is better)."
    )
    assert got.evidence == {
        "run_id": best.run_id,
        "run_name": "lr-0.01",
        "metric": "val_auc",
        "value": 0.86,
        "target": 0.85,
        "direction": "maximize",
        "gap": 0.0,
    }


def test_exactly_the_target_is_enough(outcome, experiment, owner):
    run_with(experiment, owner, "exact", 0.85)

    assert judge(outcome).met is True


def test_unmet_names_the_best_run_and_the_gap(outcome, experiment, owner):
    run_with(experiment, owner, "worse", 0.75)
    best = run_with(experiment, owner, "lr-0.01", 0.9, 0.82)  # its latest value counts

    got = judge(outcome)

    assert got.met is False
    assert got.message == (
        f"Best val_auc 0.82 (run “lr-0.01”, {best.run_id[:8]}…) is 0.03 short of the target "
        "0.85 (higher is better)."
    )
    assert got.evidence["run_id"] == best.run_id
    assert got.evidence["gap"] == 0.03


def test_minimize_takes_the_lowest_value_and_its_gap(project, outcome, experiment, owner):
    set_project(
        project,
        owner,
        success_metric="val_loss",
        success_target=0.3,
        success_direction=MetricDirection.MINIMIZE,
    )
    run_with(experiment, owner, "worse", 0.5, key="val_loss")
    best = run_with(experiment, owner, "better", 0.34, key="val_loss")

    got = judge(outcome)

    assert got.met is False
    assert got.message == (
        f"Best val_loss 0.34 (run “better”, {best.run_id[:8]}…) is 0.04 short of the target "
        "0.3 (lower is better)."
    )
    assert got.evidence["direction"] == "minimize"

    run_with(experiment, owner, "best", 0.29, key="val_loss")
    assert judge(outcome).met is True


def test_no_run_has_logged_the_metric_yet(outcome, experiment, owner):
    run_with(experiment, owner, "other metric", 0.99, key="val_f1")

    got = judge(outcome)

    assert got.met is False
    assert got.message == (
        "No run of this project has logged val_auc yet; the target 0.85 (higher is better)."
    )
    assert got.evidence["run_id"] is None and got.evidence["value"] is None


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"success_metric": ""}, "set its success metric (the metric key runs log"),
        ({"success_target": None}, "set its success target on the project"),
        (
            {"success_metric": "", "success_target": None},
            "set its success metric (the metric key runs log, for example val_auc) and its "
            "success target on the project",
        ),
    ],
)
def test_without_a_metric_or_a_target_it_says_what_to_set(project, outcome, owner, fields, words):
    set_project(project, owner, **fields)

    got = judge(outcome)

    assert got.met is False
    assert words in got.message, got.message
    assert set(got.evidence) == {
        "run_id",
        "run_name",
        "metric",
        "value",
        "target",
        "direction",
        "gap",
    }


def test_nan_and_infinite_values_do_not_count(outcome, experiment, owner):
    run_with(experiment, owner, "diverged", 0.9, math.nan)
    run_with(experiment, owner, "broken", math.inf)
    counted = run_with(experiment, owner, "honest", 0.8)

    got = judge(outcome)

    assert got.evidence["run_id"] == counted.run_id
    assert got.met is False


def test_deleted_runs_and_runs_of_deleted_experiments_do_not_count(
    project, outcome, experiment, owner
):
    deleted = run_with(experiment, owner, "deleted run", 0.99)
    services.run_delete(run=deleted, by=owner)
    gone = services.experiment_create(project=project, name="gone", by=owner)
    run_with(gone, owner, "in a deleted experiment", 0.98)
    services.experiment_delete(experiment=gone, by=owner)
    counted = run_with(experiment, owner, "active", 0.7)

    assert judge(outcome).evidence["run_id"] == counted.run_id


def test_runs_of_other_projects_do_not_count(outcome, experiment, owner):
    elsewhere = make_project(owner=owner, name="Other", success_metric="val_auc")
    other = services.experiment_create(project=elsewhere, name="x", by=owner)
    run_with(other, owner, "not ours", 0.99)

    assert judge(outcome).evidence["run_id"] is None


def test_a_tie_goes_to_the_run_that_started_first(outcome, experiment, owner):
    first = services.run_create(experiment=experiment, by=owner, name="first", start_time=1)
    second = services.run_create(experiment=experiment, by=owner, name="second", start_time=2)
    for run in (second, first):
        services.log_batch(run=run, by=owner, metrics=[MetricIn("val_auc", 0.9, T0, 0)])

    assert judge(outcome).evidence["run_id"] == first.run_id


def test_a_failed_run_is_no_evidence(outcome, experiment, owner):
    finished = run_with(experiment, owner, "finished", 0.80)
    crashed = run_with(experiment, owner, "crashed", 0.95)
    services.run_update(run=crashed, by=owner, status="FAILED")

    got = judge(outcome)

    assert got.evidence["run_id"] == finished.run_id
    assert got.met is False


def test_two_queries_whatever_the_number_of_runs(outcome, experiment, owner):
    for index in range(15):
        run_with(experiment, owner, f"run {index}", index / 20)

    with CaptureQueriesContext(connection) as queries:
        judge(outcome)

    assert len(queries) == 2


def test_the_gate_refuses_to_advance_naming_the_gap(project, outcome, experiment, owner):
    phase = project.current_phase
    for task in phase.tasks.filter(required=True):
        phase_services.task_set_status(task=task, status=TaskStatus.DONE, by=owner)
    for each in phase.outcomes.filter(required=True):
        phase_services.outcome_submit(outcome=each, by=owner, evidence_url="https://example.com")
        phase_services.outcome_accept(outcome=each, by=owner)
    best = run_with(experiment, owner, "lr-0.01", 0.82)

    with pytest.raises(GateNotMet) as refused:
        phase_services.phase_advance(project=project, by=owner)

    assert refused.value.details == [
        {
            "kind": "evidence",
            "subject": "Model good enough",
            "met": False,
            "message": f"Best val_auc 0.82 (run “lr-0.01”, {best.run_id[:8]}…) is 0.03 short "
            "of the target 0.85 (higher is better).",
            "evidence": refused.value.details[0]["evidence"],
        }
    ]
    assert "is 0.03 short of the target 0.85" in refused.value.message

    run_with(experiment, owner, "lr-0.003", 0.87)
    assert phase_gate(phase=phase).met is True
    phase_services.phase_advance(project=project, by=owner)


def test_after_a_loop_back_only_the_runs_started_since_count(project, outcome, experiment, owner):
    phase = project.current_phase
    for task in phase.tasks.filter(required=True):
        phase_services.task_set_status(task=task, status=TaskStatus.DONE, by=owner)
    for each in phase.outcomes.filter(required=True):
        phase_services.outcome_submit(outcome=each, by=owner, evidence_url="https://example.com")
        phase_services.outcome_accept(outcome=each, by=owner)
    run_with(experiment, owner, "before the drift", 0.90)
    phase_services.phase_advance(project=project, by=owner)
    phase_services.phase_move_back(project=project, to_phase=phase, by=owner, reason="Drift")

    stale = judge(outcome)
    assert stale.met is False and stale.evidence["run_id"] is None
    reopened = localtime(project.transitions.latest("created_at").created_at)
    assert f"since the move back on {reopened:%-d %b %Y} yet" in stale.message

    short = run_with(experiment, owner, "retrained", 0.84)
    assert judge(outcome).evidence["run_id"] == short.run_id
    best = run_with(experiment, owner, "retrained on new data", 0.87)
    got = judge(outcome)
    assert got.met is True and got.evidence["run_id"] == best.run_id
    assert got.message.startswith(f"Since the move back on {reopened:%-d %b %Y}, best val_auc 0.87")
    # The leaderboard's ranking still reads every run: the gate alone looks past the old one.
    assert ranking.ranked_series(project=project, key="val_auc")[0].run.name == "before the drift"
