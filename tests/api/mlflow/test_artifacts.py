"""Artifacts: streamed up and down, served as downloads only, and no path, however spelled,
reads, writes, lists or deletes anything outside the run's own folder."""

import os
import pathlib
from urllib.parse import unquote

import pytest

from experiments import services
from experiments.models import Run
from phases.choices import Role
from tests.experiments.helpers import api, error, experiment_and_run, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world, settings, tmp_path):
    """A run with two files, a sibling run with a secret, and a secret outside the root."""
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "root"
    manager = world.users[Role.MANAGER]
    experiment, run = experiment_and_run(world.project, by=manager)
    sibling = services.run_create(experiment=experiment, by=manager)
    base = settings.MLPROJECTS_ARTIFACT_ROOT / str(world.project.pk) / str(experiment.pk)
    folder = base / run.run_id / "artifacts"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.txt").write_text("weights")
    (folder / "sub" / "page.html").write_text("<script>alert(1)</script>")
    (base / sibling.run_id / "artifacts").mkdir(parents=True)
    (base / sibling.run_id / "artifacts" / "secret.txt").write_text("sibling secret")
    (tmp_path / "secret.txt").write_text("outside secret")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "kept.txt").write_text("outside file")
    return {
        "client": world.client(Role.MANAGER),
        "slug": world.project.slug,
        "prefix": f"{experiment.pk}/{run.run_id}/artifacts",
        "folder": folder,
        "tmp": tmp_path,
        "run": run,
    }


def snapshot(tmp: pathlib.Path, folder: pathlib.Path) -> dict:
    """Every file outside the run's folder, with its content."""
    found = {}
    for path in tmp.rglob("*"):
        if path.is_file() and folder not in path.parents:
            found[str(path)] = path.read_bytes()
    return found


def url(setup, path: str) -> str:
    return api(f"mlflow-artifacts/artifacts/{path}", project=setup["slug"])


# --- The ordinary way -------------------------------------------------------------------


def test_upload_list_download_and_delete(setup):
    client, prefix, folder = setup["client"], setup["prefix"], setup["folder"]
    payload = os.urandom(3 * 2**20 + 7)
    put = client.generic(
        "PUT",
        url(setup, f"{prefix}/ckpt/big.bin"),
        payload,
        content_type="application/octet-stream",
    )
    assert (put.status_code, put.json()) == (200, {})
    assert (folder / "ckpt" / "big.bin").read_bytes() == payload
    assert not [p for p in (folder / "ckpt").iterdir() if p.name.startswith(".")]

    listed = client.get(api("mlflow-artifacts/artifacts", project=setup["slug"]), {"path": prefix})
    assert listed.json() == {
        "files": [
            {"path": "ckpt", "is_dir": True},
            {"path": "model.txt", "is_dir": False, "file_size": 7},
            {"path": "sub", "is_dir": True},
        ]
    }
    per_run = client.get(
        api("mlflow/artifacts/list", project=setup["slug"]),
        {"run_id": setup["run"].run_id, "path": "ckpt"},
    )
    assert per_run.json() == {
        "root_uri": setup["run"].artifact_uri,
        "files": [{"path": "ckpt/big.bin", "is_dir": False, "file_size": len(payload)}],
    }

    got = client.get(url(setup, f"{prefix}/ckpt/big.bin"))
    assert got.streaming
    assert b"".join(got.streaming_content) == payload
    assert got["Content-Disposition"] == 'attachment; filename="big.bin"'

    assert client.generic("DELETE", url(setup, f"{prefix}/ckpt")).status_code == 200
    assert not (folder / "ckpt").exists()
    assert error(client.get(url(setup, f"{prefix}/ckpt/big.bin"))) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_downloads_are_attachments_that_never_render(setup):
    response = setup["client"].get(url(setup, f"{setup['prefix']}/sub/page.html"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_upload_past_the_limit_leaves_nothing(setup, settings):
    settings.MLPROJECTS_API_BODY_LIMITS = {**settings.MLPROJECTS_API_BODY_LIMITS, "/api/2.0/": 1000}
    response = setup["client"].generic(
        "PUT", url(setup, f"{setup['prefix']}/big.bin"), b"x" * 5000, content_type="text/plain"
    )
    assert error(response) == (413, "INVALID_PARAMETER_VALUE")
    assert sorted(p.name for p in setup["folder"].iterdir()) == ["model.txt", "sub"]


# --- Attacks ----------------------------------------------------------------------------

# Paths after the run's own prefix; the test client decodes the URL once, as a server does.
INSIDE_ATTACKS = [
    "../../../../../secret.txt",
    "sub/../../../../../../secret.txt",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret.txt",
    "%252e%252e/%252e%252e/%252e%252e/secret.txt",
    "%25252e%25252e/secret.txt",
    "..%5c..%5c..%5csecret.txt",
    "sub%5c..%5cmodel.txt",
    "sub/..;/..;/secret.txt",
    "model.txt;.html",
    "model.txt%23.html",
    "model%00.txt",
    "./model.txt",
    "sub//model.txt",
    "C:/Windows/win.ini",
]
# Whole proxy paths that do not even start inside a run.
OUTSIDE_ATTACKS = [
    "../secret.txt",
    "%2e%2e/secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "%2Fetc%2Fpasswd",
    "secret.txt",
    "{exp}/{run}/../{sibling}/artifacts/secret.txt",
    "{exp}/{run}/artifacts/../../{sibling}/artifacts/secret.txt",
    "999/{run}/artifacts/model.txt",
]


def attack_paths(setup, world) -> list[str]:
    run = setup["run"]
    sibling = Run.objects.exclude(pk=run.pk).get(experiment=run.experiment)
    names = {"exp": run.experiment_id, "run": run.run_id, "sibling": sibling.run_id}
    return [f"{setup['prefix']}/{a}" for a in INSIDE_ATTACKS] + [
        a.format(**names) for a in OUTSIDE_ATTACKS
    ]


def leaks(response) -> bool:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return any(secret in body for secret in (b"outside secret", b"sibling secret", b"outside file"))


def refused(response) -> bool:
    """A refusal in MLflow's body that gives nothing away."""
    status, code = error(response)
    return (status, code) in {(400, "INVALID_PARAMETER_VALUE"), (404, "RESOURCE_DOES_NOT_EXIST")}


def test_no_path_reads_outside_the_run(setup, world):
    client = setup["client"]
    for path in attack_paths(setup, world):
        response = client.get(url(setup, path))
        assert not leaks(response), path
        assert refused(response), (path, response.status_code)


def test_no_path_writes_outside_the_run(setup, world):
    before = snapshot(setup["tmp"], setup["folder"])
    for path in attack_paths(setup, world):
        response = setup["client"].generic(
            "PUT", url(setup, path), b"pwned", content_type="text/plain"
        )
        assert refused(response), (path, response.status_code, response.content)
    assert snapshot(setup["tmp"], setup["folder"]) == before
    inside = [p for p in setup["folder"].rglob("*") if p.is_file()]
    assert all(p.read_bytes() != b"pwned" for p in inside)


def test_no_path_deletes_outside_the_run(setup, world):
    before = snapshot(setup["tmp"], setup["folder"])
    for path in attack_paths(setup, world):
        response = setup["client"].generic("DELETE", url(setup, path))
        assert refused(response), (path, response.status_code)
    assert snapshot(setup["tmp"], setup["folder"]) == before
    assert (setup["folder"] / "model.txt").exists()


def test_no_path_lists_outside_the_run(setup, world):
    client = setup["client"]
    listing = api("mlflow-artifacts/artifacts", project=setup["slug"])
    per_run = api("mlflow/artifacts/list", project=setup["slug"])
    for raw in attack_paths(setup, world):
        # The query string is decoded once too: send the path as the server would see it.
        path = unquote(raw)
        assert refused(client.get(listing, {"path": path})), path
        relative = path.removeprefix(setup["prefix"] + "/")
        if relative != path:
            response = client.get(per_run, {"run_id": setup["run"].run_id, "path": relative})
            assert refused(response), relative


def test_a_symlink_cannot_lead_out_of_the_run(setup):
    client, prefix, folder, tmp = setup["client"], setup["prefix"], setup["folder"], setup["tmp"]
    (folder / "to_file").symlink_to(tmp / "secret.txt")
    (folder / "to_dir").symlink_to(tmp / "outside")
    before = snapshot(tmp, folder)

    for target in ("to_file", "to_dir/kept.txt"):
        response = client.get(url(setup, f"{prefix}/{target}"))
        assert refused(response), target
        assert not leaks(response)
    listing = api("mlflow-artifacts/artifacts", project=setup["slug"])
    assert refused(client.get(listing, {"path": f"{prefix}/to_dir"}))
    shown = client.get(listing, {"path": prefix}).json()["files"]
    assert {f["path"] for f in shown} == {"model.txt", "sub"}
    for target in ("to_dir/new.txt", "to_file", "to_dir/kept.txt"):
        put = client.generic(
            "PUT", url(setup, f"{prefix}/{target}"), b"x", content_type="text/plain"
        )
        assert refused(put), target
        assert refused(client.generic("DELETE", url(setup, f"{prefix}/{target}"))), target
    assert snapshot(tmp, folder) == before
    assert not (tmp / "outside" / "new.txt").exists()


def test_writes_to_a_deleted_run_are_refused(setup):
    services.run_delete(run=setup["run"], by=None)
    response = setup["client"].generic(
        "PUT", url(setup, f"{setup['prefix']}/late.txt"), b"late", content_type="text/plain"
    )
    assert error(response) == (400, "INVALID_PARAMETER_VALUE")
    assert not (setup["folder"] / "late.txt").exists()


def test_the_root_uri_reaches_the_same_files(setup, world):
    response = world.client(Role.VIEWER).get(
        api(f"mlflow-artifacts/artifacts/{setup['prefix']}/model.txt")
    )
    assert b"".join(response.streaming_content) == b"weights"
    listed = send(
        world.client(Role.VIEWER),
        "GET",
        api("mlflow-artifacts/artifacts"),
        {"path": setup["prefix"]},
    )
    assert [f["path"] for f in listed.json()["files"]] == ["model.txt", "sub"]
