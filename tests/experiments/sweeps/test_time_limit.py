"""A trial over its time limit, on a real worker: Celery's soft limit stops it mid-fit, the
ledger records it as failed with the limit named, it leaves no run, and the worker goes on
serving the next trial."""

import pytest

from experiments.choices import SweepStatus, TrialStatus
from experiments.models import Run, Sweep, Trial
from tests.experiments.sweeps.test_worker import project, start  # noqa: F401 (fixture)
from tests.experiments.sweeps.workers import until, workers

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Several seconds a trial on digits, far over the one-second limit the worker is given.
SLOW = {"random_forest": {"n_estimators": {"type": "int", "low": 600, "high": 800}}}


def test_a_trial_over_its_time_limit_fails_with_the_limit_named_and_leaves_no_run(
    project,  # noqa: F811 (the fixture)
    tmp_path,
    settings,
):
    # The limit travels in each trial's message from the process that queues it (here the
    # test's), and the worker reads it to name it in the trial's error.
    settings.EXPERIMENTS_TRIAL_TIME_LIMIT = 1
    with workers(tmp_path, {"EXPERIMENTS_TRIAL_TIME_LIMIT": "1"}) as (worker,):
        sweep = start(project, trials=2, name="slow", space=SLOW)

        def done():
            current = Sweep.objects.get(pk=sweep.pk)
            return current if current.status in (SweepStatus.FAILED, SweepStatus.FINISHED) else None

        settled = until(done, timeout=90, what="the sweep to settle", logs=[worker])
        assert worker.process.poll() is None, "the worker survives its trials' time limits"

    assert settled.status == SweepStatus.FAILED
    trials = list(Trial.objects.filter(sweep=sweep).order_by("number"))
    assert [trial.status for trial in trials] == [TrialStatus.FAILED, TrialStatus.FAILED]
    for trial in trials:
        assert trial.error == "over the time limit of 1 s"
        assert trial.attempts == 1, "a timed-out trial is not retried"
        assert trial.run_id is None
    assert not Run.objects.filter(experiment=sweep.experiment).exists()
