"""Functions the isolated child process runs (see :mod:`tests.hostile.isolated`): each
takes bytes and returns plain JSON, so that what native code made can be compared."""

import ctypes
import io

import pyarrow as pa
from pyarrow import json as pa_json

POINT_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("step", pa.int64()),
        ("timestamp", pa.int64()),
        ("value", pa.float64()),
    ]
)


def echo(body: bytes) -> dict:
    return {"length": len(body)}


def refuse(message: str) -> None:
    raise ValueError(message)


def segfault() -> None:
    """What a crash in native code looks like from Python: the process dies by a signal."""
    ctypes.string_at(0)


def pyarrow_ndjson_rows(body: bytes) -> int:
    """pyarrow's NDJSON reader with the point schema, called directly: how many rows."""
    options = pa_json.ParseOptions(explicit_schema=POINT_SCHEMA)
    reader = pa_json.open_json(io.BytesIO(body), parse_options=options)
    return sum(batch.num_rows for batch in reader)
