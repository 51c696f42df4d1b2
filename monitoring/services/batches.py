"""Production batches and their labels, validated against the reference schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mlprojects.exceptions import DomainError
from monitoring import batches
from monitoring.batches import ROW_ID
from monitoring.choices import (
    ColumnKind,
    ColumnRole,
)
from monitoring.models import (
    Batch,
    Deployment,
    Record,
    ReferenceColumn,
)
from monitoring.services.common import User

# --- Production batches -----------------------------------------------------------------

# Values a JSON, CSV or NDJSON parser may hand over for one cell.
SCALARS = (str, int, float, bool, type(None))


def _schema(deployment: Deployment) -> list[ReferenceColumn]:
    columns = list(deployment.reference_columns.order_by("position"))
    if not columns:
        raise DomainError(
            "no_reference",
            f"The deployment {deployment.name} has no reference data yet: set it before "
            "sending production batches.",
        )
    return columns


def _numeric_cell(value: Any) -> tuple[float, bool]:
    """The number a cell holds (NaN when missing) and whether it was of the wrong type."""
    if value is None or value == "":
        return np.nan, False
    if isinstance(value, bool):
        return np.nan, True
    if isinstance(value, int | float):
        return float(value), False
    try:
        return float(value), False
    except ValueError:
        return np.nan, True


def _text_cell(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _json_cell(value: Any, kind: str | None = None) -> Any:
    """A prediction or label as a record keeps it: a number for a numeric column (CSV
    sends text), text for a categorical one, None when missing or of the wrong type."""
    if kind == ColumnKind.NUMERIC:
        number, _ = _numeric_cell(value)
        return None if np.isnan(number) else number
    if kind == ColumnKind.CATEGORICAL:
        return _text_cell(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _typed(columns: Mapping[str, Sequence[Any]], column, rows: int) -> list[Any]:
    if column is None or column.name not in columns:
        return [None] * rows
    return [_json_cell(value, column.kind) for value in columns[column.name]]


@transaction.atomic
def batch_add(
    *,
    deployment: Deployment,
    columns: Mapping[str, Sequence[Any]],
    by: User | None,
    observed_at: dt.datetime | None = None,
) -> tuple[Batch, bool]:
    """Store a batch of production rows, checked against the reference's schema.

    ``columns`` maps column names to values of equal length, ``row_id`` included. Every
    feature column of the reference must be there, and its prediction column when it has
    one; the label column may be (labels known at once); nothing else may. A batch that
    does not fit is refused whole, naming the column or row and the rule, and nothing of
    it is stored. A value of the wrong type (text in a numeric column) is kept as missing
    and counted, for the data quality monitor to judge. The same rows sent again are the
    same batch: it is returned with ``False`` and nothing new is stored.
    """
    if deployment.ended_at is not None:
        raise DomainError(
            "deployment_ended",
            f"The deployment {deployment.name} ended at {deployment.ended_at:%Y-%m-%d %H:%M}; "
            "send production rows to the current one.",
        )
    schema = _schema(deployment)
    names = {c.name for c in schema}
    if ROW_ID not in columns:
        raise DomainError.invalid(ROW_ID, "every row needs a row id (a column named row_id)")
    unknown = sorted(set(columns) - names - {ROW_ID})
    if unknown:
        raise DomainError.invalid(
            unknown[0], "is not a column of the reference (" + ", ".join(sorted(names)) + ")"
        )
    required = [c.name for c in schema if c.role != ColumnRole.LABEL]
    missing = [name for name in required if name not in columns]
    if missing:
        raise DomainError.invalid(missing[0], "the batch must have this column of the reference")
    lengths = {name: len(values) for name, values in columns.items()}
    rows = lengths[ROW_ID]
    for name, length in lengths.items():
        if length != rows:
            raise DomainError.invalid(name, f"has {length} values where row_id has {rows}")
    if rows == 0:
        raise DomainError.invalid(ROW_ID, "the batch has no rows")
    if rows > settings.MONITORING_MAX_BATCH_ROWS:
        raise DomainError.invalid(
            ROW_ID, f"a batch may hold at most {settings.MONITORING_MAX_BATCH_ROWS} rows"
        )
    row_ids = []
    for index, value in enumerate(columns[ROW_ID]):
        text = _text_cell(value) if isinstance(value, SCALARS) else None
        if text is None or not text.strip() or len(text) > 200:
            raise DomainError.invalid(
                ROW_ID, f"row {index + 1}: must be text of 1 to 200 characters"
            )
        row_ids.append(text)
    if len(set(row_ids)) != rows:
        seen, repeated = set(), None
        for row_id in row_ids:
            if row_id in seen:
                repeated = row_id
                break
            seen.add(row_id)
        raise DomainError.invalid(ROW_ID, f"“{repeated}” appears more than once in the batch")

    arrays, type_errors = {ROW_ID: pa.array(row_ids, pa.string())}, {}
    for column in schema:
        if column.name not in columns:
            continue
        values = columns[column.name]
        for index, value in enumerate(values):
            if not isinstance(value, SCALARS):
                raise DomainError.invalid(
                    column.name, f"row {index + 1}: must be a single value, not a list or object"
                )
        if column.kind == ColumnKind.NUMERIC:
            cells = [_numeric_cell(v) for v in values]
            arrays[column.name] = pa.array([c[0] for c in cells], pa.float64())
            wrong = sum(c[1] for c in cells)
            if wrong:
                type_errors[column.name] = wrong
        else:
            arrays[column.name] = pa.array([_text_cell(v) for v in values], pa.string())
    table = pa.table(arrays)
    data = batches.encode(table)
    digest = batches.digest(data)
    existing = Batch.objects.filter(deployment=deployment, digest=digest).first()
    if existing is not None:
        return existing, False
    taken = list(
        Record.objects.filter(deployment=deployment, row_id__in=row_ids).values_list(
            "row_id", flat=True
        )[:3]
    )
    if taken:
        raise DomainError.invalid(
            ROW_ID, f"already stored for this deployment: {', '.join(sorted(taken))}"
        )
    now = timezone.now()
    batch = Batch.objects.create(
        deployment=deployment,
        observed_at=observed_at or now,
        rows=rows,
        digest=digest,
        data=data,
        type_errors=type_errors,
        sent_by=by,
    )
    by_role = {c.role: c for c in schema}
    predictions = _typed(columns, by_role.get(ColumnRole.PREDICTION), rows)
    labels = _typed(columns, by_role.get(ColumnRole.LABEL), rows)
    Record.objects.bulk_create(
        [
            Record(
                deployment=deployment,
                batch=batch,
                row_id=row_id,
                prediction=predictions[i],
                label=labels[i],
                labelled_at=now if labels[i] is not None else None,
            )
            for i, row_id in enumerate(row_ids)
        ],
        batch_size=5000,
    )
    return batch, True


@transaction.atomic
def labels_add(
    *, deployment: Deployment, labels: Mapping[str, Any], by: User | None
) -> dict[str, int]:
    """Join labels to stored rows by row id. Every row id must be stored and each label a
    single value; a label already given again is fine, a different one is refused (a label
    is a fact about the row). All or nothing."""
    if not labels:
        raise DomainError.invalid("labels", "give at least one row_id and label")
    column = deployment.reference_columns.filter(role=ColumnRole.LABEL).first()
    kind = column.kind if column is not None else None
    typed = {}
    for row_id, value in labels.items():
        cell = _json_cell(value, kind) if isinstance(value, SCALARS) else None
        if cell is None:
            rule = "must be a number" if kind == ColumnKind.NUMERIC else "must be a single value"
            raise DomainError.invalid("label", f"row {row_id}: {rule}")
        typed[row_id] = cell
    labels = typed
    stored = dict(
        Record.objects.select_for_update()
        .filter(deployment=deployment, row_id__in=list(labels))
        .values_list("row_id", "label")
    )
    unknown = sorted(set(labels) - set(stored))
    if unknown:
        raise DomainError.invalid(
            "row_id", "not a stored row of this deployment: " + ", ".join(unknown[:3])
        )
    changed = {rid: labels[rid] for rid, old in stored.items() if old is None}
    conflicting = sorted(
        rid for rid, old in stored.items() if old is not None and old != labels[rid]
    )
    if conflicting:
        raise DomainError.invalid(
            "label", f"row {conflicting[0]} already has the label {stored[conflicting[0]]!r}"
        )
    now = timezone.now()
    records = list(Record.objects.filter(deployment=deployment, row_id__in=list(changed)))
    for record in records:
        record.label = changed[record.row_id]
        record.labelled_at = now
    Record.objects.bulk_update(records, ["label", "labelled_at"], batch_size=5000)
    return {"labelled": len(records), "unchanged": len(labels) - len(records)}
