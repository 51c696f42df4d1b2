"""Bulk metric uploads: columnar JSON, CSV and NDJSON turned into the ingest service's input.

Training jobs that log offline, or move a history over from another tracker, send a whole
metric log at once: hundreds of thousands of points, far past MLflow's 1000 a ``log-batch``.
This module reads such an upload and writes it through ``services.log_batch``, so the points
get MLflow's rules and the same PostgreSQL ``COPY`` path as every other write.

- **Streaming.** CSV and NDJSON are read from the request body line by line and handed on in
  chunks of :data:`CHUNK_POINTS`, so an upload of any size holds one chunk in memory.
  Columnar JSON is one document whose columns only line up at its end, so it is read whole;
  :data:`MAX_JSON_BYTES` caps it, and larger logs go as CSV or NDJSON.
- **All or nothing.** The chunks are written inside one transaction that holds the run's row
  lock: a bad point found late (line 900,001) still leaves nothing stored, and other writers
  of the run wait instead of interleaving.
- **Errors name the place and the rule**: the line (CSV, NDJSON; a CSV header is line 1) or
  the index (JSON) and the field, in the message, in ``fields`` and in ``details``.
- **Values** are numbers, or ``NaN``, ``Infinity`` and ``-Infinity``: strings in JSON (bare
  tokens are taken too), bare in CSV (in any case; ``inf`` too). Steps are 64-bit integers,
  timestamps non-negative 64-bit integers in milliseconds, as MLflow has them. Every field
  is required, so uploading the same log again stores nothing new.
"""

import codecs
import csv
import io
import itertools
import json
import math
import operator
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn

import numpy as np
import orjson
import pyarrow as pa
from django.db import transaction
from django.db.models import Sum
from pyarrow import csv as pa_csv
from pyarrow import json as pa_json

from experiments import ingest, services, validation
from experiments.models import MetricSeries, Run
from experiments.services import MetricIn, User
from mlprojects.exceptions import DomainError

CHUNK_POINTS = 50_000
MAX_JSON_BYTES = 32 * 2**20
MAX_KEYS = 10_000
FIELDS = ("key", "step", "timestamp", "value")

JSON = "application/json"
CSV = "text/csv"
NDJSON = "application/x-ndjson"

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_VALUE_RULE = "must be a number, NaN, Infinity or -Infinity"
_STEP_RULE = "must be a whole number from -2^63 to 2^63-1"
_TIMESTAMP_RULE = "must be a whole number of milliseconds from 0 to 2^63-1"


def _error(where: str, field: str, rule: str, *, got: Any = None, **details) -> DomainError:
    """One refusal: ``where`` is ``"line 7"`` or ``"value[12]"`` style, ``field`` the column."""
    shown = "" if got is None else f"; got {_show(got)}"
    return DomainError(
        "invalid",
        f"{where}: {field} {rule}{shown}.",
        fields={field: [f"{where}: {rule}"]},
        details={"field": field, **details},
    )


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= 60 else f"{text[:57]}…"


@dataclass(frozen=True, slots=True)
class Uploaded:
    """What an upload did: points read, points new to the run, distinct metric keys."""

    received: int
    stored: int
    series: int


class _Checker:
    """Checks each distinct key once, the first time it is seen, and keeps the set of keys.

    MLflow's key rules are the costly part of a point's checks; the rest of a point is
    checked inline by each parser with plain comparisons, since that runs a million times.
    """

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def key(self, key: Any, where: str, **details) -> None:
        """Check a key not seen before (or not a string at all) and remember it."""
        if not isinstance(key, str) or not key:
            raise _error(where, "key", "must be a non-empty string", got=key, **details)
        try:
            validation.check_metric_key(key)
        except DomainError as error:
            raise _error(where, "key", error.message.rstrip("."), **details) from None
        if len(self.keys) >= MAX_KEYS:
            rule = f"is one metric key too many: an upload holds at most {MAX_KEYS}"
            raise _error(where, "key", rule, **details)
        self.keys.add(key)


def _int_text(text: str, rule: str, field: str, where: str, low: int, **details) -> int:
    try:
        number = int(text)
    except ValueError:
        raise _error(where, field, rule, got=text, **details) from None
    if not low <= number <= validation.INT64_MAX:
        raise _error(where, field, rule, got=text, **details)
    return number


def _float_text(text: str, where: str, **details) -> float:
    try:
        return float(text)
    except ValueError:
        raise _error(where, "value", _VALUE_RULE, got=text, **details) from None


def _int_json(value: Any, rule: str, field: str, where: str, low: int, **details) -> int:
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or not low <= value <= validation.INT64_MAX:
        raise _error(where, field, rule, got=value, **details)
    return value


def _float_json(value: Any, where: str, **details) -> float:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise _error(where, "value", _VALUE_RULE, got=value, **details) from None
    if kind is str and value in _SPECIAL:
        return _SPECIAL[value]
    raise _error(where, "value", _VALUE_RULE, got=value, **details)


# --- Reading the body -------------------------------------------------------------------


class _Body(io.RawIOBase):
    """A request body (anything with ``read(n)``) as the raw stream text is decoded from.

    It counts the line breaks it hands out, so that a byte that is not UTF-8 is reported on
    its own line although the decoder works many lines ahead of the parser.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.breaks_before_last_read = 0
        self._breaks = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        self.breaks_before_last_read = self._breaks
        self._breaks += data.count(b"\n")
        return len(data)

    def line_of(self, error: UnicodeDecodeError) -> int:
        """The line of the byte ``error`` is about: the decoder raises while decoding what
        was read last (after at most a few bytes of an unfinished character, never a break)."""
        return self.breaks_before_last_read + error.object[: error.start].count(b"\n") + 1


def _text(body: _Body) -> io.TextIOWrapper:
    """The body as UTF-8 text, line endings kept (the csv module wants them); a leading
    byte-order mark, as spreadsheets write, is dropped."""
    return io.TextIOWrapper(body, encoding="utf-8-sig", newline="")


def _not_utf8(body: _Body, error: UnicodeDecodeError) -> DomainError:
    line = body.line_of(error)
    return _error(f"line {line}", "body", "must be UTF-8 text", line=line)


class _Chunker:
    """The list that points gather in until :data:`CHUNK_POINTS` of them are handed on."""

    def __init__(self) -> None:
        self.chunk: list[MetricIn] = []

    def take(self) -> list[MetricIn]:
        chunk, self.chunk = self.chunk, []
        return chunk


# --- CSV --------------------------------------------------------------------------------


def _csv_header(reader) -> tuple[int, int, int, int]:
    """Where key, step, timestamp and value are in each row."""
    header = next(reader, None)
    names = [name.strip().lower() for name in header or []]
    missing = [name for name in FIELDS if name not in names]
    unknown = [name for name in names if name not in FIELDS]
    if missing or unknown or len(names) != len(FIELDS):
        rule = f"must name the columns {', '.join(FIELDS)} once each, in any order"
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        if problems:
            rule = f"{rule} ({'; '.join(problems)})"
        raise _error("line 1", "header", rule, line=1)
    at_key, at_step, at_timestamp, at_value = (names.index(name) for name in FIELDS)
    return at_key, at_step, at_timestamp, at_value


def _csv_refuse(line: int, step: str, timestamp: str, value: str) -> NoReturn:
    """Raise the first rule that a row which failed the fast path breaks, in column order."""
    where = f"line {line}"
    _float_text(value, where, line=line)
    _int_text(timestamp, _TIMESTAMP_RULE, "timestamp", where, 0, line=line)
    _int_text(step, _STEP_RULE, "step", where, validation.INT64_MIN, line=line)
    raise _error(where, "row", "is not a valid point", line=line)


def _csv_chunks(source: BinaryIO, checker: _Checker) -> Iterator[list[MetricIn]]:
    body = _Body(source)
    reader = csv.reader(_text(body), strict=True)
    # The last line of the last record read: a record that is not valid CSV is reported
    # where it starts, as an unclosed quote runs on to the end of the body.
    done = 0
    try:
        pick = operator.itemgetter(*_csv_header(reader))
        done = reader.line_num
        check_key, keys = checker.key, checker.keys
        low, high = validation.INT64_MIN, validation.INT64_MAX
        new = tuple.__new__
        chunker = _Chunker()
        append = chunker.chunk.append
        for row in reader:
            done = reader.line_num
            if len(row) != 4:
                if not row:
                    continue  # a blank line, as editors leave at the end
                raise _error(
                    f"line {reader.line_num}",
                    "row",
                    "must have 4 fields, as the header names them",
                    got=len(row),
                    line=reader.line_num,
                )
            key, step, timestamp, value = pick(row)
            if key not in keys:
                check_key(key, f"line {reader.line_num}", line=reader.line_num)
            try:
                point = new(MetricIn, (key, float(value), int(timestamp), int(step)))
            except ValueError:
                point = None
            if point is None or not (0 <= point[2] <= high and low <= point[3] <= high):
                _csv_refuse(reader.line_num, step, timestamp, value)
            append(point)
            if len(chunker.chunk) == CHUNK_POINTS:
                yield chunker.take()
                append = chunker.chunk.append
    except csv.Error as error:
        line = done + 1
        raise _error(f"line {line}", "row", f"is not valid CSV ({error})", line=line) from None
    except UnicodeDecodeError as error:
        raise _not_utf8(body, error) from None
    if chunker.chunk:
        yield chunker.take()


# --- NDJSON -----------------------------------------------------------------------------


_LINE_ENDS = frozenset({"", "\n", "\r\n", "\r"})


def _ndjson_slow(text: str, line: int) -> dict | None:
    """A line the fast path did not take: ``None`` when blank, the point's object when it
    is one after all (with spaces around it, say), or the refusal that says why not."""
    if not text.strip():
        return None
    where = f"line {line}"
    try:
        item = json.loads(text)
    except ValueError as error:
        raise _error(where, "line", f"is not valid JSON ({error})", line=line) from None
    if type(item) is not dict or len(item) != len(FIELDS) or any(f not in item for f in FIELDS):
        rule = f"must be one JSON object with exactly the fields {', '.join(FIELDS)}"
        got = sorted(item) if type(item) is dict else item
        raise _error(where, "line", rule, got=got, line=line)
    return item


def _ndjson_chunks(source: BinaryIO, checker: _Checker) -> Iterator[list[MetricIn]]:
    body = _Body(source)
    # The C scanner without json.loads' wrapping: a third of the cost a line.
    scan = json.JSONDecoder().scan_once
    check_key, keys = checker.key, checker.keys
    low, high = validation.INT64_MIN, validation.INT64_MAX
    new = tuple.__new__
    chunker = _Chunker()
    append = chunker.chunk.append
    try:
        for line, text in enumerate(_text(body), start=1):
            try:
                item, end = scan(text, 0)
            except (StopIteration, ValueError):
                item, end = None, 0
            if type(item) is not dict or len(item) != 4 or text[end:] not in _LINE_ENDS:
                item = _ndjson_slow(text, line)
                if item is None:
                    continue
            try:
                key, step = item["key"], item["step"]
                timestamp, value = item["timestamp"], item["value"]
            except KeyError:
                _ndjson_slow(text, line)
                raise
            if type(key) is not str or key not in keys:
                check_key(key, f"line {line}", line=line)
            if (
                type(value) is not float
                or type(step) is not int
                or type(timestamp) is not int
                or not (0 <= timestamp <= high and low <= step <= high)
            ):
                where = f"line {line}"
                value = _float_json(value, where, line=line)
                timestamp = _int_json(timestamp, _TIMESTAMP_RULE, "timestamp", where, 0, line=line)
                step = _int_json(step, _STEP_RULE, "step", where, low, line=line)
            append(new(MetricIn, (key, value, timestamp, step)))
            if len(chunker.chunk) == CHUNK_POINTS:
                yield chunker.take()
                append = chunker.chunk.append
    except UnicodeDecodeError as error:
        raise _not_utf8(body, error) from None
    if chunker.chunk:
        yield chunker.take()


# --- Columnar JSON ----------------------------------------------------------------------


def _json_columns(body: BinaryIO) -> tuple[Any, list, list, list]:
    """The document's key (one string or a column) and its step, timestamp, value columns."""
    data = body.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise _error(
            "body",
            "body",
            f"must be at most {MAX_JSON_BYTES} bytes as columnar JSON; send larger uploads "
            "as CSV or NDJSON, which stream",
        )
    try:
        document = json.loads(codecs.decode(data, "utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        raise _error("body", "body", f"must be valid JSON in UTF-8 ({error})") from None
    if type(document) is not dict:
        raise _error(
            "body", "body", "must be a JSON object of columns", got=type(document).__name__
        )
    unknown = sorted(set(document) - set(FIELDS))
    if unknown:
        raise _error("body", unknown[0], f"is not a column; the columns are {', '.join(FIELDS)}")
    for name in FIELDS:
        if name not in document:
            raise _error("body", name, "is required")
    key = document["key"]
    columns = {name: document[name] for name in ("step", "timestamp", "value")}
    if type(key) is list:
        columns["key"] = key
    elif type(key) is not str:
        raise _error("key", "key", "must be a string or an array of strings", got=key)
    length = len(columns["step"]) if type(columns["step"]) is list else 0
    for name, column in columns.items():
        if type(column) is not list:
            raise _error(name, name, "must be an array", got=type(column).__name__)
        if len(column) != length:
            rule = f"must have as many items as step ({length})"
            raise _error(name, name, rule, got=len(column))
    return key, columns["step"], columns["timestamp"], columns["value"]


def _json_chunks(body: BinaryIO, checker: _Checker) -> Iterator[list[MetricIn]]:
    keys, steps, timestamps, values = _json_columns(body)
    check_key, seen = checker.key, checker.keys
    if type(keys) is str:
        check_key(keys, "key")
        keys = itertools.repeat(keys, len(steps))
    low, high = validation.INT64_MIN, validation.INT64_MAX
    new = tuple.__new__
    chunker = _Chunker()
    append = chunker.chunk.append
    rows = zip(keys, steps, timestamps, values, strict=True)
    for index, (key, step, timestamp, value) in enumerate(rows):
        if type(key) is not str or key not in seen:
            check_key(key, f"key[{index}]", index=index)
        if (
            type(value) is not float
            or type(step) is not int
            or type(timestamp) is not int
            or not (0 <= timestamp <= high and low <= step <= high)
        ):
            value = _float_json(value, f"value[{index}]", index=index)
            timestamp = _int_json(
                timestamp, _TIMESTAMP_RULE, "timestamp", f"timestamp[{index}]", 0, index=index
            )
            step = _int_json(step, _STEP_RULE, "step", f"step[{index}]", low, index=index)
        append(new(MetricIn, (key, value, timestamp, step)))
        if len(chunker.chunk) == CHUNK_POINTS:
            yield chunker.take()
            append = chunker.chunk.append
    if chunker.chunk:
        yield chunker.take()


Parser = Callable[[BinaryIO, _Checker], Iterator[list[MetricIn]]]
PARSERS: dict[str, Parser] = {JSON: _json_chunks, CSV: _csv_chunks, NDJSON: _ndjson_chunks}


def parse(*, media_type: str, body: BinaryIO) -> tuple[Iterator[list[MetricIn]], set[str]]:
    """The upload's points in chunks, checked as they are read, and the set of its keys (full
    once the chunks are consumed). ``media_type`` is one of :data:`PARSERS`."""
    checker = _Checker()
    return PARSERS[media_type](body, checker), checker.keys


# --- The fast path ----------------------------------------------------------------------
#
# A regular upload is read by pyarrow (CSV, NDJSON) or orjson (columnar JSON) into arrays,
# checked with numpy and stored as arrays: no Python object per point. The fast path never
# explains a refusal: whatever it does not take (a malformed line, a value out of range, a
# form only Python's parsers accept, such as ``1_000``) sends the whole upload to the exact
# parsers above, which either take it too or say where and why it is wrong.


class _Irregular(Exception):
    """The fast path declines the upload; the exact parsers read it again."""


_ARROW_TYPES = {"key": pa.string(), "step": pa.int64(), "timestamp": pa.int64()}
_ARROW_TYPES["value"] = pa.float64()
_BLOCK_BYTES = 8 * 2**20


def _columns(table: "pa.Table | pa.RecordBatch") -> ingest.Columns:
    if any(column.null_count for column in table.columns):
        raise _Irregular
    keys = table.column("key")
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    encoded = keys.dictionary_encode()

    def numbers(name: str) -> np.ndarray:
        return table.column(name).to_numpy()

    return ingest.Columns(
        keys=encoded.dictionary.to_pylist(),
        key=encoded.indices.to_numpy(),
        steps=numbers("step"),
        timestamps=numbers("timestamp"),
        values=numbers("value"),
    )


def _fast_csv(body: BinaryIO) -> Iterator[ingest.Columns]:
    try:
        first = codecs.decode(body.readline(), "utf-8-sig")
        names = [name.strip().lower() for name in next(csv.reader([first]), [])]
    except (UnicodeDecodeError, csv.Error):
        raise _Irregular from None
    if sorted(names) != sorted(FIELDS):
        raise _Irregular
    body.seek(0)
    reader = pa_csv.open_csv(
        body,
        read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names, block_size=_BLOCK_BYTES),
        convert_options=pa_csv.ConvertOptions(
            column_types=_ARROW_TYPES,
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    for batch in reader:
        yield _columns(batch)


def _fast_ndjson(body: BinaryIO) -> Iterator[ingest.Columns]:
    schema = pa.schema(list(_ARROW_TYPES.items()))
    reader = pa_json.open_json(
        body,
        read_options=pa_json.ReadOptions(block_size=_BLOCK_BYTES),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="error"
        ),
    )
    for batch in reader:
        columns = _columns(batch)
        # pyarrow reads a number too large for a double as infinity, the exact path refuses
        # it: infinities (rare, and spelt "Infinity" in JSON) go the exact way.
        if np.isinf(columns.values).any():
            raise _Irregular
        yield columns


def _fast_json(body: BinaryIO) -> Iterator[ingest.Columns]:
    data = body.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise _Irregular
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise _Irregular from None  # NaN tokens or a byte-order mark: the exact path
    if type(document) is not dict or sorted(document) != sorted(FIELDS):
        raise _Irregular
    key, steps, timestamps, values = (document[name] for name in FIELDS)
    columns = (steps, timestamps, values)
    if any(type(column) is not list for column in columns):
        raise _Irregular
    if len({len(column) for column in columns}) != 1:
        raise _Irregular
    # numpy would take booleans and numeric strings as numbers: check the types first.
    if not all(type(n) is int for n in steps) or not all(type(n) is int for n in timestamps):
        raise _Irregular
    if not all(type(v) is float or type(v) is int for v in values):
        raise _Irregular
    if type(key) is str:
        keys, codes = [key], np.zeros(len(steps), dtype=np.intp)
    elif type(key) is list and len(key) == len(steps) and all(type(k) is str for k in key):
        keys, codes = np.unique(np.array(key, dtype=object), return_inverse=True)
        keys = keys.tolist()
    else:
        raise _Irregular
    try:
        yield ingest.Columns(
            keys=keys,
            key=codes,
            steps=np.array(steps, dtype=np.int64),
            timestamps=np.array(timestamps, dtype=np.int64),
            values=np.array(values, dtype=np.float64),
        )
    except OverflowError:
        raise _Irregular from None


FAST: dict[str, Callable[[BinaryIO], Iterator[ingest.Columns]]] = {
    JSON: _fast_json,
    CSV: _fast_csv,
    NDJSON: _fast_ndjson,
}


def _log_fast(run: Run, by: User | None, media_type: str, body: BinaryIO) -> tuple[int, int]:
    """Points received and distinct keys, or :class:`_Irregular`."""
    received, keys = 0, set()
    try:
        for columns in FAST[media_type](body):
            keys.update(columns.keys)
            if len(keys) > MAX_KEYS:
                raise _Irregular
            services.log_columns(run=run, by=by, columns=columns)
            received += len(columns)
    except (pa.ArrowException, DomainError, ValueError, OverflowError):
        raise _Irregular from None
    return received, len(keys)


def _log_exact(run: Run, by: User | None, media_type: str, body: BinaryIO) -> tuple[int, int]:
    chunks, keys = parse(media_type=media_type, body=body)
    received = 0
    for chunk in chunks:
        services.log_batch(run=run, by=by, metrics=chunk)
        received += len(chunk)
    return received, len(keys)


def _spool(body: BinaryIO) -> BinaryIO:
    """The body in a file that can be read twice: in memory up to 64 MiB, then on disk."""
    spool = tempfile.SpooledTemporaryFile(max_size=64 * 2**20)  # noqa: SIM115  (returned)
    shutil.copyfileobj(body, spool, 2**20)
    spool.seek(0)
    return spool


# --- Writing ----------------------------------------------------------------------------


@transaction.atomic
def log_upload(*, run: Run, by: User | None, media_type: str, body: BinaryIO) -> Uploaded:
    """Store a bulk upload to ``run``, all or nothing; see the module's docstring.

    The fast path goes first, inside a savepoint; if it declines, what it wrote is rolled
    back and the exact parsers read the upload again, chunk by chunk through
    ``services.log_batch``. Either way the points get MLflow's rules and the run stays
    locked throughout, so the new points, counted from the series' point counts, are exact.
    """
    run = Run.objects.select_for_update(no_key=True).get(pk=run.pk)
    before = _points_of(run)
    with _spool(body) as spool:
        try:
            with transaction.atomic():
                received, series = _log_fast(run, by, media_type, spool)
        except _Irregular:
            spool.seek(0)
            received, series = _log_exact(run, by, media_type, spool)
    if not received:
        raise DomainError("invalid", "The upload holds no points.", fields={"body": ["empty"]})
    return Uploaded(received=received, stored=_points_of(run) - before, series=series)


def _points_of(run: Run) -> int:
    return MetricSeries.objects.filter(run=run).aggregate(n=Sum("point_count"))["n"] or 0
