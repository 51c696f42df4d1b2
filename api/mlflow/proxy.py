"""The artifacts of runs and logged models: ``artifacts/list`` and the artifacts proxy
(``mlflow-artifacts/artifacts/<experiment id>/<run id>/artifacts/...`` and
``.../<experiment id>/models/<model id>/artifacts/...``), through the validated paths of
``api.mlflow.artifacts``. Reading needs the viewer role, uploads and deletes the contributor
role and an active owner."""

import pathlib

from api.middleware import body_limit, declared_length
from api.mlflow import artifacts, errors, shaping
from api.mlflow.views import Call
from experiments.artifacts import run_folder
from experiments.choices import LifecycleStage
from experiments.models import Run
from phases.roles import Action
from registry.models import LoggedModel


def _artifact_limit() -> int:
    return body_limit("/api/2.0/")


def artifacts_list_for_run(call: Call) -> dict:
    """``GET mlflow/artifacts/list``: a run's artifacts, paths relative to its root."""
    fields = call.fields
    run = call.scope.run(call.run_id(), Action.VIEW)
    relative = artifacts.clean(fields.string("path"))
    prefix = f"{relative}/" if relative else ""
    files = [
        shaping.file_json(prefix + name, is_dir, size)
        for name, is_dir, size in artifacts.listing(run_folder(run), relative)
    ]
    body = {"root_uri": run.artifact_uri}
    if files:
        body["files"] = files
    return body


def _owned(parts: list[str], at: int, find, usage: str, unknown: str):
    """The owner whose id is ``parts[at]``, followed by ``artifacts``, and the path after it;
    the owner must be of the experiment named first, or it is ``unknown`` (``{id}`` is its
    id)."""
    if len(parts) < at + 2 or parts[at + 1] != "artifacts":
        raise errors.invalid(f"Invalid path: {'/'.join(parts)!r}. {usage}")
    owner = find(parts[at])
    if str(owner.experiment_id) != parts[0]:
        raise errors.not_found(unknown.format(id=parts[at]))
    return owner, "/".join(parts[at + 2 :])


def proxied_run(call: Call, parts: list[str], action: Action) -> tuple[Run, str]:
    """``<experiment id>/<run id>/artifacts/<relative>`` as the run it names (which the
    caller must be allowed to touch) and the path inside its folder."""
    return _owned(
        parts,
        1,
        lambda run_id: call.scope.run(run_id, action),
        "Artifacts live under <experiment id>/<run id>/artifacts/ or "
        "<experiment id>/models/<model id>/artifacts/.",
        "Run with id={id} not found",
    )


def proxied_model(call: Call, parts: list[str], action: Action) -> tuple[LoggedModel, str]:
    """``<experiment id>/models/<model id>/artifacts/<relative>`` as the logged model it
    names and the path inside its folder."""
    return _owned(
        parts,
        2,
        lambda model_id: call.scope.logged_model(model_id, action),
        "A model's artifacts live under <experiment id>/models/<model id>/artifacts/.",
        "Logged model with ID '{id}' not found.",
    )


def _proxied(call: Call, path: str | None, action: Action) -> tuple[pathlib.Path, str, str]:
    """A proxy path as the folder of the run or logged model it names, the path inside it,
    and the owner's lifecycle stage (uploads need an active owner)."""
    parts = artifacts.clean(path).split("/")
    if len(parts) >= 2 and parts[1] == "models":
        model, relative = proxied_model(call, parts, action)
        return artifacts.logged_model_folder(model), relative, model.lifecycle_stage
    run, relative = proxied_run(call, parts, action)
    return run_folder(run), relative, run.lifecycle_stage


def proxy_list(call: Call) -> dict:
    """``GET mlflow-artifacts/artifacts?path=``: entry names under a run's folder."""
    folder, relative, _ = _proxied(call, call.fields.string("path"), Action.VIEW)
    files = [
        shaping.file_json(name, is_dir, size)
        for name, is_dir, size in artifacts.listing(folder, relative)
    ]
    return {"files": files} if files else {}


def proxy_file(call: Call):
    """``GET`` downloads, ``PUT`` uploads (the body is the file), ``DELETE`` removes."""
    method = call.request.method
    action = Action.VIEW if method == "GET" else Action.LOG_DATA
    path = call.kwargs["artifact_path"]
    folder, relative, stage = _proxied(call, path, action)
    if method == "GET":
        return artifacts.download(folder, relative)
    if stage != LifecycleStage.ACTIVE:
        raise errors.invalid(
            f"The owner of {path!r} must be in the 'active' state. Current state is {stage}."
        )
    if method == "PUT":
        artifacts.upload(
            folder,
            relative,
            artifacts.request_chunks(call.request._request),
            limit=_artifact_limit(),
            expected=declared_length(call.request.META),
        )
        return {}
    artifacts.delete(folder, relative)
    return {}
