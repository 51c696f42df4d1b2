"""Production's labelled rows as a dataset a sweep trains on: the newer data of a retraining.

An export joins the feature columns of a deployment's batches with the labels posted later
by row id; rows without a label are left out. Optionally the deployed version's training
rows come too (its sweep's dataset, else the training file among its run's artifacts),
a row id seen in production and in training taken once, production's. The result is an
``experiments.Dataset`` like an upload (a CSV in the same storage, the reference's feature
columns and the target named as the deployed run's sweep names it, else as the reference's
label column), its ``origin`` saying where the rows came from: the deployment, the window
of its batches, the counts. The file is written before its row and deleted if anything
fails (``experiments.services.atomic_with_files``), so nothing is left half-written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Max, Min

from experiments import selectors as experiment_selectors
from experiments import services as experiment_services
from experiments.models import Dataset, Run, Trial
from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from monitoring import batches, selectors
from monitoring.batches import ROW_ID
from monitoring.choices import ColumnRole
from monitoring.models import Batch, Deployment, ReferenceColumn
from monitoring.services.common import User

# Cross-validation needs at least this many rows, whatever the setting says.
FEWEST_ROWS = 10
DEFAULT_TARGET = "label"


@dataclass(frozen=True)
class Schema:
    features: list[str]
    target: str


def _deployed_run(deployment: Deployment) -> Run | None:
    version = deployment.model_version
    if version is None or version.run_id is None:
        return None
    return Run.objects.select_related("experiment").get(pk=version.run_id)


def _schema(deployment: Deployment, run: Run | None) -> Schema:
    columns = list(ReferenceColumn.objects.filter(deployment=deployment).order_by("position"))
    if not columns:
        raise DomainError(
            "no_reference",
            f"The deployment {deployment.name} has no reference data, so no schema to "
            "export its rows with: set its reference first.",
        )
    features = [c.name for c in columns if c.role == ColumnRole.FEATURE]
    label = next((c.name for c in columns if c.role == ColumnRole.LABEL), "")
    trial = Trial.objects.filter(run=run).select_related("sweep").first() if run else None
    target = (trial.sweep.target if trial else "") or label or DEFAULT_TARGET
    if target in features:
        raise DomainError(
            "target_clash",
            f"The target column would be named “{target}”, which is a feature of the "
            "reference; rename one of them.",
        )
    return Schema(features=features, target=target)


def _production_frame(
    deployment: Deployment, schema: Schema, since: dt.datetime | None, until: dt.datetime | None
):
    """The labelled rows as a data frame (row id, features, target) and their batches'
    window. The labels by row id in one query, then each batch that holds one, decoded."""
    import pandas as pd

    labelled = selectors.records_in(deployment=deployment, since=since, until=until).filter(
        labelled_at__isnull=False
    )
    labels: dict[str, Any] = {}
    batch_ids: set[int] = set()
    for batch_id, row_id, label in labelled.values_list("batch_id", "row_id", "label").iterator(
        chunk_size=5000
    ):
        labels[row_id] = label
        batch_ids.add(batch_id)
    chosen = Batch.objects.filter(pk__in=batch_ids)
    window = chosen.aggregate(first=Min("observed_at"), last=Max("observed_at"))
    wanted = pa.array(list(labels), pa.string())
    tables = []
    for data in (
        chosen.order_by("observed_at", "id").values_list("data", flat=True).iterator(chunk_size=50)
    ):
        table = batches.decode(data)
        table = table.filter(pc.is_in(table.column(ROW_ID), value_set=wanted))
        tables.append(table.select([ROW_ID, *schema.features]))
    table = batches.concat(tables)
    frame = table.to_pandas() if table is not None else pd.DataFrame(columns=[ROW_ID])
    frame[schema.target] = _target_values([labels[row_id] for row_id in frame[ROW_ID]])
    return frame, window, len(batch_ids)


def _target_values(values: list[Any]) -> list[Any]:
    """Labels as the CSV should hold them: whole numbers without a decimal point, so a
    class label 1 reads back as 1 and not 1.0."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numbers and all(float(v).is_integer() for v in values):
        return [int(v) for v in values]
    return values


def _training_frame(run: Run | None, schema: Schema):
    """The deployed version's training rows: its sweep's dataset, else the training file
    among its run's artifacts (where the reference is taken from)."""
    import pandas as pd

    from monitoring import reference

    where = "its version names no run on this server"
    if run is not None:
        trial = Trial.objects.filter(run=run).select_related("sweep__dataset").first()
        if trial is not None:
            dataset = trial.sweep.dataset
            table = experiment_selectors.dataset_table(dataset, target=trial.sweep.target)
            frame = table.features.copy()
            frame[schema.target] = table.target
            return _checked(frame, schema, f"the sweep dataset {dataset.name}")
        path = reference.training_file(run)
        if path is not None:
            frame = pd.DataFrame(reference.read(path).columns)
            _, label = reference.roles(frame.columns)
            if label and label != schema.target:
                frame = frame.rename(columns={label: schema.target})
            return _checked(frame, schema, f"{path.name} of the run {run.run_id}")
        where = f"the run {run.run_id} is no sweep's trial and holds no training data"
    raise DomainError(
        "no_training_data",
        f"There are no training rows to add: {where}. Export production's rows alone.",
    )


def _checked(frame, schema: Schema, source: str):
    missing = [c for c in [*schema.features, schema.target] if c not in frame.columns]
    if missing:
        raise DomainError(
            "training_schema",
            f"The training rows ({source}) have no column “{missing[0]}” of the export's "
            "schema; export production's rows alone.",
        )
    frame = frame.dropna(subset=[schema.target])
    columns = [ROW_ID] if ROW_ID in frame.columns else []
    frame = frame[[*columns, *schema.features, schema.target]]
    frame.attrs["source"] = source
    return frame


def _free_name(deployment: Deployment, last: dt.datetime | None) -> str:
    base = f"{deployment.name} production rows"
    if last is not None:
        base += f" to {last:%Y-%m-%d}"
    taken = set(
        Dataset.objects.filter(project=deployment.project_id, name__startswith=base).values_list(
            "name", flat=True
        )
    )
    name, number = base, 2
    while name in taken:
        name, number = f"{base} ({number})", number + 1
    return name


def _summary(origin: dict) -> str:
    words = f"{origin['production_rows']:,} labelled production rows of {origin['deployment_name']}"
    if origin["window_from"]:
        first = dt.datetime.fromisoformat(origin["window_from"])
        last = dt.datetime.fromisoformat(origin["window_to"])
        words += f", observed {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if origin["training_rows"]:
        words += f", and {origin['training_rows']:,} training rows ({origin['training_source']})"
    if origin["duplicates_dropped"]:
        words += f"; {origin['duplicates_dropped']:,} repeated row ids taken once"
    return words + "."


def _window_checked(since: dt.datetime | None, until: dt.datetime | None) -> None:
    for field, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise DomainError.invalid(field, "must name its time zone (ISO 8601 with an offset)")
    if since is not None and until is not None and since >= until:
        raise DomainError.invalid("until", "must be after since")


def production_dataset_export(
    *,
    deployment: Deployment,
    by: User | None,
    name: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    with_training: bool = False,
) -> Dataset:
    """Export the labelled production rows of ``deployment`` observed in [since, until)
    as a new dataset of its project, with its training rows when ``with_training``.

    Refused, with nothing written, when the window holds fewer labelled rows than
    ``MONITORING_EXPORT_MIN_ROWS`` (``not_enough_labels``), when the deployment has no
    reference, when the training rows are asked for and there are none, or when the CSV
    would be over ``EXPERIMENTS_MAX_DATASET_BYTES``.
    """
    import pandas as pd

    _window_checked(since, until)
    with experiment_services.atomic_with_files():
        deployment = locked(deployment)
        run = _deployed_run(deployment)
        schema = _schema(deployment, run)
        counts = selectors.label_counts(deployment=deployment, since=since, until=until)
        fewest = max(settings.MONITORING_EXPORT_MIN_ROWS, FEWEST_ROWS)
        if counts["labelled_rows"] < fewest:
            raise DomainError(
                "not_enough_labels",
                f"{deployment.name} has {counts['labelled_rows']} labelled production "
                f"row(s) in this window and an export needs at least {fewest} "
                "(MONITORING_EXPORT_MIN_ROWS): send the labels of more rows, or choose "
                "another dataset.",
                details={"labelled_rows": counts["labelled_rows"], "min_rows": fewest},
            )
        frame, window, batch_count = _production_frame(deployment, schema, since, until)
        training_rows, duplicates, training_source = 0, 0, ""
        if with_training:
            training = _training_frame(run, schema)
            training_source = training.attrs["source"]
            before = len(training)
            if ROW_ID in training.columns:
                training = training.drop_duplicates(subset=[ROW_ID])
                training = training[~training[ROW_ID].astype(str).isin(frame[ROW_ID])]
            duplicates = before - len(training)
            training_rows = len(training)
            frame = pd.concat([frame, training], ignore_index=True)
        data = frame.drop(columns=[ROW_ID], errors="ignore").to_csv(index=False).encode()
        limit = settings.EXPERIMENTS_MAX_DATASET_BYTES
        if len(data) > limit:
            raise DomainError(
                "too_large",
                f"The export would be {len(data):,} bytes, over the dataset limit of "
                f"{limit:,} (EXPERIMENTS_MAX_DATASET_BYTES): export a shorter window.",
            )
        origin = {
            "kind": selectors.EXPORT_KIND,
            "deployment": deployment.pk,
            "deployment_name": deployment.name,
            "since": selectors.iso(since),
            "until": selectors.iso(until),
            "window_from": selectors.iso(window["first"]),
            "window_to": selectors.iso(window["last"]),
            "batches": batch_count,
            "production_rows": counts["labelled_rows"],
            "unlabelled_rows_left_out": counts["unlabelled_rows"],
            "last_labelled_at": counts["last_labelled_at"],
            "with_training": with_training,
            "training_rows": training_rows,
            "training_source": training_source,
            "duplicates_dropped": duplicates,
        }
        origin["summary"] = _summary(origin)
        return experiment_services.dataset_create(
            project=deployment.project,
            user=by,
            name=name.strip() if name else _free_name(deployment, window["last"]),
            file=ContentFile(data, name="export.csv"),
            target=schema.target,
            origin=origin,
        )
