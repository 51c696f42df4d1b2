"""Reading production batches and labels from what clients send: JSON, CSV or NDJSON.

The parsers only turn bytes into columns of plain values (text, numbers, booleans, None);
``services.batch_add`` and ``services.labels_add`` check those against the deployment's
reference. Every refusal is a :class:`DomainError` naming the line or row, the field and
the rule, and nothing is stored before the whole body has been read and checked.

- **JSON**: ``{"rows": [{"row_id": ..., "<column>": ...}, ...]}`` or columnar
  ``{"columns": {"row_id": [...], "<column>": [...]}}``, either with an optional
  ``"observed_at"`` (ISO 8601). A bare list of row objects works too.
- **NDJSON**: one row object per line; blank lines are skipped.
- **CSV**: a header line of column names, then one row per line; an empty cell is
  missing. Every cell is text; numeric columns are read as numbers by the service.

A key a row lacks is a missing value of that row (data quality judges it); a key no
reference column has makes the service refuse the batch.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from django.utils.dateparse import parse_datetime

from experiments.validation import csv_text
from mlprojects.exceptions import DomainError

MAX_COLUMNS = 1000
MAX_CELL_CHARS = 10_000
JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
CSV_TYPES = ("text/csv", "application/csv")
SCALAR = (str, int, float, bool, type(None))


@dataclass
class Parsed:
    columns: dict[str, list[Any]]
    observed_at: dt.datetime | None = None


def _refuse(where: str, rule: str) -> DomainError:
    return DomainError.invalid("body", f"{where}: {rule}" if where else rule)


def media_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in JSON_TYPES:
        return "json"
    if kind in NDJSON_TYPES:
        return "ndjson"
    if kind in CSV_TYPES:
        return "csv"
    accepted = ", ".join((*JSON_TYPES, *NDJSON_TYPES, *CSV_TYPES))
    raise DomainError(
        "unsupported_media_type",
        f"Send the batch as one of {accepted}, not {kind or 'no content type'}.",
        fields={"content_type": [f"must be one of {accepted}"]},
    )


def _cell(value: Any, where: str) -> Any:
    if not isinstance(value, SCALAR):
        raise _refuse(where, "must be a single value, not a list or object")
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise _refuse(where, f"longer than {MAX_CELL_CHARS} characters")
    return value


def _name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name or len(name) > 250:
        raise _refuse(where, "column names must be text of 1 to 250 characters")
    return name


def _from_rows(rows: list[tuple[str, Any]]) -> dict[str, list]:
    """Columns from ``(where, row object)`` pairs; a key a row lacks is None there."""
    columns: dict[str, list[Any]] = {}
    for index, (where, row) in enumerate(rows):
        if not isinstance(row, dict):
            raise _refuse(where, "each row must be an object of column names and values")
        for key, value in row.items():
            column = columns.get(key)
            if column is None:
                _name(key, where)
                if len(columns) >= MAX_COLUMNS:
                    raise _refuse(where, f"more than {MAX_COLUMNS} columns")
                column = columns[key] = [None] * index
            column.append(_cell(value, f"{where}.{key}"))
        for column in columns.values():
            if len(column) == index:
                column.append(None)
    return columns


def _from_columns(data: Any) -> dict[str, list]:
    if not isinstance(data, dict):
        raise _refuse("columns", "must map column names to lists of values")
    if len(data) > MAX_COLUMNS:
        raise _refuse("columns", f"more than {MAX_COLUMNS} columns")
    columns = {}
    for key, values in data.items():
        _name(key, "columns")
        if not isinstance(values, list):
            raise _refuse(f"columns.{key}", "must be a list of values")
        columns[key] = [_cell(v, f"columns.{key}[{i}]") for i, v in enumerate(values)]
    return columns


def _observed_at(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise DomainError.invalid(
            "observed_at", "must be an ISO 8601 date and time with its offset (…Z or +hh:mm)"
        )
    return parsed


def _json_error(error: orjson.JSONDecodeError) -> str:
    return f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"


def parse_json(body: bytes) -> Parsed:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise _refuse("", _json_error(error)) from None
    if isinstance(data, list):
        return Parsed(_from_rows([(f"[{i}]", row) for i, row in enumerate(data)]))
    if not isinstance(data, dict):
        raise _refuse("", "must be an object with rows or columns, or a list of rows")
    unknown = sorted(set(data) - {"rows", "columns", "observed_at"})
    if unknown:
        raise _refuse(unknown[0], "unknown key (rows, columns, observed_at)")
    if ("rows" in data) == ("columns" in data):
        raise _refuse("", "give either rows or columns")
    observed_at = _observed_at(data.get("observed_at"))
    if "rows" in data:
        if not isinstance(data["rows"], list):
            raise _refuse("rows", "must be a list of row objects")
        rows = [(f"rows[{i}]", row) for i, row in enumerate(data["rows"])]
        return Parsed(_from_rows(rows), observed_at)
    return Parsed(_from_columns(data["columns"]), observed_at)


def parse_ndjson(body: bytes) -> Parsed:
    rows = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"line {number}", orjson.loads(line)))
        except orjson.JSONDecodeError as error:
            raise _refuse(f"line {number}", _json_error(error)) from None
    return Parsed(_from_rows(rows))


def parse_csv(body: bytes) -> Parsed:
    text = csv_text(body, field="body")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise _refuse("line 1", "a CSV batch starts with a header of column names")
        if len(header) > MAX_COLUMNS:
            raise _refuse("line 1", f"more than {MAX_COLUMNS} columns")
        names = [_name(name.strip(), "line 1") for name in header]
        if len(set(names)) != len(names):
            raise _refuse("line 1", "a column name appears twice")
        columns: dict[str, list] = {name: [] for name in names}
        for row in reader:
            if not row:
                continue
            if len(row) != len(names):
                raise _refuse(
                    f"line {reader.line_num}",
                    f"has {len(row)} cells where the header has {len(names)}",
                )
            for name, cell in zip(names, row, strict=True):
                columns[name].append(
                    _cell(cell, f"line {reader.line_num}.{name}") if cell != "" else None
                )
    except csv.Error as error:
        raise _refuse(f"line {reader.line_num}", f"not valid CSV ({error})") from None
    return Parsed(columns)


PARSERS = {"json": parse_json, "ndjson": parse_ndjson, "csv": parse_csv}


def parse(body: bytes, content_type: str | None) -> Parsed:
    """The columns of a batch body; DomainError when it cannot be read."""
    parsed = PARSERS[media_type(content_type)](body)
    if not parsed.columns:
        raise _refuse("", "the batch has no columns")
    return parsed


def labels_from(parsed: Parsed) -> Mapping[str, Any]:
    """Row id to label, from a body of ``row_id`` and ``label`` columns."""
    unknown = sorted(set(parsed.columns) - {"row_id", "label"})
    if unknown:
        raise _refuse(unknown[0], "labels are sent as row_id and label only")
    if "row_id" not in parsed.columns or "label" not in parsed.columns:
        raise _refuse("", "labels need the columns row_id and label")
    labels: dict[str, Any] = {}
    for index, (row_id, label) in enumerate(
        zip(parsed.columns["row_id"], parsed.columns["label"], strict=True)
    ):
        if not isinstance(row_id, str | int) or isinstance(row_id, bool) or str(row_id) == "":
            raise DomainError.invalid("row_id", f"row {index + 1}: must be text or a whole number")
        key = str(row_id)
        if key in labels:
            raise DomainError.invalid("row_id", f"“{key}” appears more than once")
        labels[key] = label
    return labels
