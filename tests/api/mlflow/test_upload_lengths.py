"""An artifact upload is stored whole or refused: a chunked body (no ``Content-Length``) is
read whole under gunicorn, refused with 411 where the server cannot read it, refused with
413 past the limit, and a body cut off before its announced length is never stored short.

These go over real HTTP, written byte for byte, since the test client always sends a length.
"""

import pytest

from api.services import token_create
from experiments import services as experiments
from phases import services
from phases.choices import Role
from tests.experiments.helpers import api
from tests.factories import UserFactory, make_project
from tests.processes import gunicorn, raw_http

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LIMIT = 64 * 1024


@pytest.fixture
def target(fast_passwords):
    """A contributor's token and the upload URL of a file in a fresh run."""
    manager = UserFactory()
    project = make_project(owner=manager, name="Uploads")
    contributor = UserFactory()
    services.membership_set(project=project, user=contributor, role=Role.CONTRIBUTOR)
    experiment = experiments.experiment_create(project=project, name="exp", by=manager)
    run = experiments.run_create(experiment=experiment, by=manager)
    _, secret = token_create(user=contributor, name="ci")
    prefix = f"{experiment.pk}/{run.run_id}/artifacts"
    return {
        "headers": {"Authorization": f"Bearer {secret}"},
        "upload": api(f"mlflow-artifacts/artifacts/{prefix}/model.bin", project=project.slug),
        "list": api(f"mlflow-artifacts/artifacts?path={prefix}", project=project.slug),
        "folder": (project.pk, experiment.pk, run.run_id),
    }


@pytest.fixture
def served(tmp_path):
    with gunicorn(
        tmp_path,
        MLPROJECTS_ARTIFACT_ROOT=str(tmp_path / "artifacts"),
        MLFLOW_MAX_ARTIFACT_BYTES=str(LIMIT),
        DATABASE_CONN_MAX_AGE="0",
    ) as server:
        server.artifacts = tmp_path / "artifacts"
        yield server


def stored(root, folder) -> dict[str, bytes]:
    project, experiment, run = folder
    base = root / str(project) / str(experiment) / run / "artifacts"
    return {p.name: p.read_bytes() for p in base.glob("*")} if base.exists() else {}


def listing(server, target) -> dict:
    return raw_http(server.url, "GET", target["list"], headers=target["headers"]).json()


@pytest.mark.server
def test_gunicorn_reads_a_chunked_upload_whole(served, target):
    chunks = [b"a" * 1000, b"b" * 20_000, b"c" * 7]

    response = raw_http(
        served.url, "PUT", target["upload"], headers=target["headers"], body=chunks, chunked=True
    )

    assert (response.status, response.json()) == (200, {})
    assert stored(served.artifacts, target["folder"]) == {"model.bin": b"".join(chunks)}
    assert listing(served, target) == {
        "files": [{"path": "model.bin", "is_dir": False, "file_size": 21_007}]
    }


@pytest.mark.server
def test_a_chunked_upload_past_the_limit_is_refused_and_not_stored(served, target):
    chunks = [b"x" * 16_384] * 5  # 80 KiB, the limit is 64 KiB

    response = raw_http(
        served.url, "PUT", target["upload"], headers=target["headers"], body=chunks, chunked=True
    )

    assert response.status == 413
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "limit" in response.json()["message"]
    assert stored(served.artifacts, target["folder"]) == {}


@pytest.mark.server
def test_an_upload_cut_off_before_its_length_is_refused_and_not_stored(served, target):
    headers = {**target["headers"], "Content-Length": "5000"}

    response = raw_http(
        served.url, "PUT", target["upload"], headers=headers, body=b"y" * 1200, cut_off=True
    )

    assert response.status == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "1200 of its 5000 bytes" in body["message"]
    assert stored(served.artifacts, target["folder"]) == {}
    assert listing(served, target) == {}


@pytest.mark.server
def test_a_chunked_bulk_upload_is_read_whole_too(served, target):
    csv = [b"key,step,timestamp,value\n", b"loss,0,1000,0.5\nloss,1,2000,0.25\n"]

    response = raw_http(
        served.url,
        "POST",
        f"/api/v1/runs/{target['folder'][2]}/metrics/",
        headers={**target["headers"], "Content-Type": "text/csv"},
        body=csv,
        chunked=True,
    )

    assert response.status == 201, response.body
    assert response.json()["stored"] == 2


def test_where_the_server_cannot_read_chunks_they_are_refused_with_411(
    live_server, target, settings, tmp_path
):
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"

    response = raw_http(
        live_server.url,
        "PUT",
        target["upload"],
        headers=target["headers"],
        body=[b"z" * 300, b"z" * 300],
        chunked=True,
    )

    assert response.status == 411
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Content-Length" in response.json()["message"]
    assert stored(tmp_path / "artifacts", target["folder"]) == {}


def test_v1_refuses_a_chunked_body_it_cannot_read_in_its_own_shape(live_server, target):
    response = raw_http(
        live_server.url,
        "POST",
        "/api/v1/tokens/",
        headers={**target["headers"], "Content-Type": "application/json"},
        body=[b'{"name": "x"}'],
        chunked=True,
    )

    assert response.status == 411
    assert response.json()["code"] == "length_required"
    assert set(response.json()) == {"code", "message", "fields", "details"}


@pytest.mark.parametrize("name", [".upload-abc", "sub/.upload-x.bin", ".upload-"])
def test_the_name_of_an_upload_in_progress_is_refused(target, name, client, settings, tmp_path):
    """Such files are hidden from listings (they are uploads not yet complete), so a file of
    that name would be stored and never shown: it is refused instead."""
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "artifacts"
    url = target["upload"].replace("model.bin", name)

    response = client.generic(
        "PUT",
        url,
        b"data",
        content_type="application/octet-stream",
        HTTP_AUTHORIZATION=target["headers"]["Authorization"],
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert stored(tmp_path / "artifacts", target["folder"]) == {}
