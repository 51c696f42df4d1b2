"""The ledger that runs each trial exactly once, whatever the broker delivers.

A trial is a row with a number unique in its sweep and a status. The task of a trial:

1. **claims** it in one transaction, under the sweep's row lock (which also serialises
   Optuna's asks and the cancel): a done trial is left alone; a running one whose lease is
   live belongs to a worker that is still alive, so this delivery comes back when the lease
   would have expired; an expired lease means the owner died, and the trial is taken over
   (``attempts`` counts the claims; past ``EXPERIMENTS_TRIAL_MAX_ATTEMPTS`` it is recorded
   as failed with the reason). The claim asks Optuna for the params when the row has none.
2. **works** outside any transaction, a heartbeat thread renewing the lease, and after
   each fold but the last checks in (``checkpoint``): a cancel, a lost lease or the pruner
   stop it there (after the last, the finish follows at once and checks the lease).
3. **finishes** it in one transaction that writes the run (params, per-fold scores as
   steps, means, fit time, the estimator's params as tags) and the trial's result together,
   and only if it still holds the lease: a process killed before the commit leaves no run,
   one killed after leaves a finished trial that a redelivery skips.

Only the finish waits for its commit to reach the disk; a claim that takes the trial and
the checkpoints do not (``NO_FLUSH_WAIT``): a database crash may lose them, which leaves
the trial as it was or its lease older, and the finish's flush takes them with it.

A sweep keeps at most ``EXPERIMENTS_SWEEP_WINDOW`` of its trials in the queue, and each
trial that ends enqueues the next: sweeps started together interleave on the workers.
"""

import contextlib
import datetime as dt
import math
import os
import socket
import threading
import time
import traceback
import uuid
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from experiments.choices import TRIAL_DONE, RunStatus, Strategy, SweepStatus, TrialStatus
from experiments.models import Sweep, Trial, TrialQuota, epoch_ms
from experiments.sweeps import sampling
from experiments.sweeps.execution import Outcome
from phases.models import Project

TRIAL_TASK = "experiments.trial_run"
CANCELLED = (SweepStatus.CANCELLING, SweepStatus.CANCELLED)


def new_owner(task_id: str | None = None) -> str:
    """Who holds a lease: this host and process, and this one execution of the task."""
    return f"{socket.gethostname()}:{os.getpid()}:{task_id or '-'}:{uuid.uuid4().hex[:8]}"


def lease_seconds() -> int:
    return settings.EXPERIMENTS_TRIAL_LEASE_SECONDS


# --- Dispatch ---------------------------------------------------------------------------


def _window(sweep: Sweep) -> int:
    window = settings.EXPERIMENTS_SWEEP_WINDOW
    if sweep.max_concurrent:
        window = min(window, sweep.max_concurrent)
    return max(1, window)


UNSENT = "unsent"  # in a tally: queued trials not in the queue yet


def tally(sweep: Sweep) -> dict[str, int]:
    """How many of the sweep's trials are in each status, and (``UNSENT``) how many of the
    queued ones are not in the queue yet: what ``settle`` and ``dispatch`` decide on."""
    counts: dict[str, int] = {UNSENT: 0}
    rows = (
        Trial.objects.filter(sweep=sweep)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"), unsent=Count("pk", filter=Q(enqueued_at__isnull=True)))
    )
    for status, n, unsent in rows:
        counts[status] = n
        if status == TrialStatus.QUEUED:
            counts[UNSENT] = unsent
    return counts


def dispatch(sweep: Sweep, counts: dict[str, int] | None = None) -> int:
    """Put the sweep's next queued trials in the queue, up to its window; inside the
    caller's transaction (the sweep locked), sent once it commits. How many were sent.
    ``counts``: the sweep's ``tally``, when the caller has it."""
    if sweep.status not in (SweepStatus.QUEUED, SweepStatus.RUNNING):
        return 0
    counts = tally(sweep) if counts is None else counts
    unsent = counts[UNSENT]
    outstanding = counts.get(TrialStatus.RUNNING, 0) + counts.get(TrialStatus.QUEUED, 0) - unsent
    free = min(_window(sweep) - outstanding, unsent)
    if free <= 0:
        return 0
    ids = list(
        Trial.objects.filter(sweep=sweep, status=TrialStatus.QUEUED, enqueued_at__isnull=True)
        .order_by("number")
        .values_list("pk", flat=True)[:free]
    )
    Trial.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    if ids:
        transaction.on_commit(lambda: send(ids))
    return len(ids)


def send(ids, *, countdown: float | None = None) -> None:
    """Queue a message per trial. The message carries the time limits the worker enforces
    (Celery puts them in its headers from the sending side), so they are read from the
    settings here, when it is sent, not frozen when the task module was imported."""
    from experiments.tasks import trial_run

    limit = settings.EXPERIMENTS_TRIAL_TIME_LIMIT
    for trial_id in ids:
        trial_run.apply_async(
            (trial_id,), countdown=countdown, soft_time_limit=limit, time_limit=limit + 30
        )


# --- Claim ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    trial: Trial
    sweep: Sweep


@dataclass(frozen=True)
class Later:
    """Not now: come back in ``seconds`` (the lease of a live owner, the project's cap)."""

    seconds: float


def _locked_sweep(trial_id: int, *related: str, quota: bool = False) -> Sweep | None:
    """The trial's sweep with its ``related`` rows, the sweep's row locked (only its row:
    sweeps of one dataset or one project never wait on each other here), and with
    ``quota`` the project's cap as ``sweep.quota``. One query; None if the trial is gone."""
    sweeps = Sweep.objects.select_for_update(of=("self",)).select_related(*related)
    if quota:
        cap = TrialQuota.objects.filter(project_id=OuterRef("project_id"))
        sweeps = sweeps.annotate(quota=Subquery(cap.values("max_concurrent")[:1]))
    try:
        return sweeps.get(trials=trial_id)
    except Sweep.DoesNotExist:
        return None


def _project_cap(sweep: Sweep) -> int:
    return sweep.quota or settings.EXPERIMENTS_PROJECT_MAX_CONCURRENT


# What a claim writes on the trial row (only these: the row's other columns stay as read).
CLAIMED_FIELDS = (
    "params", "sampler_attrs", "status", "lease_owner", "lease_expires_at", "attempts",
    "started_at", "intermediate",
)  # fmt: skip


@transaction.atomic
def claim(trial_id: int, *, owner: str) -> Claimed | Later | None:
    """Take the trial for ``owner``, or say why not (None: nothing to do)."""
    sweep = _locked_sweep(trial_id, "dataset", quota=True)
    if sweep is None:
        return None
    trial = Trial.objects.select_for_update().get(pk=trial_id)
    now = timezone.now()
    if trial.status in TRIAL_DONE:
        return None
    if sweep.status in CANCELLED:
        _end(trial, TrialStatus.CANCELLED, "the sweep was cancelled before the trial started")
        settle(sweep)
        return None
    if trial.status == TrialStatus.RUNNING:
        if trial.lease_expires_at > now:
            wait = (trial.lease_expires_at - now).total_seconds() + 1
            return Later(wait)
        if trial.attempts >= settings.EXPERIMENTS_TRIAL_MAX_ATTEMPTS:
            _end(
                trial,
                TrialStatus.FAILED,
                f"its worker was lost {trial.attempts} time(s) (lease held by "
                f"{trial.lease_owner} expired); gave up after "
                f"{settings.EXPERIMENTS_TRIAL_MAX_ATTEMPTS} attempts",
            )
            dispatch(sweep, settle(sweep))
            return None
    spent = sweep.started_at and (now - sweep.started_at).total_seconds()
    if sweep.max_seconds and spent and spent >= sweep.max_seconds:
        _budget_spent(sweep)
        return None
    cap = _project_cap(sweep)
    if cap:
        Project.objects.select_for_update().only("pk").get(pk=sweep.project_id)
        running = (
            Trial.objects.filter(sweep__project_id=sweep.project_id, status=TrialStatus.RUNNING)
            .exclude(pk=trial.pk)
            .count()
        )
        if running >= cap:
            return Later(max(1.0, lease_seconds() / 10))
    if not trial.params:
        if sweep.strategy == Strategy.GRID:
            _end(trial, TrialStatus.FAILED, "a grid trial has no point")  # never: set at creation
            settle(sweep)
            return None
        history = []  # a random sampler draws from its seed alone: no rows to read
        if sweep.strategy != Strategy.RANDOM:
            history = list(
                Trial.objects.filter(sweep=sweep)
                .exclude(params={})
                .exclude(pk=trial.pk)
                .order_by("number")
            )
        trial.params, trial.sampler_attrs = sampling.ask(
            sweep, history, number=trial.number, trial_pk=trial.pk
        )
    trial.status = TrialStatus.RUNNING
    trial.lease_owner = owner
    trial.lease_expires_at = now + dt.timedelta(seconds=lease_seconds())
    trial.attempts += 1
    trial.started_at = now
    trial.intermediate = []
    trial.save(update_fields=CLAIMED_FIELDS)
    _commit_without_flush_wait()
    if sweep.status == SweepStatus.QUEUED:
        sweep.status = SweepStatus.RUNNING
        sweep.started_at = now
        sweep.save(update_fields=["status", "started_at"])
    return Claimed(trial=trial, sweep=sweep)


def _budget_spent(sweep: Sweep) -> None:
    Trial.objects.filter(sweep=sweep, status=TrialStatus.QUEUED).update(
        status=TrialStatus.CANCELLED,
        error=f"the sweep's wall-time budget of {sweep.max_seconds} s was spent",
        finished_at=timezone.now(),
    )
    settle(sweep)


# What ending a trial writes: its status and error, its lease released, when it ended, and
# what ``finish`` set before (its run, value and every fold's running mean).
ENDED_FIELDS = (
    "status", "error", "lease_owner", "lease_expires_at", "finished_at", "run", "value",
    "intermediate",
)  # fmt: skip


def _end(trial: Trial, status: str, error: str = "") -> None:
    trial.status = status
    trial.error = error
    trial.lease_owner = ""
    trial.lease_expires_at = None
    trial.finished_at = timezone.now()
    trial.save(update_fields=ENDED_FIELDS)


# --- While it works ---------------------------------------------------------------------


class Heartbeat:
    """Renews the lease every third of it from a thread of its own (with its own database
    connection) while the folds run, so a long fold never loses a live worker's trial."""

    def __init__(self, trial_id: int, owner: str) -> None:
        self.trial_id, self.owner = trial_id, owner
        self.stopped = threading.Event()
        self.lost = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name="trial-lease")

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(max(0.5, lease_seconds() / 3)):
                with contextlib.suppress(Exception):
                    if not renew(self.trial_id, self.owner):
                        self.lost.set()
                        return
        finally:
            connection.close()


def renew(trial_id: int, owner: str) -> bool:
    until = timezone.now() + dt.timedelta(seconds=lease_seconds())
    return bool(
        Trial.objects.filter(pk=trial_id, lease_owner=owner, status=TrialStatus.RUNNING).update(
            lease_expires_at=until
        )
    )


# Lets the transaction it runs in commit without waiting for the write-ahead log to reach
# the disk (PostgreSQL's ``synchronous_commit``, off for that transaction alone): for what a
# database crash may lose harmlessly. A lost claim leaves the trial as it was (its worker's
# finish then fails the lease check, and the retry or recovery claims it again); a lost
# checkpoint makes the lease look older. A finish is flushed, and flushes them with it.
NO_FLUSH_WAIT = "SELECT set_config('synchronous_commit', 'off', true)"


def _commit_without_flush_wait() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(NO_FLUSH_WAIT)


def _check_in(trial_id: int, owner: str, **values) -> bool:
    """The checkpoint's write, if the trial is still the owner's and its sweep is not
    being cancelled: the fold's means, the sampler's attributes, the lease renewed. One
    statement, its own transaction, committed without the flush wait. Raw SQL: the ORM
    turns the sweep's condition into a subquery and spends longer building the statement
    than the database running it."""
    field = Trial._meta.get_field
    prepared = [
        field(name).get_db_prep_value(values[key], connection)
        for name, key in (("intermediate", "intermediate"), ("sampler_attrs", "attrs"),
                          ("lease_expires_at", "until"))
    ]  # fmt: skip
    unflushed = f", ({NO_FLUSH_WAIT}) AS unflushed" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Trial._meta.db_table} AS t "  # noqa: S608  (table names from the models)
            "SET intermediate = %s, sampler_attrs = %s, lease_expires_at = %s "
            f"FROM {Sweep._meta.db_table} AS s{unflushed} WHERE t.id = %s AND t.lease_owner = %s "
            "AND t.status = %s AND s.id = t.sweep_id AND s.status NOT IN (%s, %s)",
            [*prepared, trial_id, owner, TrialStatus.RUNNING, *CANCELLED],
        )
        return cursor.rowcount > 0


def checkpoint(trial: Trial, sweep: Sweep, *, owner: str, intermediate: list[float]) -> str | None:
    """After a fold: why the trial must stop here (``"cancelled"``, ``"lease"``,
    ``"pruned"``), or None to go on. Records the fold's running mean on the trial and
    renews the lease, in one statement unless the sweep has a pruner or the trial stops."""
    prune, attrs = False, trial.sampler_attrs
    if sweep.pruner != "none":
        ended = (TrialStatus.SUCCEEDED, TrialStatus.PRUNED)
        finished = Trial.objects.filter(sweep=sweep, status__in=ended).exclude(params={})
        finished = finished.order_by("number")
        prune, attrs = sampling.should_prune(sweep, list(finished), trial, intermediate)
    until = timezone.now() + dt.timedelta(seconds=lease_seconds())
    held = _check_in(trial.pk, owner, intermediate=intermediate, attrs=attrs, until=until)
    trial.intermediate, trial.sampler_attrs = intermediate, attrs
    if not held:
        status = Sweep.objects.filter(pk=sweep.pk).values_list("status", flat=True).first()
        return "cancelled" if status in (*CANCELLED, None) else "lease"
    return "pruned" if prune else None


# --- Finish -----------------------------------------------------------------------------


def _held(trial_id: int, owner: str) -> tuple[Sweep, Trial] | None:
    sweep = _locked_sweep(trial_id, "experiment", "created_by", "best_trial")
    if sweep is None:
        return None
    trial = Trial.objects.select_for_update().get(pk=trial_id)
    if trial.status != TrialStatus.RUNNING or trial.lease_owner != owner:
        return None
    return sweep, trial


@transaction.atomic
def finish(trial_id: int, *, owner: str, outcome: Outcome, pruned: bool = False) -> bool:
    """Write the trial's run and result in one transaction; False if the lease was lost
    (another worker took the trial over: its result is the one that counts)."""
    held = _held(trial_id, owner)
    if held is None:
        return False
    sweep, trial = held
    run = _log_run(sweep, trial, outcome, pruned=pruned)
    objective = sweep.metrics[0]
    trial.run = run
    trial.value = None if pruned else outcome.mean(objective)
    # Every fold's running mean (the checkpoints wrote all but the last).
    scores = outcome.scores[objective]
    trial.intermediate = [_storable(float(np.mean(scores[: n + 1]))) for n in range(len(scores))]
    _end(trial, TrialStatus.PRUNED if pruned else TrialStatus.SUCCEEDED)
    dispatch(sweep, settle(sweep, ended=trial))
    return True


@transaction.atomic
def stop(trial_id: int, *, owner: str, status: str, error: str = "") -> bool:
    """End a trial without a run: cancelled mid-way, or failed with ``error``."""
    held = _held(trial_id, owner)
    if held is None:
        return False
    sweep, trial = held
    _end(trial, status, error)
    dispatch(sweep, settle(sweep))
    return True


@transaction.atomic
def release(trial_id: int, *, owner: str) -> None:
    """Give the trial back to the queue after a transient error; the retry claims it anew."""
    Trial.objects.filter(pk=trial_id, lease_owner=owner, status=TrialStatus.RUNNING).update(
        status=TrialStatus.QUEUED, lease_owner="", lease_expires_at=None, attempts=F("attempts") - 1
    )


def settle(sweep: Sweep, *, ended: Trial | None = None) -> dict[str, int]:
    """Under the sweep's lock: once no trial is queued or running, the sweep is done
    (finished, or cancelled if a cancel was asked, or failed if every trial failed) and
    names its best trial. The sweep's ``tally``, for ``dispatch``. ``ended``: the one trial
    that has just ended (and ``sweep.best_trial`` loaded): the best is then this trial or
    the one before it, without a query."""
    counts = tally(sweep)
    best = best_trial_id(sweep) if ended is None else _better(sweep, ended, sweep.best_trial)
    fields = []
    if sweep.best_trial_id != best:
        sweep.best_trial_id = best
        fields.append("best_trial")
    if not counts.get(TrialStatus.QUEUED) and not counts.get(TrialStatus.RUNNING):
        statuses = {status for status, n in counts.items() if n and status != UNSENT}
        if sweep.status in CANCELLED:
            sweep.status = SweepStatus.CANCELLED
        elif statuses == {TrialStatus.FAILED}:
            sweep.status = SweepStatus.FAILED
        else:
            sweep.status = SweepStatus.FINISHED
        sweep.finished_at = timezone.now()
        fields += ["status", "finished_at"]
    if fields:
        sweep.save(update_fields=fields)
    return counts


def _better(sweep: Sweep, trial: Trial, best: Trial | None) -> int | None:
    """The id of the better of ``trial`` and the sweep's ``best`` so far, as
    ``best_trial_id`` orders them (the objective's direction, then the lower number)."""
    if trial.status != TrialStatus.SUCCEEDED or not sampling.finite(trial.value):
        return best and best.pk
    if best is None:
        return trial.pk
    sign = 1 if sweep.maximizes else -1
    if (sign * trial.value, -trial.number) > (sign * best.value, -best.number):
        return trial.pk
    return best.pk


def best_trial_id(sweep: Sweep) -> int | None:
    """The best of the sweep's succeeded trials with a finite value (a score that came out
    NaN or infinite is no best, as Optuna counts such a trial failed)."""
    order = "-value" if sweep.maximizes else "value"
    finite = Q(value__gt=-math.inf, value__lt=math.inf)  # NaN sorts above every number
    return (
        Trial.objects.filter(finite, sweep=sweep, status=TrialStatus.SUCCEEDED)
        .order_by(order, "number")
        .values_list("pk", flat=True)
        .first()
    )


def _log_run(sweep: Sweep, trial: Trial, outcome: Outcome, *, pruned: bool):
    """The trial as a run of the sweep's experiment, written whole by the tracking
    services (one insert per table)."""
    from experiments import services as tracking

    stamp = epoch_ms(timezone.now())
    metrics = []
    for key, scores in outcome.scores.items():
        metrics += [tracking.MetricIn(f"{key}_fold", s, stamp, i) for i, s in enumerate(scores)]
        if not pruned:
            metrics.append(tracking.MetricIn(key, outcome.mean(key), stamp, 0))
    for key, times in (("fit_time", outcome.fit_times), ("score_time", outcome.score_times)):
        metrics += [tracking.MetricIn(f"{key}_fold", t, stamp, i) for i, t in enumerate(times)]
        if times:
            metrics.append(tracking.MetricIn(key, sum(times) / len(times), stamp, 0))
    tags = [
        ("sweep.id", str(sweep.pk)),
        ("sweep.trial", str(trial.number)),
        ("sweep.family", str(trial.params.get(sampling.FAMILY, ""))),
        ("mlflow.source.type", "JOB"),
    ]
    tags += [(f"estimator.{key}", value) for key, value in sorted(outcome.estimator_params.items())]
    return tracking.run_record(
        experiment=sweep.experiment,
        by=sweep.created_by,
        name=f"{sweep.name} #{trial.number}",
        start_time=epoch_ms(trial.started_at),
        end_time=stamp,
        status=RunStatus.KILLED if pruned else RunStatus.FINISHED,
        metrics=metrics,
        params=[(key, _text(value)) for key, value in sorted(trial.params.items())],
        tags=tags,
    )


def _storable(mean: float) -> float | None:
    """A fold's running mean as the trial's JSON keeps it: null when it is not finite (JSON
    has no NaN; the sampler skips a missing value as it skips NaN)."""
    return mean if sampling.finite(mean) else None


def _text(value) -> str:
    if isinstance(value, float):
        return repr(value)
    return "None" if value is None else str(value)


# --- The whole task ---------------------------------------------------------------------

# How long after the trial's time limit its own check stops it at a fold's end, when
# Celery's soft-limit exception was swallowed on the way (it arrives within a second).
LIMIT_GRACE_SECONDS = 3


def run_trial(trial_id: int, *, owner: str) -> Later | None:
    """Claim, work and finish one trial; what the Celery task calls."""
    from celery.exceptions import SoftTimeLimitExceeded

    from experiments.sweeps.execution import Stop, cross_validate

    # Celery's soft limit stops a fold mid-way with an exception, which any library under
    # the fit may catch as it catches any error: past the limit and a grace for the signal
    # to come, the trial also stops where its next fold ends.
    deadline = time.monotonic() + settings.EXPERIMENTS_TRIAL_TIME_LIMIT + LIMIT_GRACE_SECONDS
    claimed = claim(trial_id, owner=owner)
    if not isinstance(claimed, Claimed):
        return claimed
    trial, sweep = claimed.trial, claimed.sweep
    means: list[float] = []

    def after_fold(fold: int, mean: float) -> None:
        means.append(_storable(mean))
        if time.monotonic() > deadline:
            raise Stop("time limit")
        if heartbeat.lost.is_set():
            raise Stop("lease")
        if fold == sweep.folds - 1:
            return  # the finish follows at once, checks the lease and writes the means
        reason = checkpoint(trial, sweep, owner=owner, intermediate=list(means))
        if reason is not None:
            raise Stop(reason)

    try:
        with Heartbeat(trial.pk, owner) as heartbeat:
            outcome = cross_validate(sweep, trial.params, after_fold=after_fold)
    except Stop as stopped:
        if stopped.reason == "cancelled":
            stop(trial.pk, owner=owner, status=TrialStatus.CANCELLED, error="cancelled mid-run")
        elif stopped.reason == "pruned":
            finish(trial.pk, owner=owner, outcome=stopped.outcome, pruned=True)
        elif stopped.reason == "time limit":
            _over_the_limit(trial, owner)
        return None
    except SoftTimeLimitExceeded:
        _over_the_limit(trial, owner)
        return None
    except TRANSIENT:
        with contextlib.suppress(*TRANSIENT):
            close_old_connections()
            release(trial.pk, owner=owner)
        raise
    except Exception as error:
        stop(trial.pk, owner=owner, status=TrialStatus.FAILED, error=_error_text(error))
        return None
    finish(trial.pk, owner=owner, outcome=outcome)
    return None


def _over_the_limit(trial: Trial, owner: str) -> None:
    error = f"over the time limit of {settings.EXPERIMENTS_TRIAL_TIME_LIMIT} s"
    stop(trial.pk, owner=owner, status=TrialStatus.FAILED, error=error)


def _error_text(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return "".join(lines).strip()[:4000]


def _transient():
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError

    return (OperationalError, InterfaceError, BrokerError)


TRANSIENT = _transient()
