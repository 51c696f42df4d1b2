"""One upload, one answer: the fast path and the exact path store the same points or give
the same refusal, for random uploads valid and invalid (Hypothesis draws the points and
writes them in one of the three formats, sometimes with an odd spelling of one number:
``0x10``, ``1_000``, ``+5``, ``1e400``, padding, a word).

Each upload goes through the real entry point twice, in savepoints rolled back after: once
as it is (the fast path first), once with the fast path declining, as it does for any
upload it does not take, so that the exact readers read it.
"""

import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from experiments import bulk, selectors
from experiments.bulk import fast
from experiments.models import MetricSeries
from mlprojects.exceptions import DomainError
from tests.experiments.helpers import experiment_and_run
from tests.factories import UserFactory, make_project
from tests.hostile.strategies import uploads

pytestmark = [pytest.mark.django_db, pytest.mark.hostile]


@pytest.fixture
def run(fast_passwords):
    user = UserFactory()
    _, run = experiment_and_run(make_project(owner=user, name="Differential"), by=user)
    return run


def declined(*args, **kwargs):
    raise fast.Irregular


def stored(run) -> dict[str, list[tuple[int, int, str]]]:
    """Every point of the run by key, values by their bits (so NaN equals NaN)."""
    found = {}
    for series in MetricSeries.objects.filter(run=run).order_by("key"):
        points = selectors.series_points(series.pk)
        found[series.key] = [
            (int(step), int(stamp), float(value).hex())
            for step, stamp, value in zip(
                points.steps, points.timestamps, points.values, strict=True
            )
        ]
    return found


def outcome(run, media_type: str, body: bytes, *, exact_only: bool) -> tuple:
    savepoint = transaction.savepoint()
    try:
        with pytest.MonkeyPatch.context() as patch:
            if exact_only:
                patch.setattr(fast, "log_fast", declined)
            try:
                uploaded = bulk.log_upload(
                    run=run, by=None, media_type=media_type, body=io.BytesIO(body)
                )
            except DomainError as error:
                return ("refused", error.code, error.message, error.fields)
            return ("stored", uploaded.received, uploaded.stored, stored(run))
    finally:
        transaction.savepoint_rollback(savepoint)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(upload=uploads())
def test_the_fast_and_the_exact_path_give_one_answer(run, upload):
    media_type, body = upload

    assert outcome(run, media_type, body, exact_only=False) == outcome(
        run, media_type, body, exact_only=True
    ), body[:500]


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (b"key,step,timestamp,value\nloss,0x10,1,0.5\n", "step must be a whole number"),
        (b"key,step,timestamp,value\nloss,1,1,1e400\n", "within the range of a double"),
        (b"key,step,timestamp,value\nloss,1,1,nan(7)\n", "value must be a number"),
    ],
)
def test_what_only_pyarrow_reads_as_a_number_is_refused_by_both_paths(run, body, refused):
    fast_answer = outcome(run, bulk.CSV, body, exact_only=False)

    assert fast_answer == outcome(run, bulk.CSV, body, exact_only=True)
    assert fast_answer[0] == "refused"
    assert refused in fast_answer[2]
