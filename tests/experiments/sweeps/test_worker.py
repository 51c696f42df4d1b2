"""The ledger against real trouble: real Celery workers (prefork, two pool processes) on
Redis and PostgreSQL, killed with SIGKILL mid-trial, delivering one trial twice at once,
and cancelled while trials run. In every case each trial is recorded exactly once, and no
run exists without its trial."""

import os
import signal

import pytest
from django.db.models import Count
from django.utils import timezone

from experiments import services
from experiments.choices import SweepStatus, TrialStatus
from experiments.models import Run, Sweep, Trial
from experiments.sweeps import ledger
from tests.experiments.sweeps.workers import purge, until, workers
from tests.factories import make_project

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Trials of about a second each on two cores: long enough to be caught mid-fold.
FOREST = {"random_forest": {"n_estimators": {"type": "int", "low": 40, "high": 80}}}


@pytest.fixture
def project(on_postgres, settings, tmp_path):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    purge()
    yield make_project(success_metric="accuracy", success_target=0.9)
    purge()


def start(project, *, trials: int, name: str = "forest", space=FOREST, **extra) -> Sweep:
    dataset = services.dataset_create(
        project=project, user=project.owner, name=f"digits {name}", builtin="digits"
    )
    return services.sweep_create(
        project=project, user=project.owner, name=name, dataset=dataset,
        families=["random_forest"], space=space, strategy="random", max_trials=trials,
        folds=3, seed=1, **extra,
    )  # fmt: skip


def assert_exactly_once(sweep: Sweep) -> None:
    trials = Trial.objects.filter(sweep=sweep)
    runs = Run.objects.filter(experiment=sweep.experiment)
    assert trials.filter(status=TrialStatus.SUCCEEDED, run__isnull=True).count() == 0
    assert runs.count() == trials.filter(run__isnull=False).count()
    assert not runs.filter(trial__isnull=True).exists(), "a run without its trial"
    assert trials.values("number").annotate(n=Count("pk")).filter(n__gt=1).count() == 0


def finished(sweep: Sweep):
    def check():
        current = Sweep.objects.get(pk=sweep.pk)
        return current if current.status == SweepStatus.FINISHED else None

    return check


def running_trial():
    return Trial.objects.filter(status=TrialStatus.RUNNING).exclude(intermediate=[]).first()


def test_a_pool_process_killed_mid_trial_leaves_every_trial_recorded_once(project, tmp_path):
    with workers(tmp_path, {}) as (worker,):
        sweep = start(project, trials=6)
        victim = until(running_trial, timeout=40, what="a trial mid-way", logs=[worker])
        pid = int(victim.lease_owner.split(":")[1])
        assert pid in worker.pool
        os.kill(pid, signal.SIGKILL)
        done = until(finished(sweep), timeout=50, what="the sweep to finish", logs=[worker])
        # The worker that ended the last trial keeps the importances for the page.
        kept = until(
            lambda: Sweep.objects.get(pk=sweep.pk).importances or None,
            timeout=30,
            what="the importances kept",
            logs=[worker],
        )
    assert (kept["succeeded"], kept["family"]) == (6, "random_forest") and kept["values"]
    assert_exactly_once(done)
    again = Trial.objects.get(pk=victim.pk)
    assert again.status == TrialStatus.SUCCEEDED
    assert again.attempts == 2, "taken over once its dead owner's lease expired"
    assert Trial.objects.filter(sweep=sweep, status=TrialStatus.SUCCEEDED).count() == 6


def test_the_whole_worker_killed_mid_sweep_and_a_new_one_finishes_it(project, tmp_path):
    # A short visibility timeout, looked at every second, so that Redis hands the dead
    # worker's reserved messages to the next one within seconds (production keeps it above
    # the trial limit).
    short = {
        "CELERY_BROKER_VISIBILITY_TIMEOUT": "8",
        "CELERY_BROKER_RESTORE_SECONDS": "1",
        "EXPERIMENTS_TRIAL_TIME_LIMIT": "6",
    }
    with workers(tmp_path, short) as (first,):
        sweep = start(project, trials=4)
        until(running_trial, timeout=40, what="a trial mid-way", logs=[first])
        first.kill_main()
    with workers(tmp_path, short) as (second,):
        # The dead worker's lease must expire first: allow for a loaded two-core machine.
        done = until(finished(sweep), timeout=150, what="the sweep to finish", logs=[second])
    assert_exactly_once(done)
    assert Trial.objects.filter(sweep=sweep, status=TrialStatus.SUCCEEDED).count() == 4


def test_one_trial_delivered_twice_at_once_to_two_workers_runs_once(project, tmp_path):
    with workers(tmp_path, {"concurrency": 1}, {"concurrency": 1}) as both:
        sweep = start(project, trials=3, max_concurrent=1)
        ids = list(Trial.objects.filter(sweep=sweep).values_list("pk", flat=True))
        ledger.send(ids)  # a second copy of every trial's message, beside the dispatched one
        ledger.send(ids)
        done = until(finished(sweep), timeout=50, what="the sweep to finish", logs=both)
    assert_exactly_once(done)
    assert set(Trial.objects.filter(sweep=sweep).values_list("attempts", flat=True)) == {1}
    assert Run.objects.filter(experiment=sweep.experiment).count() == 3


def test_after_a_cancel_is_acknowledged_no_trial_starts(project, tmp_path):
    with workers(tmp_path, {}) as (worker,):
        sweep = start(project, trials=20)
        until(
            lambda: Trial.objects.filter(sweep=sweep, status=TrialStatus.SUCCEEDED).count() >= 2,
            timeout=40, what="two trials done", logs=[worker],
        )  # fmt: skip
        services.sweep_cancel(sweep=sweep, user=project.owner)
        acknowledged = timezone.now()

        def cancelled():
            return Sweep.objects.get(pk=sweep.pk).status == SweepStatus.CANCELLED

        until(cancelled, timeout=30, what="the sweep to be cancelled", logs=[worker])
    trials = Trial.objects.filter(sweep=sweep)
    assert not trials.filter(started_at__gt=acknowledged).exists()
    assert trials.filter(status=TrialStatus.CANCELLED).count() >= 10
    assert not trials.filter(status__in=[TrialStatus.QUEUED, TrialStatus.RUNNING]).exists()
    assert_exactly_once(Sweep.objects.get(pk=sweep.pk))


IRIS = {"knn": {"n_neighbors": {"type": "int", "low": 1, "high": 20}}}


def test_two_sweeps_started_together_interleave_and_the_project_cap_holds(project, tmp_path):
    from experiments.sweeps.services import trial_quota_set

    trial_quota_set(project=project, max_concurrent=1)
    with workers(tmp_path, {"EXPERIMENTS_SWEEP_WINDOW": "2"}) as (worker,):
        datasets = [
            services.dataset_create(project=project, user=project.owner, name=n, builtin="iris")
            for n in ("iris a", "iris b")
        ]
        fields = {"families": ["knn"], "space": IRIS, "strategy": "random", "max_trials": 6}
        sweeps = [
            services.sweep_create(
                project=project, user=project.owner, name=f"knn {i}", dataset=d, folds=2, **fields
            )
            for i, d in enumerate(datasets)
        ]
        most = 0

        def done():
            nonlocal most
            most = max(most, Trial.objects.filter(status=TrialStatus.RUNNING).count())
            return all(Sweep.objects.get(pk=s.pk).status == SweepStatus.FINISHED for s in sweeps)

        until(done, timeout=50, what="both sweeps to finish", logs=[worker])
    assert most <= 1, "the project's cap of one running trial"
    order = list(
        Trial.objects.filter(sweep__in=sweeps)
        .order_by("finished_at")
        .values_list("sweep", flat=True)
    )
    # Neither sweep waited for the other to end: the second's first trial ended before the
    # first's last, and the other way round.
    first, second = (s.pk for s in sweeps)
    assert order.index(second) < len(order) - 1 - order[::-1].index(first)
    assert order.index(first) < len(order) - 1 - order[::-1].index(second)
    for sweep in sweeps:
        assert_exactly_once(sweep)
