"""The exact path: line-by-line readers that either take an upload or name its first bad point.

Whatever the fast path declines comes here. Each reader yields the upload's points one at a
time, checked as they are read, and :func:`chunked` groups them for ``services.log_batch``:
the one place points are gathered, so none can be left behind in a half-filled list.
"""

import codecs
import csv
import io
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, NoReturn, TypeVar

from experiments import services, validation
from experiments.bulk.formats import CSV, FIELDS, JSON, NDJSON
from experiments.models import Run
from experiments.services import MetricIn, User
from mlprojects.exceptions import DomainError
from mlprojects.jsonbodies import TooDeep, check_depth

_VALUE_RULE = "must be a number, NaN, Infinity or -Infinity"
# A number too large for a double is refused, not stored as an infinity: only the words say
# infinity (``validation.csv_spells_infinity``).
_RANGE_RULE = "must be a number within the range of a double (an infinity is spelt Infinity)"
_INFINITIES = (math.inf, -math.inf)
_MAX_DOUBLE = 1.7976931348623157e308
# JSON's bare NaN and Infinity tokens read as the strings MLflow writes for them, so that an
# infinity in a parsed document can only be a number that overflowed.
_DECODER = json.JSONDecoder(parse_constant=str)
_STEP_RULE = "must be a whole number from -2^63 to 2^63-1"
_TIMESTAMP_RULE = "must be a whole number of milliseconds from 0 to 2^63-1"

_LOW, _HIGH = validation.INT64_MIN, validation.INT64_MAX

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), each item in exactly one list.

    A reader's error surfaces while the list it would have joined is being filled, so every
    list handed on holds only items that were read before it; nothing is lost at a boundary.
    """
    if size < 1:
        raise ValueError(f"chunks hold at least one item; got size {size}")
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk


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


class Checker:
    """Checks each distinct key once, the first time it is seen, and keeps the set of keys.

    MLflow's key rules are the costly part of a point's checks; the rest of a point is
    checked inline by each reader with plain comparisons, since that runs a million times.
    It also carries the upload's limits, which the caller reads when the upload starts.
    """

    def __init__(self, *, max_keys: int, max_json_bytes: int) -> None:
        self.keys: set[str] = set()
        self.max_keys = max_keys
        self.max_json_bytes = max_json_bytes

    def key(self, key: Any, where: str, **details) -> None:
        """Check a key not seen before (or not a string at all) and remember it."""
        if not isinstance(key, str) or not key:
            raise _error(where, "key", "must be a non-empty string", got=key, **details)
        try:
            validation.check_metric_key(key)
        except DomainError as error:
            raise _error(where, "key", error.message.rstrip("."), **details) from None
        if len(self.keys) >= self.max_keys:
            rule = f"is one metric key too many: an upload holds at most {self.max_keys}"
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
        number = float(text)
    except ValueError:
        raise _error(where, "value", _VALUE_RULE, got=text, **details) from None
    if number in _INFINITIES and not validation.csv_spells_infinity(text):
        raise _error(where, "value", _RANGE_RULE, got=text, **details)
    return number


def _int_json(value: Any, rule: str, field: str, where: str, low: int, **details) -> int:
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or not low <= value <= validation.INT64_MAX:
        raise _error(where, field, rule, got=value, **details)
    return value


def _float_json(value: Any, where: str, **details) -> float:
    kind = type(value)
    if kind is float:
        if value in _INFINITIES:
            raise _error(where, "value", _RANGE_RULE, **details)
        return value
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise _error(where, "value", _VALUE_RULE, got=value, **details) from None
    if kind is str and value in validation.SPECIAL_DOUBLES:
        return validation.SPECIAL_DOUBLES[value]
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


def _json_point(
    key: str, step: Any, timestamp: Any, value: Any, place: tuple[str, int]
) -> MetricIn:
    """A point of NDJSON or columnar JSON, checked. Plain floats and in-range ints pass with
    a few comparisons (this runs a million times); anything else is converted where JSON
    allows it (an integer value, a string spelling of NaN) or refused with its rule.
    ``place`` is ``("line", 7)`` or ``("index", 12)``: where the refusal points."""
    if (
        type(value) is not float
        or not -_MAX_DOUBLE <= value <= _MAX_DOUBLE
        or type(step) is not int
        or type(timestamp) is not int
        or not (0 <= timestamp <= _HIGH and _LOW <= step <= _HIGH)
    ):
        kind, number = place
        details = {kind: number}

        def where(field: str) -> str:
            return f"line {number}" if kind == "line" else f"{field}[{number}]"

        value = _float_json(value, where("value"), **details)
        timestamp = _int_json(
            timestamp, _TIMESTAMP_RULE, "timestamp", where("timestamp"), 0, **details
        )
        step = _int_json(step, _STEP_RULE, "step", where("step"), validation.INT64_MIN, **details)
    return tuple.__new__(MetricIn, (key, value, timestamp, step))


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


def csv_points(source: BinaryIO, checker: Checker) -> Iterator[MetricIn]:
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
            if point[1] in _INFINITIES:
                _float_text(value, f"line {reader.line_num}", line=reader.line_num)
            yield point
    except csv.Error as error:
        line = done + 1
        raise _error(f"line {line}", "row", f"is not valid CSV ({error})", line=line) from None
    except UnicodeDecodeError as error:
        raise _not_utf8(body, error) from None


# --- NDJSON -----------------------------------------------------------------------------


_LINE_ENDS = frozenset({"", "\n", "\r\n", "\r"})


def _ndjson_slow(text: str, line: int) -> dict | None:
    """A line the fast path did not take: ``None`` when blank, the point's object when it
    is one after all (with spaces around it, say), or the refusal that says why not."""
    if not text.strip():
        return None
    where = f"line {line}"
    try:
        item = _DECODER.decode(text)
        check_depth(item)
    except (RecursionError, TooDeep):
        raise _error(where, "line", f"is not a point: {TooDeep()}", line=line) from None
    except ValueError as error:
        raise _error(where, "line", f"is not valid JSON ({error})", line=line) from None
    if type(item) is not dict or len(item) != len(FIELDS) or any(f not in item for f in FIELDS):
        rule = f"must be one JSON object with exactly the fields {', '.join(FIELDS)}"
        got = sorted(item) if type(item) is dict else item
        raise _error(where, "line", rule, got=got, line=line)
    return item


def ndjson_points(source: BinaryIO, checker: Checker) -> Iterator[MetricIn]:
    body = _Body(source)
    # The C scanner without json.loads' wrapping: a third of the cost a line.
    scan = _DECODER.scan_once
    check_key, keys = checker.key, checker.keys
    try:
        for line, text in enumerate(_text(body), start=1):
            try:
                item, end = scan(text, 0)
            except (StopIteration, ValueError, RecursionError):
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
            yield _json_point(key, step, timestamp, value, ("line", line))
    except UnicodeDecodeError as error:
        raise _not_utf8(body, error) from None


# --- Columnar JSON ----------------------------------------------------------------------


def _json_columns(body: BinaryIO, max_bytes: int) -> tuple[Any, list, list, list]:
    """The document's key (one string or a column) and its step, timestamp, value columns."""
    data = body.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _error(
            "body",
            "body",
            f"must be at most {max_bytes} bytes as columnar JSON; send larger uploads "
            "as CSV or NDJSON, which stream",
        )
    try:
        document = _DECODER.decode(codecs.decode(data, "utf-8-sig"))
        check_depth(document, raw=data)
    except (RecursionError, TooDeep):
        raise _error("body", "body", f"must be columns of points: {TooDeep()}") from None
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


def json_points(body: BinaryIO, checker: Checker) -> Iterator[MetricIn]:
    keys, steps, timestamps, values = _json_columns(body, checker.max_json_bytes)
    check_key, seen = checker.key, checker.keys
    if type(keys) is str:
        check_key(keys, "key")
        keys = itertools.repeat(keys, len(steps))
    rows = zip(keys, steps, timestamps, values, strict=True)
    for index, (key, step, timestamp, value) in enumerate(rows):
        if type(key) is not str or key not in seen:
            check_key(key, f"key[{index}]", index=index)
        yield _json_point(key, step, timestamp, value, ("index", index))


Reader = Callable[[BinaryIO, Checker], Iterator[MetricIn]]
READERS: dict[str, Reader] = {JSON: json_points, CSV: csv_points, NDJSON: ndjson_points}


def log_exact(run: Run, by: User | None, chunks: Iterator[list[MetricIn]]) -> int:
    """Write ``chunks`` through ``services.log_batch``; the points received."""
    received = 0
    for chunk in chunks:
        services.log_batch(run=run, by=by, metrics=chunk)
        received += len(chunk)
    return received
