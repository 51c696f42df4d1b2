"""Small reads and shapes that several pages share."""

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from dashboard import figures
from experiments import series
from experiments.models import Run


def http_url(url: str) -> str:
    """``url`` when a browser may follow it from our pages; empty for any other scheme."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def ms(value: int | None) -> dt.datetime | None:
    """MLflow's milliseconds since the epoch as an aware time, which templates localise."""
    return None if value is None else dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


def run_labels(runs: Sequence[Run]) -> dict[int, str]:
    """Each run's name, with the start of its id where two runs share a name, so legends
    and axes never show two runs as one."""
    names = Counter(run.name for run in runs)
    return {
        run.pk: run.name if names[run.name] == 1 else f"{run.name} ({run.run_id[:7]})"
        for run in runs
    }


def curve(found: series.Series, *, label: str) -> figures.Curve:
    """A series as ``experiments.series`` reduced it, as the figures draw it."""
    return figures.Curve(
        label, found.steps, found.timestamps, found.values, found.total_points, found.downsampled
    )


def curves(runs: Sequence[Run], *, key: str, max_points: int) -> list[figures.Curve]:
    """``runs``' series of ``key``, each reduced to ``max_points``, labelled apart."""
    labels = run_labels(runs)
    by_run_id = {run.run_id: run for run in runs}
    return [
        curve(found, label=labels[by_run_id[found.run_id].pk])
        for found in series.compare(runs=list(runs), key=key, max_points=max_points)
    ]
