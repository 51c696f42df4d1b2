"""The experiments demo step: a fresh `make run` shows runs on the leaderboard, the run
list, the compare and run pages, and a gate whose evidence a run meets."""

import time

import pytest
from django.contrib.auth import get_user_model

from experiments.choices import RunStatus
from experiments.management import demo as experiments_demo
from experiments.models import MetricSeries, Run, Sweep
from phases.choices import PhaseStatus
from phases.models import Project
from phases.selectors import phase_gate
from tests.dashboard.conftest import client_for
from tests.dashboard.test_experiments_views import html_of, leaderboard, url
from tests.dashboard.test_views import figure
from tests.phases.test_demo_data import LoadedOnce, demo_once  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def evidence_of(project: Project):
    gate = phase_gate(phase=project.current_phase)
    (criterion,) = [c for c in gate.criteria if c.kind == "evidence"]
    return criterion


class TestTheExperimentsDemo(LoadedOnce):
    def test_every_experimenting_project_has_runs_with_curves_params_and_a_failure(self, loaded):
        assert "Experiments:" in loaded and "failed" in loaded
        for spec in experiments_demo.EXPERIMENTS:
            project = Project.objects.get(slug=spec.project)
            runs = Run.objects.filter(experiment__project=project, experiment__name=spec.name)
            assert runs.count() == len(spec.runs)
            assert runs.filter(status=RunStatus.FAILED).count() == 1
            assert not runs.filter(status=RunStatus.RUNNING).exists()
            assert not runs.filter(end_time=None).exists()
            assert all(run.params.exists() for run in runs)
            # Learning curves: the success metric as steps, next to the training loss.
            curves = MetricSeries.objects.filter(run__in=runs, key=project.success_metric)
            assert curves.count() == len(spec.runs)
            assert max(curve.point_count for curve in curves) >= 12
            assert MetricSeries.objects.filter(run__in=runs, key="train_loss").exists()
            # Dated inside the phase the runs belong to, never in the future.
            phase = project.phases.get(name=spec.phase)
            first = min(run.start_time for run in runs) / 1000
            last = max(run.end_time for run in runs) / 1000
            assert phase.started_at.timestamp() < first < last
            ended = (
                time.time() if phase.status == PhaseStatus.ACTIVE else phase.ended_at.timestamp()
            )
            assert last < ended

    def test_one_gate_is_met_by_a_run_and_another_names_the_gap(self, loaded):
        produce = Project.objects.get(slug="fresh-produce-demand-forecasting")
        met = evidence_of(produce)
        assert met.met
        assert met.evidence["run_name"] == "gbm-weather-promo"
        assert met.evidence["value"] == pytest.approx(0.176)
        assert "Fresh produce demand forecasting" in loaded.split("evidence gate met")[1]

        fraud = Project.objects.get(slug="card-fraud-detection")
        short = evidence_of(fraud)
        assert not short.met
        assert short.evidence["run_name"] == "gbt-device-v2"
        assert short.evidence["gap"] == pytest.approx(0.03)

    def test_the_experiment_pages_are_not_empty(self, loaded):
        viewer = get_user_model().objects.get(username="viewer")
        project = Project.objects.get(slug="fresh-produce-demand-forecasting")
        client = client_for(viewer)

        page = html_of(client.get(url(project, "project")))
        board = leaderboard(page)
        assert board[0] == "gbm-weather-promo"
        assert "gbm-all-stores-oom" not in board  # the failed run has no rank
        assert len(figure(client.get(url(project, "project")), "chart-curves")["data"]) >= 3

        listed = html_of(client.get(url(project, "runs")))
        assert "gbm-all-stores-oom" in listed and "seasonal-baseline" in listed

        top = Run.objects.filter(experiment__project=project, name__in=board[:3])
        ids = ",".join(run.run_id for run in top)
        compared = client.get(url(project, "run-compare"), {"runs": ids})
        assert len(figure(compared, "chart-compare-curves")["data"]) == 3
        assert figure(compared, "chart-params")["data"][0]["dimensions"]

        best = top.get(name=board[0])
        run_page = html_of(client.get(url(project, "run", best.run_id)))
        assert "learning_rate" in run_page and 'data-figure="chart-metric-' in run_page

    def test_a_finished_sweep_and_one_in_progress(self, loaded):
        project = Project.objects.get(slug=experiments_demo.SWEEP_PROJECT)
        finished, running = Sweep.objects.filter(project=project).order_by("created_at", "pk")
        assert finished.status == "finished" and finished.best_trial.run is not None
        assert (
            finished.trials.filter(status="succeeded").count() == experiments_demo.FINISHED_TRIALS
        )
        assert running.status == "running"
        done = running.trials.exclude(status__in=["queued", "running"]).count()
        assert done == experiments_demo.RAN_OF_RUNNING
        assert running.trials.filter(status="queued").count() == (
            experiments_demo.RUNNING_TRIALS - experiments_demo.RAN_OF_RUNNING
        )
        assert "Sweeps on Credit limit risk scoring" in loaded

        viewer = get_user_model().objects.get(username="contributor")
        client = client_for(viewer)
        page = html_of(client.get(url(project, "project")))
        assert finished.name in page and running.name in page
        sweep_page = client.get(url(project, "sweep", finished.pk))
        assert len(figure(sweep_page, "chart-best")["data"]) == 2
        assert figure(sweep_page, "chart-params")["data"][0]["dimensions"]
        assert figure(sweep_page, "chart-importances")["data"][0]["x"]
