"""Thin Celery tasks of experiment jobs: take ids, call the ledger and services, store
nothing else.

A trial's task is late-acknowledged and requeued when its worker process is lost, so a
killed worker's trial comes back; the ledger (``experiments.sweeps.ledger``) makes every
copy of a message after the first harmless.
"""

from celery import shared_task
from django.conf import settings

from experiments.sweeps import ledger, recovery, services

LIMIT = settings.EXPERIMENTS_TRIAL_TIME_LIMIT


@shared_task(
    name=ledger.TRIAL_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=LIMIT,
    time_limit=LIMIT + 30,
    ignore_result=True,
)
def trial_run(self, trial_id: int) -> None:
    owner = ledger.new_owner(self.request.id)
    try:
        later = ledger.run_trial(trial_id, owner=owner)
    except ledger.TRANSIENT as error:
        retries = self.request.retries
        raise self.retry(
            exc=error,
            countdown=min(60, 2**retries),
            max_retries=settings.EXPERIMENTS_TRIAL_MAX_RETRIES,
        ) from error
    if later is not None:
        # The trial is another live worker's (or the project is at its cap): this copy of
        # the message comes back when that could have changed.
        ledger.send([trial_id], countdown=later.seconds)
        return
    services.sweep_importances_keep(trial_id=trial_id)


@shared_task(name=recovery.RECOVER_TASK, ignore_result=True)
def recover_trials() -> None:
    recovery.recover()
