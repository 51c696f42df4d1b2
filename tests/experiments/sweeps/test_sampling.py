"""What keeps a trial cheap without changing what it does: each worker process keeps its
Optuna study between asks and proposes what a study rebuilt from the rows would, and a
trial is claimed, checked in and finished in a few statements."""

from collections import OrderedDict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments import services
from experiments.choices import TrialStatus
from experiments.models import Sweep, Trial
from experiments.sweeps import ledger, sampling
from tests.experiments.sweeps.conftest import run_all, spec


@pytest.fixture
def fresh_studies(monkeypatch):
    """As in a worker process that has asked nothing yet."""
    monkeypatch.setattr(sampling, "_MIRRORS", OrderedDict())


def rebuilt(monkeypatch, sweep, rows, number: int) -> dict:
    """What a study rebuilt from ``rows`` proposes for trial ``number``."""
    monkeypatch.setattr(sampling, "_MIRRORS", OrderedDict())
    return sampling.ask(sweep, rows, number=number)[0]


def tpe_sweep(project, user, iris, **overrides):
    fields = {"strategy": "tpe", "max_trials": 10, "families": ["knn", "logistic"], "space": None}
    fields.update(overrides)
    fields = {key: value for key, value in fields.items() if value is not None}
    if "space" not in overrides:
        fields["space"] = {
            "knn": {"n_neighbors": {"type": "int", "low": 1, "high": 30}},
            "logistic": {"C": {"type": "log_float", "low": 0.001, "high": 10.0}},
        }
    return services.sweep_create(project=project, user=user, **spec(iris, **fields))


def test_a_kept_study_proposes_what_one_rebuilt_from_the_rows_would(
    project, user, iris, fresh_studies, monkeypatch
):
    sweep = tpe_sweep(project, user, iris)
    run_all(sweep)  # one process, its study kept and told between the asks
    trials = list(Trial.objects.filter(sweep=sweep).order_by("number"))
    assert all(t.status == TrialStatus.SUCCEEDED for t in trials)
    assert len({json_of(t.params) for t in trials}) > 5  # TPE moved, past its 2 random starts

    for number, trial in enumerate(trials):
        assert rebuilt(monkeypatch, sweep, trials[:number], number) == trial.params


def json_of(params: dict) -> str:
    return repr(sorted(params.items()))


@pytest.mark.parametrize(
    "change",
    ["back to the queue", "another proposal", "gone"],
)
def test_a_kept_study_that_cannot_follow_the_rows_is_rebuilt(
    project, user, iris, fresh_studies, monkeypatch, change
):
    sweep = tpe_sweep(project, user, iris, max_trials=8)
    run_all(sweep)
    trials = list(Trial.objects.filter(sweep=sweep).order_by("number"))
    sampling.ask(sweep, trials[:5], number=5, trial_pk=trials[5].pk)  # the study holds #5 running
    rows = trials[:6]
    if change == "back to the queue":  # released after a transient error, params kept
        rows[5].status = TrialStatus.QUEUED
    elif change == "another proposal":  # another worker's claim of #5 won
        rows[5].status = TrialStatus.RUNNING
        rows[5].params = {"family": "logistic", "C": 5.0}
    else:  # the claim that asked was rolled back: #5 has no params
        rows = rows[:5]

    followed, _ = sampling.ask(sweep, rows, number=6, trial_pk=trials[6].pk)
    assert followed == rebuilt(monkeypatch, sweep, rows, 6)


@pytest.mark.postgres
def test_a_trial_is_claimed_checked_in_and_finished_in_few_statements(
    project, user, iris, monkeypatch, on_postgres
):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, folds=3))
    first, second = Trial.objects.filter(sweep=sweep).order_by("number")[:2]
    ledger.run_trial(first.pk, owner=ledger.new_owner("test"))
    best_before = Sweep.objects.get(pk=sweep.pk).best_trial_id
    spans: dict[str, list[tuple[int, int]]] = {"claim": [], "checkpoint": [], "finish": []}
    for name in spans:
        monkeypatch.setattr(ledger, name, _spanned(getattr(ledger, name), spans[name]))

    with CaptureQueriesContext(connection):
        ledger.run_trial(second.pk, owner=ledger.new_owner("test"))

    second.refresh_from_db()
    assert second.status == TrialStatus.SUCCEEDED and second.run is not None
    best_changed = Sweep.objects.get(pk=sweep.pk).best_trial_id != best_before
    counts = {name: statements(found) for name, found in spans.items()}
    # A checkpoint after each fold but the last: the finish follows it at once, checks the
    # lease and writes every fold's running mean.
    assert len(spans["checkpoint"]) == 2
    assert len(second.intermediate) == 3
    # The claim and each checkpoint commit without waiting for the WAL flush; the finish
    # (the run and the result) waits for it.
    unflushed = {name: [unflushed_in(span) for span in found] for name, found in spans.items()}
    assert unflushed == {"claim": [True], "checkpoint": [True] * 2, "finish": [False]}
    assert counts == {
        # The sweep, the trial; the claim (a random sampler reads no other rows: a
        # model-based one reads the sweep's trials too).
        "claim": 3,
        "checkpoint": 2,  # one write a fold
        # The sweep (with its best trial so far), the trial, the experiment; the run, its
        # tags, params, series, their chunks and rollups; the trial's result, the tally
        # (and the sweep when its best changed).
        "finish": 11 + best_changed,
    }


def _spanned(call, spans: list):
    """``call``, noting which of the connection's logged queries each call made."""

    def wrapper(*args, **kwargs):
        start = len(connection.queries)
        try:
            return call(*args, **kwargs)
        finally:
            spans.append((start, len(connection.queries)))

    return wrapper


def statements(spans) -> int:
    """Statements that read or write rows (not transaction control nor settings) of the
    calls in ``spans``."""
    words = ("SELECT", "INSERT", "UPDATE", "DELETE", "COPY")
    made = [query["sql"] for start, end in spans for query in connection.queries[start:end]]
    return sum(1 for sql in made if sql.split()[0] in words and sql != ledger.NO_FLUSH_WAIT)


def unflushed_in(span: tuple[int, int]) -> bool:
    start, end = span
    return any(ledger.NO_FLUSH_WAIT in query["sql"] for query in connection.queries[start:end])
