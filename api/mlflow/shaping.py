"""Experiments, runs and metrics as MLflow's JSON: protocol buffers' field names, int64 as
JSON numbers, enums by name, NaN and infinities as "NaN" and "±Infinity" strings, and
empty repeated fields left out, as ``message_to_json`` writes them."""

from experiments.models import Experiment, Run
from experiments.validation import double_json as double


def experiment_id(experiment: Experiment, *, zero_is_default: bool) -> str:
    """In one project's scope its default experiment is MLflow's experiment 0; at the root,
    where several projects show, every experiment goes by its own id."""
    return "0" if zero_is_default and experiment.is_default else str(experiment.pk)


def _pairs(items) -> list[dict]:
    return [{"key": item.key, "value": item.value} for item in items]


def experiment_json(experiment: Experiment, *, zero_is_default: bool) -> dict:
    """Expects ``tags`` prefetched."""
    body = {
        "experiment_id": experiment_id(experiment, zero_is_default=zero_is_default),
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
    }
    tags = _pairs(sorted(experiment.tags.all(), key=lambda t: t.key))
    if tags:
        body["tags"] = tags
    return body


def run_info_json(run: Run, *, zero_is_default: bool) -> dict:
    """Expects ``experiment`` loaded."""
    info = {
        "run_id": run.run_id,
        "run_uuid": run.run_id,
        "run_name": run.name,
        "experiment_id": experiment_id(run.experiment, zero_is_default=zero_is_default),
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def metric_json(key: str, step: int, timestamp: int, value: float, is_nan: bool) -> dict:
    return {"key": key, "value": double(value, is_nan), "timestamp": timestamp, "step": step}


def run_json(run: Run, *, zero_is_default: bool) -> dict:
    """Expects the data of ``experiments.selectors.with_run_data``: the run's latest value
    of each metric, its params and tags, and the datasets it used."""
    data = {}
    metrics = [
        metric_json(s.key, s.latest_step, s.latest_timestamp, s.latest_value, s.latest_is_nan)
        for s in sorted(run.metric_series.all(), key=lambda s: s.key)
    ]
    for name, items in (
        ("metrics", metrics),
        ("params", _pairs(sorted(run.params.all(), key=lambda p: p.key))),
        ("tags", _pairs(sorted(run.tags.all(), key=lambda t: t.key))),
    ):
        if items:
            data[name] = items
    inputs = {}
    datasets = [
        {
            **({"tags": item.tags} if item.tags else {}),
            "dataset": {
                "name": item.name,
                "digest": item.digest,
                "source_type": item.source_type,
                "source": item.source,
                **({"schema": item.schema} if item.schema else {}),
                **({"profile": item.profile} if item.profile else {}),
            },
        }
        for item in sorted(run.inputs.all(), key=lambda i: i.pk)
    ]
    if datasets:
        inputs["dataset_inputs"] = datasets
    return {
        "info": run_info_json(run, zero_is_default=zero_is_default),
        "data": data,
        "inputs": inputs,
    }


def file_json(path: str, is_dir: bool, size: int | None) -> dict:
    body = {"path": path, "is_dir": is_dir}
    if not is_dir and size is not None:
        body["file_size"] = size
    return body
