"""Bulk metric uploads: columnar JSON, CSV and NDJSON turned into the ingest service's input.

Training jobs that log offline, or move a history over from another tracker, send a whole
metric log at once: hundreds of thousands of points, far past MLflow's 1000 a ``log-batch``.
This package reads such an upload and writes it through the ingest services, so the points
get MLflow's rules and the same PostgreSQL ``COPY`` path as every other write: ``fast``
reads a regular upload into arrays, ``exact`` reads any other line by line and names its
first bad point.

- **Streaming.** CSV and NDJSON are read from the request body line by line and handed on in
  chunks of :data:`CHUNK_POINTS` (``exact.chunked``), so an upload of any size holds one
  chunk in memory.
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

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.db import transaction
from django.db.models import Sum

from experiments.bulk import exact, fast
from experiments.bulk.formats import CSV, FIELDS, JSON, NDJSON
from experiments.models import MetricSeries, Run
from experiments.services import MetricIn, User
from mlprojects.exceptions import DomainError

__all__ = [
    "CHUNK_POINTS",
    "CSV",
    "FIELDS",
    "JSON",
    "MAX_JSON_BYTES",
    "MAX_KEYS",
    "NDJSON",
    "PARSERS",
    "Uploaded",
    "log_upload",
    "parse",
]

# The upload's limits, read when an upload starts.
CHUNK_POINTS = 50_000
MAX_JSON_BYTES = 32 * 2**20
MAX_KEYS = 10_000

# The media types an upload may have, each with the exact reader of its points.
PARSERS = exact.READERS


@dataclass(frozen=True, slots=True)
class Uploaded:
    """What an upload did: points read, points new to the run, distinct metric keys."""

    received: int
    stored: int
    series: int


def _checker() -> exact.Checker:
    return exact.Checker(max_keys=MAX_KEYS, max_json_bytes=MAX_JSON_BYTES)


def parse(*, media_type: str, body: BinaryIO) -> tuple[Iterator[list[MetricIn]], set[str]]:
    """The upload's points in chunks, checked as they are read, and the set of its keys (full
    once the chunks are consumed). ``media_type`` is one of :data:`PARSERS`."""
    checker = _checker()
    return exact.chunked(PARSERS[media_type](body, checker), CHUNK_POINTS), checker.keys


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
    back and the exact readers read the upload again, chunk by chunk through
    ``services.log_batch``. Either way the points get MLflow's rules and the run stays
    locked throughout, so the new points, counted from the series' point counts, are exact.
    """
    run = Run.objects.select_for_update(no_key=True).get(pk=run.pk)
    before = _points_of(run)
    with _spool(body) as spool:
        try:
            with transaction.atomic():
                received, series = fast.log_fast(
                    run, by, media_type, spool, max_keys=MAX_KEYS, max_json_bytes=MAX_JSON_BYTES
                )
        except fast.Irregular:
            spool.seek(0)
            chunks, keys = parse(media_type=media_type, body=spool)
            received = exact.log_exact(run, by, chunks)
            series = len(keys)
    if not received:
        raise DomainError("invalid", "The upload holds no points.", fields={"body": ["empty"]})
    return Uploaded(received=received, stored=_points_of(run) - before, series=series)


def _points_of(run: Run) -> int:
    return MetricSeries.objects.filter(run=run).aggregate(n=Sum("point_count"))["n"] or 0
