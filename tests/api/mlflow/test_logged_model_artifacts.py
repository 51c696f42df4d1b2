"""A logged model's artifacts go through the same validated layer as a run's: no path, however
spelled, reads, writes, lists or deletes anything outside the model's own folder, and no
version source leads the registry to files the project does not own."""

from urllib.parse import unquote

import pytest

from experiments import services as tracking
from phases.choices import Role
from registry import services
from registry.models import ModelVersion
from tests.api.mlflow.test_artifacts import INSIDE_ATTACKS, leaks, refused, snapshot
from tests.experiments.helpers import api, error, send
from tests.factories import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world, settings, tmp_path):
    """A logged model with two files; beside it a run and another model with secrets, a
    model of another project, and a secret outside the root."""
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "root"
    manager = world.users[Role.MANAGER]
    experiment = tracking.experiment_create(project=world.project, name="exp", by=manager)
    run = tracking.run_create(experiment=experiment, by=manager)
    model = services.logged_model_create(experiment=experiment, by=manager, source_run=run)
    sibling = services.logged_model_create(experiment=experiment, by=manager)
    stranger_project = make_project(owner=manager, name="Stranger's")
    stranger_experiment = tracking.experiment_create(project=stranger_project, name="s", by=manager)
    stranger = services.logged_model_create(experiment=stranger_experiment, by=manager)
    root = settings.MLPROJECTS_ARTIFACT_ROOT
    base = root / str(world.project.pk) / str(experiment.pk)
    folder = base / "models" / model.model_id / "artifacts"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.txt").write_text("weights")
    (folder / "sub" / "page.html").write_text("<script>alert(1)</script>")
    for secret_folder in (
        base / run.run_id / "artifacts",
        base / "models" / sibling.model_id / "artifacts",
        root
        / str(stranger_project.pk)
        / str(stranger_experiment.pk)
        / "models"
        / stranger.model_id
        / "artifacts",
    ):
        secret_folder.mkdir(parents=True)
        (secret_folder / "secret.txt").write_text("sibling secret")
    (tmp_path / "secret.txt").write_text("outside secret")
    return {
        "client": world.client(Role.MANAGER),
        "slug": world.project.slug,
        "prefix": f"{experiment.pk}/models/{model.model_id}/artifacts",
        "folder": folder,
        "tmp": tmp_path,
        "experiment": experiment,
        "run": run,
        "model": model,
        "sibling": sibling,
        "stranger": stranger,
        "stranger_experiment": stranger_experiment,
        "registered": services.registered_model_create(
            project=world.project, name="churn", by=manager
        ),
    }


OUTSIDE_ATTACKS = [
    "{exp}/models/{model}/../{sibling}/artifacts/secret.txt",
    "{exp}/models/{model}/artifacts/../../{sibling}/artifacts/secret.txt",
    "{exp}/models/{model}/artifacts/../../../{run}/artifacts/secret.txt",
    "{exp}/models/../{run}/artifacts/secret.txt",
    "{exp}/models/{sibling}/artifacts/../../{model}/artifacts/model.txt",
    "{exp}/models/{stranger}/artifacts/secret.txt",
    "{stranger_exp}/models/{stranger}/artifacts/secret.txt",
    "{stranger_exp}/models/{model}/artifacts/model.txt",
    "{exp}/models/{model}/model.txt",
    "{exp}/models/{model}",
    "{exp}/models/not-a-model/artifacts/model.txt",
    "{exp}/models/%2e%2e/{run}/artifacts/secret.txt",
]


def attack_paths(setup) -> list[str]:
    names = {
        "exp": setup["experiment"].pk,
        "model": setup["model"].model_id,
        "sibling": setup["sibling"].model_id,
        "run": setup["run"].run_id,
        "stranger": setup["stranger"].model_id,
        "stranger_exp": setup["stranger_experiment"].pk,
    }
    return [f"{setup['prefix']}/{a}" for a in INSIDE_ATTACKS] + [
        a.format(**names) for a in OUTSIDE_ATTACKS
    ]


def url(setup, path: str) -> str:
    return api(f"mlflow-artifacts/artifacts/{path}", project=setup["slug"])


def test_upload_list_download_and_delete_a_models_artifacts(setup):
    client, prefix, folder = setup["client"], setup["prefix"], setup["folder"]
    put = client.generic(
        "PUT", url(setup, f"{prefix}/MLmodel"), b"flavors: {}\n", content_type="text/plain"
    )
    assert (put.status_code, put.json()) == (200, {})
    assert (folder / "MLmodel").read_bytes() == b"flavors: {}\n"
    listed = client.get(api("mlflow-artifacts/artifacts", project=setup["slug"]), {"path": prefix})
    assert [f["path"] for f in listed.json()["files"]] == ["MLmodel", "model.txt", "sub"]
    directories = send(
        client,
        "GET",
        api(
            f"mlflow/logged-models/{setup['model'].model_id}/artifacts/directories",
            project=setup["slug"],
        ),
        {"artifact_directory_path": "sub"},
    ).json()
    assert directories == {
        "root_uri": setup["model"].artifact_location,
        "files": [{"path": "sub/page.html", "is_dir": False, "file_size": 25}],
    }
    download = client.get(url(setup, f"{prefix}/sub/page.html"))
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert client.generic("DELETE", url(setup, f"{prefix}/MLmodel")).status_code == 200
    assert not (folder / "MLmodel").exists()


def test_no_path_reads_outside_the_model(setup):
    for path in attack_paths(setup):
        response = setup["client"].get(url(setup, path))
        assert not leaks(response), path
        assert refused(response), (path, response.status_code)


def test_no_path_writes_or_deletes_outside_the_model(setup):
    before = snapshot(setup["tmp"], setup["folder"])
    for path in attack_paths(setup):
        put = setup["client"].generic("PUT", url(setup, path), b"pwned", content_type="text/plain")
        assert refused(put), (path, put.status_code, put.content)
        assert refused(setup["client"].generic("DELETE", url(setup, path))), path
    assert snapshot(setup["tmp"], setup["folder"]) == before
    assert all(p.read_bytes() != b"pwned" for p in setup["folder"].rglob("*") if p.is_file())


def test_no_path_lists_outside_the_model(setup):
    listing = api("mlflow-artifacts/artifacts", project=setup["slug"])
    directories = api(
        f"mlflow/logged-models/{setup['model'].model_id}/artifacts/directories",
        project=setup["slug"],
    )
    for raw in attack_paths(setup):
        path = unquote(raw)
        assert refused(setup["client"].get(listing, {"path": path})), path
        relative = path.removeprefix(setup["prefix"] + "/")
        if relative != path:
            response = setup["client"].get(directories, {"artifact_directory_path": relative})
            assert refused(response), relative


def test_a_deleted_model_takes_no_uploads_and_serves_nothing(setup):
    services.logged_model_delete(model=setup["model"], by=None)
    put = setup["client"].generic(
        "PUT", url(setup, f"{setup['prefix']}/late.txt"), b"late", content_type="text/plain"
    )
    assert error(put) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert not (setup["folder"] / "late.txt").exists()


SOURCE_ATTACKS = [
    "file:///etc/passwd",
    "/etc/passwd",
    "s3://bucket/model",
    "http://example.org/api/2.0/mlflow-artifacts/artifacts/1/x/artifacts",
    "mlflow-artifacts://elsewhere/{exp}/{run}/artifacts/model",
    "mlflow-artifacts:/{exp}/{run}/artifacts/../../{sibling_dir}",
    "mlflow-artifacts:/{exp}/{run}/artifacts/%2e%2e/%2e%2e",
    "mlflow-artifacts:/{exp}/models/{stranger}/artifacts",
    "mlflow-artifacts:/{stranger_exp}/models/{stranger}/artifacts",
    "runs:/{run}/../../../etc",
    "models:/{stranger}",
    "models:/{model}/../../secret",
    "models:/nothing/1",
    "models://other-registry/churn/1",
    "models:/{model}?x=1",
    "",
]


def test_a_version_source_must_be_the_projects_own(setup):
    names = {
        "exp": setup["experiment"].pk,
        "run": setup["run"].run_id,
        "model": setup["model"].model_id,
        "sibling_dir": f"models/{setup['sibling'].model_id}",
        "stranger": setup["stranger"].model_id,
        "stranger_exp": setup["stranger_experiment"].pk,
    }
    create = api("mlflow/model-versions/create", project=setup["slug"])
    for source in SOURCE_ATTACKS:
        source = source.format(**names)
        response = send(setup["client"], "POST", create, {"name": "churn", "source": source})
        assert refused(response), (source, response.content)
    assert not ModelVersion.objects.exists()


def test_version_sources_resolve_to_where_the_artifacts_are(setup):
    create = api("mlflow/model-versions/create", project=setup["slug"])
    model, run, experiment = setup["model"], setup["run"], setup["experiment"]
    cases = {
        f"models:/{model.model_id}": (model.artifact_location, run.run_id, model.model_id),
        f"runs:/{run.run_id}/model": (f"{run.artifact_uri}/model", run.run_id, None),
        f"mlflow-artifacts:/{experiment.pk}/models/{model.model_id}/artifacts": (
            model.artifact_location,
            run.run_id,
            model.model_id,
        ),
        "models:/churn/1": (model.artifact_location, run.run_id, model.model_id),
    }
    for number, (source, (storage, run_id, model_id)) in enumerate(cases.items(), start=1):
        body = send(setup["client"], "POST", create, {"name": "churn", "source": source}).json()
        version = body["model_version"]
        assert (version["version"], version["source"], version.get("run_id")) == (
            str(number),
            source,
            run_id,
        )
        assert version.get("model_id") == model_id
        uri = send(
            setup["client"],
            "GET",
            api("mlflow/model-versions/get-download-uri", project=setup["slug"]),
            {"name": "churn", "version": str(number)},
        ).json()
        assert uri == {"artifact_uri": storage}


def test_a_run_id_that_contradicts_the_source_is_refused(setup):
    manager_run = tracking.run_create(experiment=setup["experiment"], by=None)
    response = send(
        setup["client"],
        "POST",
        api("mlflow/model-versions/create", project=setup["slug"]),
        {
            "name": "churn",
            "source": f"runs:/{setup['run'].run_id}/model",
            "run_id": manager_run.run_id,
        },
    )
    assert error(response) == (400, "INVALID_PARAMETER_VALUE")
