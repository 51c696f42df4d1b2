"""Recovery, what beat runs every minute for sweeps: trials whose worker died, and sweeps
whose queued trials' messages are gone, are sent again. The ledger makes every extra copy
of a message harmless (``experiments.sweeps.ledger``)."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from experiments.choices import SweepStatus, TrialStatus
from experiments.models import Sweep, Trial
from experiments.sweeps.ledger import send

RECOVER_TASK = "experiments.recover_trials"


def recover(*, now: dt.datetime | None = None) -> list[int]:
    """What beat runs every minute, so that no sweep waits on a message that is gone:
    trials whose lease expired (their worker died) are sent again at once, to be taken over;
    and a sweep with trials in the queue but none running (live) and none finished for
    ``EXPERIMENTS_STALL_SECONDS`` has those sent again (their messages were reserved by a
    worker that died, and Redis would return them only after its visibility timeout).
    A copy of a message too many is harmless: the ledger runs a trial once."""
    now = now or timezone.now()
    lost = list(
        Trial.objects.filter(
            status=TrialStatus.RUNNING,
            lease_expires_at__lt=now,
            sweep__status__in=(SweepStatus.RUNNING, SweepStatus.CANCELLING),
        ).values_list("pk", flat=True)
    )
    quiet = now - dt.timedelta(seconds=settings.EXPERIMENTS_STALL_SECONDS)
    busy = Trial.objects.filter(
        Q(status=TrialStatus.RUNNING, lease_expires_at__gte=now) | Q(finished_at__gte=quiet),
        sweep=OuterRef("pk"),
    )
    stalled = Sweep.objects.filter(status__in=(SweepStatus.QUEUED, SweepStatus.RUNNING)).exclude(
        Exists(busy)
    )
    waiting = Trial.objects.filter(
        sweep__in=stalled, status=TrialStatus.QUEUED, enqueued_at__lt=quiet
    )
    again = list(waiting.values_list("pk", flat=True))
    with transaction.atomic():
        Trial.objects.filter(pk__in=again).update(enqueued_at=now)
        transaction.on_commit(lambda: send(lost + again))
    return lost + again
