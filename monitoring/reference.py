"""Finding a deployed version's training data among its run's artifacts.

A deployment's reference is uploaded, or taken from the run that produced the version:
the file a ``train`` (or ``training``) dataset input of the run names as its source, when
that source is one of the run's own artifacts (``mlflow-artifacts:/.../artifacts/<path>``,
``runs:/<run id>/<path>``, or a relative path); failing that, the first of
``reference``, ``training_data`` or ``train`` with a ``.csv``, ``.ndjson``, ``.jsonl`` or
``.json`` extension at the top of the artifacts or under ``data/``. It is read with the
batch parsers (``monitoring.ingest``), at most ``MONITORING_MAX_REFERENCE_BYTES``, and only
from inside the run's artifact folder, symbolic links followed. Columns named
``prediction`` and ``label`` (or ``target``) take those roles; ``row_id`` is dropped.
"""

from __future__ import annotations

import json
import pathlib
import re

from django.conf import settings

from experiments.artifacts import run_folder
from experiments.models import Run, RunInput
from experiments.validation import RUN_ID
from mlprojects.exceptions import DomainError
from monitoring import ingest

NAMES = ("reference", "training_data", "train")
FORMATS = {
    ".csv": "text/csv",
    ".ndjson": "application/x-ndjson",
    ".jsonl": "application/x-ndjson",
    ".json": "application/json",
}
PREDICTION_COLUMNS = ("prediction",)
LABEL_COLUMNS = ("label", "target")
TRAINING_CONTEXTS = ("train", "training")
ARTIFACT_URI = re.compile(rf"^mlflow-artifacts:/+\d+/{RUN_ID.pattern}/artifacts/(?P<path>.+)$")


def _declared(run: Run) -> list[str]:
    """Relative artifact paths that the run's training inputs name as their source."""
    paths = []
    inputs = RunInput.objects.filter(run=run, context__in=TRAINING_CONTEXTS).order_by("id")
    for source in inputs.values_list("source", flat=True):
        try:
            data = json.loads(source)
        except ValueError:
            continue
        uri = data.get("uri") or data.get("path") if isinstance(data, dict) else None
        if not isinstance(uri, str):
            continue
        match = ARTIFACT_URI.match(uri)
        if match:
            paths.append(match["path"])
        elif uri.startswith(f"runs:/{run.run_id}/"):
            paths.append(uri.removeprefix(f"runs:/{run.run_id}/"))
        elif "://" not in uri and not uri.startswith("/"):
            paths.append(uri)
    return paths


def training_file(run: Run) -> pathlib.Path | None:
    folder = run_folder(run)
    if not folder.is_dir():
        return None
    root = folder.resolve()
    conventional = [
        f"{prefix}{name}{ext}" for prefix in ("", "data/") for name in NAMES for ext in FORMATS
    ]
    for relative in [*_declared(run), *conventional]:
        path = (root / relative).resolve()
        if path.suffix.lower() in FORMATS and path.is_relative_to(root) and path.is_file():
            return path
    return None


def read(path: pathlib.Path) -> ingest.Parsed:
    size = path.stat().st_size
    if size > settings.MONITORING_MAX_REFERENCE_BYTES:
        raise DomainError.invalid(
            "reference",
            f"{path.name} is {size} bytes; at most "
            f"{settings.MONITORING_MAX_REFERENCE_BYTES} are read",
        )
    return ingest.parse(path.read_bytes(), FORMATS[path.suffix.lower()])


def roles(columns) -> tuple[str, str]:
    prediction = next((c for c in PREDICTION_COLUMNS if c in columns), "")
    label = next((c for c in LABEL_COLUMNS if c in columns), "")
    return prediction, label
