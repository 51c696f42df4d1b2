"""Chunked point storage: the packed form, and ingest and history against a plain model.

The model is a Python set of points: whatever order, repeats, late batches and NaNs a
client sends, the stored series must be that set in (step, timestamp, value) order, NaN
after numbers, with the series' count, latest point and rollups to match.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import ingest, selectors, series, services
from experiments.models import ROLLUP_SHIFT, MetricChunk, MetricRollup, MetricSeries
from experiments.points import CHUNK_MAX, Points, canonical, pack, unpack
from experiments.services import MetricIn
from tests.experiments.helpers import experiment_and_run, stored_points
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def project(owner):
    return make_project(owner=owner, name="Points")


def new_run(project, owner):
    return experiment_and_run(project, by=owner, name=f"e{MetricSeries.objects.count()}")[1]


def order_key(point: tuple[int, int, float]) -> tuple:
    step, timestamp, value = point
    nan = math.isnan(value)
    return (step, timestamp, nan, 0.0 if nan else value)


def model_of(batches: list[list[tuple[int, int, float]]]) -> list[tuple[int, int, float]]:
    """The distinct points of ``batches`` in history order (NaN equal to NaN, -0.0 to 0.0)."""
    seen = {}
    for batch in batches:
        for step, timestamp, value in batch:
            canonical_value = math.nan if math.isnan(value) else value + 0.0
            seen[(step, timestamp, "nan" if math.isnan(value) else canonical_value)] = (
                step,
                timestamp,
                canonical_value,
            )
    return sorted(seen.values(), key=order_key)


def as_history(points: list[tuple[int, int, float]]) -> list[tuple]:
    return [(s, t, 0.0 if math.isnan(v) else v, math.isnan(v)) for s, t, v in points]


def test_pack_and_unpack_keep_every_bit():
    points = Points(
        np.array([-(2**63), 0, 2**63 - 1]),
        np.array([0, 5, 2**63 - 1]),
        np.array([math.nan, -math.inf, 1e-300]),
    )
    back = unpack(pack(points))
    assert back.steps.tolist() == points.steps.tolist()
    assert back.timestamps.tolist() == points.timestamps.tolist()
    assert back.values[1:].tolist() == [-math.inf, 1e-300] and math.isnan(back.values[0])
    assert len(pack(points)) == 3 * 24


def test_canonical_orders_and_drops_repeats_nan_and_negative_zero_included():
    points = Points(
        np.array([2, 1, 1, 1, 1, 1]),
        np.array([0, 9, 9, 9, 9, 3]),
        np.array([1.0, math.nan, 0.0, -0.0, float("nan"), 7.0]),
    )
    result = canonical(points)
    assert result.steps.tolist() == [1, 1, 1, 2]
    assert result.timestamps.tolist() == [3, 9, 9, 0]
    assert result.values[[0, 1, 3]].tolist() == [7.0, 0.0, 1.0]
    assert math.isnan(result.values[2])
    assert not np.signbit(result.values[1])


def test_points_logged_one_at_a_time_end_up_in_large_chunks(project, owner):
    run = new_run(project, owner)
    for step in range(600):
        services.log_batch(
            run=run, by=owner, metrics=[MetricIn("loss", 1.0 / (step + 1), step, step)]
        )

    sizes = list(
        MetricChunk.objects.filter(series__run=run)
        .order_by("first_step")
        .values_list("size", flat=True)
    )
    assert sum(sizes) == 600
    assert len(sizes) <= 3 and all(size <= CHUNK_MAX for size in sizes)
    assert [p[0] for p in selectors.metric_history(run=run, key="loss").items] == list(range(600))


def test_a_big_batch_is_split_into_chunks_of_at_most_the_maximum(project, owner):
    run = new_run(project, owner)
    metrics = [MetricIn("m", float(i), i, i) for i in range(3 * CHUNK_MAX + 5)]
    services.log_batch(run=run, by=owner, metrics=metrics)
    sizes = sorted(MetricChunk.objects.filter(series__run=run).values_list("size", flat=True))
    assert sizes == [5, CHUNK_MAX, CHUNK_MAX, CHUNK_MAX]


def test_late_points_fill_in_without_repeats_and_history_stays_in_order(project, owner):
    run = new_run(project, owner)
    services.log_batch(
        run=run, by=owner, metrics=[MetricIn("m", float(s), s, s) for s in range(0, 400, 2)]
    )
    # Odd steps come late, with half of the even ones again: only the odd ones are new.
    late = [MetricIn("m", float(s), s, s) for s in range(1, 400, 2)]
    late += [MetricIn("m", float(s), s, s) for s in range(0, 200, 2)]
    services.log_batch(run=run, by=owner, metrics=late)

    history = selectors.metric_history(run=run, key="m").items
    assert [p[0] for p in history] == list(range(400))
    assert stored_points(run) == 400 == MetricSeries.objects.get(run=run).point_count
    first = selectors.metric_history(run=run, key="m", limit=150)
    second = selectors.metric_history(run=run, key="m", after=first.items[-1], limit=300)
    assert first.more and not second.more
    assert first.items + second.items == history


def test_rollups_hold_each_blocks_extremes_of_the_stored_points(project, owner):
    run = new_run(project, owner)
    values = [math.sin(i / 7) * (1 + i % 11) for i in range(1000)]
    values[100] = math.nan
    values[200] = math.inf
    metrics = [MetricIn("m", v, i, i) for i, v in enumerate(values)]
    services.log_batch(run=run, by=owner, metrics=metrics[500:])
    services.log_batch(run=run, by=owner, metrics=metrics[:700])

    for rollup in MetricRollup.objects.filter(series__run=run):
        block = [
            (v, i)
            for i, v in enumerate(values)
            if i >> ROLLUP_SHIFT == rollup.bucket and math.isfinite(v)
        ]
        assert (rollup.min_value, rollup.min_step) == min(block)
        assert (rollup.max_value, rollup.max_step) == max(block, key=lambda c: (c[0], -c[1]))


batches = st.lists(
    st.lists(
        st.tuples(
            st.integers(-3, 40),
            st.integers(0, 3),
            st.sampled_from([0.0, -0.0, 1.5, -2.0, math.nan, math.inf, -math.inf, 3.25]),
        ),
        min_size=1,
        max_size=60,
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=batches, page=st.integers(1, 70))
def test_any_sequence_of_batches_stores_the_set_of_points_in_order(project, owner, batches, page):
    run = new_run(project, owner)
    for batch in batches:
        services.log_batch(run=run, by=owner, metrics=[MetricIn("m", v, t, s) for s, t, v in batch])
    expected = as_history(model_of(batches))

    history = selectors.metric_history(run=run, key="m").items
    assert [repr(p) for p in history] == [repr(p) for p in expected]
    paged, after, more = [], None, True
    while more:
        found = selectors.metric_history(run=run, key="m", after=after, limit=page)
        paged += found.items
        after, more = (found.items[-1] if found.items else None), found.more
    assert [repr(p) for p in paged] == [repr(p) for p in expected]

    stored = MetricSeries.objects.get(run=run)
    assert stored.point_count == len(expected) == stored_points(run)
    # The latest point is the greatest (step, timestamp, value), a NaN counting as 0.
    latest = max(p[:3] for p in expected)
    assert (stored.latest_step, stored.latest_timestamp, stored.latest_value) == latest
    assert stored.latest_is_nan is False or latest[2] == 0.0
    drawn = series.metric_series(run=run, key="m", max_points=10_000)
    assert drawn.steps == [p[0] for p in expected]


def test_columns_of_several_keys_go_to_their_own_series(project, owner):
    run = new_run(project, owner)
    columns = ingest.Columns(
        keys=["a", "b"],
        key=np.array([1, 0, 1, 0]),
        steps=np.array([1, 1, 0, 0]),
        timestamps=np.array([5, 5, 5, 5]),
        values=np.array([1.0, 2.0, 3.0, 4.0]),
    )
    assert ingest.write(run_pk=run.pk, columns=columns) == 4
    assert ingest.write(run_pk=run.pk, columns=columns) == 0
    assert [p[:3] for p in selectors.metric_history(run=run, key="a").items] == [
        (0, 5, 4.0),
        (1, 5, 2.0),
    ]
    assert [p[:3] for p in selectors.metric_history(run=run, key="b").items] == [
        (0, 5, 3.0),
        (1, 5, 1.0),
    ]
