"""The fast path: a regular upload read into arrays, checked with numpy, stored as arrays.

pyarrow reads CSV and NDJSON, orjson columnar JSON, with no Python object per point. The
fast path never explains a refusal: whatever it does not take (a malformed line, a value out
of range, a form only Python's parsers accept, such as ``1_000``) raises :class:`Irregular`,
and the whole upload goes to the exact readers, which either take it too or say where and
why it is wrong.

It only takes what the exact readers would store the same way, so one upload gets one answer
whichever path reads it: what pyarrow reads but Python refuses (hexadecimal ``0x10``,
``nan(1)``) and any infinity (which may be a number too large for a double) are declined.

pyarrow's NDJSON reader crashes the process (a segfault in pyarrow 26) on a first line that
is not an object, so no body reaches it before :func:`_flat_lines` has seen that every line
is one flat object: ``{`` first, one ``{`` and one ``}``, no array. Anything else, however
harmless, goes to the exact reader, which is plain Python.
"""

import codecs
import csv
from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
from pyarrow import csv as pa_csv
from pyarrow import json as pa_json

from experiments import ingest, services
from experiments.bulk.formats import CSV, FIELDS, JSON, NDJSON
from experiments.models import Run
from experiments.services import User
from mlprojects.exceptions import DomainError


class Irregular(Exception):
    """The fast path declines the upload; the exact readers read it again."""


_ARROW_TYPES = {"key": pa.string(), "step": pa.int64(), "timestamp": pa.int64()}
_ARROW_TYPES["value"] = pa.float64()
_BLOCK_BYTES = 8 * 2**20


def _blocks(body: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    """The body in blocks, each with the two bytes where it meets the block before (the
    first block as if a line had just ended), so that a two-byte pattern across blocks is
    seen. Rewinds the body once every block was read."""
    previous = b"\n"
    while block := body.read(_BLOCK_BYTES):
        yield previous + block[:1], block
        previous = block[-1:]
    body.seek(0)


def _flat_lines(body: BinaryIO) -> bool:
    """Every line is one JSON object holding no other object or array, and starts with its
    opening brace: no blank line, no leading space or byte-order mark, no lone carriage
    return."""
    lines = starts = opens = closes = returns = line_ends = 0
    last = b""
    for seam, block in _blocks(body):
        if b"[" in block:
            return False
        returns += block.count(b"\r")
        line_ends += block.count(b"\r\n") + (seam == b"\r\n")
        lines += block.count(b"\n")
        starts += block.count(b"\n{") + (seam == b"\n{")
        opens += block.count(b"{")
        closes += block.count(b"}")
        last = block[-1:]
    if last and last != b"\n":
        lines += 1  # the last line has no line break
    return returns == line_ends and lines > 0 and starts == opens == closes == lines


# What pyarrow reads as a number and Python does not: hexadecimal integers, nan(...).
_NOT_PYTHON = (b"0x", b"0X", b"(")


def _python_numbers(body: BinaryIO) -> bool:
    return not any(
        seam in _NOT_PYTHON or any(pattern in block for pattern in _NOT_PYTHON)
        for seam, block in _blocks(body)
    )


def _columns(table: "pa.Table | pa.RecordBatch") -> ingest.Columns:
    if any(column.null_count for column in table.columns):
        raise Irregular
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


def _fast_csv(body: BinaryIO, max_json_bytes: int) -> Iterator[ingest.Columns]:
    try:
        first = codecs.decode(body.readline(), "utf-8-sig")
        names = [name.strip().lower() for name in next(csv.reader([first]), [])]
    except (UnicodeDecodeError, csv.Error):
        raise Irregular from None
    if sorted(names) != sorted(FIELDS):
        raise Irregular
    body.seek(0)
    if not _python_numbers(body):
        raise Irregular
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
        columns = _columns(batch)
        if np.isinf(columns.values).any():
            raise Irregular
        yield columns


def _fast_ndjson(body: BinaryIO, max_json_bytes: int) -> Iterator[ingest.Columns]:
    if not _flat_lines(body):
        raise Irregular
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
            raise Irregular
        yield columns


def _fast_json(body: BinaryIO, max_json_bytes: int) -> Iterator[ingest.Columns]:
    data = body.read(max_json_bytes + 1)
    if len(data) > max_json_bytes:
        raise Irregular
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise Irregular from None  # NaN tokens or a byte-order mark: the exact path
    if type(document) is not dict or sorted(document) != sorted(FIELDS):
        raise Irregular
    key, steps, timestamps, values = (document[name] for name in FIELDS)
    columns = (steps, timestamps, values)
    if any(type(column) is not list for column in columns):
        raise Irregular
    if len({len(column) for column in columns}) != 1:
        raise Irregular
    # numpy would take booleans and numeric strings as numbers: check the types first.
    if not all(type(n) is int for n in steps) or not all(type(n) is int for n in timestamps):
        raise Irregular
    if not all(type(v) is float or type(v) is int for v in values):
        raise Irregular
    if type(key) is str:
        keys, codes = [key], np.zeros(len(steps), dtype=np.intp)
    elif type(key) is list and len(key) == len(steps) and all(type(k) is str for k in key):
        keys, codes = np.unique(np.array(key, dtype=object), return_inverse=True)
        keys = keys.tolist()
    else:
        raise Irregular
    try:
        yield ingest.Columns(
            keys=keys,
            key=codes,
            steps=np.array(steps, dtype=np.int64),
            timestamps=np.array(timestamps, dtype=np.int64),
            values=np.array(values, dtype=np.float64),
        )
    except OverflowError:
        raise Irregular from None


# The readers take the columnar JSON cap (the one limit a fast reader checks) as argument.
FAST: dict[str, Callable[[BinaryIO, int], Iterator[ingest.Columns]]] = {
    JSON: _fast_json,
    CSV: _fast_csv,
    NDJSON: _fast_ndjson,
}


def log_fast(
    run: Run,
    by: User | None,
    media_type: str,
    body: BinaryIO,
    *,
    max_keys: int,
    max_json_bytes: int,
) -> tuple[int, int]:
    """Points received and distinct keys, or :class:`Irregular`."""
    received, keys = 0, set()
    try:
        for columns in FAST[media_type](body, max_json_bytes):
            keys.update(columns.keys)
            if len(keys) > max_keys:
                raise Irregular
            services.log_columns(run=run, by=by, columns=columns)
            received += len(columns)
    except (pa.ArrowException, DomainError, ValueError, OverflowError):
        raise Irregular from None
    return received, len(keys)
