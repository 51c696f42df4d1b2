"""Experiments, runs, metrics and models as MLflow's JSON: protocol buffers' field names, int64 as
JSON numbers, enums by name, NaN and infinities as "NaN" and "±Infinity" strings, and
empty repeated fields left out, as ``message_to_json`` writes them."""

from experiments.models import Experiment, Run
from experiments.validation import double_json as double
from registry.models import LoggedModel, ModelVersion, RegisteredModel, RunModelLink

_INPUT, _OUTPUT = RunModelLink.Direction.INPUT, RunModelLink.Direction.OUTPUT


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
    body = {"info": run_info_json(run, zero_is_default=zero_is_default), "data": data}
    links = getattr(run, "prefetched_model_links", [])
    used = [{"model_id": link.model.model_id} for link in links if link.direction == _INPUT]
    if used:
        inputs["model_inputs"] = used
    body["inputs"] = inputs
    made = [
        {"model_id": link.model.model_id, "step": link.step}
        for link in links
        if link.direction == _OUTPUT
    ]
    if made:
        body["outputs"] = {"model_outputs": made}
    return body


def file_json(path: str, is_dir: bool, size: int | None) -> dict:
    body = {"path": path, "is_dir": is_dir}
    if not is_dir and size is not None:
        body["file_size"] = size
    return body


# --- Logged models and the registry -----------------------------------------------------


def logged_model_json(model: LoggedModel, *, zero_is_default: bool) -> dict:
    """Expects ``registry.selectors.with_logged_model_data``."""
    info = {
        "model_id": model.model_id,
        "experiment_id": experiment_id(model.experiment, zero_is_default=zero_is_default),
        "name": model.name,
        "creation_timestamp_ms": model.creation_time,
        "last_updated_timestamp_ms": model.last_update_time,
        "artifact_uri": model.artifact_location,
        "status": model.status,
    }
    for key, value in (
        ("model_type", model.model_type),
        ("source_run_id", model.source_run.run_id if model.source_run else ""),
        ("status_message", model.status_message),
    ):
        if value:
            info[key] = value
    tags = _pairs(sorted(model.tags.all(), key=lambda t: t.key))
    if tags:
        info["tags"] = tags
    data = {}
    params = _pairs(sorted(model.params.all(), key=lambda p: p.key))
    if params:
        data["params"] = params
    metrics = []
    for point in sorted(model.metrics.all(), key=lambda m: (m.key, m.step, m.timestamp, m.pk)):
        metric = metric_json(point.key, point.step, point.timestamp, point.value, point.is_nan)
        metric["model_id"] = model.model_id
        if point.run is not None:
            metric["run_id"] = point.run.run_id
        if point.dataset_name:
            metric["dataset_name"] = point.dataset_name
        if point.dataset_digest:
            metric["dataset_digest"] = point.dataset_digest
        metrics.append(metric)
    if metrics:
        data["metrics"] = metrics
    return {"info": info, "data": data}


def model_version_json(version: ModelVersion) -> dict:
    """Expects ``registry.selectors.with_version_data``. Versions are created whole, so
    every one is ``READY``."""
    body = {
        "name": version.registered_model.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_time,
        "last_updated_timestamp": version.last_update_time,
        "user_id": version.user_id,
        "current_stage": version.current_stage,
        "description": version.description,
        "source": version.source,
        "status": "READY",
    }
    if version.run is not None:
        body["run_id"] = version.run.run_id
    if version.run_link:
        body["run_link"] = version.run_link
    if version.logged_model is not None:
        body["model_id"] = version.logged_model.model_id
    tags = _pairs(sorted(version.tags.all(), key=lambda t: t.key))
    if tags:
        body["tags"] = tags
    aliases = sorted(alias.alias for alias in version.aliases.all())
    if aliases:
        body["aliases"] = aliases
    return body


def registered_model_json(
    registered_model: RegisteredModel, latest: list[ModelVersion] | None = None
) -> dict:
    """Expects ``registry.selectors.with_registered_model_data``; ``latest``: its latest
    version in each stage (``registry.selectors.latest_versions``)."""
    body = {
        "name": registered_model.name,
        "creation_timestamp": registered_model.creation_time,
        "last_updated_timestamp": registered_model.last_update_time,
        "description": registered_model.description,
    }
    if latest:
        body["latest_versions"] = [model_version_json(version) for version in latest]
    tags = _pairs(sorted(registered_model.tags.all(), key=lambda t: t.key))
    if tags:
        body["tags"] = tags
    aliases = [
        {"alias": alias.alias, "version": str(alias.model_version.version)}
        for alias in sorted(registered_model.aliases.all(), key=lambda a: a.alias)
    ]
    if aliases:
        body["aliases"] = aliases
    return body
