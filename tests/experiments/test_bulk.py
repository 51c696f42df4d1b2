"""Bulk metric uploads through ``experiments.bulk``: the three formats, NaN and infinities,
errors that name the line and the rule, all or nothing, idempotence, and memory that stays
bounded however large the upload."""

import io
import json
import math
import tracemalloc

import pytest

from experiments import bulk, selectors, services
from experiments.models import MetricSeries
from experiments.services import MetricIn
from mlprojects.exceptions import DomainError
from tests.experiments.helpers import experiment_and_run, stored_points
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

T0 = 1_700_000_000_000
POINTS = [
    ("loss", 0, T0, 0.9),
    ("loss", 1, T0 + 10, math.nan),
    ("loss", 2, T0 + 20, 0.4),
    ("val_auc", 0, T0, math.inf),
    ("val_auc", 1, T0 + 10, -math.inf),
    ("val_auc", 2, T0 + 20, 0.8),
]


def spelled(value: float) -> object:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def as_csv(points) -> bytes:
    lines = ["key,step,timestamp,value"]
    lines += [f"{k},{s},{t},{spelled(v)}" for k, s, t, v in points]
    return ("\n".join(lines) + "\n").encode()


def as_ndjson(points) -> bytes:
    return "".join(
        json.dumps({"key": k, "step": s, "timestamp": t, "value": spelled(v)}) + "\n"
        for k, s, t, v in points
    ).encode()


def as_columns(points) -> bytes:
    return json.dumps(
        {
            "key": [p[0] for p in points],
            "step": [p[1] for p in points],
            "timestamp": [p[2] for p in points],
            "value": [spelled(p[3]) for p in points],
        }
    ).encode()


ENCODERS = {bulk.CSV: as_csv, bulk.NDJSON: as_ndjson, bulk.JSON: as_columns}


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def run(owner):
    return experiment_and_run(make_project(owner=owner), by=owner)[1]


def upload(run, media_type: str, body: bytes, by=None) -> bulk.Uploaded:
    return bulk.log_upload(run=run, by=by, media_type=media_type, body=io.BytesIO(body))


def stored(run) -> list[tuple]:
    """Every point of the run as (key, step, timestamp, value), NaN as the string."""
    found = []
    for series in MetricSeries.objects.filter(run=run).order_by("key"):
        for step, timestamp, value, is_nan in selectors.metric_history(
            run=run, key=series.key
        ).items:
            found.append((series.key, step, timestamp, "NaN" if is_nan else value))
    return found


def expected(points) -> list[tuple]:
    return sorted((k, s, t, "NaN" if math.isnan(v) else v) for k, s, t, v in points)


def refusal(run, media_type: str, body: bytes) -> DomainError:
    with pytest.raises(DomainError) as caught:
        upload(run, media_type, body)
    assert caught.value.code == "invalid"
    return caught.value


# --- Formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", ENCODERS)
def test_each_format_stores_every_point_nan_and_infinities_included(run, media_type):
    result = upload(run, media_type, ENCODERS[media_type](POINTS))

    assert result == bulk.Uploaded(received=6, stored=6, series=2)
    assert stored(run) == expected(POINTS)
    loss = MetricSeries.objects.get(run=run, key="loss")
    assert (loss.latest_step, loss.latest_value, loss.point_count) == (2, 0.4, 3)


@pytest.mark.parametrize("media_type", ENCODERS)
def test_a_regular_upload_takes_the_fast_path(run, media_type, monkeypatch):
    """Finite numbers in each format are read as arrays, never point by point."""
    finite = [(k, s, t, float(i)) for i, (k, s, t, _) in enumerate(POINTS)]
    paths = []
    monkeypatch.setattr(services, "log_batch", lambda **kwargs: paths.append("exact"))
    log_columns = services.log_columns
    monkeypatch.setattr(
        services, "log_columns", lambda **kw: paths.append("fast") or log_columns(**kw)
    )

    result = upload(run, media_type, ENCODERS[media_type](finite))

    assert paths == ["fast"]
    assert result == bulk.Uploaded(received=6, stored=6, series=2)
    assert stored(run) == expected(finite)


def test_columnar_json_takes_one_key_for_every_point(run):
    body = {"key": "loss", "step": [0, 1], "timestamp": [T0, T0 + 1], "value": [1, "NaN"]}

    result = upload(run, bulk.JSON, json.dumps(body).encode())

    assert result == bulk.Uploaded(received=2, stored=2, series=1)
    assert stored(run) == [("loss", 0, T0, 1.0), ("loss", 1, T0 + 1, "NaN")]


def test_csv_columns_come_in_any_order_with_bare_special_values(run):
    body = b"\xef\xbb\xbfValue,KEY,timestamp,step\r\nnan,loss,5,1\r\n-inf,loss,6,2\r\n\r\n"

    assert upload(run, bulk.CSV, body).received == 2
    assert stored(run) == [("loss", 1, 5, "NaN"), ("loss", 2, 6, -math.inf)]


@pytest.mark.parametrize(
    ("cell", "value"),
    [("inf", math.inf), ("+Infinity", math.inf), (" -INF", -math.inf), ("-infinity", -math.inf)],
)
def test_a_csv_cell_spells_an_infinity_in_pythons_words(run, cell, value):
    """``validation.csv_spells_infinity``: looser than the exact strings JSON carries."""
    upload(run, bulk.CSV, f"key,step,timestamp,value\nloss,1,5,{cell}\n".encode())

    assert stored(run) == [("loss", 1, 5, value)]


@pytest.mark.parametrize(
    ("media_type", "body", "words"),
    [
        (bulk.CSV, b"key,step,timestamp,value\nloss,1,5,1e400\n", "within the range of a double"),
        (bulk.CSV, b"key,step,timestamp,value\nloss,1,5,infinite\n", "must be a number, NaN"),
        (
            bulk.NDJSON,
            b'{"key": "loss", "step": 1, "timestamp": 5, "value": "inf"}\n',
            "must be a number, NaN",
        ),
        (
            bulk.NDJSON,
            b'{"key": "loss", "step": 1, "timestamp": 5, "value": "infinity"}\n',
            "must be a number, NaN",
        ),
    ],
)
def test_only_the_words_of_a_format_say_infinity(run, media_type, body, words):
    """A CSV number too large for a double is refused, not read as an infinity; JSON takes
    only MLflow's exact strings (``validation.SPECIAL_DOUBLES``), not CSV's bare words."""
    error = refusal(run, media_type, body)

    assert words in error.message
    assert not MetricSeries.objects.filter(run=run).exists()


def test_ndjson_skips_blank_lines_and_takes_bare_constants(run):
    body = b'\n{"key": "a", "step": 1, "timestamp": 2, "value": NaN}\n  \n' + (
        b' {"value": -Infinity, "timestamp": 3, "step": 2, "key": "a"} \n'
    )

    assert upload(run, bulk.NDJSON, body).received == 2
    assert stored(run) == [("a", 1, 2, "NaN"), ("a", 2, 3, -math.inf)]


def test_whole_number_floats_count_as_integers_in_json(run):
    body = {"key": "loss", "step": [3.0], "timestamp": [1.7e12], "value": [5]}

    upload(run, bulk.JSON, json.dumps(body).encode())

    assert stored(run) == [("loss", 3, 1_700_000_000_000, 5.0)]


# --- Errors name the place, the field and the rule --------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("loss,1,5,abc", "value", "must be a number, NaN, Infinity or -Infinity; got 'abc'"),
        ("loss,1.5,5,1", "step", "must be a whole number"),
        ("loss,,5,1", "step", "must be a whole number"),
        ("loss,1,-5,1", "timestamp", "must be a whole number of milliseconds from 0"),
        ("loss,1,9223372036854775808,1", "timestamp", "from 0 to 2^63-1"),
        ("loss,-9223372036854775809,5,1", "step", "from -2^63"),
        ("../loss,1,5,1", "key", "must not resolve to other names"),
        ("bad key!,1,5,1", "key", "Names may only contain"),
        (",1,5,1", "key", "must be a non-empty string"),
        ("loss,1,5", "row", "must have 4 fields"),
        ('loss,1,5,"1', "row", "is not valid CSV"),
    ],
)
def test_a_bad_csv_row_is_refused_naming_its_line_and_field(run, row, field, words):
    body = f"key,step,timestamp,value\nloss,0,5,1\n{row}\nloss,2,5,1\n".encode()

    error = refusal(run, bulk.CSV, body)

    assert error.message.startswith(f"line 3: {field} "), error.message
    assert words in error.message
    assert list(error.fields) == [field]
    assert error.fields[field][0].startswith("line 3: ")
    assert error.details == {"field": field, "line": 3}
    assert not MetricSeries.objects.filter(run=run).exists()


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("key,step,value", "missing timestamp"),
        ("key,step,timestamp,value,extra", "unknown extra"),
        ("key,step,step,value", "missing timestamp"),
        ("", "must name the columns key, step, timestamp, value"),
    ],
)
def test_a_csv_header_must_name_the_four_columns(run, header, words):
    error = refusal(run, bulk.CSV, f"{header}\nloss,0,5,1\n".encode())

    assert error.message.startswith("line 1: header must name the columns")
    assert words in error.message


@pytest.mark.parametrize("media_type", [bulk.CSV, bulk.NDJSON])
def test_a_byte_that_is_not_utf8_is_refused_on_its_own_line(run, media_type):
    """The decoder reads far ahead of the parser; the line named is still the byte's."""
    points = [("loss", i, T0, 1.0) for i in range(3000)]
    lines = ENCODERS[media_type](points).splitlines(keepends=True)
    lines[2500] = lines[2500].replace(b"loss", b"lo\xffss")

    error = refusal(run, media_type, b"".join(lines))

    assert error.message == "line 2501: body must be UTF-8 text.", error.message


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('{"key": "loss", "step": 1, "timestamp": 5', "line", "is not valid JSON"),
        ('["loss", 1, 5, 1]', "line", "exactly the fields key, step, timestamp, value"),
        ('{"key": "loss", "step": 1, "timestamp": 5}', "line", "exactly the fields"),
        ('{"key": "loss", "step": 1, "timestamp": 5, "val": 1}', "line", 'got ["key"'),
        ('{"key": "loss", "step": 1, "timestamp": 5, "value": true}', "value", "got true"),
        ('{"key": "loss", "step": 1, "timestamp": 5, "value": "nan"}', "value", "got 'nan'"),
        ('{"key": "loss", "step": "1", "timestamp": 5, "value": 1}', "step", "whole number"),
        ('{"key": 7, "step": 1, "timestamp": 5, "value": 1}', "key", "non-empty string"),
        ('{"key": ["a"], "step": 1, "timestamp": 5, "value": 1}', "key", "non-empty string"),
        ('{"key": "loss", "step": 1, "timestamp": 5, "value": 1' + "0" * 400 + "}", "value", "got"),
        ('{"key": "loss", "step": 1, "timestamp": 5, "value": 1} x', "line", "valid JSON"),
    ],
)
def test_a_bad_ndjson_line_is_refused_naming_its_line(run, line, field, words):
    good = '{"key": "loss", "step": 0, "timestamp": 5, "value": 1}'
    body = f"{good}\n\n{line}\n{good}\n".encode()

    error = refusal(run, bulk.NDJSON, body)

    assert error.message.startswith(f"line 3: {field} "), error.message
    assert words in error.message
    assert error.details == {"field": field, "line": 3}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"key": "a", "step": [1, 2], "timestamp": [1], "value": [1, 2]}, "timestamp", "as many"),
        ({"key": ["a"], "step": [1, 2], "timestamp": [1, 2], "value": [1, 2]}, "key", "as many"),
        ({"key": "a", "step": [1], "timestamp": [1], "value": [1], "x": []}, "x", "not a column"),
        ({"key": "a", "step": [1], "timestamp": [1]}, "value", "is required"),
        ({"key": 5, "step": [1], "timestamp": [1], "value": [1]}, "key", "a string or an array"),
        ({"key": [["a"]], "step": [1], "timestamp": [1], "value": [1]}, "key", "key[0]"),
        ({"key": "a", "step": 1, "timestamp": [1], "value": [1]}, "step", "must be an array"),
        ({"key": "a", "step": [0, 1], "timestamp": [1, 1], "value": [1, "x"]}, "value", "[1]"),
        ({"key": "a", "step": [0, True], "timestamp": [1, 1], "value": [1, 2]}, "step", "[1]"),
        (
            {"key": ["a", "b/../c"], "step": [0, 1], "timestamp": [1, 1], "value": [1, 2]},
            "key",
            "[1]",
        ),
    ],
)
def test_a_bad_column_is_refused_naming_the_column_and_index(run, body, field, words):
    error = refusal(run, bulk.JSON, json.dumps(body).encode())

    assert field in error.fields, error.fields
    assert words in error.message, error.message


@pytest.mark.parametrize("body", [b"", b"[1, 2]", b"{nope", b"\xff\xfe"])
def test_a_body_that_is_no_json_object_is_refused(run, body):
    error = refusal(run, bulk.JSON, body)

    assert list(error.fields) == ["body"]


def test_columnar_json_past_its_cap_is_refused_pointing_at_the_streaming_formats(run, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_JSON_BYTES", 100)
    body = as_columns([("loss", i, T0, 1.0) for i in range(20)])

    error = refusal(run, bulk.JSON, body)

    assert "at most 100 bytes" in error.message
    assert "CSV or NDJSON" in error.message


@pytest.mark.parametrize("media_type", ENCODERS)
def test_an_upload_without_points_is_refused(run, media_type):
    body = b"key,step,timestamp,value\n" if media_type == bulk.CSV else b""
    if media_type == bulk.JSON:
        body = b'{"key": "a", "step": [], "timestamp": [], "value": []}'

    error = refusal(run, media_type, body)

    assert error.message == "The upload holds no points."


def test_too_many_distinct_keys_are_refused(run, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_KEYS", 3)
    points = [(f"k{i}", 0, T0, 1.0) for i in range(4)]

    error = refusal(run, bulk.CSV, as_csv(points))

    assert error.message.startswith("line 5: key is one metric key too many")


def test_a_deleted_run_takes_no_upload(run, owner):
    services.run_delete(run=run, by=owner)

    error = refusal(run, bulk.CSV, as_csv(POINTS))

    assert "must be in the 'active' state" in error.message


# --- All or nothing, and idempotent -----------------------------------------------------


@pytest.mark.parametrize("media_type", [bulk.CSV, bulk.NDJSON, bulk.JSON])
def test_a_bad_point_after_several_written_chunks_leaves_nothing(run, monkeypatch, media_type):
    services.log_batch(run=run, by=None, metrics=[MetricIn("loss", 7.0, T0, 0)])
    monkeypatch.setattr(bulk, "CHUNK_POINTS", 10)
    written = []
    log_batch = services.log_batch
    monkeypatch.setattr(
        services, "log_batch", lambda **kw: (written.append(len(kw["metrics"])), log_batch(**kw))
    )
    points = [("loss", i, T0 + i, float(i)) for i in range(1, 36)]
    points.insert(30, ("loss", 99, -1, 1.0))

    refusal(run, media_type, ENCODERS[media_type](points))

    assert written == [10, 10, 10]  # three chunks went to the database before the bad point
    assert stored(run) == [("loss", 0, T0, 7.0)]
    series = MetricSeries.objects.get(run=run)
    assert (series.latest_step, series.point_count) == (0, 1)


@pytest.mark.parametrize("media_type", ENCODERS)
def test_uploading_the_same_points_again_stores_nothing_new(run, media_type):
    body = ENCODERS[media_type](POINTS)
    first = upload(run, media_type, body)

    again = upload(run, media_type, body)
    more = upload(run, media_type, ENCODERS[media_type]([*POINTS, ("loss", 3, T0, 0.1)]))

    assert (first.stored, again.stored, more.stored) == (6, 0, 1)
    assert (again.received, more.received) == (6, 7)
    assert stored_points(run) == 7


# --- Large uploads ----------------------------------------------------------------------


def large_csv(n: int, last_value: str | None = None) -> bytes:
    lines = [f"loss,{i},{T0 + i},{math.sin(i / 100)!r}\n" for i in range(n)]
    if last_value is not None:
        lines[-1] = f"loss,{n - 1},{T0 + n - 1},{last_value}\n"
    return ("key,step,timestamp,value\n" + "".join(lines)).encode()


def test_a_large_upload_is_read_and_written_a_block_at_a_time(run, monkeypatch):
    """200,000 points: the fast path writes each block of the body as arrays as soon as it
    is read, and the memory Python objects take stays far below a point each."""
    n = 200_000
    body = large_csv(n)
    monkeypatch.setattr(bulk.fast, "_BLOCK_BYTES", len(body) // 4 + 1)
    written = []
    log_columns = services.log_columns

    def spy(**kwargs):
        written.append(len(kwargs["columns"]))
        return log_columns(**kwargs)

    monkeypatch.setattr(services, "log_columns", spy)
    tracemalloc.start()
    try:
        result = bulk.log_upload(run=run, by=None, media_type=bulk.CSV, body=io.BytesIO(body))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result == bulk.Uploaded(received=n, stored=n, series=1)
    assert len(written) >= 4 and sum(written) == n
    # All 200,000 points as Python objects would take well over 60 MB.
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert MetricSeries.objects.get(run=run).point_count == n == stored_points(run)


def test_an_upload_the_fast_path_declines_late_is_stored_once_by_the_exact_parser(run):
    """``1_0`` is a number to Python, not to pyarrow: the fast path has written the first
    blocks when it meets it on the last line, so it rolls them back and the exact parser
    stores the upload, in chunks, each point once."""
    n = 120_000
    written = []
    log_batch = services.log_batch

    def spy(**kwargs):
        written.append(len(kwargs["metrics"]))
        return log_batch(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk.fast, "_BLOCK_BYTES", 2**20)
        patch.setattr(services, "log_batch", spy)
        result = bulk.log_upload(
            run=run, by=None, media_type=bulk.CSV, body=io.BytesIO(large_csv(n, "1_0"))
        )

    assert result == bulk.Uploaded(received=n, stored=n, series=1)
    assert written == [bulk.CHUNK_POINTS, bulk.CHUNK_POINTS, n - 2 * bulk.CHUNK_POINTS]
    assert stored_points(run) == n
    assert selectors.metric_history(run=run, key="loss").items[-1][:3] == (n - 1, T0 + n - 1, 10.0)
