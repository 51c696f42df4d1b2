"""How production rows are stored: one Arrow IPC stream per batch, the columns as the
reference names them (numeric as float64 with NaN for missing, categorical as text) and
``row_id``. Pure pyarrow; the ORM side is in ``selectors`` and ``services``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from monitoring.choices import ColumnKind

ROW_ID = "row_id"


def arrow_type(kind: str) -> pa.DataType:
    return pa.float64() if kind == ColumnKind.NUMERIC else pa.string()


def encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return sink.getvalue().to_pybytes()


def decode(data: bytes | memoryview) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(bytes(data))).read_all()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def concat(tables: Iterable[pa.Table]) -> pa.Table | None:
    tables = list(tables)
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def column_values(table: pa.Table, name: str, kind: str):
    """A column for ``monitoring.drift``: float64 numbers (NaN for missing) or text."""
    column = table.column(name)
    if kind == ColumnKind.NUMERIC:
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    return column.combine_chunks()
